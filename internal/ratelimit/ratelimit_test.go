package ratelimit

import (
	"math"
	"testing"
	"time"
)

// t0 is the start of every test's timeline; at(d) is d after it.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestLimitInvalid(t *testing.T) {
	tests := []Limit{
		{Rate: 0, Burst: 1},
		{Rate: -1, Burst: 1},
		{Rate: math.NaN(), Burst: 1},
		{Rate: math.Inf(1), Burst: 1},
		{Rate: 2e9, Burst: 1},
		{Rate: 1, Burst: 0},
		{Rate: 1, Burst: -1},
		{Rate: 1e-12, Burst: 1},         // one token per 31,000 years
		{Rate: 1e-3, Burst: 1 << 30},    // a full bucket lasts 34,000 years
		{Rate: 1, Burst: math.MaxInt64}, // likewise
	}
	for _, l := range tests {
		t.Run("NewBucket", func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("NewBucket(%+v) did not panic", l)
				}
			}()
			NewBucket(l)
		})
		t.Run("NewKeyed", func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("NewKeyed(%+v) did not panic", l)
				}
			}()
			NewKeyed(l, 0)
		})
	}
	for _, l := range []Limit{{Rate: 1e9, Burst: 1}, {Rate: 1e-6, Burst: 1000}, {Rate: 0.5, Burst: 1}} {
		NewBucket(l) // must not panic
	}
}
