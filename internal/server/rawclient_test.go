package server

// A raw RFC 6455 client for conformance tests, written from the RFC and
// not from gorilla: the opening handshake (§4.1, §4.2.2) and the base
// framing protocol (§5.2) byte by byte, so that tests can send frames no
// well-behaved library would produce.

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// Opcodes (RFC 6455 §5.2, §11.8).
const (
	rawOpContinuation = 0x0
	rawOpText         = 0x1
	rawOpBinary       = 0x2
	rawOpClose        = 0x8
	rawOpPing         = 0x9
	rawOpPong         = 0xA
)

// RSV bits as they sit in the first header byte (RFC 6455 §5.2).
const (
	rawRSV1 = 0x40
	rawRSV2 = 0x20
	rawRSV3 = 0x10
)

// rawGUID is the fixed GUID of RFC 6455 §1.3 appended to the key.
const rawGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// rawFrame is one WebSocket frame. On write, rsv is OR-ed into the first
// byte as is (use rawRSV1..3) and masked says whether to set the MASK bit
// and mask the payload. On read, masked reports the MASK bit as received
// and payload is already unmasked, and longLen reports a length encoded
// with more bytes than needed, which RFC 6455 §5.2 forbids.
type rawFrame struct {
	fin     bool
	rsv     byte
	opcode  byte
	masked  bool
	payload []byte
	longLen bool
}

// rawAccept computes Sec-WebSocket-Accept for key (RFC 6455 §4.2.2 step
// 5.4): base64 of the SHA-1 of the key concatenated with the GUID.
func rawAccept(key string) string {
	sum := sha1.Sum([]byte(key + rawGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// rawKey returns a fresh Sec-WebSocket-Key: 16 random bytes, base64.
func rawKey() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// rawEncodeFrame lays f out as RFC 6455 §5.2 describes:
//
//	byte 0: FIN | RSV1 | RSV2 | RSV3 | opcode(4)
//	byte 1: MASK | payload len(7)   (126: 16-bit length follows, 127: 64-bit)
//	extended payload length, network byte order
//	masking key (4 bytes) if MASK
//	payload, each byte i XOR key[i%4] if MASK
func rawEncodeFrame(f rawFrame) []byte {
	b := make([]byte, 0, 14+len(f.payload))
	b0 := f.rsv&0x70 | f.opcode&0x0f
	if f.fin {
		b0 |= 0x80
	}
	b = append(b, b0)
	var maskBit byte
	if f.masked {
		maskBit = 0x80
	}
	switch n := len(f.payload); {
	case n <= 125:
		b = append(b, maskBit|byte(n))
	case n <= 0xffff:
		b = append(b, maskBit|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, maskBit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !f.masked {
		return append(b, f.payload...)
	}
	var key [4]byte
	rand.Read(key[:])
	b = append(b, key[:]...)
	for i, c := range f.payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// rawReadFrame reads one frame. A server's frames must not be masked; the
// caller checks f.masked. Payloads are limited to 16 MiB.
func rawReadFrame(r io.Reader) (rawFrame, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return rawFrame{}, err
	}
	f := rawFrame{
		fin:    h[0]&0x80 != 0,
		rsv:    h[0] & 0x70,
		opcode: h[0] & 0x0f,
		masked: h[1]&0x80 != 0,
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
		f.longLen = n <= 125
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(ext[:])
		f.longLen = n <= 0xffff
	}
	if n > 16<<20 {
		return f, fmt.Errorf("frame length %d too large for this client", n)
	}
	var key [4]byte
	if f.masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return f, err
		}
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.payload); err != nil {
		return f, err
	}
	if f.masked {
		for i := range f.payload {
			f.payload[i] ^= key[i%4]
		}
	}
	return f, nil
}

// rawCloseBody formats a close frame body: 2-byte code, then the reason.
func rawCloseBody(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// rawParseClose splits a close body; code 1005 stands for "no status".
func rawParseClose(p []byte) (code int, reason string) {
	if len(p) < 2 {
		return 1005, ""
	}
	return int(binary.BigEndian.Uint16(p)), string(p[2:])
}

// rawIsClosed reports whether err means the peer closed the TCP
// connection: EOF, a reset, or (net.Pipe) a closed pipe.
func rawIsClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.ErrClosedPipe) || errors.Is(err, syscall.ECONNRESET)
}

// rawRequest writes the opening handshake request of RFC 6455 §4.1 for
// path with key, by hand. extra holds header lines ("Name: value"); one
// named like a default (Upgrade, Connection, Sec-WebSocket-Key,
// Sec-WebSocket-Version) replaces it, and "Name:" with no value drops it.
func rawRequest(w io.Writer, host, path, key string, extra ...string) error {
	lines := []string{
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Key: " + key,
		"Sec-WebSocket-Version: 13",
	}
	name := func(line string) string {
		n, _, _ := strings.Cut(line, ":")
		return strings.ToLower(strings.TrimSpace(n))
	}
	for _, e := range extra {
		replaced := false
		for i, l := range lines {
			if name(l) == name(e) {
				lines[i], replaced = e, true
			}
		}
		if !replaced {
			lines = append(lines, e)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\n", path)
	fmt.Fprintf(&b, "Host: %s\r\n", host)
	for _, l := range lines {
		if _, v, _ := strings.Cut(l, ":"); strings.TrimSpace(v) == "" {
			continue
		}
		b.WriteString(l + "\r\n")
	}
	b.WriteString("\r\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// rawServer starts a Server for cfg (Store and Broker are filled in when
// cfg has neither) behind httptest.NewServer, and stops everything at
// cleanup.
func rawServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Store == nil && cfg.Broker == nil {
		cfg.Store, cfg.Broker = rawBackends(t)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.Close()
	})
	return srv, ts
}

// rawBackends opens a SQLite store in a temporary directory and an
// in-process broker, both closed at cleanup.
func rawBackends(t *testing.T) (*sqlitestore.Store, *membroker.Broker) {
	t.Helper()
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatalf("sqlitestore.Open: %v", err)
	}
	broker := membroker.New()
	t.Cleanup(func() {
		broker.Close()
		store.Close()
	})
	return store, broker
}

// rawConn is a raw client connection: a net.Conn and the buffered reader
// that read the handshake response and reads the frames after it. Its
// methods call t.Fatal and belong to the test goroutine.
type rawConn struct {
	t    *testing.T
	nc   net.Conn
	br   *bufio.Reader
	resp *http.Response
}

// rawTimeout bounds every read and write of a real-TCP raw client, so a
// broken server fails a test instead of hanging it.
const rawTimeout = 5 * time.Second

// rawHandshake dials ts, sends the upgrade request for path with extra
// header lines, and returns the connection and the server's response,
// whatever its status. The connection is closed at cleanup.
func rawHandshake(t *testing.T, ts *httptest.Server, path string, extra ...string) *rawConn {
	t.Helper()
	addr := ts.Listener.Addr().String()
	nc, err := net.DialTimeout("tcp", addr, rawTimeout)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(rawTimeout))
	key := rawKey()
	if err := rawRequest(nc, addr, path, key, extra...); err != nil {
		t.Fatalf("write handshake: %v", err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		t.Fatalf("read handshake response: %v", err)
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		if got, want := resp.Header.Get("Sec-WebSocket-Accept"), rawAccept(key); got != want {
			t.Fatalf("Sec-WebSocket-Accept = %q, want %q", got, want)
		}
		if got := resp.Header.Get("Upgrade"); !strings.EqualFold(got, "websocket") {
			t.Fatalf("Upgrade header = %q, want websocket", got)
		}
		if got := resp.Header.Get("Connection"); !strings.EqualFold(got, "upgrade") {
			t.Fatalf("Connection header = %q, want Upgrade", got)
		}
	}
	return &rawConn{t: t, nc: nc, br: br, resp: resp}
}

// rawDial is rawHandshake that requires 101 Switching Protocols.
func rawDial(t *testing.T, ts *httptest.Server, path string, extra ...string) *rawConn {
	t.Helper()
	c := rawHandshake(t, ts, path, extra...)
	if c.resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status = %s, want 101", c.resp.Status)
	}
	return c
}

// writeRaw writes bytes as they are.
func (c *rawConn) writeRaw(b []byte) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(rawTimeout))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// write writes f; client frames are masked unless f says otherwise via
// writeUnmasked.
func (c *rawConn) write(f rawFrame) {
	c.t.Helper()
	f.masked = true
	c.writeRaw(rawEncodeFrame(f))
}

// writeUnmasked writes f without the MASK bit, which RFC 6455 §5.1
// forbids a client to do.
func (c *rawConn) writeUnmasked(f rawFrame) {
	c.t.Helper()
	f.masked = false
	c.writeRaw(rawEncodeFrame(f))
}

func (c *rawConn) text(s string) {
	c.t.Helper()
	c.write(rawFrame{fin: true, opcode: rawOpText, payload: []byte(s)})
}

// read reads one frame and checks what every server frame must satisfy:
// not masked, no RSV bit (nothing negotiated).
func (c *rawConn) read() rawFrame {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(rawTimeout))
	f, err := rawReadFrame(c.br)
	if err != nil {
		c.t.Fatalf("read frame: %v", err)
	}
	if f.masked {
		c.t.Errorf("server frame (opcode %#x) is masked; RFC 6455 §5.1 forbids it", f.opcode)
	}
	if f.rsv != 0 {
		c.t.Errorf("server frame (opcode %#x) has RSV bits %#x", f.opcode, f.rsv)
	}
	if f.longLen {
		c.t.Errorf("server frame (opcode %#x) length %d not in the minimal encoding", f.opcode, len(f.payload))
	}
	return f
}

// readMessage reads one data message, reassembling fragments; a control
// frame before or in between fails the test.
func (c *rawConn) readMessage() (opcode byte, payload []byte) {
	c.t.Helper()
	opcode, payload = c.readMessageOrPing()
	if opcode == rawOpPing {
		c.t.Fatalf("got a ping (%q), want a text or binary message", payload)
	}
	return opcode, payload
}

// readMessageOrPing is readMessage that also returns a ping frame.
func (c *rawConn) readMessageOrPing() (byte, []byte) {
	c.t.Helper()
	f := c.read()
	if f.opcode == rawOpPing {
		return f.opcode, f.payload
	}
	if f.opcode != rawOpText && f.opcode != rawOpBinary {
		c.t.Fatalf("got frame opcode %#x (%q), want a text or binary message", f.opcode, rawShort(f.payload))
	}
	op, p := f.opcode, f.payload
	for !f.fin {
		f = c.read()
		if f.opcode != rawOpContinuation {
			c.t.Fatalf("got frame opcode %#x inside a fragmented message, want continuation", f.opcode)
		}
		p = append(p, f.payload...)
	}
	return op, p
}

// readClose reads the next frame, which must be a close frame, and returns
// its code (1005 when it has none) and reason.
func (c *rawConn) readClose() (code int, reason string) {
	c.t.Helper()
	f := c.read()
	if f.opcode != rawOpClose {
		c.t.Fatalf("got frame opcode %#x (%q), want close", f.opcode, rawShort(f.payload))
	}
	if !f.fin {
		c.t.Errorf("close frame without FIN")
	}
	return rawParseClose(f.payload)
}

// expectClose reads a close frame and checks its code.
func (c *rawConn) expectClose(want int) {
	c.t.Helper()
	if got, reason := c.readClose(); got != want {
		c.t.Fatalf("close code = %d (%q), want %d", got, reason, want)
	}
}

// expectEOF checks that the server closes the TCP connection now, without
// sending anything more.
func (c *rawConn) expectEOF() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(rawTimeout))
	f, err := rawReadFrame(c.br)
	if err == nil {
		c.t.Fatalf("got frame opcode %#x (%q), want the connection closed", f.opcode, rawShort(f.payload))
	}
	if !rawIsClosed(err) {
		c.t.Fatalf("read after close: %v, want EOF", err)
	}
}

// closeHandshake answers the server's close frame with code, then expects
// the server to close the TCP connection (RFC 6455 §7.1.1: the server
// closes the TCP connection first).
func (c *rawConn) closeHandshake(code uint16) {
	c.t.Helper()
	c.write(rawFrame{fin: true, opcode: rawOpClose, payload: rawCloseBody(code, "")})
	c.expectEOF()
}

// rawShort abbreviates a payload for a failure message.
func rawShort(p []byte) []byte {
	if len(p) > 64 {
		return p[:64]
	}
	return p
}

// rawHijacker is an http.ResponseWriter whose connection is one end of a
// net.Pipe, so that a WebSocket can be served without a network, inside a
// testing/synctest bubble.
type rawHijacker struct {
	conn   net.Conn
	header http.Header
	status int
	body   strings.Builder
}

func (w *rawHijacker) Header() http.Header { return w.header }

func (w *rawHijacker) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *rawHijacker) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

func (w *rawHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.conn, bufio.NewReadWriter(bufio.NewReader(w.conn), bufio.NewWriter(w.conn)), nil
}

// rawPipeConn is the client end of a WebSocket served over net.Pipe.
type rawPipeConn struct {
	nc     net.Conn
	br     *bufio.Reader
	served chan struct{} // closed when srv.ServeHTTP returned
}

// rawPipeDial serves an upgrade request for path on srv over net.Pipe,
// with srv.ServeHTTP on a new goroutine, and completes the handshake on
// the client end. It returns an error rather than failing the test, so
// that it can run in any goroutine; it sets no deadlines.
func rawPipeDial(srv *Server, path string) (*rawPipeConn, error) {
	client, server := net.Pipe()
	key := rawKey()
	r := httptest.NewRequest(http.MethodGet, "http://hubbub.test"+path, nil)
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Sec-WebSocket-Key", key)
	r.Header.Set("Sec-WebSocket-Version", "13")
	w := &rawHijacker{conn: server, header: make(http.Header)}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.ServeHTTP(w, r)
		if w.status != 0 { // refused: no hijack happened
			server.Close()
		}
	}()
	br := bufio.NewReader(client)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		client.Close()
		<-served
		return nil, fmt.Errorf("read handshake response: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		client.Close()
		<-served
		return nil, fmt.Errorf("handshake status %s, want 101", resp.Status)
	}
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), rawAccept(key); got != want {
		client.Close()
		<-served
		return nil, fmt.Errorf("Sec-WebSocket-Accept = %q, want %q", got, want)
	}
	return &rawPipeConn{nc: client, br: br, served: served}, nil
}

// rawCommandFrame encodes cmd as a masked text frame, to be written with
// others in one segment (a pipelined burst).
func rawCommandFrame(t *testing.T, cmd protocol.Command) []byte {
	t.Helper()
	b, err := protocol.EncodeCommand(&cmd)
	if err != nil {
		t.Fatal(err)
	}
	return maskedFrame(0x80|rawOpText, string(b))
}
