package server

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestReadersReuseWorkers: read loops handed to the pool one after another
// run on one worker; loops at the same time get a worker each; a worker
// idle for the linger ends; close ends the waiting ones and waits.
func TestReadersReuseWorkers(t *testing.T) {
	tests := []struct {
		name        string
		concurrent  int // read loops blocked at once
		sequential  int // read loops run one after another, after those
		wantStarted int64
	}{
		{"one after another", 0, 5, 1},
		{"at once", 3, 0, 3},
		{"at once, then one after another", 3, 4, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newReaders(time.Second)
				var ran atomic.Int64
				release := make(chan struct{})
				for range tt.concurrent {
					p.run(func() { <-release; ran.Add(1) })
				}
				synctest.Wait()
				close(release)
				synctest.Wait()
				for range tt.sequential {
					p.run(func() { ran.Add(1) })
					synctest.Wait()
				}
				if got, want := ran.Load(), int64(tt.concurrent+tt.sequential); got != want {
					t.Errorf("ran %d read loops, want %d", got, want)
				}
				if got := p.started.Load(); got != tt.wantStarted {
					t.Errorf("started %d workers, want %d", got, tt.wantStarted)
				}
				p.mu.Lock()
				idle := len(p.idle)
				p.mu.Unlock()
				if idle != int(tt.wantStarted) {
					t.Errorf("%d workers waiting, want %d", idle, tt.wantStarted)
				}

				time.Sleep(2 * time.Second) // past the linger
				synctest.Wait()
				p.mu.Lock()
				idle = len(p.idle)
				p.mu.Unlock()
				if idle != 0 {
					t.Errorf("%d workers waiting after the linger, want 0", idle)
				}
				p.run(func() { ran.Add(1) }) // a new worker again
				synctest.Wait()
				if got := p.started.Load(); got != tt.wantStarted+1 {
					t.Errorf("started %d workers after the linger, want %d", got, tt.wantStarted+1)
				}
				p.close() // ends the waiting worker; synctest fails on a goroutine left
				p.run(func() { ran.Add(1) })
				synctest.Wait()
				if got, want := ran.Load(), int64(tt.concurrent+tt.sequential+2); got != want {
					t.Errorf("ran %d read loops in all, want %d (one after close)", got, want)
				}
			})
		})
	}
}
