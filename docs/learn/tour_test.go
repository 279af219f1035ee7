package learn

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/internal/wsframe"
)

// The code between the "tour:" markers is shown in the tour, verbatim;
// TestTourCode checks that every Go block of the tour appears here.

// dialRaw opens a TCP connection to hubbub and performs the opening
// handshake by hand, adding the extra header lines given.
func dialRaw(path string, extra ...string) (net.Conn, *bufio.Reader, *http.Response, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, nil, err
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\n" +
		"Host: " + addr + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	for _, h := range extra {
		req += h + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		conn.Close()
		return nil, nil, nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, nil, nil, err
	}
	return conn, br, resp, nil
}

// readFrame reads one frame the server sent (servers never mask).
func readFrame(br *bufio.Reader) (wsframe.Header, []byte, error) {
	h, err := wsframe.ReadHeader(br)
	if err != nil {
		return h, nil, err
	}
	payload := make([]byte, h.Length)
	_, err = io.ReadFull(br, payload)
	return h, payload, err
}

// tour: handshake
func Example_handshake() {
	conn, _, resp, err := dialRaw("/echo")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	fmt.Println(resp.Status)
	fmt.Println("Upgrade:", resp.Header.Get("Upgrade"))
	fmt.Println("Sec-WebSocket-Accept:", resp.Header.Get("Sec-WebSocket-Accept"))

	// The server derived it from our key; so can we.
	steps := wsframe.AcceptSteps("dGhlIHNhbXBsZSBub25jZQ==")
	fmt.Println("key + GUID:", steps.Concatenated)
	fmt.Println("SHA-1:", steps.SHA1Hex)
	fmt.Println("base64:", steps.Accept)
	// Output:
	// 101 Switching Protocols
	// Upgrade: websocket
	// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
	// key + GUID: dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11
	// SHA-1: b37a4f2cc0624f1690f64606cf385945b2bec4ea
	// base64: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
}

// tour: end

// tour: frames
func Example_frames() {
	conn, br, _, err := dialRaw("/echo")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	// RFC 6455 §5.7: "A single-frame masked text message containing Hello".
	hello := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	conn.Write(hello)

	// The echo comes back unmasked: 0x81 = FIN + text, 0x05 = no mask, 5 bytes.
	echo := make([]byte, 7)
	io.ReadFull(br, echo)
	fmt.Printf("% x\n", echo)

	// The same bytes, decoded by hubbub's parser.
	p := wsframe.NewParser(1024, func(f wsframe.Frame) {
		fmt.Printf("fin=%v opcode=%v masked=%v length=%d (%v form) payload=%q\n",
			f.Fin, f.Opcode, f.Masked, f.Length, f.LengthForm, f.Payload)
	})
	p.Write(hello)
	p.Write(echo)
	// Output:
	// 81 05 48 65 6c 6c 6f
	// fin=true opcode=text masked=true length=5 (7-bit form) payload="Hello"
	// fin=true opcode=text masked=false length=5 (7-bit form) payload="Hello"
}

// tour: end

// tour: utf8
func Example_invalidUTF8() {
	conn, br, _, err := dialRaw("/echo")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	// A text frame whose payload is the byte 0xFF: never valid UTF-8.
	frame := wsframe.AppendFrame(nil, wsframe.Header{
		Fin: true, Opcode: wsframe.OpText, Masked: true, MaskKey: [4]byte{1, 2, 3, 4},
	}, []byte{0xFF})
	conn.Write(frame)

	h, payload, _ := readFrame(br)
	code, reason, _ := wsframe.ParseClose(payload)
	fmt.Println(h.Opcode, code, reason)
	// Output:
	// close 1007 text frame is not valid UTF-8
}

// tour: end

// tour: streaming
func Example_streaming() {
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/echo", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ws.Close()

	// Write one binary message in pieces: NextWriter sends a frame each
	// time its buffer fills, and the last one (FIN) on Close.
	w, _ := ws.NextWriter(websocket.BinaryMessage)
	for i := range 3 {
		w.Write(bytes.Repeat([]byte{byte(i)}, 5000))
	}
	w.Close()

	// Read the echo as a stream: NextReader hands over each fragment's
	// bytes as they arrive, without holding the whole message.
	typ, r, _ := ws.NextReader()
	n, _ := io.Copy(io.Discard, r)
	fmt.Println(typ == websocket.BinaryMessage, n)
	// Output:
	// true 15000
}

// tour: end

// tour: ping
func Example_ping() {
	conn, br, _, err := dialRaw("/echo")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	ping := wsframe.AppendFrame(nil, wsframe.Header{
		Fin: true, Opcode: wsframe.OpPing, Masked: true, MaskKey: [4]byte{9, 8, 7, 6},
	}, []byte("are you there?"))
	conn.Write(ping)

	h, payload, _ := readFrame(br)
	fmt.Printf("%v %q\n", h.Opcode, payload)
	// Output:
	// pong "are you there?"
}

// tour: end

// tour: close
func Example_close() {
	conn, br, _, err := dialRaw("/echo")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	bye := wsframe.AppendFrame(nil, wsframe.Header{
		Fin: true, Opcode: wsframe.OpClose, Masked: true, MaskKey: [4]byte{5, 5, 5, 5},
	}, wsframe.AppendClose(nil, wsframe.CloseNormal, "bye"))
	conn.Write(bye)

	h, payload, _ := readFrame(br)
	code, _, _ := wsframe.ParseClose(payload)
	fmt.Println("server answered:", h.Opcode, code)
	_, err = br.ReadByte()
	fmt.Println("then:", err)
	// Output:
	// server answered: close 1000
	// then: EOF
}

// tour: end

// tour: origin
func Example_origin() {
	for _, origin := range []string{"http://" + addr, "https://evil.example"} {
		conn, _, resp, err := dialRaw("/echo", "Origin: "+origin)
		if err != nil {
			fmt.Println(err)
			return
		}
		conn.Close()
		fmt.Println(resp.StatusCode, "for a page from", originName(origin))
	}
	// Output:
	// 101 for a page from hubbub itself
	// 403 for a page from https://evil.example
}

// tour: end

// tour: rebinding
func Example_rebinding() {
	// The attacker's DNS answered 127.0.0.1 for attacker.example, so its
	// page's handshake reaches hubbub naming attacker.example, as Host
	// and as Origin alike.
	rebound := "attacker.example:" + port(addr)
	for _, host := range []string{addr, rebound} {
		hdr := http.Header{"Host": {host}, "Origin": {"http://" + host}}
		conn, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/echo", hdr)
		if conn != nil {
			conn.Close()
		}
		if resp == nil {
			fmt.Println(err)
			return
		}
		fmt.Println(resp.StatusCode, "for a page of", originName("http://"+host))
	}
	// Output:
	// 101 for a page of hubbub itself
	// 403 for a page of http://attacker.example:PORT
}

// tour: end

// port is addr's port.
func port(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

// originName hides the test server's random port from the output.
func originName(origin string) string {
	if origin == "http://"+addr {
		return "hubbub itself"
	}
	return strings.Replace(origin, ":"+port(addr), ":PORT", 1)
}
