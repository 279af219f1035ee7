package server

import (
	"context"
	"sync"
)

// fetchLock is held by the one asker that fetches a room's snapshot for a
// cache (the sanction and role caches) while the others wait for it. The
// fetch is a store call, a network round trip on PostgreSQL, so a waiter
// gives up when its ctx ends rather than queue behind a store that hangs.
// The zero value is unlocked.
type fetchLock struct {
	once sync.Once
	ch   chan struct{} // holds a token while locked
}

// lock takes the lock, or returns ctx's error if ctx ends first.
func (l *fetchLock) lock(ctx context.Context) error {
	l.once.Do(func() { l.ch = make(chan struct{}, 1) })
	select {
	case l.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// unlock lets the lock go; it must be held.
func (l *fetchLock) unlock() { <-l.ch }
