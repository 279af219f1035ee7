package wsframe_test

import (
	"fmt"

	"github.com/hubbub-chat/hubbub/internal/wsframe"
)

// A Parser follows a byte stream fed in pieces split anywhere: here the
// masked "Hello" of RFC 6455 §5.7, cut inside its masking key.
func ExampleParser() {
	p := wsframe.NewParser(1024, func(f wsframe.Frame) {
		fmt.Printf("fin=%v op=%v masked=%v key=% x len=%d (%v) header=%d payload=%q\n",
			f.Fin, f.Opcode, f.Masked, f.MaskKey, f.Length, f.LengthForm, f.Size, f.Payload)
	})
	p.Write([]byte{0x81, 0x85, 0x37, 0xfa})
	p.Write([]byte{0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58})
	// Output:
	// fin=true op=text masked=true key=37 fa 21 3d len=5 (7-bit) header=6 payload="Hello"
}

// A client masks every frame it sends (§5.3); a server never does.
func ExampleAppendFrame() {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	fmt.Printf("% x\n", wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Opcode: wsframe.OpText}, []byte("Hello")))
	fmt.Printf("% x\n", wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Opcode: wsframe.OpText, Masked: true, MaskKey: key}, []byte("Hello")))
	// Output:
	// 81 05 48 65 6c 6c 6f
	// 81 85 37 fa 21 3d 7f 9f 4d 51 58
}

// The server proves it read the handshake by hashing the client's key
// with a fixed GUID (§4.2.2). The key is RFC 6455 §1.3's example.
func ExampleAcceptSteps() {
	d := wsframe.AcceptSteps("dGhlIHNhbXBsZSBub25jZQ==")
	fmt.Println("key + GUID:", d.Concatenated)
	fmt.Println("SHA-1:     ", d.SHA1Hex)
	fmt.Println("base64:    ", d.Accept)
	// Output:
	// key + GUID: dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11
	// SHA-1:      b37a4f2cc0624f1690f64606cf385945b2bec4ea
	// base64:     s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
}

// Fragments make one message; a ping may come between them.
func ExampleAssembler() {
	var a wsframe.Assembler
	p := wsframe.NewParser(1024, func(f wsframe.Frame) {
		if m, done, err := a.Push(f); err != nil {
			fmt.Println("error:", err)
		} else if done {
			fmt.Printf("%v %q in %d frame(s)\n", m.Opcode, m.Data, m.Frames)
		}
	})
	p.Write([]byte{0x01, 0x03, 'H', 'e', 'l', 0x89, 0x00, 0x80, 0x02, 'l', 'o'})
	// Output:
	// ping "" in 1 frame(s)
	// text "Hello" in 2 frame(s)
}

func ExampleParseClose() {
	code, reason, err := wsframe.ParseClose([]byte{0x03, 0xE9, 'b', 'y', 'e'})
	fmt.Println(code, reason, err)
	_, _, err = wsframe.ParseClose([]byte{0x03, 0xED})
	fmt.Println(err)
	// Output:
	// 1001 bye <nil>
	// wsframe: close code not allowed on the wire
}
