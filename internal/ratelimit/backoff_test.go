package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestBackoffSchedule(t *testing.T) {
	b := NewBackoff(BackoffConfig{})
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {1, 0}, {4, 0},
		{5, time.Second},
		{6, 2 * time.Second},
		{7, 4 * time.Second},
		{13, 256 * time.Second},
		{14, 5 * time.Minute}, // 512 s, capped
		{69, 5 * time.Minute}, // the count stops growing here
		{1000, 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.failures), func(t *testing.T) {
			key := fmt.Sprint("user", tt.failures)
			for range tt.failures {
				b.Fail(key, t0)
			}
			if got := b.Check(key, t0); got != tt.want {
				t.Errorf("Check after %d failures = %v, want %v", tt.failures, got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	const (
		fail = iota
		succeed
	)
	type step struct {
		at        time.Duration
		op        int           // fail or succeed, after checking
		wantRetry time.Duration // Check before op
	}
	// Five failures, one a second.
	free := []step{{0, fail, 0}, {1 * time.Second, fail, 0}, {2 * time.Second, fail, 0}, {3 * time.Second, fail, 0}, {4 * time.Second, fail, 0}}
	tests := []struct {
		name  string
		conf  BackoffConfig
		steps []step
	}{
		{"doubling waits", BackoffConfig{}, append(free,
			// Comments say which failure set the wait that Check sees.
			step{4500 * time.Millisecond, fail, 500 * time.Millisecond}, // 5th, at 4 s: 1 s (the caller then ignores Check; the failure still counts)
			step{5 * time.Second, fail, 1500 * time.Millisecond},        // 6th, at 4.5 s: 2 s
			step{5 * time.Second, fail, 4 * time.Second},                // 7th, at 5 s: 4 s
			step{13 * time.Second, fail, 0},                             // 8th, at 5 s: 8 s
			step{14 * time.Second, fail, 15 * time.Second},              // 9th, at 13 s: 16 s
		)},
		{"success forgets", BackoffConfig{}, append(free,
			step{5 * time.Second, succeed, 0},
			step{5 * time.Second, fail, 0},
			step{5 * time.Second, fail, 0},
		)},
		{"quiet for Max forgets", BackoffConfig{}, append(free,
			step{4*time.Second + 5*time.Minute - 1, fail, 0}, // 1 ns short of quiet: this is the 6th failure
			step{4*time.Second + 5*time.Minute - 1, fail, 2 * time.Second},
			step{4*time.Second + 10*time.Minute - 2, fail, 0}, // 1 ns short of quiet: the 8th failure
			step{4*time.Second + 10*time.Minute - 2, fail, 8 * time.Second},
			step{4*time.Second + 15*time.Minute - 2, fail, 0}, // quiet for Max: forgotten, so the 1st failure
			step{4*time.Second + 15*time.Minute - 2, fail, 0},
		)},
		{"custom", BackoffConfig{FreeFailures: 2, Base: 10 * time.Millisecond, Max: time.Second}, []step{
			{0, fail, 0},
			{0, fail, 0},
			{0, fail, 10 * time.Millisecond},
			{0, fail, 20 * time.Millisecond},
			{0, fail, 40 * time.Millisecond},
			{0, fail, 80 * time.Millisecond},
			{0, fail, 160 * time.Millisecond},
			{0, fail, 320 * time.Millisecond},
			{0, fail, 640 * time.Millisecond},
			{0, fail, time.Second},
			{time.Second, fail, 0}, // quiet for Max: forgotten
			{time.Second, fail, 0},
			{time.Second, fail, 10 * time.Millisecond},
		}},
		{"no free failures", BackoffConfig{FreeFailures: -1}, []step{
			{0, fail, 0},
			{0, fail, 2 * time.Second},
			{0, fail, 4 * time.Second},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBackoff(tt.conf)
			for i, s := range tt.steps {
				now := at(s.at)
				if got := b.Check("alice", now); got != s.wantRetry {
					t.Errorf("step %d: Check(t0+%v) = %v, want %v", i, s.at, got, s.wantRetry)
				}
				if got := b.Check("bob", now); got != 0 {
					t.Errorf("step %d: Check(other key) = %v, want 0", i, got)
				}
				switch s.op {
				case fail:
					b.Fail("alice", now)
				case succeed:
					b.Succeed("alice")
				}
			}
		})
	}
}

func TestBackoffMemory(t *testing.T) {
	const maxKeys = 100
	b := NewBackoff(BackoffConfig{MaxKeys: maxKeys})
	for i := range 1000 {
		b.Fail(fmt.Sprint("user", i), at(time.Duration(i)*time.Millisecond))
		if got := b.Len(); got > maxKeys {
			t.Fatalf("Len after %d keys = %d, want at most %d", i+1, got, maxKeys)
		}
	}
	// The newest keys are kept.
	for range 5 {
		b.Fail("user999", at(time.Second))
	}
	if got := b.Check("user999", at(time.Second)); got != 2*time.Second {
		t.Errorf("Check(newest key) = %v, want 2s", got)
	}
	// Quiet keys are swept away as calls go by.
	later := at(time.Hour)
	for range maxKeys + minSweepOps {
		b.Check("carol", later)
	}
	if got := b.Len(); got != 0 {
		t.Errorf("Len after every key went quiet = %d, want 0", got)
	}
}

// TestBackoffConcurrent needs -race to be meaningful.
func TestBackoffConcurrent(t *testing.T) {
	b := NewBackoff(BackoffConfig{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				key := fmt.Sprint("user", i%7)
				b.Check(key, t0)
				b.Fail(key, t0)
				if i%50 == g {
					b.Succeed(key)
				}
			}
		})
	}
	wg.Wait()
	if got := b.Len(); got > 7 {
		t.Errorf("Len = %d, want at most 7", got)
	}
}

func TestBackoffFailing(t *testing.T) {
	b := NewBackoff(BackoffConfig{Max: time.Minute})
	tests := []struct {
		name string
		step func()
		at   time.Time
		want bool
	}{
		{"never failed", func() {}, t0, false},
		{"one failure", func() { b.Fail("k", t0) }, t0, true},
		{"still within Max", func() {}, t0.Add(59 * time.Second), true},
		{"quiet for Max", func() {}, t0.Add(time.Minute), false},
		{"failed, then succeeded", func() { b.Fail("k", t0); b.Succeed("k") }, t0, false},
	}
	for _, tt := range tests {
		tt.step()
		if got := b.Failing("k", tt.at); got != tt.want {
			t.Errorf("%s: Failing = %v, want %v", tt.name, got, tt.want)
		}
	}
}
