// Package brokertest is the conformance suite every chat.Broker passes.
// An implementation's test calls Run with a function that opens a fresh
// broker; the suite closes what it opens.
//
// The suite checks the contract of chat.Broker: delivery to every
// subscriber of a room and only to them, publish order per publisher and
// room, no overlapping calls of one subscription, nothing after cancel, and
// errors after Close. It allows a broker to be asynchronous: deliveries are
// awaited with a timeout, never assumed to have happened on return from
// Publish.
package brokertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// Open returns a new broker for one test. Brokers opened by one call of Run
// for the same test share nothing with other tests' brokers (use distinct
// channel prefixes for networked brokers).
type Open func(t *testing.T) chat.Broker

// Run runs the suite.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Open)
	}{
		{"DeliverToRoomOnly", testDeliverToRoomOnly},
		{"Order", testOrder},
		{"BatchOrder", testBatchOrder},
		{"NoOverlap", testNoOverlap},
		{"Cancel", testCancel},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// recorder collects payloads delivered to one subscription.
type recorder struct {
	mu   sync.Mutex
	got  []string
	more chan struct{}
}

func newRecorder() *recorder { return &recorder{more: make(chan struct{}, 1)} }

func (r *recorder) deliver(p []byte) {
	r.mu.Lock()
	r.got = append(r.got, string(p))
	r.mu.Unlock()
	select {
	case r.more <- struct{}{}:
	default:
	}
}

// wait returns what was delivered once n payloads arrived, or after the
// timeout.
func (r *recorder) wait(n int, timeout time.Duration) []string {
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		if len(r.got) >= n {
			out := append([]string(nil), r.got...)
			r.mu.Unlock()
			return out
		}
		r.mu.Unlock()
		select {
		case <-r.more:
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			return append([]string(nil), r.got...)
		}
	}
}

func subscribe(t *testing.T, b chat.Broker, room string, fn func([]byte)) func() {
	t.Helper()
	cancel, err := b.Subscribe(room, fn)
	if err != nil {
		t.Fatalf("Subscribe(%s): %v", room, err)
	}
	return cancel
}

func publish(t *testing.T, b chat.Broker, room, payload string) {
	t.Helper()
	if err := b.Publish(context.Background(), room, []byte(payload)); err != nil {
		t.Fatalf("Publish(%s): %v", room, err)
	}
}

func testDeliverToRoomOnly(t *testing.T, open Open) {
	b := open(t)
	a1, a2, other := newRecorder(), newRecorder(), newRecorder()
	defer subscribe(t, b, "a", a1.deliver)()
	defer subscribe(t, b, "a", a2.deliver)()
	defer subscribe(t, b, "b", other.deliver)()
	publish(t, b, "a", "hello a")
	publish(t, b, "nobody", "lost")
	want := []string{"hello a"}
	for i, r := range []*recorder{a1, a2} {
		if diff := cmp.Diff(want, r.wait(1, 5*time.Second)); diff != "" {
			t.Errorf("subscriber %d of a (-want +got):\n%s", i, diff)
		}
	}
	publish(t, b, "b", "sync") // once b's subscriber has this, a stray would have arrived
	if diff := cmp.Diff([]string{"sync"}, other.wait(1, 5*time.Second)); diff != "" {
		t.Errorf("subscriber of b (-want +got):\n%s", diff)
	}
}

func testOrder(t *testing.T, open Open) {
	b := open(t)
	r := newRecorder()
	defer subscribe(t, b, "ordered", r.deliver)()
	const n = 500
	var want []string
	for i := range n {
		p := fmt.Sprint(i)
		want = append(want, p)
		publish(t, b, "ordered", p)
	}
	if diff := cmp.Diff(want, r.wait(n, 10*time.Second)); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// testBatchOrder: batches keep order per topic, between batches and with
// Publish, and reach only each topic's subscribers.
func testBatchOrder(t *testing.T, open Open) {
	b := open(t)
	x, y := newRecorder(), newRecorder()
	defer subscribe(t, b, "x", x.deliver)()
	defer subscribe(t, b, "y", y.deliver)()
	var wantX, wantY []string
	for round := range 20 {
		var batch []chat.Publication
		for i := range 25 {
			topic, p := "x", fmt.Sprint(round, "-", i)
			if i%3 == 0 {
				topic = "y"
				wantY = append(wantY, p)
			} else {
				wantX = append(wantX, p)
			}
			batch = append(batch, chat.Publication{Topic: topic, Payload: []byte(p)})
		}
		if err := b.PublishBatch(context.Background(), batch); err != nil {
			t.Fatalf("PublishBatch: %v", err)
		}
		p := fmt.Sprint(round, "-single")
		wantX = append(wantX, p)
		publish(t, b, "x", p)
	}
	if err := b.PublishBatch(context.Background(), nil); err != nil {
		t.Errorf("PublishBatch(nil) = %v", err)
	}
	if diff := cmp.Diff(wantX, x.wait(len(wantX), 10*time.Second)); diff != "" {
		t.Errorf("topic x (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantY, y.wait(len(wantY), 10*time.Second)); diff != "" {
		t.Errorf("topic y (-want +got):\n%s", diff)
	}
}

func testNoOverlap(t *testing.T, open Open) {
	b := open(t)
	var inside, overlaps, count atomic.Int64
	done := make(chan struct{})
	const publishers, each = 4, 100
	defer subscribe(t, b, "busy", func([]byte) {
		if inside.Add(1) > 1 {
			overlaps.Add(1)
		}
		time.Sleep(10 * time.Microsecond)
		inside.Add(-1)
		if count.Add(1) == publishers*each {
			close(done)
		}
	})()
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				b.Publish(context.Background(), "busy", []byte(fmt.Sprint(p, "-", i)))
			}
		})
	}
	wg.Wait()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("delivered %d of %d", count.Load(), publishers*each)
	}
	if n := overlaps.Load(); n > 0 {
		t.Errorf("%d overlapping calls of one subscription", n)
	}
}

func testCancel(t *testing.T, open Open) {
	b := open(t)
	kept, cancelled := newRecorder(), newRecorder()
	defer subscribe(t, b, "c", kept.deliver)()
	cancel := subscribe(t, b, "c", cancelled.deliver)
	publish(t, b, "c", "before")
	cancelled.wait(1, 5*time.Second)
	cancel()
	cancel() // twice is harmless
	publish(t, b, "c", "after")
	kept.wait(2, 5*time.Second)
	if diff := cmp.Diff([]string{"before"}, cancelled.wait(1, 0)); diff != "" {
		t.Errorf("after cancel (-want +got):\n%s", diff)
	}
}

func testClose(t *testing.T, open Open) {
	b := open(t)
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := b.Publish(context.Background(), "x", []byte("y")); !errors.Is(err, chat.ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
	if err := b.PublishBatch(context.Background(), []chat.Publication{{Topic: "x", Payload: []byte("y")}}); !errors.Is(err, chat.ErrClosed) {
		t.Errorf("PublishBatch after Close = %v, want ErrClosed", err)
	}
	if _, err := b.Subscribe("x", func([]byte) {}); !errors.Is(err, chat.ErrClosed) {
		t.Errorf("Subscribe after Close = %v, want ErrClosed", err)
	}
}
