package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// faultyStore is a real store whose Append and Room fail with a chosen
// error while one is set: a storage outage (or a bug) on demand.
type faultyStore struct {
	chat.Store
	mu  sync.Mutex
	err error
}

func (f *faultyStore) fail(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *faultyStore) injected() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *faultyStore) Append(ctx context.Context, batch []chat.NewMessage) ([]chat.AppendResult, error) {
	if err := f.injected(); err != nil {
		return nil, err
	}
	return f.Store.Append(ctx, batch)
}

func (f *faultyStore) Room(ctx context.Context, name string) (chat.Room, error) {
	if err := f.injected(); err != nil {
		return chat.Room{}, err
	}
	return f.Store.Room(ctx, name)
}

// TestStoreOutageIsUnavailable checks the one mapping of store errors to
// codes: an outage is `unavailable`, a bug stays `internal`, on a send (the
// committer's path) and on a join (a command's path). A join of a room the
// node has cached needs no store (roomcache.go), so the join names another.
func TestStoreOutageIsUnavailable(t *testing.T) {
	real, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	store := &faultyStore{Store: real}
	s := newTestServerWithStore(t, store, nil)
	c := s.client(t, "olga")
	c.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})

	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	tests := []struct {
		name string
		err  error
		want protocol.Code
	}{
		{"store marks an outage", fmt.Errorf("pgstore: append: %w: %w", chat.ErrUnavailable, errors.New("FATAL: terminating connection due to administrator command (SQLSTATE 57P01)")), protocol.CodeUnavailable},
		{"deadline ran out", fmt.Errorf("sqlitestore: append: %w", context.DeadlineExceeded), protocol.CodeUnavailable},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, protocol.CodeUnavailable},
		{"connection reset", fmt.Errorf("pgstore: append: %w", reset), protocol.CodeUnavailable},
		{"a bug", errors.New("sqlitestore: append: UNIQUE constraint failed: messages.seq"), protocol.CodeInternal},
		{"cancelled by the server", fmt.Errorf("append: %w", context.Canceled), protocol.CodeInternal},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store.fail(tt.err)
			defer store.fail(nil)
			for _, cmd := range []protocol.Command{
				{Op: protocol.OpSend, Room: "lobby", Body: "hi", CMID: fmt.Sprint("outage-", i)},
				// A room this node has not cached, so that the join
				// reads the store.
				{Op: protocol.OpJoin, Room: fmt.Sprint("elsewhere-", i)},
			} {
				ev := c.do(cmd)
				if ev.Type != protocol.TypeError || ev.Code != tt.want {
					t.Errorf("%s during %q: got %s %q (%s), want error %q", cmd.Op, tt.err, ev.Type, ev.Code, ev.Reason, tt.want)
				}
			}
		})
	}
	// And once the store is back, the same send goes through.
	ev := c.ok(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: "hi", CMID: "outage-0"})
	if ev.Message == nil || ev.Message.Seq != 1 {
		t.Errorf("send after the outage = %+v, want seq 1", ev.Message)
	}
}

// TestStoreOutageLogsOnce: commands refused while the store is down are
// one warning line every few seconds with a count, not a line each (the
// cluster audit saw 860 lines per node in 15 s with 12 clients).
func TestStoreOutageLogsOnce(t *testing.T) {
	real, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	store := &faultyStore{Store: real}
	var logs lockedBuffer
	s := newTestServerWithStore(t, store, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	c := s.client(t, "olga")
	store.fail(fmt.Errorf("pgstore: room: %w", chat.ErrUnavailable))
	const refused = 20
	for i := range refused {
		if ev := c.do(protocol.Command{Op: protocol.OpJoin, Room: fmt.Sprint("elsewhere-", i)}); ev.Code != protocol.CodeUnavailable {
			t.Fatalf("join during the outage: %s %q, want unavailable", ev.Type, ev.Code)
		}
	}
	store.fail(nil)
	got := 0
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "unavailable") {
			got++
		}
	}
	if got != 1 {
		t.Errorf("%d log lines about the store for %d refused commands, want 1:\n%s", got, refused, logs.String())
	}
}
