package pgstore

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// cutProxy is a TCP proxy to PostgreSQL that a test can cut: it then
// closes every connection through it and refuses new ones.
type cutProxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup

	mu    sync.Mutex // guards conns and cut
	conns []net.Conn
	cut   bool
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	p.wg.Go(p.accept)
	t.Cleanup(func() { p.Cut(); p.wg.Wait() })
	return p
}

func (p *cutProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			up.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		p.wg.Go(func() { io.Copy(up, c); up.Close() })
		p.wg.Go(func() { io.Copy(c, up); c.Close() })
	}
}

// Cut closes the listener and every connection through the proxy.
func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestOutageIsErrUnavailable cuts the connection to a real PostgreSQL
// under a Store: its calls then fail with an error that is
// chat.ErrUnavailable (what the server answers as `unavailable`), within
// the caller's deadline.
func TestOutageIsErrUnavailable(t *testing.T) {
	dsn := newSchema(t)
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Skipf("%s is not a postgres:// URL with a host: cannot put a proxy in front", dsnEnv)
	}
	p := startCutProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	s, err := Open(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	msg := []chat.NewMessage{{Room: chat.DefaultRoom, Author: "ann", Body: "before", CMID: "c1"}}
	if _, err := s.Append(t.Context(), msg); err != nil {
		t.Fatalf("Append before the cut: %v", err)
	}

	p.Cut()
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Append", func(ctx context.Context) error {
			_, err := s.Append(ctx, []chat.NewMessage{{Room: chat.DefaultRoom, Author: "ann", Body: "during", CMID: "c2"}})
			return err
		}},
		{"Room", func(ctx context.Context) error { _, err := s.Room(ctx, chat.DefaultRoom); return err }},
		{"HistoryAfter", func(ctx context.Context) error {
			_, err := s.HistoryAfter(ctx, chat.DefaultRoom, 0, 10)
			return err
		}},
		{"Ping", func(ctx context.Context) error { return s.Ping(ctx) }},
	}
	for _, c := range calls {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		start := time.Now()
		err := c.call(ctx)
		cancel()
		if c.name == "Ping" {
			if err == nil {
				t.Errorf("Ping during the cut = nil, want an error")
			}
			continue
		}
		if !errors.Is(err, chat.ErrUnavailable) {
			t.Errorf("%s during the cut = %v, want an error that is chat.ErrUnavailable", c.name, err)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("%s took %v with a 3s deadline", c.name, d)
		}
	}
}

// TestOutageClassifiesServerErrors: an error PostgreSQL sends for a
// statement it refuses is not an outage.
func TestOutageClassifiesServerErrors(t *testing.T) {
	dsn := newSchema(t)
	s, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.pool.Exec(t.Context(), "SELECT no_such_column FROM rooms")
	if err == nil {
		t.Fatal("a bad statement succeeded")
	}
	if outage(err) {
		t.Errorf("outage(%v) = true, want false", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = s.pool.Exec(ctx, "SELECT pg_sleep(5)")
	if !outage(err) {
		t.Errorf("outage(%v) after a deadline = false, want true", err)
	}
}
