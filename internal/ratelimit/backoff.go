package ratelimit

import (
	"sync"
	"time"
)

// BackoffConfig configures a Backoff. The zero value is useful.
type BackoffConfig struct {
	// FreeFailures is the number of failures that cost no wait.
	// Zero means 5; use a negative number for none.
	FreeFailures int
	// Base is the wait after the FreeFailures-th failure; each further
	// failure doubles it. Zero means 1 s.
	Base time.Duration
	// Max caps the wait. A key quiet (no Fail) for Max is forgotten, so
	// its failures are free again. Zero means 5 min.
	Max time.Duration
	// MaxKeys is the number of keys held at most. Zero means
	// DefaultMaxKeys.
	MaxKeys int
}

// Backoff slows down guessing. A key (a user name, an IP) may fail
// FreeFailures times without waiting; from then on, each attempt must wait
// Base·2^(n−FreeFailures), at most Max, after the key's n-th failure. With
// the defaults: five attempts at once, then waits of 1 s, 2 s, 4 s, … up to
// 5 min. Its methods are safe for concurrent use. The zero Backoff is not
// usable; use NewBackoff.
//
// Backoff only answers; it is the caller that refuses an attempt whose
// Check is not 0, and reports each outcome with Fail or Succeed.
//
// Memory: Backoff holds at most MaxKeys keys, each a string, a count and a
// time. Keys quiet for Max are swept away as calls go by. When a new key
// meets MaxKeys keys none of which is quiet, the quarter that failed
// longest ago is forgotten, which restarts their count: an attacker who can
// fail with more than MaxKeys keys within Max can reset other keys' waits,
// so size MaxKeys above that, and keep a coarser key (the IP) as well as a
// fine one (the user).
type Backoff struct {
	free      int           // Immutable after NewBackoff.
	base, cap time.Duration // Immutable after NewBackoff.

	mu       sync.Mutex
	failures map[string]failures // Guarded by mu.
	sw       sweeper             // Guarded by mu.
}

type failures struct {
	n    int       // failures since the key was last forgotten or succeeded
	last time.Time // time of the last failure
}

// NewBackoff returns a Backoff configured by c.
func NewBackoff(c BackoffConfig) *Backoff {
	if c.FreeFailures == 0 {
		c.FreeFailures = 5
	}
	if c.Base <= 0 {
		c.Base = time.Second
	}
	if c.Max <= 0 {
		c.Max = 5 * time.Minute
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = DefaultMaxKeys
	}
	return &Backoff{
		free:     max(0, c.FreeFailures),
		base:     c.Base,
		cap:      c.Max,
		failures: make(map[string]failures),
		sw:       sweeper{maxKeys: c.MaxKeys},
	}
}

// Check reports how long after now key must wait before its next attempt;
// 0 means it may try now. It does not count an attempt.
func (b *Backoff) Check(key string, now time.Time) (retryAfter time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tickLocked(now)
	f, ok := b.failures[key]
	if !ok || b.quiet(f, now) {
		return 0
	}
	return max(0, f.last.Add(b.wait(f.n)).Sub(now))
}

// Fail records a failed attempt by key at now.
func (b *Backoff) Fail(key string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tickLocked(now)
	f, ok := b.failures[key]
	if !ok {
		makeRoom(&b.sw, b.failures,
			func(f failures) bool { return b.quiet(f, now) },
			func(f failures) time.Time { return f.last })
	}
	if !ok || b.quiet(f, now) {
		f = failures{}
	}
	// Past free+64 the wait is capped anyway; stop counting so n cannot
	// overflow.
	f.n = min(f.n+1, b.free+64)
	f.last = now
	b.failures[key] = f
}

// Failing reports whether key has failures not yet forgotten at now (a
// Fail within Max, with no Succeed since), whether or not it must wait.
func (b *Backoff) Failing(key string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, ok := b.failures[key]
	return ok && !b.quiet(f, now)
}

// Succeed forgets key's failures.
func (b *Backoff) Succeed(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.failures, key)
}

// Len returns the number of keys held, for metrics and tests.
func (b *Backoff) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.failures)
}

func (b *Backoff) tickLocked(now time.Time) {
	if b.sw.tick(len(b.failures)) {
		sweep(b.failures, func(f failures) bool { return b.quiet(f, now) })
	}
}

// quiet reports whether f's key has been quiet long enough to be forgotten.
func (b *Backoff) quiet(f failures, now time.Time) bool {
	return now.Sub(f.last) >= b.cap
}

// wait returns the wait after the n-th failure: Base·2^(n−free), at most
// cap, or 0 for n < free.
func (b *Backoff) wait(n int) time.Duration {
	if n < b.free {
		return 0
	}
	d := b.base
	for range n - b.free {
		if d >= b.cap/2 {
			return b.cap
		}
		d *= 2
	}
	return min(d, b.cap)
}
