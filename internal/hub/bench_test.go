package hub_test

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

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
				h.Message("room", seq, payload)
				for delivered.Load() < seq*int64(n) {
					runtime.Gosched()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*int64(n)), "ns/delivery")
		})
	}
}
