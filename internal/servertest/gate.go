package servertest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Burst is a set of commands a client should send together, without
// waiting for a reply in between: how many of each op ("hello": 1,
// "join": 3).
type Burst map[string]int

// BurstGate is a TCP proxy in front of a server that fails a client which
// waits for a reply in the middle of a burst of commands it could have
// pipelined. On every WebSocket connection after the first (the first is
// how the client gets started), once the client has sent a command of a
// burst, the gate holds whatever the server sends until the client has
// sent the whole burst: a client that waits for each reply before it
// sends the next command never gets one. After Hold the gate gives up,
// notes the failure and lets the bytes through, so the test ends with a
// message rather than a timeout. Other connections (plain HTTP: a
// browser's page and scripts) pass as they are.
type BurstGate struct {
	Hold time.Duration // default 5 s; set before the client connects

	ln     net.Listener
	server string
	bursts []Burst

	mu      sync.Mutex
	ws      int                   // WebSocket connections accepted
	failure []string              // what went wrong
	open    map[net.Conn]net.Conn // client side → server side, of every proxied connection
	wg      sync.WaitGroup
}

// NewBurstGate starts a gate in front of the server at serverAddr
// (host:port) that checks bursts; it stops when t ends.
func NewBurstGate(t testing.TB, serverAddr string, bursts ...Burst) *BurstGate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &BurstGate{Hold: 5 * time.Second, ln: ln, server: serverAddr, bursts: bursts, open: make(map[net.Conn]net.Conn)}
	g.wg.Add(1)
	go g.accept()
	t.Cleanup(func() {
		ln.Close()
		g.DropAll()
		g.wg.Wait()
	})
	return g
}

// Addr is the gate's host:port.
func (g *BurstGate) Addr() string { return g.ln.Addr().String() }

// Failures returns what went wrong so far.
func (g *BurstGate) Failures() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.failure...)
}

// DropAll closes every connection through the gate, as a network that
// fails does: the client sees its socket end without a close frame.
func (g *BurstGate) DropAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for cc, sc := range g.open {
		cc.Close()
		sc.Close()
	}
}

func (g *BurstGate) accept() {
	defer g.wg.Done()
	for {
		cc, err := g.ln.Accept()
		if err != nil {
			return
		}
		sc, err := net.Dial("tcp", g.server)
		if err != nil {
			cc.Close()
			continue
		}
		g.mu.Lock()
		g.open[cc] = sc
		g.mu.Unlock()
		p := &gatedPipe{g: g, sent: make(map[string]int)}
		p.cond.L = &p.mu
		g.wg.Add(2)
		go func() {
			defer g.wg.Done()
			p.clientToServer(cc, sc)
			sc.Close()
			cc.Close()
			p.mu.Lock()
			p.ended = true
			p.cond.Broadcast()
			p.mu.Unlock()
			g.mu.Lock()
			delete(g.open, cc)
			g.mu.Unlock()
		}()
		go func() {
			defer g.wg.Done()
			p.serverToClient(sc, cc)
			cc.Close()
			sc.Close()
		}()
	}
}

// gatedPipe is one proxied connection.
type gatedPipe struct {
	g *BurstGate

	mu    sync.Mutex
	cond  sync.Cond
	gated bool           // a WebSocket connection after the first; set once its request is read
	sent  map[string]int // commands of each op the client has sent
	ended bool           // the client side is gone
}

// clientToServer copies the client's bytes: the HTTP request head and
// then, on a WebSocket connection, frames, counting the commands among
// them; on another connection, everything else as it comes.
func (p *gatedPipe) clientToServer(cc, sc net.Conn) {
	br := bufio.NewReader(cc)
	upgrade := false
	for { // the request head
		line, err := br.ReadString('\n')
		if _, werr := io.WriteString(sc, line); err != nil || werr != nil {
			return
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Upgrade") &&
			strings.EqualFold(strings.TrimSpace(v), "websocket") {
			upgrade = true
		}
		if line == "\r\n" {
			break
		}
	}
	if !upgrade {
		io.Copy(sc, br)
		return
	}
	p.g.mu.Lock()
	p.g.ws++
	gated := p.g.ws > 1
	p.g.mu.Unlock()
	p.mu.Lock()
	p.gated = gated
	p.mu.Unlock()
	for {
		frame, payload, err := readClientFrame(br)
		if err != nil {
			return
		}
		p.mu.Lock()
		for _, b := range p.g.bursts {
			for op := range b {
				if bytes.Contains(payload, []byte(`"op":"`+op+`"`)) {
					p.sent[op]++
					p.cond.Broadcast()
				}
			}
		}
		p.mu.Unlock()
		if _, err := sc.Write(frame); err != nil {
			return
		}
	}
}

// serverToClient copies the server's bytes, holding them, on a gated
// connection, while the client is in the middle of a burst.
func (p *gatedPipe) serverToClient(sc, cc net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := sc.Read(buf)
		if n > 0 {
			p.waitBurst()
			if _, werr := cc.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// waitBurst waits, at most the gate's Hold, while the client has sent
// some commands of a burst but not all of them.
func (p *gatedPipe) waitBurst() {
	deadline := time.Now().Add(p.g.Hold)
	stop := time.AfterFunc(p.g.Hold, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer stop.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if !p.gated || p.ended {
			return
		}
		b := p.partialLocked()
		if b == nil {
			return
		}
		if time.Now().After(deadline) {
			p.g.mu.Lock()
			p.g.failure = append(p.g.failure, fmt.Sprintf(
				"the client sent %s of %s, then waited %v for a reply", p.countsLocked(b), b.String(), p.g.Hold))
			p.g.mu.Unlock()
			for op, want := range b {
				p.sent[op] = max(p.sent[op], want) // let it through from now on
			}
			continue
		}
		p.cond.Wait()
	}
}

// partialLocked returns a burst of which the client has sent some
// commands but not all, or nil. p.mu is held.
func (p *gatedPipe) partialLocked() Burst {
	for _, b := range p.g.bursts {
		started, done := false, true
		for op, want := range b {
			started = started || p.sent[op] > 0
			done = done && p.sent[op] >= want
		}
		if started && !done {
			return b
		}
	}
	return nil
}

// countsLocked describes what the client sent of b. p.mu is held.
func (p *gatedPipe) countsLocked(b Burst) string {
	sent := Burst{}
	for op := range b {
		sent[op] = p.sent[op]
	}
	return sent.String()
}

// String lists b's ops and counts in op order.
func (b Burst) String() string {
	ops := make([]string, 0, len(b))
	for op := range b {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	var s strings.Builder
	for i, op := range ops {
		if i > 0 {
			s.WriteString(", ")
		}
		fmt.Fprintf(&s, "%d %s", b[op], op)
	}
	return s.String()
}

// readClientFrame reads one masked client frame: its bytes as sent, and
// its payload unmasked.
func readClientFrame(br *bufio.Reader) (frame, payload []byte, err error) {
	h := make([]byte, 2, 14)
	if _, err := io.ReadFull(br, h); err != nil {
		return nil, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		h = h[:4]
		if _, err := io.ReadFull(br, h[2:]); err != nil {
			return nil, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(h[2:]))
	case 127:
		h = h[:10]
		if _, err := io.ReadFull(br, h[2:]); err != nil {
			return nil, nil, err
		}
		n = binary.BigEndian.Uint64(h[2:])
	}
	var key []byte
	if h[1]&0x80 != 0 {
		at := len(h)
		h = h[:at+4]
		if _, err := io.ReadFull(br, h[at:]); err != nil {
			return nil, nil, err
		}
		key = h[at:]
	}
	if n > 1<<20 {
		return nil, nil, fmt.Errorf("frame of %d bytes", n)
	}
	frame = make([]byte, len(h)+int(n))
	copy(frame, h)
	if _, err := io.ReadFull(br, frame[len(h):]); err != nil {
		return nil, nil, err
	}
	payload = bytes.Clone(frame[len(h):])
	for i := range payload {
		if key != nil {
			payload[i] ^= key[i%4]
		}
	}
	return frame, payload, nil
}
