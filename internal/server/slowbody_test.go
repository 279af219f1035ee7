package server

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/inspect"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestSlowRequestBodyIsCut: a client that sends a request's headers and
// then its body slowly, or never, cannot hold a connection (and its
// goroutine and buffers) past Config.BodyTimeout, on any endpoint: the
// header timeout of net/http stops at the end of the headers. A body that
// arrives in time is served, and an inspector feed, whose body is read at
// once, lives on past the timeout.
func TestSlowRequestBodyIsCut(t *testing.T) {
	const timeout = 300 * time.Millisecond
	s, _ := newAccountServer(t, func(c *Config) { c.BodyTimeout = timeout })
	addr := s.ts.Listener.Addr().String()

	for _, tt := range []struct {
		method, path string
	}{
		{"POST", "/api/login"},
		{"POST", "/api/register"},
		{"POST", "/api/logout"},
		{"POST", "/api/password"},
		{"POST", "/api/inspect/watch"},
		{"GET", "/healthz"},
		{"GET", "/"},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			// The headers and the first byte of a 1000-byte body; the
			// rest never comes.
			fmt.Fprintf(nc, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", tt.method, tt.path, addr)
			start := time.Now()
			nc.SetReadDeadline(start.Add(timeout + 3*time.Second))
			// The server answers (an error) and closes, or just closes.
			buf := make([]byte, 4096)
			var err2 error
			for err2 == nil {
				_, err2 = nc.Read(buf)
			}
			if ne, ok := err2.(net.Error); ok && ne.Timeout() {
				t.Fatalf("connection still open %v after the headers; want it closed within about %v", time.Since(start).Round(time.Millisecond), timeout)
			}
		})
	}

	t.Run("body in time", func(t *testing.T) {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		body := `{"username":"nobody","password":"wrong password"}`
		fmt.Fprintf(nc, "POST /api/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, len(body))
		time.Sleep(timeout / 3)
		fmt.Fprint(nc, body)
		resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got, want := resp.StatusCode, http.StatusUnauthorized; got != want {
			t.Errorf("login with a body in time: status %d, want %d", got, want)
		}
	})

	t.Run("inspector feed outlives the timeout", func(t *testing.T) {
		key, challenge := inspectKey(t)
		c := rawDial(t, s.ts, "/ws?inspect="+challenge, "Sec-WebSocket-Protocol: "+protocol.Subprotocol)
		status, f := watch(t, s.ts.URL, nil, watchRequest{Key: key})
		if status != http.StatusOK {
			t.Fatalf("watch: status %d", status)
		}
		f.next() // the first note
		time.Sleep(3 * timeout)
		c.text(`{"id":"late","op":"ping"}`)
		recs := f.until(func(r inspect.Record) bool {
			return r.Kind == "note" && strings.HasPrefix(r.Note, "end") || r.Frame != nil && strings.Contains(r.Frame.Payload, `"late"`)
		})
		if last := recs[len(recs)-1]; last.Kind == "note" {
			t.Errorf("feed ended %v after it started: %q; want it live", 3*timeout, last.Note)
		}
	})
}
