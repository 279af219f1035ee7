// Package ratelimit limits how often and how many times a key may act:
// token buckets (Bucket, and Keyed for many keys), exponential backoff after
// failures (Backoff), and concurrent counts (Counter); and how often a
// warning is logged (Log).
//
// Time is passed in by the caller, except to Log, which reads the clock for
// the lines it writes; the package starts no goroutine. Every type that holds many keys bounds its memory,
// each in the way its doc comment states.
package ratelimit

import (
	"fmt"
	"math"
	"time"
)

// Limit is a token-bucket rate: Rate tokens per second are added to a bucket
// that holds at most Burst. A full bucket allows Burst actions at once, then
// one every 1/Rate seconds.
//
// A valid Limit has 0 < Rate ≤ 1e9 and Burst ≥ 1, and Burst/Rate seconds
// fits in a time.Duration (about 292 years); NewBucket and NewKeyed panic
// on any other, as a configuration error.
type Limit struct {
	Rate  float64 // tokens per second
	Burst int     // bucket size
}

// gcra is a Limit as the generic cell rate algorithm uses it: a bucket is
// the single instant tat ("theoretical arrival time") at which it will be
// full again; an action at now is allowed if tat − now ≤ tolerance, and
// moves tat one interval later.
type gcra struct {
	interval  time.Duration // time to earn one token
	tolerance time.Duration // (Burst − 1) × interval
}

func (l Limit) gcra() gcra {
	iv := float64(time.Second) / l.Rate
	if !(l.Rate > 0 && l.Rate <= 1e9) || l.Burst < 1 || iv*float64(l.Burst) >= math.MaxInt64 {
		panic(fmt.Sprintf("ratelimit: invalid Limit{Rate: %v, Burst: %d}", l.Rate, l.Burst))
	}
	interval := time.Duration(iv)
	return gcra{interval: interval, tolerance: time.Duration(l.Burst-1) * interval}
}

// allow reports whether an action at now is allowed by a bucket that is
// full at tat, and returns the bucket's new tat or how long after now to
// retry. now may be earlier than a previous call's now (callers that read
// the clock before taking a lock): the bucket then only looks emptier.
func (g gcra) allow(tat, now time.Time) (ok bool, newTAT time.Time, retryAfter time.Duration) {
	if tat.Before(now) {
		tat = now
	}
	if wait := tat.Sub(now) - g.tolerance; wait > 0 {
		return false, tat, wait
	}
	return true, tat.Add(g.interval), 0
}

// allowN is allow for an action that takes n ≥ 1 tokens at once. An n
// larger than the bucket is never allowed (retryAfter 0: waiting does not
// help).
func (g gcra) allowN(tat, now time.Time, n int64) (ok bool, newTAT time.Time, retryAfter time.Duration) {
	if n <= 1 {
		return g.allow(tat, now)
	}
	if n-1 > int64(g.tolerance/g.interval) {
		return false, tat, 0
	}
	if tat.Before(now) {
		tat = now
	}
	more := time.Duration(n-1) * g.interval
	if wait := tat.Add(more).Sub(now) - g.tolerance; wait > 0 {
		return false, tat, wait
	}
	return true, tat.Add(more + g.interval), 0
}

// retryAfter is how long from now until allow would succeed; 0 if now.
func (g gcra) retryAfter(tat, now time.Time) time.Duration {
	if !tat.After(now) {
		return 0 // and tat.Sub(now) may be clamped to minDuration
	}
	return max(0, tat.Sub(now)-g.tolerance)
}

// Bucket is a token bucket for one key. It starts full.
//
// A Bucket is not safe for concurrent use: it is meant to be owned by one
// goroutine, such as a connection's read loop. Use Keyed to share limits.
// The zero Bucket is not usable; use NewBucket.
type Bucket struct {
	g   gcra      // Immutable after NewBucket.
	tat time.Time // When the bucket is full again; zero: full.
}

// NewBucket returns a full bucket with limit l. It panics if l is invalid.
func NewBucket(l Limit) *Bucket {
	return &Bucket{g: l.gcra()}
}

// Allow reports whether an action at now is allowed, and if so takes a
// token. A refused action takes nothing.
func (b *Bucket) Allow(now time.Time) bool {
	ok, tat, _ := b.g.allow(b.tat, now)
	if ok {
		b.tat = tat
	}
	return ok
}

// RetryAfter reports how long after now Allow will first succeed; 0 if it
// would succeed at now. It takes no token.
func (b *Bucket) RetryAfter(now time.Time) time.Duration {
	return b.g.retryAfter(b.tat, now)
}
