package server

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// slowRoomStore is a real store whose Room takes delay longer while one is
// set: a slow database on demand.
type slowRoomStore struct {
	chat.Store
	delay chan time.Duration // capacity 1: the current delay
}

func (s *slowRoomStore) Room(ctx context.Context, name string) (chat.Room, error) {
	d := <-s.delay
	s.delay <- d
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return chat.Room{}, ctx.Err()
	}
	return s.Store.Room(ctx, name)
}

// TestAckSecondsCountsTheChecks: hubbub_ack_seconds is documented as the
// time from a send's arrival to its acknowledgement, the metric to alert
// on when users see their messages hang. A send that waits for the store
// in the checks before its commit (the room's row, its sanctions) hangs
// as much as one that waits for the commit; seen for real with PostgreSQL
// stalled 15 s: sends hung 15 s and the histogram had no ack over 0.25 s.
func TestAckSecondsCountsTheChecks(t *testing.T) {
	real, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	store := &slowRoomStore{Store: real, delay: make(chan time.Duration, 1)}
	store.delay <- 0
	s := newTestServerWithStore(t, store, func(c *Config) { c.ModerationCheck = time.Millisecond })
	c := s.client(t, "slowpoke")
	c.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})

	<-store.delay
	store.delay <- 300 * time.Millisecond
	time.Sleep(5 * time.Millisecond) // the cached room row is stale
	start := time.Now()
	c.ok(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: "hello", CMID: "slow-room-row-0001"})
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("the send took %v; the store's delay did not apply", took)
	}
	mfs, err := s.srv.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	var count uint64
	for _, mf := range mfs {
		if mf.GetName() == "hubbub_ack_seconds" {
			h := mf.GetMetric()[0].GetHistogram()
			sum, count = h.GetSampleSum(), h.GetSampleCount()
		}
	}
	if count != 1 || sum < 0.3 {
		t.Errorf("hubbub_ack_seconds: %d sends, %.3f s in all; want 1 send of at least 0.3 s", count, sum)
	}
}
