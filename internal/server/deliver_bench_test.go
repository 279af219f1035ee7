package server

import (
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/protocol"
)

// BenchmarkDeliverToSockets measures a room's event delivered to each of
// 1000 connections over real loopback sockets, write system calls
// included, as the shard delivers it: written through to idle sockets
// (the default), or queued for each connection's write loop
// (Config.QueueWrites). The peers read on goroutines of their own, and
// each event reaches them all before the next is delivered. Compare the
// two with benchstat:
//
//	go test -run '^$' -bench DeliverToSockets -count 6 ./internal/server
func BenchmarkDeliverToSockets(b *testing.B) {
	for _, mode := range []struct {
		name  string
		queue bool
	}{{"through", false}, {"queued", true}} {
		b.Run(mode.name, func(b *testing.B) {
			const n = 1000
			conns, received := socketConns(b, n, Config{QueueWrites: mode.queue})
			ev, _ := protocol.EncodeEvent(&protocol.Event{Type: protocol.TypeMessage, Message: &protocol.Message{
				Room: "lobby", Seq: 1234, From: "alice", Body: strings.Repeat("hello ", 12), TS: 1764000000000}})
			b.ReportAllocs()
			for b.Loop() {
				received.Add(n)
				for _, c := range conns {
					c.Deliver(ev)
				}
				received.Wait()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
		})
	}
}

// socketConns returns the server's ends of n /echo connections of a new
// server with cfg, parked (so set up to be written through), whose peers
// read on goroutines of their own and call received.Done for every
// message they read.
func socketConns(b *testing.B, n int, cfg Config) ([]*conn, *sync.WaitGroup) {
	b.Helper()
	if runtime.GOOS != "linux" {
		b.Skip("connections park, and are written through, on Linux only")
	}
	cfg.ConnsPerIP, cfg.HandshakeRate, cfg.HandshakeBurst = n+1, 1e6, n+1
	cfg.NodeHandshakeRate, cfg.NodeHandshakeBurst, cfg.NodeHandshakesInProgress = 1e6, n+1, n+1
	srv := benchServerWith(b, cfg)
	ts := httptest.NewServer(srv)
	b.Cleanup(ts.Close)
	received := new(sync.WaitGroup)
	var peers sync.WaitGroup
	b.Cleanup(peers.Wait)
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/echo"
	for range n {
		peer, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { peer.Close() })
		peers.Go(func() {
			for {
				if _, _, err := peer.ReadMessage(); err != nil {
					return
				}
				received.Done()
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		srv.mu.Lock()
		var conns []*conn
		for c := range srv.conns {
			if c.rstate.Load() == readParked {
				conns = append(conns, c)
			}
		}
		srv.mu.Unlock()
		if len(conns) == n {
			return conns, received
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d connections parked", len(conns), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
