package faulttest

import (
	"net"
	"sync"
	"testing"
)

// proxyMode is what a Proxy does with traffic.
type proxyMode int

const (
	passing  proxyMode = iota // bytes flow
	cut                       // every connection closed, new ones closed at once
	stalling                  // bytes held in both directions, new connections held
)

// Proxy is a TCP proxy to one backend that a test can break: Cut closes
// every connection and refuses new ones (the peer sees its connection
// reset or closed), Stall holds every byte in both directions and every
// new connection (the peer sees a silent network), Restore lets traffic
// flow again. Bytes held by Stall are delivered after Restore, as TCP
// would deliver them after a network partition heals. It is safe for
// concurrent use; its goroutines end at the test's cleanup.
type Proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu     sync.Mutex // guards the fields below
	mode   proxyMode
	change chan struct{} // closed and replaced on every change of mode
	conns  map[net.Conn]struct{}
	closed bool
}

// NewProxy listens on a free loopback port and forwards to target.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, change: make(chan struct{}), conns: make(map[net.Conn]struct{})}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every proxied connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.setMode(cut)
	p.mu.Lock()
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// Stall holds all traffic, of existing and new connections, until Restore.
func (p *Proxy) Stall() { p.setMode(stalling) }

// Restore lets traffic flow again after Cut or Stall.
func (p *Proxy) Restore() { p.setMode(passing) }

func (p *Proxy) setMode(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	close(p.change)
	p.change = make(chan struct{})
}

// gate waits while traffic is stalled; it reports false when it must not
// flow (cut, or the proxy closed).
func (p *Proxy) gate() bool {
	for {
		p.mu.Lock()
		m, ch, closed := p.mode, p.change, p.closed
		p.mu.Unlock()
		switch {
		case closed || m == cut:
			return false
		case m == passing:
			return true
		}
		<-ch
	}
}

// track registers c; it reports false (and closes c) if the proxy is cut
// or closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.mode == cut {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			continue
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

func (p *Proxy) serve(c net.Conn) {
	defer p.untrack(c)
	if !p.gate() { // a new connection waits out a stall
		return
	}
	b, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.track(b) {
		return
	}
	defer p.untrack(b)
	done := make(chan struct{}, 2)
	go func() { p.pump(b, c); done <- struct{}{} }()
	go func() { p.pump(c, b); done <- struct{}{} }()
	<-done
	c.Close()
	b.Close()
	<-done
}

// pump copies src to dst, passing each chunk through the gate.
func (p *Proxy) pump(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.gate() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	close(p.change)
	p.change = make(chan struct{})
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	p.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	p.wg.Wait()
}
