package ratelimit

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestCounter(t *testing.T) {
	const (
		acquire = iota
		release
	)
	type step struct {
		op        int
		key       string
		max       int  // for acquire
		wantOK    bool // for acquire
		wantCount int  // Count(key) after
		wantLen   int  // Len() after
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"up to max", []step{
			{acquire, "u", 2, true, 1, 1},
			{acquire, "u", 2, true, 2, 1},
			{acquire, "u", 2, false, 2, 1},
			{acquire, "v", 2, true, 1, 2},
			{release, "u", 0, false, 1, 2},
			{acquire, "u", 2, true, 2, 2},
			{acquire, "u", 3, true, 3, 2}, // max is per call
			{acquire, "u", 1, false, 3, 2},
		}},
		{"deleted at zero", []step{
			{acquire, "u", 1, true, 1, 1},
			{release, "u", 0, false, 0, 0},
			{acquire, "u", 1, true, 1, 1},
		}},
		{"stray release ignored", []step{
			{release, "u", 0, false, 0, 0},
			{acquire, "u", 1, true, 1, 1},
			{release, "u", 0, false, 0, 0},
			{release, "u", 0, false, 0, 0},
			{acquire, "u", 1, true, 1, 1},
		}},
		{"max zero refuses", []step{
			{acquire, "u", 0, false, 0, 0},
			{acquire, "u", -1, false, 0, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Counter // the zero value is ready
			for i, s := range tt.steps {
				switch s.op {
				case acquire:
					if got := c.Acquire(s.key, s.max); got != s.wantOK {
						t.Errorf("step %d: Acquire(%q, %d) = %v, want %v", i, s.key, s.max, got, s.wantOK)
					}
				case release:
					c.Release(s.key)
				}
				if got := c.Count(s.key); got != s.wantCount {
					t.Errorf("step %d: Count(%q) = %d, want %d", i, s.key, got, s.wantCount)
				}
				if got := c.Len(); got != s.wantLen {
					t.Errorf("step %d: Len() = %d, want %d", i, got, s.wantLen)
				}
			}
		})
	}
}

// TestCounterConcurrent needs -race to be meaningful: holders of a key are
// never more than max, and every key is gone once all have released.
func TestCounterConcurrent(t *testing.T) {
	const max = 3
	var (
		c       Counter
		holders [2]atomic.Int32
		over    atomic.Bool
		wg      sync.WaitGroup
	)
	keys := [2]string{"alice", "10.0.0.1"}
	for g := range 16 {
		wg.Go(func() {
			for i := range 1000 {
				j := (g + i) % 2
				if !c.Acquire(keys[j], max) {
					continue
				}
				if holders[j].Add(1) > max {
					over.Store(true)
				}
				holders[j].Add(-1)
				c.Release(keys[j])
			}
		})
	}
	wg.Wait()
	if over.Load() {
		t.Errorf("more than %d holders of one key at once", max)
	}
	if got := c.Len(); got != 0 {
		t.Errorf("Len after every release = %d, want 0", got)
	}
}
