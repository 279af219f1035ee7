package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestKeyed(t *testing.T) {
	type step struct {
		key       string
		at        time.Duration
		wantOK    bool
		wantRetry time.Duration
	}
	tests := []struct {
		name  string
		limit Limit
		steps []step
	}{
		{"keys are independent", Limit{Rate: 1, Burst: 2}, []step{
			{"a", 0, true, 0},
			{"a", 0, true, 0},
			{"a", 0, false, time.Second},
			{"b", 0, true, 0},
			{"b", 0, true, 0},
			{"b", 0, false, time.Second},
			{"a", 500 * time.Millisecond, false, 500 * time.Millisecond},
			{"a", time.Second, true, 0},
			{"b", 2 * time.Second, true, 0},
			{"b", 2 * time.Second, true, 0},
			{"b", 2 * time.Second, false, time.Second},
		}},
		{"empty key is a key", Limit{Rate: 0.1, Burst: 1}, []step{
			{"", 0, true, 0},
			{"", time.Second, false, 9 * time.Second},
			{"x", time.Second, true, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := NewKeyed(tt.limit, 0)
			for i, s := range tt.steps {
				ok, retry := k.Allow(s.key, at(s.at))
				if ok != s.wantOK || retry != s.wantRetry {
					t.Errorf("step %d: Allow(%q, t0+%v) = %v, %v; want %v, %v", i, s.key, s.at, ok, retry, s.wantOK, s.wantRetry)
				}
			}
		})
	}
}

func TestKeyedSweepsFullBuckets(t *testing.T) {
	k := NewKeyed(Limit{Rate: 1, Burst: 5}, 0)
	for i := range 1000 {
		k.Allow(fmt.Sprint("ip", i), t0)
	}
	if got := k.Len(); got != 1000 {
		t.Fatalf("Len after 1000 keys = %d, want 1000", got)
	}
	// One second later every bucket is full again, so a sweep may drop
	// every key but the one in use; one comes within len(keys) calls.
	for range 1000 {
		k.Allow("busy", at(time.Second))
	}
	if got := k.Len(); got != 1 {
		t.Errorf("Len after the others went idle = %d, want 1", got)
	}
}

func TestKeyedMaxKeys(t *testing.T) {
	const maxKeys = 100
	// One token per 100 s: every key stays non-full, so only eviction
	// makes room, and it must forget the keys that acted longest ago.
	k := NewKeyed(Limit{Rate: 0.01, Burst: 1}, maxKeys)
	for i := range 1000 {
		k.Allow(fmt.Sprint("ip", i), at(time.Duration(i)*time.Millisecond))
		if got := k.Len(); got > maxKeys {
			t.Fatalf("Len after %d keys = %d, want at most %d", i+1, got, maxKeys)
		}
	}
	now := at(time.Second)
	if ok, _ := k.Allow("ip999", now); ok {
		t.Errorf("Allow(newest key) = true, want false: it was evicted")
	}
	if ok, _ := k.Allow("ip0", now); !ok {
		t.Errorf("Allow(oldest key) = false, want true: it should have been evicted")
	}
}

// TestKeyedConcurrent needs -race to be meaningful. Callers at one instant
// must share each key's burst exactly.
func TestKeyedConcurrent(t *testing.T) {
	const (
		burst      = 50
		goroutines = 8
		calls      = 200
	)
	keys := []string{"a", "b", "c"}
	k := NewKeyed(Limit{Rate: 1, Burst: burst}, 0)
	allowed := make([][]int, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		allowed[g] = make([]int, len(keys))
		wg.Go(func() {
			for i := range calls {
				if ok, _ := k.Allow(keys[i%len(keys)], t0); ok {
					allowed[g][i%len(keys)]++
				}
			}
		})
	}
	wg.Wait()
	for j, key := range keys {
		got := 0
		for g := range goroutines {
			got += allowed[g][j]
		}
		if got != burst {
			t.Errorf("key %q: %d calls allowed, want %d", key, got, burst)
		}
	}
}

func BenchmarkKeyedAllow(b *testing.B) {
	k := NewKeyed(Limit{Rate: 100, Burst: 100}, 0)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprint("10.0.0.", i)
	}
	i := 0
	for b.Loop() {
		k.Allow(keys[i%len(keys)], at(time.Duration(i)*time.Microsecond))
		i++
	}
}

func TestKeyedAllowN(t *testing.T) {
	type step struct {
		n         int64
		at        time.Duration
		wantOK    bool
		wantRetry time.Duration
	}
	tests := []struct {
		name  string
		limit Limit
		steps []step
	}{
		{"all or nothing", Limit{Rate: 10, Burst: 100}, []step{
			{60, 0, true, 0},
			{50, 0, false, time.Second}, // 40 left: 10 more take a second
			{40, 0, true, 0},
			{1, 0, false, 100 * time.Millisecond},
			{10, time.Second, true, 0},
		}},
		{"more than the bucket", Limit{Rate: 10, Burst: 100}, []step{
			{101, 0, false, 0},
			{100, 0, true, 0},
		}},
		{"n of 1 is Allow", Limit{Rate: 1, Burst: 1}, []step{
			{1, 0, true, 0},
			{1, 0, false, time.Second},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := NewKeyed(tt.limit, 0)
			for i, s := range tt.steps {
				ok, retry := k.AllowN("k", s.n, at(s.at))
				if ok != s.wantOK || retry != s.wantRetry {
					t.Errorf("step %d: AllowN(k, %d, t0+%v) = %v, %v; want %v, %v", i, s.n, s.at, ok, retry, s.wantOK, s.wantRetry)
				}
			}
		})
	}
}

func TestKeyedReturn(t *testing.T) {
	k := NewKeyed(Limit{Rate: 10, Burst: 100}, 0)
	k.AllowN("k", 100, t0)
	k.Return("k", 30, t0)
	if ok, _ := k.AllowN("k", 31, t0); ok {
		t.Errorf("AllowN(31) after 30 returned to an empty bucket = true, want false")
	}
	if ok, _ := k.AllowN("k", 30, t0); !ok {
		t.Errorf("AllowN(30) after 30 returned to an empty bucket = false, want true")
	}
	k.Return("k", 1000, t0) // more than was taken: the bucket is full, no more
	if ok, _ := k.AllowN("k", 100, t0); !ok {
		t.Errorf("AllowN(Burst) after returning more than Burst = false, want true")
	}
	if ok, _ := k.AllowN("k", 1, t0); ok {
		t.Errorf("AllowN(1) after Burst = true, want false: Return filled the bucket past Burst")
	}
}
