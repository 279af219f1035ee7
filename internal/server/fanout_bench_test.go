package server

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/internal/inspect"
	"github.com/hubbub-chat/hubbub/protocol"
)

// BenchmarkFanout measures the server's own cost of one event delivered to
// each of N connections, as a room's shard delivers it: Deliver on every
// member, each write loop woken, the frame written through gorilla and the
// inspector's tap. Only the write system call is left out: every socket is
// a real loopback TCP connection (so deadlines are set on a real poller),
// but once the handshake is done its writes are counted and discarded.
// Each event is written before the next is delivered, so nothing
// coalesces, as in a room at 20–100 messages/s. ns/delivery is wall time
// per delivery on all the machine's cores. Run with
//
//	go test -run '^$' -bench Fanout -count 6 ./internal/server/
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprint("members=", n), func(b *testing.B) {
			conns, written := fanoutConns(b, n)
			ev, _ := protocol.EncodeEvent(&protocol.Event{Type: protocol.TypeMessage, Message: &protocol.Message{
				Room: "lobby", Seq: 1234, From: "alice", Body: strings.Repeat("hello ", 12), TS: 1764000000000}})
			b.ReportAllocs()
			for b.Loop() {
				written.wait(n, func() {
					for _, c := range conns {
						c.Deliver(ev)
					}
				})
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
		})
	}
}

// frameCounter counts the writes of discarding conns and signals when the
// expected number has been written.
type frameCounter struct {
	left atomic.Int64
	done chan struct{}
}

// wait runs deliver and returns once n more writes have been made.
func (fc *frameCounter) wait(n int, deliver func()) {
	fc.left.Store(int64(n))
	deliver()
	<-fc.done
}

func (fc *frameCounter) wrote() {
	if fc.left.Add(-1) == 0 {
		fc.done <- struct{}{}
	}
}

// discardConn is a real socket whose writes are discarded once discarding
// is set; everything else (deadlines, close) reaches the socket.
type discardConn struct {
	net.Conn
	discarding atomic.Bool
	fc         *frameCounter
}

func (d *discardConn) Write(p []byte) (int, error) {
	if !d.discarding.Load() {
		return d.Conn.Write(p)
	}
	d.fc.wrote()
	return len(p), nil
}

// discardHijacker makes the connection gorilla hijacks a tapped
// discardConn, as tapWriter makes it a tapped conn.
type discardHijacker struct {
	http.ResponseWriter
	fc  *frameCounter
	got chan *discardConn
}

func (h discardHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := h.ResponseWriter.(http.Hijacker).Hijack()
	if err != nil {
		return nil, nil, err
	}
	dc := &discardConn{Conn: nc, fc: h.fc}
	h.got <- dc
	return inspect.NewConn(dc, inspect.NewTap(true, false, true)), brw, nil
}

// fanoutConns returns n server-side conns whose writes are discarded, and
// the counter of those writes.
func fanoutConns(b *testing.B, n int) ([]*conn, *frameCounter) {
	b.Helper()
	srv := benchServer(b)
	fc := &frameCounter{done: make(chan struct{}, 1)}
	hijacked := make(chan *discardConn, 1)
	upgraded := make(chan *websocket.Conn, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := srv.upgrader.Upgrade(discardHijacker{w, fc, hijacked}, r, nil)
		if err == nil {
			upgraded <- ws
		}
	}))
	url := "ws" + strings.TrimPrefix(ts.URL, "http")
	var peers []*websocket.Conn
	var conns []*conn
	for range n {
		peer, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		peers = append(peers, peer)
		dc, ws := <-hijacked, <-upgraded
		dc.discarding.Store(true)
		conns = append(conns, newConn(srv, ws, echo{}))
	}
	b.Cleanup(func() {
		for _, c := range conns {
			// What serve does when its read loop ends (none runs here).
			c.readEnded()
			c.close(websocket.CloseGoingAway, "")
			c.waitEnded()
		}
		for _, p := range peers {
			p.Close()
		}
		ts.Close()
	})
	return conns, fc
}
