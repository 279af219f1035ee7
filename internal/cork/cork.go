// Package cork holds a connection's writes and sends them as one, as
// Linux's TCP_CORK does, but without its system calls and on any net.Conn.
//
// A WebSocket client that has several commands at hand when it connects
// (hubbub's hello and the joins behind it) writes each frame with its own
// write(2): each becomes a TCP segment of its own, which the server reads
// and answers one at a time. Corked, the frames leave in one segment; the
// server reads them with one system call and answers them together, in
// one frame (docs/protocol.md, "Pipelining"). gorilla/websocket writes each
// frame straight to its net.Conn, so the holding happens below it: a
// Dialer's NetDialContext returns a *Conn (Dial), and the caller corks it
// around the frames it writes together.
package cork

import (
	"context"
	"net"
	"sync"
)

// Conn is a net.Conn whose writes can be held (Cork) and then sent in one
// write (Uncork). While it is not corked, a write goes straight through.
// Its methods are safe for concurrent use: a write that comes while the
// connection is corked (a close frame from another goroutine, say) is held
// with the rest, in the order of the calls.
type Conn struct {
	net.Conn

	mu     sync.Mutex
	corked bool   // guarded by mu
	held   []byte // guarded by mu
}

// New returns c wrapped, not corked.
func New(c net.Conn) *Conn { return &Conn{Conn: c} }

// Write writes p, or holds it while the connection is corked. A held
// write reports success; its error, if any, comes from Uncork.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// Cork holds the writes that follow until Uncork or Drop.
func (c *Conn) Cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// Uncork sends what was held since Cork in one write and lets the writes
// that follow go straight through. The write's deadline is the
// connection's write deadline.
func (c *Conn) Uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	held := c.held
	c.corked, c.held = false, nil
	if len(held) == 0 {
		return nil
	}
	_, err := c.Conn.Write(held)
	return err
}

// Drop forgets what was held since Cork, unsent, and lets the writes that
// follow go straight through: for a caller that gives up on the
// connection midway.
func (c *Conn) Drop() {
	c.mu.Lock()
	c.corked, c.held = false, nil
	c.mu.Unlock()
}

// Dial returns a NetDialContext for a websocket.Dialer that dials with
// base (a zero net.Dialer when nil) and wraps the connection in a Conn.
// When dialed is not nil, it is called with each Conn made, so that the
// caller can find it again below gorilla's (and, for wss, TLS's) own
// wrapping.
func Dial(base func(ctx context.Context, network, addr string) (net.Conn, error), dialed func(*Conn)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if base == nil {
		base = (&net.Dialer{}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := base(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c := New(nc)
		if dialed != nil {
			dialed(c)
		}
		return c, nil
	}
}
