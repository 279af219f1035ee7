package server

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
)

// BenchmarkCommitPath: sends from many connections through the committer
// into SQLite (synchronous=FULL) until each is acknowledged, with the
// message then handed to the hub (a room of 10 members here that count).
// Reported per acknowledged message; compare runs with benchstat.
func BenchmarkCommitPath(b *testing.B) {
	for _, senders := range []int{1, 64, 512} {
		b.Run(fmt.Sprint("senders=", senders), func(b *testing.B) {
			srv := benchServer(b)
			for i := range 10 {
				if _, err := srv.hub.Join(b.Context(), chat.DefaultRoom, &discard{}, fmt.Sprint("u", i)); err != nil {
					b.Fatal(err)
				}
			}
			work := make(chan int)
			var wg sync.WaitGroup
			for range senders {
				wg.Go(func() {
					done := make(chan error, 1)
					for i := range work {
						srv.commit.submit(pendingSend{
							msg:  chat.NewMessage{Room: chat.DefaultRoom, Author: "bench", Body: "hello", CMID: fmt.Sprint(i)},
							done: func(_ chat.AppendResult, err error) { done <- err },
						})
						if err := <-done; err != nil {
							b.Error(err)
						}
					}
				})
			}
			i := 0
			for b.Loop() {
				work <- i
				i++
			}
			close(work)
			wg.Wait()
		})
	}
}

// discard is a hub member that drops what it is given.
type discard struct{ _ byte } // not zero-size: each &discard{} is a distinct member

func (*discard) Deliver([]byte) {}

// benchServer returns a Server with default settings on a new SQLite
// store and an in-process broker, all three closed at cleanup, after
// what the benchmark's own cleanups and defers close.
func benchServer(b *testing.B) *Server { return benchServerWith(b, Config{}) }

// benchServerWith is benchServer with cfg, its store and broker set.
func benchServerWith(b *testing.B, cfg Config) *Server {
	b.Helper()
	store, err := sqlitestore.Open(filepath.Join(b.TempDir(), "hubbub.db"))
	if err != nil {
		b.Fatal(err)
	}
	broker := membroker.New()
	cfg.Store, cfg.Broker = store, broker
	srv, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		srv.Shutdown(context.Background())
		broker.Close()
		store.Close()
	})
	return srv
}
