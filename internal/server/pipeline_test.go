//go:build linux

package server

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/wsframe"
	"github.com/hubbub-chat/hubbub/protocol"
)

func TestFrameBuffered(t *testing.T) {
	text := maskedFrame(0x80|rawOpText, "hello")
	mid := maskedFrame(0x80|rawOpText, strings.Repeat("m", 300))    // 16-bit length
	long := maskedFrame(0x80|rawOpText, strings.Repeat("l", 70000)) // 64-bit length
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"nothing", nil, false},
		{"one byte", text[:1], false},
		{"header only", text[:6], false},
		{"all but one byte", text[:len(text)-1], false},
		{"whole", text, true},
		{"whole and more", append(append([]byte{}, text...), text[:3]...), true},
		{"16-bit length, its bytes cut", mid[:3], false},
		{"16-bit length, short", mid[:len(mid)-1], false},
		{"16-bit length, whole", mid, true},
		{"64-bit length, its bytes cut", long[:9], false},
		{"64-bit length, short", long[:len(long)-1], false},
		{"64-bit length, whole", long, true},
		{"unmasked, whole", []byte{0x81, 2, 'h', 'i'}, true},
		{"64-bit length with the top bit", []byte{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReaderSize(bytes.NewReader(tt.in), 1<<17)
			br.Peek(len(tt.in)) // all of it buffered, as when the read loop looks
			if got := frameBuffered(br); got != tt.want {
				t.Errorf("frameBuffered = %v, want %v", got, tt.want)
			}
		})
	}
}

// FuzzFrameBuffered checks frameBuffered against wsframe's header parser:
// a whole frame is buffered exactly when the header parses and its
// payload follows it in full.
func FuzzFrameBuffered(f *testing.F) {
	f.Add(maskedFrame(0x80|rawOpText, "hi"))
	f.Add(maskedFrame(0x80|rawOpText, strings.Repeat("m", 300))[:100])
	f.Add([]byte{0x81, 0x7f, 0, 0, 0, 0, 0, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), 1<<17)
		br.Peek(len(data))
		h, err := wsframe.ParseHeader(data)
		want := err == nil && uint64(len(data)-h.Size) >= h.Length
		if got := frameBuffered(br); got != want {
			t.Fatalf("frameBuffered = %v, want %v (header %+v, err %v)", got, want, h, err)
		}
	})
}

// TestPipelinedReplies: a client that sends its commands without waiting
// for the replies (hello, a join, a command that fails, all in one
// segment) gets every reply, in order, in one frame; and a burst that ends
// with a ping still has its replies sent before the connection parks.
func TestPipelinedReplies(t *testing.T) {
	srv, ts := rawServer(t, Config{})
	c := rawDial(t, ts, "/ws", "Sec-WebSocket-Protocol: "+protocol.Subprotocol)
	cmd := func(cmd protocol.Command) []byte { return rawCommandFrame(t, cmd) }
	var burst []byte
	burst = append(burst, cmd(protocol.Command{ID: "h", Op: protocol.OpHello, Name: "pip"})...)
	burst = append(burst, cmd(protocol.Command{ID: "j", Op: protocol.OpJoin, Room: chat.DefaultRoom})...)
	burst = append(burst, cmd(protocol.Command{ID: "x", Op: protocol.OpJoin, Room: "no-such-room"})...)
	c.writeRaw(burst)

	type reply struct{ id, typ string }
	replies := func(payload []byte) []reply {
		var out []reply
		err := protocol.SplitFrame(payload, func(obj []byte) error {
			ev, err := protocol.DecodeEvent(obj)
			if ev.ID != "" {
				out = append(out, reply{ev.ID, string(ev.Type)})
			}
			return err
		})
		if err != nil {
			t.Fatalf("decode %q: %v", payload, err)
		}
		return out
	}
	op, payload := c.readMessage()
	got := replies(payload)
	want := []reply{{"h", string(protocol.TypeOK)}, {"j", string(protocol.TypeOK)}, {"x", string(protocol.TypeError)}}
	if op != rawOpText || len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("first frame: opcode %#x, replies %v; want the three replies %v in one frame", op, got, want)
	}

	// Replies that nothing else would send: no event follows them, so
	// only the end of the burst writes them, before the read loop parks.
	readReplies := func(want ...string) {
		t.Helper()
		var ids []string
		for len(ids) < len(want) {
			op, payload := c.readMessage()
			if op != rawOpText {
				t.Fatalf("opcode %#x, want text", op)
			}
			for _, r := range replies(payload) {
				ids = append(ids, r.id)
			}
		}
		if strings.Join(ids, " ") != strings.Join(want, " ") {
			t.Errorf("replies %v, want %v", ids, want)
		}
	}
	var sc *conn // the server's side of c, its only connection
	srv.mu.Lock()
	for k := range srv.conns {
		sc = k
	}
	srv.mu.Unlock()
	// Its write loop, started for the join's presence, ends after
	// writerLinger: from then on nothing but the read loop sends a reply
	// it deferred.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		sc.mu.Lock()
		writing := sc.writing
		sc.mu.Unlock()
		if !writing {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the write loop did not end")
		}
	}
	burst = cmd(protocol.Command{ID: "h1", Op: protocol.OpHistory, Room: chat.DefaultRoom})
	burst = append(burst, cmd(protocol.Command{ID: "h2", Op: protocol.OpHistory, Room: chat.DefaultRoom})...)
	c.writeRaw(burst)
	readReplies("h1", "h2")
	waitParked(t, srv, 1)

	// A burst whose last frame is a ping: the read loop takes the ping
	// itself and must send the replies before it parks.
	burst = cmd(protocol.Command{ID: "a", Op: protocol.OpTyping, Room: chat.DefaultRoom})
	burst = append(burst, cmd(protocol.Command{ID: "b", Op: protocol.OpHistory, Room: chat.DefaultRoom})...)
	burst = append(burst, maskedFrame(wirePing, "p")...)
	c.writeRaw(burst)
	var ids []string
	pong := false
	for len(ids) < 2 || !pong {
		switch f := c.read(); f.opcode {
		case rawOpPong:
			pong = true
		case rawOpText:
			for _, r := range replies(f.payload) {
				ids = append(ids, r.id)
			}
		default:
			t.Fatalf("frame with opcode %#x, want text or pong", f.opcode)
		}
	}
	if len(ids) != 2 || ids[0] != "a" || ids[1] != "b" {
		t.Errorf("replies %v, want [a b]", ids)
	}
	waitParked(t, srv, 1)
}
