package protocol_test

import (
	"fmt"

	"github.com/hubbub-chat/hubbub/protocol"
)

func ExampleDecode() {
	c, err := protocol.Decode([]byte(`{"id":"7","op":"send","room":"lobby","body":"hi","cmid":"m1"}`))
	fmt.Println(c.ID, c.Op, c.Room, c.Body, c.CMID, err)

	// A refused command still carries its id, so the error reply can too.
	c, err = protocol.Decode([]byte(`{"id":"8","op":"join","room":"lobby","body":"hi"}`))
	fmt.Println(c.ID, protocol.CodeOf(err))
	fmt.Println(err)
	// Output:
	// 7 send lobby hi m1 <nil>
	// 8 unknown_field
	// unknown_field: op join does not take field "body"
}

func ExampleEncodeEvent() {
	ev := protocol.Event{
		Type: protocol.TypeOK,
		ID:   "7",
		Room: "lobby",
		Message: &protocol.Message{
			Room: "lobby", Seq: 42, From: "ada", Body: "<b>hi</b>", CMID: "m1", TS: 1764085497123,
		},
	}
	b, err := protocol.EncodeEvent(&ev)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))

	b, _ = protocol.EncodeEvent(&protocol.Event{Type: protocol.TypeError, ID: "8", Code: protocol.CodeNotJoined, Reason: "join room books before sending to it"})
	fmt.Println(string(b))
	// Output:
	// {"type":"ok","id":"7","room":"lobby","message":{"room":"lobby","seq":42,"from":"ada","body":"<b>hi</b>","cmid":"m1","ts":1764085497123}}
	// {"type":"error","id":"8","code":"not_joined","reason":"join room books before sending to it"}
}

func ExampleSplitFrame() {
	// One server frame may hold several events, one per line.
	frame := []byte(`{"type":"join","room":"lobby","user":"grace"}
{"type":"message","message":{"room":"lobby","seq":43,"from":"grace","body":"hi\nall","ts":1764085499000}}
{"type":"typing","room":"lobby","user":"ada"}`)

	err := protocol.SplitFrame(frame, func(obj []byte) error {
		ev, err := protocol.DecodeEvent(obj)
		if err != nil {
			return err
		}
		switch ev.Type {
		case protocol.TypeMessage:
			fmt.Printf("%s #%d %s: %q\n", ev.Message.Room, ev.Message.Seq, ev.Message.From, ev.Message.Body)
		default:
			fmt.Println(ev.Room, ev.Type, ev.User)
		}
		return nil
	})
	if err != nil {
		fmt.Println("bad frame:", err)
	}
	// Output:
	// lobby join grace
	// lobby #43 grace: "hi\nall"
	// lobby typing ada
}

func ExampleDMRoom() {
	room := protocol.DMRoom("grace", "alice")
	fmt.Println(room)
	a, b, ok := protocol.DMPeers(room)
	fmt.Println(a, b, ok)
	fmt.Println(protocol.CheckRoomName("dm:grace:alice"))
	// Output:
	// dm:alice:grace
	// alice grace true
	// invalid_value: not a direct-message room name
}

func ExampleCheckUsername() {
	for _, name := range []string{"grace", "Grace", "gh", "9lives"} {
		fmt.Printf("%s: %v\n", name, protocol.CheckUsername(name))
	}
	// Output:
	// grace: <nil>
	// Grace: invalid_value: user names use a-z, 0-9, - and _, and start with a letter
	// gh: invalid_value: user names have at least 3 characters
	// 9lives: invalid_value: user names use a-z, 0-9, - and _, and start with a letter
}
