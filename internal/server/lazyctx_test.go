package server

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestLazyTimeout(t *testing.T) {
	const d = 5 * time.Second
	tests := []struct {
		name      string
		firstUse  time.Duration // when the context is first asked; <0: never
		stopAt    time.Duration // when stop is called; 0: never before the check
		checkAt   time.Duration // when Err is checked
		wantErr   error
		wantTimer bool
	}{
		{"unused and stopped: no timer, canceled", -1, time.Second, 2 * time.Second, context.Canceled, false},
		{"used, before the deadline", 0, 0, d - time.Millisecond, nil, true},
		{"used at once, at the deadline", 0, 0, d, context.DeadlineExceeded, true},
		{"first used late, still ends d after it was made", 3 * time.Second, 0, d, context.DeadlineExceeded, true},
		{"used, then stopped", time.Second, 2 * time.Second, 3 * time.Second, context.Canceled, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				ctx, stop := lazyTimeout(d)
				defer stop()
				l := ctx.(*lazyCtx)
				type step struct {
					at time.Duration
					do func()
				}
				var steps []step
				if tt.firstUse >= 0 {
					steps = append(steps, step{tt.firstUse, func() {
						if dl, ok := ctx.Deadline(); !ok || !dl.Equal(start.Add(d)) {
							t.Errorf("Deadline = %v, %v; want %v, true", dl, ok, start.Add(d))
						}
					}})
				}
				if tt.stopAt > 0 {
					steps = append(steps, step{tt.stopAt, stop})
				}
				steps = append(steps, step{tt.checkAt, func() {
					if err := ctx.Err(); !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
						t.Errorf("Err = %v, want %v", err, tt.wantErr)
					}
					select {
					case <-ctx.Done():
						if tt.wantErr == nil {
							t.Error("Done closed before the deadline")
						}
					default:
						if tt.wantErr != nil {
							t.Error("Done still open")
						}
					}
				}})
				for _, s := range steps {
					if wait := start.Add(s.at).Sub(time.Now()); wait > 0 {
						time.Sleep(wait)
					}
					// A timer that fires now ends the context on a
					// goroutine of its own: let it run first.
					synctest.Wait()
					s.do()
				}
				if got := l.cancel != nil; got != tt.wantTimer {
					t.Errorf("made a timer: %v, want %v", got, tt.wantTimer)
				}
			})
		})
	}
}

// TestLazyTimeoutDerived: a context derived from a lazy one ends with it.
func TestLazyTimeoutDerived(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, stop := lazyTimeout(time.Second)
		defer stop()
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		time.Sleep(time.Second)
		synctest.Wait()
		if err := child.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("child Err = %v, want %v", err, context.DeadlineExceeded)
		}
	})
}
