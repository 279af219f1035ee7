package server

import (
	"bytes"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"
)

// TestFailedPeerGetsCloseNotReset: when the server fails a connection on
// input it stopped reading (a message over the read limit, a framing
// error), the peer's unread bytes must not turn the server's close into a
// TCP reset, which can make the peer's kernel throw away the close frame
// before the peer reads it (a browser then reports 1006 instead of the
// code): the server half-closes and reads what is left, and the peer reads
// the close frame and then a clean end of stream, on both endpoints.
func TestFailedPeerGetsCloseNotReset(t *testing.T) {
	_, ts := rawServer(t, Config{})
	big := make([]byte, 70000) // over the 64 KiB read limit
	tests := []struct {
		name string
		path string
		send []byte
		code int
	}{
		{"oversized text on /echo", "/echo", rawEncodeFrame(rawFrame{fin: true, opcode: rawOpText, masked: true, payload: big}), 1009},
		{"oversized text on /ws", "/ws", rawEncodeFrame(rawFrame{fin: true, opcode: rawOpText, masked: true, payload: big}), 1009},
		{"reserved opcode then data on /echo", "/echo", append([]byte{0x83, 0x80, 1, 2, 3, 4}, big...), 1002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var extra []string
			if tt.path == "/ws" {
				extra = []string{"Sec-WebSocket-Protocol: hubbub.v1"}
			}
			c := rawDial(t, ts, tt.path, extra...)
			// Sent in one write: most of it is still unread in the
			// server's socket when the server fails the connection on
			// the frame's first bytes.
			c.writeRaw(tt.send)
			c.nc.SetReadDeadline(time.Now().Add(rawTimeout))
			got, err := io.ReadAll(c.br)
			if errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("the connection was reset (read %x before it): the close frame can be lost", got)
			}
			if err != nil {
				t.Fatalf("read: %v (after %x)", err, got)
			}
			f, err := rawReadFrame(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("no whole frame before the end of stream: %x", got)
			}
			if code, _ := rawParseClose(f.payload); f.opcode != rawOpClose || code != tt.code {
				t.Errorf("got frame %#x with close code %d, want a close with %d", f.opcode, code, tt.code)
			}
		})
	}
}
