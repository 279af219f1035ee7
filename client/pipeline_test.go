package client_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/server"
)

// burstGate is a TCP proxy in front of a server. On every connection after
// the first, once the client has sent one command of an op it watches
// (join, history), it holds whatever the server sends until the client has
// sent want of them: a client that waits for each reply before it sends
// the next command never gets one. It gives up after hold, notes the
// failure, and lets the bytes through.
type burstGate struct {
	ln     net.Listener
	server string   // the server's address
	ops    []string // the ops it counts
	want   int
	hold   time.Duration

	mu      sync.Mutex
	conns   int      // connections accepted
	failure []string // what went wrong
	wg      sync.WaitGroup
}

func newBurstGate(t *testing.T, serverAddr string, want int, ops ...string) *burstGate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &burstGate{ln: ln, server: serverAddr, ops: ops, want: want, hold: 5 * time.Second}
	g.wg.Add(1)
	go g.accept()
	t.Cleanup(func() {
		ln.Close()
		g.wg.Wait()
	})
	return g
}

// URL is the gate's WebSocket endpoint.
func (g *burstGate) URL() string { return "ws://" + g.ln.Addr().String() + "/ws" }

// failures returns what went wrong so far.
func (g *burstGate) failures() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.failure...)
}

func (g *burstGate) accept() {
	defer g.wg.Done()
	for {
		cc, err := g.ln.Accept()
		if err != nil {
			return
		}
		g.mu.Lock()
		g.conns++
		gated := g.conns > 1
		g.mu.Unlock()
		sc, err := net.Dial("tcp", g.server)
		if err != nil {
			cc.Close()
			continue
		}
		p := &gatedPipe{g: g, gated: gated, sent: make(map[string]int)}
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
	g     *burstGate
	gated bool

	mu    sync.Mutex
	cond  sync.Cond
	sent  map[string]int // commands of each watched op the client has sent
	ended bool           // the client side is gone
}

// clientToServer copies the client's bytes, the HTTP request and then
// frames, counting the commands of the watched ops among the frames.
func (p *gatedPipe) clientToServer(cc, sc net.Conn) {
	br := bufio.NewReader(cc)
	for { // the request head
		line, err := br.ReadString('\n')
		if _, werr := io.WriteString(sc, line); err != nil || werr != nil {
			return
		}
		if line == "\r\n" {
			break
		}
	}
	for {
		frame, payload, err := readClientFrame(br)
		if err != nil {
			return
		}
		for _, op := range p.g.ops {
			if bytes.Contains(payload, []byte(`"op":"`+op+`"`)) {
				p.mu.Lock()
				p.sent[op]++
				p.cond.Broadcast()
				p.mu.Unlock()
			}
		}
		if _, err := sc.Write(frame); err != nil {
			return
		}
	}
}

// serverToClient copies the server's bytes, holding them, on a gated
// connection, while the client has sent some commands of a watched op
// but not all.
func (p *gatedPipe) serverToClient(sc, cc net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		n, err := sc.Read(buf)
		if n > 0 && p.gated {
			p.waitBurst()
		}
		if n > 0 {
			if _, werr := cc.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// waitBurst waits, at most the gate's hold, while the client has sent at
// least one command of a watched op but fewer than want.
func (p *gatedPipe) waitBurst() {
	deadline := time.Now().Add(p.g.hold)
	stop := time.AfterFunc(p.g.hold, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer stop.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		op := p.partialLocked()
		if op == "" || p.ended {
			return
		}
		if time.Now().After(deadline) {
			p.g.mu.Lock()
			p.g.failure = append(p.g.failure, fmt.Sprintf(
				"the client sent %d of its %d %s commands, then waited %v for a reply", p.sent[op], p.g.want, op, p.g.hold))
			p.g.mu.Unlock()
			p.sent[op] = p.g.want // let it through from now on
			continue
		}
		p.cond.Wait()
	}
}

// partialLocked returns a watched op of which the client has sent some
// commands but fewer than want, or "". p.mu is held.
func (p *gatedPipe) partialLocked() string {
	for _, op := range p.g.ops {
		if n := p.sent[op]; n > 0 && n < p.g.want {
			return op
		}
	}
	return ""
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

// TestRejoinsPipelined: after a reconnect the client re-joins all its
// rooms at once, without waiting for each reply (one round trip, not one
// per room), then fetches what it missed in every room at once too, and is
// back in every room.
func TestRejoinsPipelined(t *testing.T) {
	s := startServer(t, server.Config{})
	const rooms = 5
	gate := newBurstGate(t, strings.TrimSuffix(strings.TrimPrefix(s.URL(), "ws://"), "/ws"), rooms, "join", "history")
	ctx := t.Context()
	c, rec := dialURL(t, gate.URL(), fastOptions("alice"))
	other, _ := dial(t, s, fastOptions("bob"))
	for i := range rooms {
		room := fmt.Sprint("room", i)
		if _, err := c.Create(ctx, room, ""); err != nil {
			t.Fatalf("Create %s: %v", room, err)
		}
		if _, _, err := c.Join(ctx, room); err != nil {
			t.Fatalf("Join %s: %v", room, err)
		}
		if _, _, err := other.Join(ctx, room); err != nil {
			t.Fatalf("bob: Join %s: %v", room, err)
		}
	}

	s.killConns()
	connected := func(evs []client.Event) int {
		n := 0
		for _, ev := range evs {
			if st, ok := ev.(client.StateEvent); ok && st.State == client.Connected {
				n++
			}
		}
		return n
	}
	rec.wait(t, 20*time.Second, "the second connection", func(evs []client.Event) bool { return connected(evs) >= 2 })
	// Back in every room: a message bob sends now reaches alice.
	for i := range rooms {
		room := fmt.Sprint("room", i)
		m, err := other.Send(ctx, room, "after the reconnect")
		if err != nil {
			t.Fatalf("bob: Send %s: %v", room, err)
		}
		rec.waitSeq(t, room, m.Seq)
	}
	if f := gate.failures(); len(f) > 0 {
		t.Errorf("not pipelined: %s", strings.Join(f, "; "))
	}
}
