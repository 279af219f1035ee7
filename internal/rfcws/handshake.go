// Package rfcws is a minimal WebSocket server written from RFC 6455
// (https://www.rfc-editor.org/rfc/rfc6455) with the standard library and
// hubbub's own frame codec, internal/wsframe. It is for learning: hubbubd
// serves it as an echo at /echo/rfc6455, beside the gorilla-based /echo,
// and the chat does not use it. Comments cite the RFC's sections as §n.n.
//
// What it does: the opening handshake (§4.2), reading masked frames and
// writing unmasked ones (§5.1-§5.3), fragmented messages (§5.4), ping,
// pong and the close handshake (§5.5, §7), UTF-8 validation of text as it
// arrives (§8.1), and a message size limit (close 1009).
//
// What it does not do: extensions (permessage-deflate) and subprotocols
// are never negotiated, the server sends no pings of its own (a silent
// peer is dropped after Options.ReadTimeout), and a connection has a
// single goroutine that reads and writes in turn, which is enough for an
// echo, where every write answers a read, but not for a chat, where
// writes come from other people (see internal/server's writeLoop).
package rfcws

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hubbub-chat/hubbub/internal/wsframe"
)

// Options configures Upgrade. The zero value is usable; each field says
// its default.
type Options struct {
	// MaxMessage is the largest message in bytes, all fragments together;
	// a longer one closes the connection with 1009. Default 64 KiB.
	MaxMessage int64
	// CheckOrigin decides whether a request's Origin may open a
	// connection; refused requests get 403 (§4.2.2, §10.2). Default: only
	// requests without Origin or whose Origin host equals Host.
	CheckOrigin func(r *http.Request) bool
	// ReadTimeout is how long the server waits for the next frame, and
	// for all of it; a fragmented message must also end within
	// ReadTimeout of its first frame, whatever control frames come
	// between. Default 60s.
	ReadTimeout time.Duration
	// WriteTimeout is the deadline of each write. Default 10s.
	WriteTimeout time.Duration
	// CloseGrace is how long the server waits for the peer's close frame
	// after sending its own. Default 1s.
	CloseGrace time.Duration
}

func (o *Options) setDefaults() {
	if o.MaxMessage <= 0 {
		o.MaxMessage = 64 << 10
	}
	if o.CheckOrigin == nil {
		o.CheckOrigin = sameOrigin
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 60 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.CloseGrace <= 0 {
		o.CloseGrace = time.Second
	}
}

// sameOrigin allows a request without Origin (not a browser) or whose
// Origin names the host the request was sent to.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	_, host, ok := strings.Cut(origin, "://")
	return ok && strings.EqualFold(host, r.Host)
}

// HandshakeError is the reason Upgrade refused a request, with the HTTP
// status it answered.
type HandshakeError struct {
	Status int
	Reason string
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("rfcws: handshake refused (%d): %s", e.Status, e.Reason)
}

// Upgrade performs the server's side of the opening handshake (§4.2) and
// returns the connection. When the request is not an acceptable WebSocket
// handshake it writes the HTTP error itself and returns a *HandshakeError.
// It negotiates no subprotocol and no extension.
func Upgrade(w http.ResponseWriter, r *http.Request, opts Options) (*Conn, error) {
	opts.setDefaults()
	refuse := func(status int, reason string) (*Conn, error) {
		http.Error(w, reason, status)
		return nil, &HandshakeError{status, reason}
	}
	// §4.2.1: "An HTTP/1.1 or higher GET request".
	if r.Method != http.MethodGet || !r.ProtoAtLeast(1, 1) {
		return refuse(http.StatusMethodNotAllowed, "a WebSocket handshake is an HTTP/1.1 GET")
	}
	// §4.2.1 items 3 and 4: an Upgrade header with the token "websocket"
	// and a Connection header with the token "Upgrade", both ASCII
	// case-insensitive.
	if !hasToken(r.Header, "Upgrade", "websocket") || !hasToken(r.Header, "Connection", "upgrade") {
		return refuse(http.StatusBadRequest, "not a WebSocket handshake: need Upgrade: websocket and Connection: Upgrade")
	}
	// §4.2.1 item 6 and §4.4: only version 13 exists; a server that does
	// not speak the version asked for answers 426 and lists its own.
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		return refuse(http.StatusUpgradeRequired, "unsupported Sec-WebSocket-Version, want 13")
	}
	// §4.2.1 item 5: the key is 16 random bytes in base64.
	key := r.Header.Get("Sec-WebSocket-Key")
	if raw, err := base64.StdEncoding.DecodeString(key); err != nil || len(raw) != 16 {
		return refuse(http.StatusBadRequest, "Sec-WebSocket-Key must be 16 bytes in base64")
	}
	// §4.2.2 item 4 and §10.2: the server decides whether the origin may
	// connect; a browser always sends Origin, so this is what stops a page
	// on another site from opening a socket with the user's cookies.
	if !opts.CheckOrigin(r) {
		return refuse(http.StatusForbidden, "origin not allowed")
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return refuse(http.StatusInternalServerError, "connection cannot be taken over")
	}
	// From here on the connection is ours: net/http no longer writes to
	// it. brw.Reader may already hold the client's first frames.
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, fmt.Errorf("rfcws: hijack: %w", err)
	}
	// §4.2.2 item 5: the answer is 101, Upgrade and Connection, and
	// Sec-WebSocket-Accept = base64(SHA-1(key + GUID)), which proves the
	// server read this handshake (not a cached or forged answer).
	resp := "HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + wsframe.AcceptKey(key) + "\r\n\r\n"
	nc.SetWriteDeadline(time.Now().Add(opts.WriteTimeout))
	if _, err := nc.Write([]byte(resp)); err != nil {
		nc.Close()
		return nil, fmt.Errorf("rfcws: write handshake: %w", err)
	}
	return &Conn{nc: nc, br: brw.Reader, opts: opts}, nil
}

// hasToken reports whether the comma-separated header name contains
// token, compared ASCII case-insensitively (§4.2.1).
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

var errClosed = errors.New("rfcws: connection closed")
