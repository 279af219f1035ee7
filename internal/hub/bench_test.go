package hub_test

import (
	"fmt"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/hub"
	"github.com/hubbub-chat/hubbub/internal/membroker"
)

// counter is a member that only counts, as cheap as a member can be, so
// the benchmarks measure the hub.
type counter struct{ n atomic.Int64 }

func (c *counter) Deliver([]byte) { c.n.Add(1) }

// shared is a member that counts into a counter shared by all members.
type shared struct{ n *atomic.Int64 }

func (s shared) Deliver([]byte) { s.n.Add(1) }

func benchHub(b *testing.B) *hub.Hub {
	br := membroker.New()
	b.Cleanup(func() { br.Close() })
	h, err := hub.New(hub.Config{Broker: br})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(h.Close)
	return h
}

// BenchmarkJoin: joins of distinct users into one room that already holds
// size users, then the matching leave. Before the sharded hub this cost a
// sort of the whole room per join.
func BenchmarkJoin(b *testing.B) {
	for _, size := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprint("room=", size), func(b *testing.B) {
			h := benchHub(b)
			for i := range size {
				if _, err := h.Join(b.Context(), "big", &counter{}, fmt.Sprint("user", i)); err != nil {
					b.Fatal(err)
				}
			}
			m := &counter{}
			i := 0
			for b.Loop() {
				i++
				if _, err := h.Join(b.Context(), "big", m, fmt.Sprint("joiner", i)); err != nil {
					b.Fatal(err)
				}
				h.Leave("big", m)
			}
		})
	}
}

// BenchmarkFanout: one message to a room of n members, until every member
// has it. Reported per delivery.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprint("members=", n), func(b *testing.B) {
			h := benchHub(b)
			var delivered atomic.Int64
			for i := range n {
				m := &shared{n: &delivered}
				if _, err := h.Join(b.Context(), "room", m, fmt.Sprint("u", i)); err != nil {
					b.Fatal(err)
				}
			}
			payload := []byte(`{"type":"message","room":"room","seq":1,"from":"u0","body":"hello"}`)
			seq := int64(0)
			for b.Loop() {
				seq++
				h.Message("room", seq, payload, false)
				for delivered.Load() < seq*int64(n) {
					runtime.Gosched()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*int64(n)), "ns/delivery")
		})
	}
}

// runCounter is a BatchMember that counts what it is given into a counter
// shared by all members.
type runCounter struct{ n *atomic.Int64 }

func (r *runCounter) Deliver([]byte) { r.n.Add(1) }

func (r *runCounter) DeliverBatch(p [][]byte, _ time.Time, _ bool) { r.n.Add(int64(len(p))) }

// BenchmarkFanoutBacklog: a burst of 64 messages to a room of 1000
// members that take runs (hub.BatchMember), until every member has them
// all: what a busy room's shard does when events queue behind each other.
// runs=1 hands them over one by one, as before runs; runs=64 is the
// default. Reported per delivery.
func BenchmarkFanoutBacklog(b *testing.B) {
	const members, burst = 1000, 64
	for _, runs := range []int{1, 64} {
		b.Run(fmt.Sprint("runs=", runs), func(b *testing.B) {
			br := membroker.New()
			b.Cleanup(func() { br.Close() })
			// One shard, and no roster rounds taking the room's lock. The
			// broker's queue fills at this pace; its warning is noise here.
			h, err := hub.New(hub.Config{Broker: br, Shards: 1, RunLimit: runs, RosterInterval: time.Hour,
				Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(h.Close)
			var delivered atomic.Int64
			for i := range members {
				if _, err := h.Join(b.Context(), "room", &runCounter{n: &delivered}, fmt.Sprint("u", i)); err != nil {
					b.Fatal(err)
				}
			}
			// The shard wakes at a burst's first message; those queued
			// while it delivers come out as runs.
			payload := []byte(`{"type":"message","room":"room","seq":1,"from":"u0","body":"hello"}`)
			seq := int64(0)
			for b.Loop() {
				start := delivered.Load()
				for range burst {
					seq++
					h.Message("room", seq, payload, false)
				}
				for delivered.Load() < start+burst*members {
					runtime.Gosched()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*burst*members), "ns/delivery")
		})
	}
}
