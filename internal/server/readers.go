package server

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// readers runs the read loops of woken connections (park.go) on
// goroutines it keeps for a while after each one, instead of a new
// goroutine per wake-up. A goroutine's stack grows to what handling a
// message needs (SQLite's calls are deep), and a new goroutine grows it
// again, copying it at each doubling, for every message a parked
// connection receives. A worker that finds nothing to run waits
// readerLinger for the next, then ends, so an idle server keeps none; at
// most maxIdleReaders wait at once.
//
// A worker runs one read loop at a time, to its end: the rule of one
// reader per connection is the connection's (wakeReader hands a read loop
// over once per wake-up), not the pool's.
type readers struct {
	linger time.Duration

	mu     sync.Mutex
	idle   []*reader // waiting workers, the most recently used last
	closed bool
	wg     sync.WaitGroup // one per worker

	started atomic.Int64 // workers started, ever
}

// reader is one worker's doorbell: run sends it the next read loop, close
// sends nil to end it.
type reader struct{ next chan func() }

const (
	// readerLinger is how long a worker waits for the next read loop.
	readerLinger = time.Second
	// maxIdleReaders bounds the workers that wait, and so the stacks
	// kept: past it a worker with nothing to run ends at once.
	maxIdleReaders = 1024
)

func newReaders(linger time.Duration) *readers {
	return &readers{linger: linger}
}

// run runs f on a waiting worker, or on a new one if none waits. After
// close it runs f on a goroutine of its own.
func (p *readers) run(f func()) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		r := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		r.next <- f // capacity 1, and nothing else sends until it waits again
		return
	}
	if p.closed {
		p.mu.Unlock()
		go f()
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()
	p.started.Add(1)
	go p.work(&reader{next: make(chan func(), 1)}, f)
}

// work runs f, then whatever run hands it, until it waits linger for
// nothing, the idle list is full, or the pool is closed.
func (p *readers) work(r *reader, f func()) {
	defer p.wg.Done()
	t := time.NewTimer(p.linger)
	defer t.Stop()
	for f != nil {
		f()
		p.mu.Lock()
		if p.closed || len(p.idle) >= maxIdleReaders {
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, r)
		p.mu.Unlock()
		t.Reset(p.linger)
		select {
		case f = <-r.next:
			continue
		case <-t.C:
		}
		// Lingered long enough: leave the list, unless run (or close)
		// took r from it meanwhile and its word is on the way.
		p.mu.Lock()
		if i := slices.Index(p.idle, r); i >= 0 {
			p.idle = slices.Delete(p.idle, i, i+1)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		f = <-r.next
	}
}

// close ends the waiting workers and waits for every worker to end; the
// read loops still running must be ending (Shutdown calls it once every
// connection has).
func (p *readers) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, r := range idle {
		r.next <- nil
	}
	p.wg.Wait()
}
