package server

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestUnfinishedMessageIsCut: a client that starts a message and never
// finishes it cannot keep the connection, with the partial message in
// memory and a goroutine blocked reading it (an idle connection parks and
// holds neither), by sending pings or pongs in between: control frames
// prove the peer alive, not that its message is coming. A message has the
// idle limit (PingInterval+PongTimeout) from its first frame to its last.
// A message sent in fragments within that limit, with pings in between,
// is served.
func TestUnfinishedMessageIsCut(t *testing.T) {
	const ping, pong = 300 * time.Millisecond, 200 * time.Millisecond
	s := newTestServer(t, func(c *Config) { c.PingInterval, c.PongTimeout = ping, pong })
	open := func(t *testing.T) *rawConn {
		c := rawDial(t, s.ts, "/ws", "Sec-WebSocket-Protocol: "+protocol.Subprotocol)
		c.text(`{"id":"h","op":"hello","name":"slow"}`)
		if _, p := c.readMessage(); !bytes.Contains(p, []byte(`"id":"h"`)) {
			t.Fatalf("hello reply: %s", p)
		}
		return c
	}

	for _, tt := range []struct {
		name   string
		op     byte // the control frame sent while the message is open
		finish bool // send the last fragment within the limit
	}{
		{"pings, never finished", 0x9, false},
		{"pongs, never finished", 0xA, false},
		{"pings, finished in time", 0x9, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := open(t)
			body := []byte(`{"id":"late","op":"ping"}`)
			c.write(rawFrame{fin: false, opcode: 0x1, payload: body[:5]})
			done := make(chan string, 1)
			go func() {
				// Read until the server's close frame or the end.
				for {
					c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
					f, err := rawReadFrame(c.br)
					switch {
					case err != nil:
						done <- "closed without a close frame"
						return
					case f.opcode == 0x8:
						done <- "closed"
						return
					case f.opcode == 0x1 && strings.Contains(string(f.payload), `"late"`):
						done <- "answered"
						return
					}
				}
			}()
			// Keep the peer alive for four idle limits.
			deadline := time.Now().Add(4 * (ping + pong))
			finishAt := time.Now().Add((ping + pong) / 2)
			var got string
		loop:
			for time.Now().Before(deadline) {
				select {
				case got = <-done:
					break loop
				case <-time.After(50 * time.Millisecond):
				}
				c.nc.SetWriteDeadline(time.Now().Add(time.Second))
				if tt.finish && !finishAt.IsZero() && time.Now().After(finishAt) {
					c.writeRaw(rawEncodeFrame(rawFrame{fin: true, opcode: 0x0, masked: true, payload: body[5:]}))
					finishAt = time.Time{}
					continue
				}
				if _, err := c.nc.Write(rawEncodeFrame(rawFrame{fin: true, opcode: tt.op, masked: true, payload: []byte("alive")})); err != nil {
					break
				}
			}
			if got == "" {
				got = "still open"
			}
			want := "closed"
			if tt.finish {
				want = "answered"
			}
			if got != want && !(want == "closed" && got == "closed without a close frame") {
				t.Errorf("after %v of control frames in an open message: %s, want %s", 4*(ping+pong), got, want)
			}
		})
	}
}
