package faulttest

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// DefaultCheckInterval is how often a Balancer asks each backend's /readyz
// when NewBalancer is given zero: HAProxy's "inter" is 2s by default; a
// test wants the reaction within a fraction of a drain grace.
const DefaultCheckInterval = 200 * time.Millisecond

// Balancer is a TCP load balancer in front of hubbubd nodes that honours
// readiness, as HAProxy or nginx with health checks on /readyz would: it
// asks every backend's /readyz each check interval (timeout: one second)
// and sends new connections only to ready backends. A backend turns
// unready after checkFall failed checks in a row (an answer other than
// 200, or none) and ready again after one good check, as HAProxy's "fall
// 2 rise 1". A backend whose dial fails is skipped for that connection
// (HAProxy's "redispatch").
// Established connections are never moved: when a backend closes one, the
// client reconnects and the balancer picks again.
//
// Each Frontend is a listener with a preferred backend (sticky routing, so
// a test can place clients on a node); when that backend is not ready,
// connections go round-robin to the ready others.
//
// It is safe for concurrent use; its goroutines end at the test's cleanup.
type Balancer struct {
	backends []string
	interval time.Duration
	ready    []atomic.Bool
	fails    []int         // failed checks in a row per backend; owned by the checker goroutine
	next     atomic.Uint64 // round-robin cursor of fallbacks
	wg       sync.WaitGroup
	quit     chan struct{}

	mu        sync.Mutex // guards the fields below
	listeners []net.Listener
	conns     map[net.Conn]struct{}
	downAt    []time.Time // when each backend was last seen unready; zero if never
	downs     []int       // how many times each backend was taken out
}

// NewBalancer balances over backends (host:port of hubbubd nodes),
// checking readiness every interval (DefaultCheckInterval if zero). It
// checks every backend once before it returns.
func NewBalancer(t testing.TB, backends []string, interval time.Duration) *Balancer {
	t.Helper()
	if interval <= 0 {
		interval = DefaultCheckInterval
	}
	b := &Balancer{
		backends: backends,
		interval: interval,
		ready:    make([]atomic.Bool, len(backends)),
		fails:    make([]int, len(backends)),
		quit:     make(chan struct{}),
		conns:    make(map[net.Conn]struct{}),
		downAt:   make([]time.Time, len(backends)),
		downs:    make([]int, len(backends)),
	}
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	b.checkAll(hc)
	b.wg.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-b.quit:
				return
			case <-tick.C:
				b.checkAll(hc)
			}
		}
	})
	t.Cleanup(b.close)
	return b
}

// checkFall is how many failed checks in a row take a backend out.
const checkFall = 2

func (b *Balancer) checkAll(hc *http.Client) {
	var wg sync.WaitGroup
	for i, addr := range b.backends {
		wg.Go(func() {
			if checkReady(hc, addr) {
				b.fails[i] = 0
				b.ready[i].Store(true)
				return
			}
			if b.fails[i]++; b.fails[i] >= checkFall && b.ready[i].Load() {
				b.mu.Lock()
				b.downAt[i] = time.Now()
				b.downs[i]++
				b.mu.Unlock()
				b.ready[i].Store(false)
			}
		})
	}
	wg.Wait()
}

// quickHTTP asks a node's /readyz outside a Balancer.
var quickHTTP = &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func checkReady(hc *http.Client, addr string) bool {
	req, err := http.NewRequestWithContext(context.Background(), "GET", "http://"+addr+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Ready reports whether backend i answered its last check with 200.
func (b *Balancer) Ready(i int) bool { return b.ready[i].Load() }

// DownAt returns when the balancer last took backend i out of rotation
// after it had been ready; zero if it never did.
func (b *Balancer) DownAt(i int) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.downAt[i]
}

// Downs returns how many times backend i was taken out of rotation.
func (b *Balancer) Downs(i int) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.downs[i]
}

// Frontend opens a listener whose connections prefer backend prefer, and
// returns its WebSocket URL (ws://127.0.0.1:PORT/ws).
func (b *Balancer) Frontend(t testing.TB, prefer int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	b.listeners = append(b.listeners, ln)
	b.mu.Unlock()
	b.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !b.track(c) {
				return
			}
			b.wg.Go(func() { b.serve(c, prefer) })
		}
	})
	return "ws://" + ln.Addr().String() + "/ws"
}

// pick returns the backends to try for a new connection, in order: the
// preferred one if ready, then the other ready ones from the round-robin
// cursor.
func (b *Balancer) pick(prefer int) []string {
	var out []string
	if b.ready[prefer].Load() {
		out = append(out, b.backends[prefer])
	}
	n := len(b.backends)
	start := int(b.next.Add(1) % uint64(n))
	for k := range n {
		i := (start + k) % n
		if i != prefer && b.ready[i].Load() {
			out = append(out, b.backends[i])
		}
	}
	return out
}

func (b *Balancer) serve(c net.Conn, prefer int) {
	defer b.untrack(c)
	var be net.Conn
	for _, addr := range b.pick(prefer) {
		var err error
		if be, err = net.DialTimeout("tcp", addr, time.Second); err == nil {
			break
		}
	}
	if be == nil {
		return // no backend: the client sees its connection closed
	}
	if !b.track(be) {
		return
	}
	defer b.untrack(be)
	done := make(chan struct{}, 2)
	go func() { copyConn(be, c); done <- struct{}{} }()
	go func() { copyConn(c, be); done <- struct{}{} }()
	<-done
	c.Close()
	be.Close()
	<-done
}

func copyConn(dst, src net.Conn) {
	buf := make([]byte, 16<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (b *Balancer) track(c net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.quit:
		c.Close()
		return false
	default:
	}
	b.conns[c] = struct{}{}
	return true
}

func (b *Balancer) untrack(c net.Conn) {
	b.mu.Lock()
	delete(b.conns, c)
	b.mu.Unlock()
	c.Close()
}

func (b *Balancer) close() {
	b.mu.Lock()
	close(b.quit)
	for _, ln := range b.listeners {
		ln.Close()
	}
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}
