package rfcws

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hubbub-chat/hubbub/internal/wsframe"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newServer serves Upgrade + Echo; stop (called by Cleanup too) ends the
// connections with 1001. ended receives how each connection ended.
func newServer(t *testing.T, opts Options) (addr string, stop func(), ended chan error) {
	t.Helper()
	stopc := make(chan struct{})
	stop = sync.OnceFunc(func() { close(stopc) })
	ended = make(chan error, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, opts)
		if err != nil {
			return
		}
		ended <- c.Echo(stopc)
	}))
	t.Cleanup(func() {
		stop()
		srv.Close()
	})
	return srv.Listener.Addr().String(), stop, ended
}

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// client is a raw TCP WebSocket client built from wsframe, so that tests
// can send what a well-behaved library never would.
type client struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string, extra string) (*client, *http.Response) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET /echo HTTP/1.1\r\nHost: " + addr + "\r\n"
	if extra == "" {
		extra = "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + testKey + "\r\n"
	}
	fmt.Fprintf(nc, "%s%s\r\n", req, extra)
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t, nc, br}, resp
}

func (c *client) send(h wsframe.Header, payload []byte) {
	c.t.Helper()
	h.Masked, h.MaskKey = true, [4]byte{1, 2, 3, 4}
	if _, err := c.nc.Write(wsframe.AppendFrame(nil, h, payload)); err != nil {
		c.t.Fatal(err)
	}
}

// next reads one frame from the server.
func (c *client) next() (wsframe.Header, []byte) {
	c.t.Helper()
	h, err := wsframe.ReadHeader(c.br)
	if err != nil {
		c.t.Fatalf("reading a frame: %v", err)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c.br, p); err != nil {
		c.t.Fatal(err)
	}
	if h.Masked {
		c.t.Errorf("server frame is masked (§5.1 forbids it)")
	}
	return h, p
}

// closed expects a close frame with code, then the end of the stream.
func (c *client) closed(code uint16) {
	c.t.Helper()
	h, p := c.next()
	got, _, _ := wsframe.ParseClose(p)
	if h.Opcode != wsframe.OpClose || got != code {
		c.t.Fatalf("got %v frame with %q, want close %d", h.Opcode, p, code)
	}
	if n, err := c.br.Read(make([]byte, 1)); err != io.EOF {
		c.t.Errorf("after close: read %d bytes, err %v; want EOF (server closes TCP)", n, err)
	}
}

func fin(op wsframe.Opcode) wsframe.Header { return wsframe.Header{Fin: true, Opcode: op} }

func TestHandshake(t *testing.T) {
	addr, _, _ := newServer(t, Options{})
	good := "Upgrade: WebSocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + testKey + "\r\n"
	tests := []struct {
		name    string
		headers string
		status  int
	}{
		{"good", good, 101},
		{"same origin", good + "Origin: http://" + addr + "\r\n", 101},
		{"foreign origin", good + "Origin: https://evil.example\r\n", 403},
		{"no upgrade", "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + testKey + "\r\n", 400},
		{"no connection upgrade", "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + testKey + "\r\n", 400},
		{"version 8", "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: " + testKey + "\r\n", 426},
		{"short key", "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c2hvcnQ=\r\n", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp := dial(t, addr, tt.headers)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			switch resp.StatusCode {
			case 101:
				// RFC 6455 §1.3's key and answer.
				if got := resp.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
					t.Errorf("Sec-WebSocket-Accept = %q", got)
				}
				if resp.Header.Get("Sec-WebSocket-Protocol") != "" || resp.Header.Get("Sec-WebSocket-Extensions") != "" {
					t.Errorf("negotiated something: %v", resp.Header)
				}
			case 426:
				if got := resp.Header.Get("Sec-WebSocket-Version"); got != "13" {
					t.Errorf("426 lists version %q, want 13 (§4.4)", got)
				}
			}
		})
	}
}

func TestEcho(t *testing.T) {
	addr, _, ended := newServer(t, Options{})
	c, _ := dial(t, addr, "")

	c.send(fin(wsframe.OpText), []byte("hello"))
	if h, p := c.next(); h.Opcode != wsframe.OpText || string(p) != "hello" || !h.Fin {
		t.Errorf("echo of text = %v fin=%v %q", h.Opcode, h.Fin, p)
	}
	c.send(fin(wsframe.OpBinary), []byte{0, 1, 0xFF})
	if h, p := c.next(); h.Opcode != wsframe.OpBinary || !bytes.Equal(p, []byte{0, 1, 0xFF}) {
		t.Errorf("echo of binary = %v % x", h.Opcode, p)
	}
	// §5.4: fragments with a ping between them, and a character split
	// across the fragments: the pong comes at once, the message after.
	c.send(wsframe.Header{Opcode: wsframe.OpText}, []byte("Hel\xce"))
	c.send(fin(wsframe.OpPing), []byte("are you there"))
	c.send(wsframe.Header{Opcode: wsframe.OpContinuation}, nil)
	c.send(fin(wsframe.OpContinuation), []byte("\xbalo"))
	if h, p := c.next(); h.Opcode != wsframe.OpPong || string(p) != "are you there" {
		t.Errorf("answer to ping = %v %q, want pong with the ping's data", h.Opcode, p)
	}
	if h, p := c.next(); h.Opcode != wsframe.OpText || string(p) != "Helκlo" {
		t.Errorf("echo of fragments = %v %q", h.Opcode, p)
	}
	c.send(fin(wsframe.OpPong), []byte("unsolicited"))
	c.send(fin(wsframe.OpClose), wsframe.AppendClose(nil, 4001, "bye"))
	c.closed(4001)
	var ce *CloseError
	if err := <-ended; !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "bye" || !ce.Remote {
		t.Errorf("Echo returned %v, want the peer's close 4001 bye", err)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name string
		send func(c *client)
		code uint16
	}{
		{"unmasked", func(c *client) {
			c.nc.Write(wsframe.AppendFrame(nil, fin(wsframe.OpText), []byte("x")))
		}, 1002},
		{"rsv1", func(c *client) { c.send(wsframe.Header{Fin: true, Rsv1: true, Opcode: wsframe.OpText}, nil) }, 1002},
		{"reserved opcode", func(c *client) { c.send(fin(3), nil) }, 1002},
		{"ping of 126 bytes", func(c *client) { c.send(fin(wsframe.OpPing), make([]byte, 126)) }, 1002},
		{"fragmented ping", func(c *client) { c.send(wsframe.Header{Opcode: wsframe.OpPing}, nil) }, 1002},
		{"continuation first", func(c *client) { c.send(fin(wsframe.OpContinuation), []byte("x")) }, 1002},
		{"text inside text", func(c *client) {
			c.send(wsframe.Header{Opcode: wsframe.OpText}, []byte("a"))
			c.send(fin(wsframe.OpText), []byte("b"))
		}, 1002},
		{"bad 64-bit length", func(c *client) {
			c.nc.Write([]byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
		}, 1002},
		{"too big, refused before the payload", func(c *client) {
			// Only the header: the limit is checked before reading.
			h := wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Opcode: wsframe.OpBinary, Masked: true}, make([]byte, 101))
			c.nc.Write(h[:8])
		}, 1009},
		{"too big across fragments", func(c *client) {
			c.send(wsframe.Header{Opcode: wsframe.OpBinary}, make([]byte, 60))
			c.send(fin(wsframe.OpContinuation), make([]byte, 41))
		}, 1009},
		{"invalid UTF-8, fails fast", func(c *client) {
			// The header announces 50 bytes; only 6 come, the 5th
			// invalid. The server must not wait for the rest.
			f := wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Opcode: wsframe.OpText, Masked: true, MaskKey: [4]byte{9, 9, 9, 9}},
				append([]byte("abcd\xF5x"), make([]byte, 44)...))
			c.nc.Write(f[:6+6])
		}, 1007},
		{"text ends inside a character", func(c *client) { c.send(fin(wsframe.OpText), []byte("ab\xce")) }, 1007},
		{"close of 1 byte", func(c *client) { c.send(fin(wsframe.OpClose), []byte{3}) }, 1002},
		{"close code 1005", func(c *client) { c.send(fin(wsframe.OpClose), binary.BigEndian.AppendUint16(nil, 1005)) }, 1002},
		{"close reason not UTF-8", func(c *client) {
			c.send(fin(wsframe.OpClose), append(binary.BigEndian.AppendUint16(nil, 1000), 0xFF))
		}, 1007},
		{"empty close", func(c *client) { c.send(fin(wsframe.OpClose), nil) }, wsframe.CloseNoStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, _, _ := newServer(t, Options{MaxMessage: 100})
			c, _ := dial(t, addr, "")
			// Something accepted before the error is echoed first.
			c.send(fin(wsframe.OpText), []byte("before"))
			if h, p := c.next(); string(p) != "before" {
				t.Fatalf("first echo = %v %q", h.Opcode, p)
			}
			tt.send(c)
			c.closed(tt.code)
		})
	}
}

// TestCloseFrameSurvivesUnreadData: when the connection fails while the
// peer's bytes still wait unread in the server's socket, the peer still
// gets the close frame and then a clean end of stream. Closing the socket
// with unread bytes makes the kernel send a reset instead, which can
// discard the close frame before the peer reads it (Autobahn saw a
// closing handshake that never finished in about one run of ten).
func TestCloseFrameSurvivesUnreadData(t *testing.T) {
	addr, _, _ := newServer(t, Options{CloseGrace: 300 * time.Millisecond})
	c, _ := dial(t, addr, "")
	bad := wsframe.AppendFrame(nil, fin(wsframe.OpText), []byte("x")) // unmasked: 1002
	junk := make([]byte, 256<<10)                                     // far past what the server buffers
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		c.nc.Write(append(bad, junk...))
	}()
	// Let the server fail the connection, and a reset arrive if it sends
	// one, before reading anything.
	time.Sleep(200 * time.Millisecond)
	c.closed(1002)
	<-wrote
}

func TestStopSendsGoingAway(t *testing.T) {
	addr, stop, ended := newServer(t, Options{})
	c, _ := dial(t, addr, "")
	c.send(fin(wsframe.OpText), []byte("x"))
	c.next()
	stop()
	h, p := c.next()
	if code, _, _ := wsframe.ParseClose(p); h.Opcode != wsframe.OpClose || code != wsframe.CloseGoingAway {
		t.Fatalf("got %v %q, want close 1001", h.Opcode, p)
	}
	// §7.1.2: the server waits for our close before closing TCP.
	c.send(fin(wsframe.OpClose), wsframe.AppendClose(nil, 1001, ""))
	var ce *CloseError
	if err := <-ended; !errors.As(err, &ce) || ce.Code != 1001 || ce.Remote {
		t.Errorf("Echo returned %v, want the server's 1001", err)
	}
	if _, err := c.br.ReadByte(); err != io.EOF {
		t.Errorf("after the close handshake: %v, want EOF", err)
	}
}

func TestSameOrigin(t *testing.T) {
	tests := []struct {
		origin, host string
		want         bool
	}{
		{"", "chat.example", true},
		{"https://chat.example", "chat.example", true},
		{"https://CHAT.example", "chat.example", true},
		{"https://evil.example", "chat.example", false},
		{"null", "chat.example", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = tt.host
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		if got := sameOrigin(r); got != tt.want {
			t.Errorf("sameOrigin(%q on %q) = %v, want %v", tt.origin, tt.host, got, tt.want)
		}
	}
}

// TestUnfinishedMessageTimesOut: a message begun and never finished ends
// the connection ReadTimeout after its first frame, though pings keep
// coming: control frames between fragments do not extend it. Between
// messages, pings keep an idle connection open.
func TestUnfinishedMessageTimesOut(t *testing.T) {
	const timeout = time.Second
	addr, _, ended := newServer(t, Options{ReadTimeout: timeout})
	for _, unfinished := range []bool{false, true} {
		c, _ := dial(t, addr, "")
		if unfinished {
			c.send(wsframe.Header{Opcode: wsframe.OpText}, []byte("never "))
		}
		// Pings for four times the timeout, each answered.
		for range 12 {
			time.Sleep(timeout / 4)
			c.send(fin(wsframe.OpPing), []byte("hi"))
			c.nc.SetReadDeadline(time.Now().Add(2 * timeout))
			h, err := wsframe.ReadHeader(c.br)
			if err != nil {
				if !unfinished {
					t.Fatalf("idle connection with pings: %v", err)
				}
				break // the server gave up on the message
			}
			io.CopyN(io.Discard, c.br, int64(h.Length))
			if h.Opcode != wsframe.OpPong {
				t.Fatalf("got %v, want a pong", h.Opcode)
			}
		}
		select {
		case err := <-ended:
			if !unfinished {
				t.Fatalf("idle connection with pings ended: %v", err)
			}
		default:
			if unfinished {
				t.Fatal("a message begun and never finished, with pings, did not end the connection")
			}
		}
		c.nc.Close()
		if !unfinished {
			<-ended
		}
	}
}
