package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/internal/inspect"
	"github.com/hubbub-chat/hubbub/internal/tui"
)

// tracer prints, for --trace, every frame of the client's connections as
// this side saw it cross the wire: the handshake with its
// Sec-WebSocket-Accept derivation, then each frame decoded (masked, since
// a client masks every frame it sends). The server's side of the same
// connection is in its inspector (docs/learn/inspector.md).
type tracer struct {
	mu sync.Mutex // serialises lines to w
	w  io.Writer
	n  int // connections dialled, guarded by mu
	wg sync.WaitGroup
}

func newTracer(w io.Writer) *tracer { return &tracer{w: w} }

// dialer returns a websocket.Dialer whose connections are traced. It dials
// directly (no HTTP proxy: a proxy's CONNECT would be traced as the
// handshake) and, for wss, does TLS itself so that the tap sees the
// WebSocket bytes rather than TLS records.
func (tr *tracer) dialer() *websocket.Dialer {
	nd := &net.Dialer{}
	return &websocket.Dialer{
		HandshakeTimeout: 10 * time.Second,
		Proxy:            func(*http.Request) (*url.URL, error) { return nil, nil },
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return tr.tap(c), nil
		},
		NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			td := &tls.Dialer{NetDialer: nd, Config: &tls.Config{ServerName: host}}
			c, err := td.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return tr.tap(c), nil
		},
	}
}

// tap wraps c and prints what crosses it until it closes.
func (tr *tracer) tap(c net.Conn) net.Conn {
	t := inspect.NewTap(false, true, true)
	w := t.Watch()
	tr.mu.Lock()
	tr.n++
	id := tr.n
	tr.mu.Unlock()
	tr.wg.Go(func() {
		dec := inspect.NewDecoder(t, false)
		emit := func(r inspect.Record) {
			tr.mu.Lock()
			defer tr.mu.Unlock()
			fmt.Fprintf(tr.w, "trace %d %8.1fms %s\n", id, r.T, tui.SanitizeLine(inspect.Summary(r)))
		}
		for {
			ch, err := w.Next(context.Background())
			if err != nil {
				if err != inspect.ErrClosed {
					emit(inspect.Record{Kind: "note", Note: err.Error()})
				}
				return
			}
			dec.Decode(ch, emit)
		}
	})
	return inspect.NewConn(c, t)
}

// wait waits for the printers of every traced connection, which end when
// their connections close.
func (tr *tracer) wait() { tr.wg.Wait() }
