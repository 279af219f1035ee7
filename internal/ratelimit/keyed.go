package ratelimit

import (
	"sync"
	"time"
)

// Keyed is a token bucket per key, all with one Limit: handshakes per IP,
// room creations per user. Its methods are safe for concurrent use.
//
// Memory: Keyed holds at most maxKeys keys (one string and one time.Time
// each). A full bucket carries no information, so full buckets are swept
// away as keys go idle, every len(keys) calls. When a new key meets maxKeys
// keys none of which is full, the quarter of the keys closest to full is
// forgotten; they get a full bucket again on their next call. So size
// maxKeys above the number of keys expected to be active within Burst/Rate.
// Go maps do not shrink, so the memory held is that of the largest size
// reached.
//
// The zero Keyed is not usable; use NewKeyed.
type Keyed struct {
	g gcra // Immutable after NewKeyed.

	mu   sync.Mutex
	tats map[string]time.Time // When each key's bucket is full again. Guarded by mu.
	sw   sweeper              // Guarded by mu.
}

// NewKeyed returns a Keyed with limit l that holds at most maxKeys keys, or
// DefaultMaxKeys if maxKeys ≤ 0. It panics if l is invalid.
func NewKeyed(l Limit, maxKeys int) *Keyed {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	return &Keyed{g: l.gcra(), tats: make(map[string]time.Time), sw: sweeper{maxKeys: maxKeys}}
}

// Allow reports whether key may act at now, and if so takes a token from
// its bucket; if not, it takes nothing and reports how long after now to
// retry. A new key starts with a full bucket.
func (k *Keyed) Allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	return k.AllowN(key, 1, now)
}

// AllowN is Allow for an action that costs n tokens at once (bytes of a
// budget counted in bytes, say): it takes all n or none. An n larger
// than Burst is never allowed, and retryAfter is then 0.
func (k *Keyed) AllowN(key string, n int64, now time.Time) (ok bool, retryAfter time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	full := func(tat time.Time) bool { return !tat.After(now) }
	if k.sw.tick(len(k.tats)) {
		sweep(k.tats, full)
	}
	tat, found := k.tats[key]
	ok, tat, retryAfter = k.g.allowN(tat, now, n)
	if !ok {
		return false, retryAfter
	}
	if !found {
		makeRoom(&k.sw, k.tats, full, func(tat time.Time) time.Time { return tat })
	}
	k.tats[key] = tat
	return true, 0
}

// Return gives n tokens back to key's bucket, as if an action that took
// them had not happened (an upload discarded, say); a bucket never holds
// more than Burst.
func (k *Keyed) Return(key string, n int64, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	tat, found := k.tats[key]
	if !found || n <= 0 {
		return
	}
	if tat = tat.Add(-time.Duration(n) * k.g.interval); !tat.After(now) {
		delete(k.tats, key) // full
		return
	}
	k.tats[key] = tat
}

// Len returns the number of keys held, for metrics and tests.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.tats)
}
