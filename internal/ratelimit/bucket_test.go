package ratelimit

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	type step struct {
		at        time.Duration // since t0
		wantRetry time.Duration // RetryAfter before Allow; Allow must succeed iff 0
	}
	tests := []struct {
		name  string
		limit Limit
		steps []step
	}{
		{"burst then rate", Limit{Rate: 1, Burst: 3}, []step{
			{0, 0}, {0, 0}, {0, 0},
			{0, time.Second},
			{500 * time.Millisecond, 500 * time.Millisecond},
			{time.Second, 0},
			{time.Second, time.Second},
			{3 * time.Second, 0}, // two tokens earned, not three
			{3 * time.Second, 0},
			{3 * time.Second, time.Second},
		}},
		{"refill stops at burst", Limit{Rate: 1, Burst: 2}, []step{
			{0, 0},
			{time.Hour, 0}, {time.Hour, 0},
			{time.Hour, time.Second},
		}},
		{"fast rate", Limit{Rate: 10, Burst: 1}, []step{
			{0, 0},
			{0, 100 * time.Millisecond},
			{50 * time.Millisecond, 50 * time.Millisecond},
			{100 * time.Millisecond, 0},
			{199 * time.Millisecond, time.Millisecond},
			{200 * time.Millisecond, 0},
		}},
		{"slow rate", Limit{Rate: 0.5, Burst: 2}, []step{
			{0, 0}, {0, 0},
			{0, 2 * time.Second},
			{time.Second, time.Second},
			{2 * time.Second, 0},
			{2 * time.Second, 2 * time.Second},
		}},
		{"refused calls take nothing", Limit{Rate: 1, Burst: 1}, []step{
			{0, 0},
			{100 * time.Millisecond, 900 * time.Millisecond},
			{200 * time.Millisecond, 800 * time.Millisecond},
			{300 * time.Millisecond, 700 * time.Millisecond},
			{time.Second, 0},
		}},
		{"clock behind a previous call", Limit{Rate: 1, Burst: 1}, []step{
			{10 * time.Second, 0},
			{9 * time.Second, 2 * time.Second},
			{11 * time.Second, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBucket(tt.limit)
			for i, s := range tt.steps {
				now := at(s.at)
				if got := b.RetryAfter(now); got != s.wantRetry {
					t.Errorf("step %d: RetryAfter(t0+%v) = %v, want %v", i, s.at, got, s.wantRetry)
				}
				if got, want := b.Allow(now), s.wantRetry == 0; got != want {
					t.Errorf("step %d: Allow(t0+%v) = %v, want %v", i, s.at, got, want)
				}
			}
		})
	}
}
