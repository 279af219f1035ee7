package server

// RFC 6455 conformance of the connection code, spoken by the raw client of
// rawclient_test.go, mostly against /echo.

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestRawFrameRFCExamples checks the raw client itself against the
// examples of RFC 6455 §5.7.
func TestRawFrameRFCExamples(t *testing.T) {
	mustHex := func(s string) []byte {
		b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	encodeTests := []struct {
		name string
		f    rawFrame
		want []byte // header only when the payload is long
	}{
		{"unmasked Hello", rawFrame{fin: true, opcode: rawOpText, payload: []byte("Hello")}, mustHex("81 05 48 65 6c 6c 6f")},
		{"first fragment Hel", rawFrame{opcode: rawOpText, payload: []byte("Hel")}, mustHex("01 03 48 65 6c")},
		{"last fragment lo", rawFrame{fin: true, opcode: rawOpContinuation, payload: []byte("lo")}, mustHex("80 02 6c 6f")},
		{"unmasked ping Hello", rawFrame{fin: true, opcode: rawOpPing, payload: []byte("Hello")}, mustHex("89 05 48 65 6c 6c 6f")},
		{"256 bytes binary", rawFrame{fin: true, opcode: rawOpBinary, payload: make([]byte, 256)}, mustHex("82 7e 01 00")},
		{"64 KiB binary", rawFrame{fin: true, opcode: rawOpBinary, payload: make([]byte, 65536)}, mustHex("82 7f 00 00 00 00 00 01 00 00")},
	}
	for _, tt := range encodeTests {
		got := rawEncodeFrame(tt.f)
		if len(tt.f.payload) > 125 {
			got = got[:len(got)-len(tt.f.payload)] // compare the header
		}
		if !bytes.Equal(got, tt.want) {
			t.Errorf("%s: rawEncodeFrame = % x, want % x", tt.name, rawShort(got), tt.want)
		}
	}

	// "A single-frame masked text message containing Hello".
	f, err := rawReadFrame(bytes.NewReader(mustHex("81 85 37 fa 21 3d 7f 9f 4d 51 58")))
	if err != nil {
		t.Fatalf("rawReadFrame: %v", err)
	}
	if !f.fin || f.opcode != rawOpText || !f.masked || string(f.payload) != "Hello" {
		t.Errorf("rawReadFrame(masked Hello) = %+v, want FIN text masked %q", f, "Hello")
	}
	// Masking round-trips.
	payload := []byte("κόσμε, a masked payload longer than one key")
	f, err = rawReadFrame(bytes.NewReader(rawEncodeFrame(rawFrame{fin: true, opcode: rawOpText, masked: true, payload: payload})))
	if err != nil || !bytes.Equal(f.payload, payload) {
		t.Errorf("masked round trip = %q, %v; want %q", f.payload, err, payload)
	}
	if got, want := rawAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Errorf("rawAccept(RFC §1.3 key) = %q, want %q", got, want)
	}
}

// TestRFCHandshake covers the opening handshake (RFC 6455 §4.2) and the
// Origin and subprotocol policy in front of it.
func TestRFCHandshake(t *testing.T) {
	_, ts := rawServer(t, Config{AllowedOrigins: []string{"https://chat.example"}})
	self := "http://" + ts.Listener.Addr().String()
	tests := []struct {
		name         string
		path         string
		header       []string
		wantStatus   []int  // any of these
		wantProtocol string // Sec-WebSocket-Protocol of a 101
		wantVersions bool   // a refusal names the supported versions (RFC 6455 §4.4)
	}{
		{"echo", "/echo", nil, []int{101}, "", false},
		{"bad version", "/echo", []string{"Sec-WebSocket-Version: 8"}, []int{400, 426}, "", true},
		{"foreign origin", "/echo", []string{"Origin: http://evil.example"}, []int{403}, "", false},
		{"same-host origin", "/echo", []string{"Origin: " + self}, []int{101}, "", false},
		{"allowlisted origin", "/echo", []string{"Origin: https://chat.example"}, []int{101}, "", false},
		{"ws without subprotocol", "/ws", nil, []int{400}, "", false},
		{"ws with subprotocol", "/ws", []string{"Sec-WebSocket-Protocol: " + protocol.Subprotocol}, []int{101}, protocol.Subprotocol, false},
		{"ws picks its subprotocol", "/ws", []string{"Sec-WebSocket-Protocol: chat, " + protocol.Subprotocol}, []int{101}, protocol.Subprotocol, false},
		{"ws foreign origin", "/ws", []string{"Origin: http://evil.example", "Sec-WebSocket-Protocol: " + protocol.Subprotocol}, []int{403}, "", false},
		{"ws foreign origin without subprotocol", "/ws", []string{"Origin: http://evil.example"}, []int{403}, "", false},
		{"connection token list", "/echo", []string{"Connection: keep-alive, Upgrade"}, []int{101}, "", false},
		{"header values case-insensitive", "/echo", []string{"Upgrade: WebSocket", "Connection: upgrade"}, []int{101}, "", false},
		{"extension offered, none negotiated", "/echo", []string{"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"}, []int{101}, "", false},
		{"no Upgrade header", "/echo", []string{"Upgrade:"}, []int{400, 426}, "", false},
		{"no Sec-WebSocket-Key", "/echo", []string{"Sec-WebSocket-Key:"}, []int{400}, "", false},
		{"key not 16 bytes", "/echo", []string{"Sec-WebSocket-Key: dG9vIHNob3J0"}, []int{400}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawHandshake(t, ts, tt.path, tt.header...)
			resp := c.resp
			if !slices.Contains(tt.wantStatus, resp.StatusCode) {
				t.Fatalf("status = %s, want one of %v", resp.Status, tt.wantStatus)
			}
			if resp.StatusCode != http.StatusSwitchingProtocols {
				// Refused: no upgrade happened.
				if got := resp.Header.Get("Sec-WebSocket-Accept"); got != "" {
					t.Errorf("refused handshake carries Sec-WebSocket-Accept %q", got)
				}
				if got := resp.Header.Get("Sec-WebSocket-Version"); tt.wantVersions && !strings.Contains(got, "13") {
					t.Errorf("Sec-WebSocket-Version = %q, want 13 listed", got)
				}
				return
			}
			if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != tt.wantProtocol {
				t.Errorf("Sec-WebSocket-Protocol = %q, want %q", got, tt.wantProtocol)
			}
			if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != "" {
				t.Errorf("Sec-WebSocket-Extensions = %q, want none negotiated", got)
			}
			if tt.path == "/echo" {
				c.text("hi")
				if op, p := c.readMessage(); op != rawOpText || string(p) != "hi" {
					t.Errorf("echo = %#x %q, want text %q", op, p, "hi")
				}
			}
		})
	}
}

// TestRFCProtocolErrors sends frames that RFC 6455 §5 says must fail the
// connection: the server answers close 1002 and closes the TCP connection.
func TestRFCProtocolErrors(t *testing.T) {
	_, ts := rawServer(t, Config{})
	frame := func(f rawFrame) []byte { f.masked = true; return rawEncodeFrame(f) }
	tests := []struct {
		name  string
		bytes []byte
	}{
		{"unmasked client frame", rawEncodeFrame(rawFrame{fin: true, opcode: rawOpText, payload: []byte("hello")})},
		{"RSV1 without extension", frame(rawFrame{fin: true, rsv: rawRSV1, opcode: rawOpText, payload: []byte("hello")})},
		{"RSV2", frame(rawFrame{fin: true, rsv: rawRSV2, opcode: rawOpText, payload: []byte("hello")})},
		{"RSV3", frame(rawFrame{fin: true, rsv: rawRSV3, opcode: rawOpText, payload: []byte("hello")})},
		{"RSV on ping", frame(rawFrame{fin: true, rsv: rawRSV1, opcode: rawOpPing})},
		{"reserved data opcode 0x3", frame(rawFrame{fin: true, opcode: 0x3, payload: []byte("x")})},
		{"reserved data opcode 0x7", frame(rawFrame{fin: true, opcode: 0x7})},
		{"reserved control opcode 0xB", frame(rawFrame{fin: true, opcode: 0xB, payload: []byte("x")})},
		{"reserved control opcode 0xF", frame(rawFrame{fin: true, opcode: 0xF})},
		{"ping payload 126", frame(rawFrame{fin: true, opcode: rawOpPing, payload: bytes.Repeat([]byte("p"), 126)})},
		{"close payload 126", frame(rawFrame{fin: true, opcode: rawOpClose, payload: rawCloseBody(1000, strings.Repeat("r", 124))})},
		{"fragmented ping", frame(rawFrame{fin: false, opcode: rawOpPing, payload: []byte("p")})},
		{"continuation without start", frame(rawFrame{fin: true, opcode: rawOpContinuation, payload: []byte("x")})},
		{"new message inside a fragmented one", append(
			frame(rawFrame{fin: false, opcode: rawOpText, payload: []byte("a")}),
			frame(rawFrame{fin: true, opcode: rawOpText, payload: []byte("b")})...)},
		{"close code 1005 on the wire", frame(rawFrame{fin: true, opcode: rawOpClose, payload: rawCloseBody(1005, "")})},
		{"close code 999", frame(rawFrame{fin: true, opcode: rawOpClose, payload: rawCloseBody(999, "")})},
		{"close code 5000", frame(rawFrame{fin: true, opcode: rawOpClose, payload: rawCloseBody(5000, "")})},
		{"close reason not UTF-8", frame(rawFrame{fin: true, opcode: rawOpClose, payload: rawCloseBody(1000, "\xff")})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawDial(t, ts, "/echo")
			c.writeRaw(tt.bytes)
			c.expectClose(protocol.CloseProtocolError)
			c.expectEOF()
		})
	}

	// RFC 6455 §5.2: the most significant bit of a 64-bit length MUST be 0.
	// gorilla reports it as a read-limit error; the server must still send
	// a close frame (1009 or 1002) before it drops the connection.
	t.Run("64-bit length with the top bit set", func(t *testing.T) {
		c := rawDial(t, ts, "/echo")
		c.writeRaw([]byte{0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4})
		if code, reason := c.readClose(); code != protocol.CloseTooBig && code != protocol.CloseProtocolError {
			t.Errorf("close code = %d (%q), want 1009 or 1002", code, reason)
		}
		c.expectEOF()
	})
}

// TestRFCFragmentedWithPing interleaves a ping between the fragments of a
// text message (RFC 6455 §5.4): the pong comes first, then the echo.
func TestRFCFragmentedWithPing(t *testing.T) {
	_, ts := rawServer(t, Config{})
	c := rawDial(t, ts, "/echo")
	c.write(rawFrame{fin: false, opcode: rawOpText, payload: []byte("Hel")})
	c.write(rawFrame{fin: true, opcode: rawOpPing, payload: []byte("between")})
	c.write(rawFrame{fin: false, opcode: rawOpContinuation, payload: []byte("lo, ")})
	c.write(rawFrame{fin: true, opcode: rawOpContinuation, payload: []byte("world")})

	f := c.read()
	if f.opcode != rawOpPong || !f.fin || string(f.payload) != "between" {
		t.Fatalf("got frame opcode %#x fin %v %q, want pong %q", f.opcode, f.fin, f.payload, "between")
	}
	if op, p := c.readMessage(); op != rawOpText || string(p) != "Hello, world" {
		t.Errorf("echo = %#x %q, want text %q", op, p, "Hello, world")
	}
}

// TestRFCPing: a ping is answered by a pong with the same payload
// (RFC 6455 §5.5.2, §5.5.3); an unsolicited pong is ignored.
func TestRFCPing(t *testing.T) {
	_, ts := rawServer(t, Config{})
	c := rawDial(t, ts, "/echo")
	for _, payload := range []string{"", "hello", strings.Repeat("x", 125), "\x00\xff binary is fine in a ping"} {
		c.write(rawFrame{fin: true, opcode: rawOpPing, payload: []byte(payload)})
		f := c.read()
		if f.opcode != rawOpPong || !f.fin || string(f.payload) != payload {
			t.Errorf("ping %q (%d bytes): got opcode %#x fin %v payload %q, want pong with the same payload",
				rawShort([]byte(payload)), len(payload), f.opcode, f.fin, rawShort(f.payload))
		}
	}
	c.write(rawFrame{fin: true, opcode: rawOpPong, payload: []byte("unsolicited")})
	c.text("after pong")
	if op, p := c.readMessage(); op != rawOpText || string(p) != "after pong" {
		t.Errorf("echo = %#x %q, want text %q", op, p, "after pong")
	}
}

// TestRFCCloseHandshake: the server echoes the peer's close (RFC 6455
// §5.5.1, §7.4.1) and then closes the TCP connection itself (§7.1.1).
func TestRFCCloseHandshake(t *testing.T) {
	_, ts := rawServer(t, Config{})
	tests := []struct {
		name     string
		body     []byte
		wantBody []byte
	}{
		{"1000 bye", rawCloseBody(1000, "bye"), rawCloseBody(1000, "")},
		{"no status", nil, []byte{}},
		{"1001", rawCloseBody(1001, ""), rawCloseBody(1001, "")},
		{"application code 4321", rawCloseBody(4321, "app"), rawCloseBody(4321, "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawDial(t, ts, "/echo")
			c.write(rawFrame{fin: true, opcode: rawOpClose, payload: tt.body})
			f := c.read()
			if f.opcode != rawOpClose {
				t.Fatalf("got opcode %#x, want close", f.opcode)
			}
			wantCode, _ := rawParseClose(tt.wantBody)
			if gotCode, _ := rawParseClose(f.payload); gotCode != wantCode {
				t.Errorf("close code = %d, want %d", gotCode, wantCode)
			}
			if len(tt.wantBody) == 0 && len(f.payload) != 0 {
				t.Errorf("close body = % x, want empty", f.payload)
			}
			c.expectEOF()
		})
	}

	t.Run("queued data before the close", func(t *testing.T) {
		c := rawDial(t, ts, "/echo")
		c.writeRaw(append(
			rawEncodeFrame(rawFrame{fin: true, opcode: rawOpText, masked: true, payload: []byte("last words")}),
			rawEncodeFrame(rawFrame{fin: true, opcode: rawOpClose, masked: true, payload: rawCloseBody(1000, "")})...))
		if op, p := c.readMessage(); op != rawOpText || string(p) != "last words" {
			t.Errorf("echo = %#x %q, want text %q", op, p, "last words")
		}
		c.expectClose(1000)
		c.expectEOF()
	})
}

// TestRFCInvalidUTF8: a text message that is not valid UTF-8 fails the
// connection with 1007 (RFC 6455 §8.1), wherever the fragments split it;
// valid UTF-8 split inside a character is fine.
func TestRFCInvalidUTF8(t *testing.T) {
	_, ts := rawServer(t, Config{})
	tests := []struct {
		name      string
		fragments []string
		valid     bool
	}{
		{"0xff 0xfe", []string{"ab\xff\xfecd"}, false},
		{"overlong slash", []string{"\xc0\xaf"}, false},
		{"lone surrogate", []string{"\xed\xa0\x80"}, false},
		{"code point above U+10FFFF", []string{"\xf4\x90\x80\x80"}, false},
		{"truncated at the end", []string{"ok\xe2\x82"}, false},
		{"0xff in the second fragment", []string{"hello ", "\xff", " world"}, false},
		{"overlong split", []string{"a\xc0", "\xafb"}, false},
		{"lone surrogate split", []string{"a\xed", "\xa0", "\x80b"}, false},
		{"truncated over fragments", []string{"a", "\xe2\x82"}, false},
		{"kosme split in a character", []string{"\xce", "\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"}, true},
		{"4-byte character byte by byte", []string{"\xf0", "\x9f", "\x98", "\x80"}, true},
		{"U+10FFFF and U+FFFD", []string{"\xf4\x8f\xbf", "\xbf\xef\xbf\xbd"}, true},
		{"empty fragments", []string{"", "é", ""}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawDial(t, ts, "/echo")
			for i, frag := range tt.fragments {
				op := byte(rawOpContinuation)
				if i == 0 {
					op = rawOpText
				}
				c.write(rawFrame{fin: i == len(tt.fragments)-1, opcode: op, payload: []byte(frag)})
			}
			if tt.valid {
				want := strings.Join(tt.fragments, "")
				if op, p := c.readMessage(); op != rawOpText || string(p) != want {
					t.Errorf("echo = %#x %q, want text %q", op, p, want)
				}
				return
			}
			c.expectClose(protocol.CloseInvalidUTF8)
			c.closeHandshake(protocol.CloseInvalidUTF8)
		})
	}
}

// TestRFCReadLimit: a message over ReadLimit, counted over all its
// fragments, fails with 1009; a message of exactly ReadLimit is echoed.
func TestRFCReadLimit(t *testing.T) {
	const limit = 1024
	_, ts := rawServer(t, Config{ReadLimit: limit})
	tests := []struct {
		name   string
		opcode byte
		sizes  []int // fragment sizes
		tooBig bool
	}{
		{"text at the limit", rawOpText, []int{limit}, false},
		{"binary at the limit", rawOpBinary, []int{limit}, false},
		{"fragments at the limit", rawOpText, []int{500, 500, limit - 1000}, false},
		{"text one over", rawOpText, []int{limit + 1}, true},
		{"binary one over", rawOpBinary, []int{limit + 1}, true},
		{"fragments one over", rawOpText, []int{600, limit - 600 + 1}, true},
		{"64-bit length far over", rawOpBinary, []int{70000}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawDial(t, ts, "/echo")
			var want []byte
			for i, n := range tt.sizes {
				op := byte(rawOpContinuation)
				if i == 0 {
					op = tt.opcode
				}
				p := bytes.Repeat([]byte{'a' + byte(i)}, n)
				want = append(want, p...)
				c.write(rawFrame{fin: i == len(tt.sizes)-1, opcode: op, payload: p})
			}
			if tt.tooBig {
				c.expectClose(protocol.CloseTooBig)
				c.expectEOF()
				return
			}
			if op, p := c.readMessage(); op != tt.opcode || !bytes.Equal(p, want) {
				t.Errorf("echo = %#x %d bytes, want %#x %d bytes", op, len(p), tt.opcode, len(want))
			}
		})
	}
}

// TestRFCBinary: /echo echoes binary as binary; /ws refuses binary with
// 1003 (RFC 6455 §7.4.1: a type of data it cannot accept).
func TestRFCBinary(t *testing.T) {
	_, ts := rawServer(t, Config{})
	t.Run("echo", func(t *testing.T) {
		c := rawDial(t, ts, "/echo")
		payload := []byte{0x00, 0xff, 0xfe, 0xc0, 0xaf, '\n', 0x80}
		c.write(rawFrame{fin: true, opcode: rawOpBinary, payload: payload})
		if op, p := c.readMessage(); op != rawOpBinary || !bytes.Equal(p, payload) {
			t.Errorf("echo = %#x % x, want binary % x", op, p, payload)
		}
	})
	t.Run("ws", func(t *testing.T) {
		c := rawDial(t, ts, "/ws", "Sec-WebSocket-Protocol: "+protocol.Subprotocol)
		c.write(rawFrame{fin: true, opcode: rawOpBinary, payload: []byte{1, 2, 3}})
		c.expectClose(protocol.CloseUnsupportedData)
		c.closeHandshake(protocol.CloseUnsupportedData)
	})
}

// TestRFCPayloadLengths crosses the 7-, 16- and 64-bit length encodings
// (RFC 6455 §5.2) in both directions.
func TestRFCPayloadLengths(t *testing.T) {
	_, ts := rawServer(t, Config{ReadLimit: 1 << 20})
	c := rawDial(t, ts, "/echo")
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		for _, op := range []byte{rawOpText, rawOpBinary} {
			payload := make([]byte, n)
			for i := range payload {
				payload[i] = 'a' + byte(i%26)
			}
			c.write(rawFrame{fin: true, opcode: op, payload: payload})
			gotOp, got := c.readMessage()
			if gotOp != op || !bytes.Equal(got, payload) {
				t.Errorf("%d bytes, opcode %#x: echo = %#x %d bytes, want the same", n, op, gotOp, len(got))
			}
		}
	}
}

// TestRFCEchoMessageBoundaries: /echo returns every message as its own
// message, even when many arrive at once.
func TestRFCEchoMessageBoundaries(t *testing.T) {
	_, ts := rawServer(t, Config{})
	c := rawDial(t, ts, "/echo")
	const n = 200
	var burst []byte
	for i := range n {
		burst = append(burst, rawEncodeFrame(rawFrame{fin: true, opcode: rawOpText, masked: true, payload: fmt.Appendf(nil, "m%d", i)})...)
	}
	c.writeRaw(burst)
	for i := range n {
		want := fmt.Sprintf("m%d", i)
		if op, p := c.readMessage(); op != rawOpText || string(p) != want {
			t.Fatalf("echo %d = %#x %q, want text %q", i, op, rawShort(p), want)
		}
	}
}

// TestRFCServerPing: the server pings on its own every PingInterval
// (RFC 6455 §5.5.2), and a pong keeps the connection.
func TestRFCServerPing(t *testing.T) {
	_, ts := rawServer(t, Config{PingInterval: 50 * time.Millisecond, PongTimeout: 5 * time.Second})
	c := rawDial(t, ts, "/echo")
	for i := range 3 {
		f := c.read()
		if f.opcode != rawOpPing || !f.fin || len(f.payload) > 125 {
			t.Fatalf("frame %d: opcode %#x fin %v len %d, want a ping", i, f.opcode, f.fin, len(f.payload))
		}
		c.write(rawFrame{fin: true, opcode: rawOpPong, payload: f.payload})
	}
	c.text("still here")
	for {
		op, p := c.readMessageOrPing()
		if op == rawOpPing {
			continue
		}
		if op != rawOpText || string(p) != "still here" {
			t.Errorf("echo = %#x %q, want text %q", op, p, "still here")
		}
		break
	}
}

// TestRFCShutdown: Shutdown closes a connected client with 1012, waits for
// its close reply, and then refuses new handshakes with 503.
func TestRFCShutdown(t *testing.T) {
	// A long CloseGrace: Shutdown can only return early because the
	// client answered.
	srv, ts := rawServer(t, Config{CloseGrace: 30 * time.Second})
	c := rawDial(t, ts, "/echo")
	c.text("registered") // the echo proves the connection is being served
	c.readMessage()

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	c.expectClose(protocol.CloseServiceRestart)
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v before the client answered the close", err)
	default:
	}
	c.closeHandshake(protocol.CloseServiceRestart)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Shutdown = %v, want nil", err)
		}
	case <-time.After(rawTimeout):
		t.Fatal("Shutdown did not return after the close handshake")
	}

	late := rawHandshake(t, ts, "/echo")
	if got, want := late.resp.StatusCode, http.StatusServiceUnavailable; got != want {
		t.Errorf("handshake after Shutdown: status %d, want %d", got, want)
	}
}

// rawPipeEvents records what the client end of a pipe connection read, on
// a goroutine of its own that never touches t.
type rawPipeEvents struct {
	mu       sync.Mutex
	pings    int
	others   []rawFrame // anything but pings
	closed   bool       // the read ended
	closedAt time.Duration
	err      error
}

// rawPipeReader reads frames from c until the connection ends, counting
// pings and, if answer is set, answering each with a pong.
func rawPipeReader(c *rawPipeConn, start time.Time, answer bool) *rawPipeEvents {
	ev := new(rawPipeEvents)
	go func() {
		for {
			f, err := rawReadFrame(c.br)
			ev.mu.Lock()
			if err != nil {
				ev.closed, ev.closedAt, ev.err = true, time.Since(start), err
				ev.mu.Unlock()
				return
			}
			if f.opcode == rawOpPing {
				ev.pings++
			} else {
				ev.others = append(ev.others, f)
			}
			ev.mu.Unlock()
			if f.opcode == rawOpPing && answer {
				c.nc.Write(rawEncodeFrame(rawFrame{fin: true, opcode: rawOpPong, masked: true, payload: f.payload}))
			}
		}
	}()
	return ev
}

func (ev *rawPipeEvents) snapshot() (pings int, closed bool, closedAt time.Duration, err error, others []rawFrame) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return ev.pings, ev.closed, ev.closedAt, ev.err, slices.Clone(ev.others)
}

// rawPipeServer creates a Server inside the current synctest bubble, with
// PingInterval 25s and PongTimeout 10s and backends from outside it, and
// shuts it down at cleanup, inside the bubble.
func rawPipeServer(t *testing.T, store *sqlitestore.Store, broker *membroker.Broker) *Server {
	t.Helper()
	srv, err := New(Config{Store: store, Broker: broker, PingInterval: 25 * time.Second, PongTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return srv
}

// TestRFCSilentPeerDropped: a peer that never answers pings and sends
// nothing is dropped PingInterval+PongTimeout after its last frame, in
// fake time.
func TestRFCSilentPeerDropped(t *testing.T) {
	store, broker := rawBackends(t)
	synctest.Test(t, func(t *testing.T) {
		srv := rawPipeServer(t, store, broker)
		start := time.Now()
		c, err := rawPipeDial(srv, "/echo")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.nc.Close(); <-c.served })
		ev := rawPipeReader(c, start, false)

		time.Sleep(34 * time.Second)
		synctest.Wait()
		pings, closed, _, err, _ := ev.snapshot()
		if closed {
			t.Fatalf("at 34s: connection closed (%v), want it open", err)
		}
		if pings != 1 {
			t.Errorf("at 34s: %d pings, want 1 (at 25s)", pings)
		}

		time.Sleep(2 * time.Second)
		synctest.Wait()
		_, closed, closedAt, err, others := ev.snapshot()
		if !closed {
			t.Fatal("at 36s: connection open, want it dropped at 35s")
		}
		if !rawIsClosed(err) {
			t.Errorf("read on the client end: %v, want EOF", err)
		}
		if want := 35 * time.Second; closedAt != want {
			t.Errorf("dropped at %v, want %v", closedAt, want)
		}
		if len(others) != 0 {
			t.Errorf("got %d frames besides pings, want none (first: opcode %#x)", len(others), others[0].opcode)
		}
		select {
		case <-c.served:
		default:
			t.Error("the handler is still running after the drop")
		}
	})
}

// TestRFCLivePeerStays: a peer that answers every ping stays connected
// for five minutes of fake time, then closes normally.
func TestRFCLivePeerStays(t *testing.T) {
	store, broker := rawBackends(t)
	synctest.Test(t, func(t *testing.T) {
		srv := rawPipeServer(t, store, broker)
		start := time.Now()
		c, err := rawPipeDial(srv, "/echo")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.nc.Close(); <-c.served })
		ev := rawPipeReader(c, start, true)

		time.Sleep(5 * time.Minute)
		synctest.Wait()
		pings, closed, _, err, _ := ev.snapshot()
		if closed {
			t.Fatalf("after 5m: connection closed (%v), want it open", err)
		}
		if pings < 11 {
			t.Errorf("after 5m: %d pings, want at least 11 (one every 25s)", pings)
		}

		if _, err := c.nc.Write(rawEncodeFrame(rawFrame{fin: true, opcode: rawOpClose, masked: true, payload: rawCloseBody(1000, "bye")})); err != nil {
			t.Fatalf("write close: %v", err)
		}
		synctest.Wait()
		_, closed, closedAt, err, others := ev.snapshot()
		if !closed || !rawIsClosed(err) {
			t.Fatalf("after the close handshake: closed %v (%v), want closed by the server", closed, err)
		}
		if closedAt != 5*time.Minute {
			t.Errorf("closed at %v, want at once (5m)", closedAt)
		}
		if len(others) != 1 || others[0].opcode != rawOpClose {
			t.Fatalf("got frames %+v besides pings, want one close", others)
		}
		if code, _ := rawParseClose(others[0].payload); code != 1000 {
			t.Errorf("close code = %d, want 1000", code)
		}
	})
}

// TestRFCPingFloodBounded: a peer that floods pings and reads nothing
// cannot make the server hold a pong per ping; RFC 6455 §5.5.3 allows
// answering only the most recent ones, and the most recent is answered.
func TestRFCPingFloodBounded(t *testing.T) {
	store, broker := rawBackends(t)
	synctest.Test(t, func(t *testing.T) {
		srv := rawPipeServer(t, store, broker)
		c, err := rawPipeDial(srv, "/echo")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.nc.Close(); <-c.served })

		// net.Pipe has no buffer: the first pong blocks the write loop
		// until the client reads, while the read loop takes every ping.
		const n = 1000
		for i := range n {
			ping := rawEncodeFrame(rawFrame{fin: true, opcode: rawOpPing, masked: true, payload: fmt.Appendf(nil, "p%d", i)})
			if _, err := c.nc.Write(ping); err != nil {
				t.Fatalf("write ping %d: %v", i, err)
			}
		}
		synctest.Wait()
		pending := 0
		srv.mu.Lock()
		for cn := range srv.conns {
			cn.mu.Lock()
			pending += len(cn.pongs)
			cn.mu.Unlock()
		}
		srv.mu.Unlock()
		if pending > maxPendingPongs {
			t.Errorf("%d pongs pending after %d unread pings, want at most %d", pending, n, maxPendingPongs)
		}

		ev := rawPipeReader(c, time.Now(), false)
		synctest.Wait()
		_, closed, _, err, frames := ev.snapshot()
		if closed {
			t.Fatalf("connection closed (%v), want it open", err)
		}
		if len(frames) == 0 {
			t.Fatal("no pong received")
		}
		for _, f := range frames {
			if f.opcode != rawOpPong {
				t.Fatalf("got opcode %#x, want only pongs", f.opcode)
			}
		}
		if got, want := string(frames[len(frames)-1].payload), fmt.Sprintf("p%d", n-1); got != want {
			t.Errorf("last pong %q, want %q (the most recent ping)", got, want)
		}
	})
}
