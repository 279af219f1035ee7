package server

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
)

// stalledPingStore is a real store whose Ping waits until its context
// ends: a database that accepted the connection and answers nothing
// (PostgreSQL stalled, a network path that drops packets).
type stalledPingStore struct{ chat.Store }

func (stalledPingStore) Ping(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// TestReadyzStalledStore: docs/operations.md says /readyz answers 503
// when the store does not answer a ping, with PostgreSQL down or stalled.
// Seen for real with PostgreSQL stalled behind a proxy: /readyz answered
// nothing until the prober gave up, because the ping had no deadline of
// its own.
func TestReadyzStalledStore(t *testing.T) {
	real, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServerWithStore(t, stalledPingStore{real}, nil)
	done := make(chan int, 1)
	start := time.Now()
	go func() { done <- readyzStatus(s.srv) }()
	select {
	case got := <-done:
		if got != http.StatusServiceUnavailable {
			t.Errorf("readyz with the store stalled = %d, want 503", got)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("readyz took %v to answer, want at most %v", took, readyzPingTimeout)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("readyz did not answer in 5 s with the store stalled")
	}
}
