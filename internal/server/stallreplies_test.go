package server

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// slowHistoryStore is a real store whose HistoryBefore takes delay longer
// while one is set: a slow database (PostgreSQL stalling, a lock) on
// demand.
type slowHistoryStore struct {
	chat.Store
	delay chan time.Duration // capacity 1: the current delay
}

func (s *slowHistoryStore) HistoryBefore(ctx context.Context, room string, before int64, limit int) ([]chat.Message, error) {
	d := <-s.delay
	s.delay <- d
	select {
	case <-time.After(d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Store.HistoryBefore(ctx, room, before, limit)
}

// TestSlowStoreIsNoSlowConsumer: a client that pipelines commands while
// the store is slow reads everything the server sends, so it must get
// every reply and never be closed as a slow consumer (4000). The replies
// the read loop holds back for the end of the burst (conn.pipeline) are
// the server's own doing, not the client's: their wait must not count
// against SendQueueAge. Seen for real with PostgreSQL stalled behind a
// proxy: every client with sends in flight was closed with 4000
// (reason "age") after a few command deadlines.
func TestSlowStoreIsNoSlowConsumer(t *testing.T) {
	real, broker := rawBackends(t)
	store := &slowHistoryStore{Store: real, delay: make(chan time.Duration, 1)}
	store.delay <- 0
	_, ts := rawServer(t, Config{Store: store, Broker: broker, Logger: slog.New(slog.DiscardHandler),
		SendQueueAge: 300 * time.Millisecond})
	c := rawDial(t, ts, "/ws", "Sec-WebSocket-Protocol: "+protocol.Subprotocol)
	cmd := func(cmd protocol.Command) []byte { return rawCommandFrame(t, cmd) }
	var burst []byte
	burst = append(burst, cmd(protocol.Command{ID: "h", Op: protocol.OpHello, Name: "slowdb"})...)
	burst = append(burst, cmd(protocol.Command{ID: "j", Op: protocol.OpJoin, Room: chat.DefaultRoom})...)
	c.writeRaw(burst)
	ids := map[string]bool{}
	readIDs := func(want ...string) {
		t.Helper()
		for {
			done := true
			for _, id := range want {
				done = done && ids[id]
			}
			if done {
				return
			}
			f := c.read()
			switch f.opcode {
			case rawOpClose:
				code, reason := rawParseClose(f.payload)
				t.Fatalf("closed with %d %q before the replies %v (got %v)", code, reason, want, ids)
			case rawOpText:
				protocol.SplitFrame(f.payload, func(obj []byte) error {
					ev, err := protocol.DecodeEvent(obj)
					if ev.ID != "" {
						ids[ev.ID] = true
					}
					return err
				})
			}
		}
	}
	readIDs("h", "j")

	// The store slows down: each history read takes 200 ms, under the
	// command deadline. Three pipelined reads hold the first reply about
	// 400 ms, past SendQueueAge.
	<-store.delay
	store.delay <- 200 * time.Millisecond
	burst = nil
	for _, id := range []string{"a", "b", "c"} {
		burst = append(burst, cmd(protocol.Command{ID: id, Op: protocol.OpHistory, Room: chat.DefaultRoom})...)
	}
	c.writeRaw(burst)
	readIDs("a", "b", "c")
}
