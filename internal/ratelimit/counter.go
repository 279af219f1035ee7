package ratelimit

import "sync"

// Counter counts concurrent holders per key, such as connections per user
// or per IP. Its methods are safe for concurrent use. The zero Counter is
// empty and ready to use; it must not be copied after first use.
//
// Memory: Counter holds one entry per key with a count above zero, so at
// most as many as there are successful Acquires not yet Released.
type Counter struct {
	mu     sync.Mutex
	counts map[string]int // Guarded by mu. Never holds a zero.
}

// Acquire adds one holder to key and reports true if key had fewer than
// max; otherwise it changes nothing and reports false (always, for
// max ≤ 0). Each true must be paired with one Release.
func (c *Counter) Acquire(key string, max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts[key] >= max {
		return false
	}
	if c.counts == nil {
		c.counts = make(map[string]int)
	}
	c.counts[key]++
	return true
}

// Release removes one holder from key, deleting the key at zero. A Release
// without a matching Acquire is a bug in the caller; it is ignored, so that
// the count never goes below zero.
func (c *Counter) Release(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch n := c.counts[key]; {
	case n > 1:
		c.counts[key] = n - 1
	case n == 1:
		delete(c.counts, key)
	}
}

// Count returns the number of holders of key.
func (c *Counter) Count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[key]
}

// Len returns the number of keys with holders, for metrics and tests.
func (c *Counter) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.counts)
}
