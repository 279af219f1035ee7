package server

import (
	"context"
	"sync"
	"time"
)

// lazyTimeout returns a context that ends d from now, like
// context.WithTimeout(context.Background(), d), but that starts no timer
// until something asks it for its Done channel, Err, Deadline or a
// value; stop releases it as a CancelFunc does, and must be called once
// nothing uses the context any more.
//
// A command is answered from the node's caches far more often than it
// reaches the store (room rows, sanctions, the hub): under the durable
// workload the three timeouts every send made (dispatch, the sanction
// check, the archive check) were 3% of the server's CPU, for timers that
// were almost always stopped unfired. Store calls, database/sql and the
// drivers all ask for Done, so a store call is still bounded, by the same
// deadline.
func lazyTimeout(d time.Duration) (context.Context, func()) {
	l := &lazyCtx{deadline: time.Now().Add(d)}
	return l, l.stop
}

// lazyCtx is the context lazyTimeout returns; inner is made on first use.
type lazyCtx struct {
	deadline time.Time
	once     sync.Once
	inner    context.Context    // set by once
	cancel   context.CancelFunc // set by once; nil if stop came first
}

// get returns the context that does the work, made on the first call.
func (l *lazyCtx) get() context.Context {
	l.once.Do(func() {
		l.inner, l.cancel = context.WithDeadline(context.Background(), l.deadline)
	})
	return l.inner
}

func (l *lazyCtx) Deadline() (time.Time, bool) { return l.get().Deadline() }
func (l *lazyCtx) Done() <-chan struct{}       { return l.get().Done() }
func (l *lazyCtx) Err() error                  { return l.get().Err() }

// Value asks the inner context, so that a context derived from this one
// (context.WithCancel) finds the inner's cancellation and hangs off it
// instead of starting a goroutine to watch Done.
func (l *lazyCtx) Value(key any) any { return l.get().Value(key) }

// stop ends the context: its Done closes and its Err is
// context.Canceled, as after a CancelFunc, and its timer, if it had one,
// is released.
func (l *lazyCtx) stop() {
	l.once.Do(func() {
		l.inner = canceled
	})
	if l.cancel != nil {
		l.cancel()
	}
}

// canceled is the inner context of a lazyCtx stopped before first use.
var canceled = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()
