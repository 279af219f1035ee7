package server

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestEchoRFC6455Policy: /echo/rfc6455 has the Origin policy and the per-IP
// limits of /echo, and echoes. Its protocol is tested in internal/rfcws.
func TestEchoRFC6455Policy(t *testing.T) {
	_, ts := rawServer(t, Config{AllowedOrigins: []string{"https://chat.example"}, ReadLimit: 100})
	self := "http://" + ts.Listener.Addr().String()
	tests := []struct {
		name   string
		header []string
		status int
	}{
		{"no origin", nil, 101},
		{"same-host origin", []string{"Origin: " + self}, 101},
		{"allowlisted origin", []string{"Origin: https://chat.example"}, 101},
		{"foreign origin", []string{"Origin: http://evil.example"}, 403},
		{"bad version", []string{"Sec-WebSocket-Version: 8"}, 426},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawHandshake(t, ts, "/echo/rfc6455", tt.header...)
			if c.resp.StatusCode != tt.status {
				t.Fatalf("status = %s, want %d", c.resp.Status, tt.status)
			}
			if tt.status != 101 {
				return
			}
			c.text("hi")
			if op, p := c.readMessage(); op != rawOpText || string(p) != "hi" {
				t.Errorf("echo = %#x %q, want text %q", op, p, "hi")
			}
			// Config.ReadLimit bounds its messages too.
			c.write(rawFrame{fin: true, opcode: rawOpBinary, masked: true, payload: make([]byte, 101)})
			c.expectClose(protocol.CloseTooBig)
		})
	}
}

func TestEchoRFC6455Limits(t *testing.T) {
	_, ts := rawServer(t, Config{ConnsPerIP: 2, HandshakeBurst: 3, HandshakeRate: 0.001})
	var got []int
	for range 4 {
		c := rawHandshake(t, ts, "/echo/rfc6455")
		got = append(got, c.resp.StatusCode)
	}
	// Two connections, then the per-IP connection limit, then the
	// handshake rate.
	if want := []int{101, 101, 429, 429}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
}

// TestEchoRFC6455Shutdown: Shutdown closes its connections with 1001 and
// waits for them; later handshakes get 503.
func TestEchoRFC6455Shutdown(t *testing.T) {
	srv, ts := rawServer(t, Config{CloseGrace: 30 * time.Second})
	c := rawDial(t, ts, "/echo/rfc6455")
	c.text("registered")
	c.readMessage()

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	c.expectClose(protocol.CloseGoingAway)
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v before the client answered the close", err)
	default:
	}
	c.closeHandshake(protocol.CloseGoingAway)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown = %v, want nil", err)
		}
	case <-time.After(rawTimeout):
		t.Fatal("Shutdown did not return after the close handshake")
	}
	late := rawHandshake(t, ts, "/echo/rfc6455")
	if got, want := late.resp.StatusCode, http.StatusServiceUnavailable; got != want {
		t.Errorf("handshake after Shutdown: status %d, want %d", got, want)
	}
}
