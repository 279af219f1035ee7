package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/pgtest"
)

// TestCluster runs two hubbubd nodes on one PostgreSQL schema and one
// broker (Redis, then NATS): a sender on node A and a reader on node B
// chat; node A then fails, the sender's connection moves to node B (as a
// load balancer would move it), and the reader still gets every
// acknowledged message exactly once, in order.
func TestCluster(t *testing.T) {
	pg := os.Getenv("HUBBUB_TEST_POSTGRES")
	if pg == "" {
		t.Skip("HUBBUB_TEST_POSTGRES not set: skipping the cluster test")
	}
	brokers := []struct{ name, env string }{{"redis", "HUBBUB_TEST_REDIS"}, {"nats", "HUBBUB_TEST_NATS"}}
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			brokerURL := os.Getenv(b.env)
			if brokerURL == "" {
				t.Skipf("%s not set: skipping the %s cluster test", b.env, b.name)
			}
			testCluster(t, freshSchema(t, pg), brokerURL)
		})
	}
}

// freshSchema creates an empty schema and returns a DSN whose search_path
// is it; the schema is dropped when t ends.
func freshSchema(t *testing.T, dsn string) string {
	t.Helper()
	return pgtest.Schema(t, dsn, "hubbub_cluster_")
}

func testCluster(t *testing.T, storeURL, brokerURL string) {
	limits := []string{"--store", storeURL, "--broker", brokerURL, "--msg-rate", "1000", "--msg-burst", "1000",
		"--shutdown-timeout", "2s"}
	addrA, stopA := startNode(t, limits...)
	addrB, _ := startNode(t, limits...)
	lb := newSwitchProxy(t, addrA)

	ctx := t.Context()
	opts := func(name string) client.Options {
		return client.Options{Name: name, BackoffBase: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond}
	}
	sender, err := client.Dial(ctx, "ws://"+lb.addr()+"/ws", opts("sender"))
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	go func() {
		for range sender.Events() {
		}
	}()
	reader, err := client.Dial(ctx, "ws://"+addrB+"/ws", opts("reader"))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	for _, c := range []*client.Client{sender, reader} {
		if _, _, err := c.Join(ctx, "lobby"); err != nil {
			t.Fatal(err)
		}
	}

	// Live across nodes: the first message, sent on A, reaches the reader
	// on B through the broker (with no later message, history healing
	// could not have found it).
	first, err := sender.Send(ctx, "lobby", "hello from A")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-waitMessage(reader):
		if ev.Message.Seq != first.Seq {
			t.Fatalf("reader got seq %d, want %d", ev.Message.Seq, first.Seq)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the message sent on node A never reached node B live")
	}

	const n = 60
	acked := []int64{first.Seq}
	for i := range n - 1 {
		if i == n/2 {
			stopA()            // node A goes away (its sockets get 1012)
			lb.switchTo(addrB) // and the balancer sends new connections to B
		}
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		m, err := sender.Send(sctx, "lobby", fmt.Sprint("m", i))
		cancel()
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		acked = append(acked, m.Seq)
	}

	got := []int64{first.Seq}
	deadline := time.After(20 * time.Second)
	for len(got) < n {
		select {
		case ev := <-reader.Events():
			if me, ok := ev.(client.MessageEvent); ok && me.Message.Room == "lobby" {
				got = append(got, me.Message.Seq)
			}
		case <-deadline:
			t.Fatalf("reader got %d of %d messages: %v", len(got), n, got)
		}
	}
	if diff := cmp.Diff(acked, got); diff != "" {
		t.Errorf("reader's sequence differs from the acks (-acked +got):\n%s", diff)
	}
	for i, s := range got {
		if s != int64(i+1) {
			t.Fatalf("seq %d at position %d: want a gap-free 1..%d", s, i, n)
		}
	}
}

// waitMessage returns a channel with c's next message event.
func waitMessage(c *client.Client) <-chan client.MessageEvent {
	out := make(chan client.MessageEvent, 1)
	go func() {
		for ev := range c.Events() {
			if me, ok := ev.(client.MessageEvent); ok {
				out <- me
				return
			}
		}
	}()
	return out
}

// switchProxy is a TCP load balancer of one backend at a time.
type switchProxy struct {
	ln      net.Listener
	mu      sync.Mutex
	backend string
}

func newSwitchProxy(t *testing.T, backend string) *switchProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{ln: ln, backend: backend}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			to := p.backend
			p.mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				b, err := net.Dial("tcp", to)
				if err != nil {
					return
				}
				defer b.Close()
				done := make(chan struct{}, 2)
				go func() { io.Copy(b, c); done <- struct{}{} }()
				go func() { io.Copy(c, b); done <- struct{}{} }()
				<-done
			})
		}
	})
	return p
}

func (p *switchProxy) addr() string { return p.ln.Addr().String() }

func (p *switchProxy) switchTo(backend string) {
	p.mu.Lock()
	p.backend = backend
	p.mu.Unlock()
}

// TestSharedStoreWithoutBrokerWarns: a node on the shared PostgreSQL store
// with the in-process broker (right for one node, a trap for a cluster:
// the others' messages reach it only by catch-up) says so at start; on
// SQLite, or with a shared broker, it does not.
func TestSharedStoreWithoutBrokerWarns(t *testing.T) {
	pg := os.Getenv("HUBBUB_TEST_POSTGRES")
	if pg == "" {
		t.Skip("HUBBUB_TEST_POSTGRES not set: skipping")
	}
	const warning = "the broker is in-process"
	tests := []struct {
		name string
		args []string
		want bool
	}{
		{"postgres, no broker", []string{"--store", freshSchema(t, pg)}, true},
		{"sqlite, no broker", nil, false},
	}
	if redis := os.Getenv("HUBBUB_TEST_REDIS"); redis != "" {
		tests = append(tests, struct {
			name string
			args []string
			want bool
		}{"postgres and redis", []string{"--store", freshSchema(t, pg), "--broker", redis}, false})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs lockedBuffer
			_, stop := startNodeLogging(t, &logs, tt.args...)
			stop()
			if got := strings.Contains(logs.String(), warning); got != tt.want {
				t.Errorf("warned %v, want %v; log:\n%s", got, tt.want, logs.String())
			}
		})
	}
}
