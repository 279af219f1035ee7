package server

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// downBroker is the real in-process broker with publishing cut while down
// is set: a Redis or NATS server that is away. Subscriptions stay.
type downBroker struct {
	*membroker.Broker
	down atomic.Bool
}

var errBrokerDown = errors.New("broker down")

func (b *downBroker) Publish(ctx context.Context, topic string, p []byte) error {
	if b.down.Load() {
		return errBrokerDown
	}
	return b.Broker.Publish(ctx, topic, p)
}

func (b *downBroker) PublishBatch(ctx context.Context, batch []chat.Publication) error {
	if b.down.Load() {
		return errBrokerDown
	}
	return b.Broker.PublishBatch(ctx, batch)
}

// twoNodes starts two servers on one store and one broker.
func twoNodes(t *testing.T, broker chat.Broker, heal time.Duration) (a, b *testServer) {
	t.Helper()
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	mut := func(c *Config) { c.Broker, c.HealInterval = broker, heal }
	return newTestServerWithStore(t, store, mut), newTestServerWithStore(t, store, mut)
}

// TestBrokerDownAcksAndHeals: with the broker down, sends are still
// acknowledged, members on the sender's node get the message at once, and
// members on the other node get it from the store within a few heal
// rounds, in a quiet room where no later message would reveal the gap.
func TestBrokerDownAcksAndHeals(t *testing.T) {
	broker := &downBroker{Broker: membroker.New()}
	t.Cleanup(func() { broker.Close() })
	nodeA, nodeB := twoNodes(t, broker, 50*time.Millisecond)
	alice, local, bob := nodeA.client(t, "alice"), nodeA.client(t, "local"), nodeB.client(t, "bob")
	for _, c := range []*tclient{alice, local, bob} {
		c.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	}
	broker.down.Store(true)
	start := time.Now()
	ack := alice.ok(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: "while the broker is down"})
	isIt := func(ev protocol.Event) bool {
		return ev.Type == protocol.TypeMessage && ev.Message.Seq == ack.Message.Seq
	}
	local.waitFor("the message on the sender's node", isIt)
	ev := bob.waitFor("the message on the other node", isIt)
	if ev.Message.Body != "while the broker is down" {
		t.Errorf("bob got %q", ev.Message.Body)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("healed after %v, want within a few heal rounds", took)
	}
	// Once the broker is back, news flows through it again, and what bob
	// got from the store is not delivered twice.
	broker.down.Store(false)
	ack2 := alice.ok(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: "after"})
	next := bob.waitFor("the next message", func(ev protocol.Event) bool { return ev.Type == protocol.TypeMessage })
	if next.Message.Seq != ack2.Message.Seq {
		t.Errorf("bob's next message has seq %d, want %d (once each, in order)", next.Message.Seq, ack2.Message.Seq)
	}
}

// failingStore is the real SQLite store whose Append fails while fail is
// set: a database that is down.
type failingStore struct {
	chat.Store
	fail atomic.Bool
}

func (s *failingStore) Append(ctx context.Context, batch []chat.NewMessage) ([]chat.AppendResult, error) {
	if s.fail.Load() {
		return nil, errors.New("disk on fire")
	}
	return s.Store.Append(ctx, batch)
}

// TestFailedCommitNoAckNoEvent: a send whose commit fails gets an error
// reply and no ack, and nobody receives the message.
func TestFailedCommitNoAckNoEvent(t *testing.T) {
	inner, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	store := &failingStore{Store: inner}
	s := newTestServerWithStore(t, store, nil)
	alice, bob := s.client(t, "alice"), s.client(t, "bob")
	alice.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	bob.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	store.fail.Store(true)
	if ev := alice.do(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: "lost"}); ev.Type != protocol.TypeError {
		t.Fatalf("send during a failing commit: %s, want an error", ev.Type)
	}
	store.fail.Store(false)
	alice.ok(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: "marker"})
	ev := bob.waitFor("a message", func(ev protocol.Event) bool { return ev.Type == protocol.TypeMessage })
	if ev.Message.Body != "marker" || ev.Message.Seq != 1 {
		t.Errorf("bob's first message: %q seq %d, want the marker with seq 1", ev.Message.Body, ev.Message.Seq)
	}
}

// BenchmarkDropStale: what dropStale costs a heal round when nothing is
// stale, the common case: a walk of every identified connection, here
// 10,000 in one room each.
func BenchmarkDropStale(b *testing.B) {
	const conns, rooms = 10_000, 100
	s := &Server{}
	created := time.UnixMilli(1_764_000_000_000)
	ours := make(map[string]int64, rooms)
	heads := make(map[string]chat.Head, rooms)
	for i := range rooms {
		name := fmt.Sprint("room", i)
		ours[name] = 5
		heads[name] = chat.Head{Seq: 5, Created: created}
	}
	for i := range conns {
		ss := &session{}
		ss.joined.add(&joinedRoom{name: fmt.Sprint("room", i%rooms), created: created.UnixMilli(), checked: 1})
		s.dir.add(&userTopic{ss: ss})
	}
	asked := monoNow()
	for b.Loop() {
		if got := s.dropStale(ours, heads, asked); got != nil {
			b.Fatalf("dropStale restarted %v with nothing stale", got)
		}
	}
}
