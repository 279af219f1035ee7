package cork

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writes is a net.Conn that records each Write it is given.
type writes struct {
	net.Conn // nil: only Write is called
	mu       sync.Mutex
	got      []string
	err      error // returned by every Write when set
}

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	w.got = append(w.got, string(p))
	return len(p), nil
}

func TestConn(t *testing.T) {
	// A step is a call on the Conn: "cork", "uncork", "drop", or a
	// write of its text.
	tests := []struct {
		name  string
		steps []string
		want  []string // the writes that reached the connection below
	}{
		{"not corked: each write goes through", []string{"a", "b"}, []string{"a", "b"}},
		{"corked: held, then one write", []string{"cork", "a", "b", "c", "uncork"}, []string{"abc"}},
		{"after uncork, straight through again", []string{"cork", "a", "b", "uncork", "c"}, []string{"ab", "c"}},
		{"uncork with nothing held writes nothing", []string{"cork", "uncork", "a"}, []string{"a"}},
		{"drop forgets what was held", []string{"a", "cork", "b", "drop", "c"}, []string{"a", "c"}},
		{"two corks in turn", []string{"cork", "a", "uncork", "cork", "b", "c", "uncork"}, []string{"a", "bc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &writes{}
			c := New(w)
			for _, s := range tt.steps {
				switch s {
				case "cork":
					c.Cork()
				case "uncork":
					if err := c.Uncork(); err != nil {
						t.Fatalf("Uncork: %v", err)
					}
				case "drop":
					c.Drop()
				default:
					if n, err := c.Write([]byte(s)); n != len(s) || err != nil {
						t.Fatalf("Write(%q) = %d, %v; want %d, nil", s, n, err, len(s))
					}
				}
			}
			if diff := cmp.Diff(tt.want, w.got); diff != "" {
				t.Errorf("writes below (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUncorkError: the error of the one write comes from Uncork, and the
// connection is no longer corked after it.
func TestUncorkError(t *testing.T) {
	broken := errors.New("broken pipe")
	w := &writes{}
	c := New(w)
	c.Cork()
	if _, err := c.Write([]byte("held")); err != nil {
		t.Fatalf("Write while corked: %v", err)
	}
	w.err = broken
	if err := c.Uncork(); !errors.Is(err, broken) {
		t.Fatalf("Uncork = %v, want %v", err, broken)
	}
	if _, err := c.Write([]byte("after")); !errors.Is(err, broken) {
		t.Errorf("Write after Uncork = %v, want %v (straight through)", err, broken)
	}
}

// TestConcurrentWrites: writes from several goroutines while corked are
// all held, whole, and sent in one write.
func TestConcurrentWrites(t *testing.T) {
	w := &writes{}
	c := New(w)
	c.Cork()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Write([]byte("0123456789"))
			}
		})
	}
	wg.Wait()
	if err := c.Uncork(); err != nil {
		t.Fatal(err)
	}
	if len(w.got) != 1 || len(w.got[0]) != 8*100*10 {
		t.Fatalf("got %d writes (first %d bytes), want 1 of %d bytes", len(w.got), len(w.got[0]), 8*100*10)
	}
}

// TestDial: Dial wraps what base dials, and tells dialed; a failed dial
// is returned as is.
func TestDial(t *testing.T) {
	refused := errors.New("refused")
	below := &writes{}
	var told *Conn
	dial := Dial(func(_ context.Context, network, addr string) (net.Conn, error) {
		if addr == "bad:1" {
			return nil, refused
		}
		return below, nil
	}, func(c *Conn) { told = c })
	nc, err := dial(t.Context(), "tcp", "good:1")
	if err != nil {
		t.Fatal(err)
	}
	c, ok := nc.(*Conn)
	if !ok || c.Conn != below || told != c {
		t.Fatalf("Dial returned %T (told %p), want the *Conn over the dialed connection", nc, told)
	}
	if _, err := dial(t.Context(), "tcp", "bad:1"); !errors.Is(err, refused) {
		t.Errorf("failed dial = %v, want %v", err, refused)
	}
}
