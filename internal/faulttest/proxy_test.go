package faulttest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// echoServer accepts connections and echoes every line; it stops at the
// end of the test.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

// roundTrip writes line to c and reads a line back within d; ok is false
// if nothing came back in time or the connection ended.
func roundTrip(c net.Conn, r *bufio.Reader, line string, d time.Duration) (string, bool) {
	c.SetDeadline(time.Now().Add(d))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", false
	}
	got, err := r.ReadString('\n')
	if err != nil {
		return "", false
	}
	return strings.TrimSuffix(got, "\n"), true
}

func TestProxyStallHoldsAndRestoreDelivers(t *testing.T) {
	p := NewProxy(t, echoServer(t))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if got, ok := roundTrip(c, r, "one", 5*time.Second); !ok || got != "one" {
		t.Fatalf("before the stall: got %q, %v; want the echo", got, ok)
	}

	p.Stall()
	if got, ok := roundTrip(c, r, "two", 300*time.Millisecond); ok {
		t.Fatalf("during the stall the echo %q came back; want the bytes held", got)
	}
	// A new connection is held too: its bytes go nowhere yet.
	c2, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	r2 := bufio.NewReader(c2)
	if got, ok := roundTrip(c2, r2, "new", 300*time.Millisecond); ok {
		t.Fatalf("a connection made during the stall got %q back; want it held", got)
	}

	p.Restore()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := r.ReadString('\n'); err != nil || got != "two\n" {
		t.Fatalf("after Restore: read %q, %v; want the held bytes delivered", got, err)
	}
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := r2.ReadString('\n'); err != nil || got != "new\n" {
		t.Fatalf("after Restore, the held connection read %q, %v; want its echo", got, err)
	}
}

func TestProxyCutClosesAndRefuses(t *testing.T) {
	p := NewProxy(t, echoServer(t))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if _, ok := roundTrip(c, r, "one", 5*time.Second); !ok {
		t.Fatal("no echo before the cut")
	}

	p.Cut()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("the connection survived the cut")
	}
	c2, err := net.Dial("tcp", p.Addr())
	if err == nil {
		defer c2.Close()
		if got, ok := roundTrip(c2, bufio.NewReader(c2), "new", 2*time.Second); ok {
			t.Fatalf("a connection made during the cut echoed %q; want it refused", got)
		}
	}

	p.Restore()
	c3, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if got, ok := roundTrip(c3, bufio.NewReader(c3), "back", 5*time.Second); !ok || got != "back" {
		t.Fatalf("after Restore: got %q, %v; want the echo", got, ok)
	}
}

// fakeNode is an HTTP server whose /readyz answers 200 or 503 as told,
// and whose other paths name the node.
type fakeNode struct {
	name  string
	ready atomic.Bool
	srv   *httptest.Server
}

func newFakeNode(t *testing.T, name string) *fakeNode {
	n := &fakeNode{name: name}
	n.ready.Store(true)
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" && !n.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, n.name)
	}))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *fakeNode) addr() string { return strings.TrimPrefix(n.srv.URL, "http://") }

// whoServes asks the balancer's frontend which node answers.
func whoServes(t *testing.T, wsURL string) string {
	t.Helper()
	url := "http://" + strings.TrimSuffix(strings.TrimPrefix(wsURL, "ws://"), "/ws") + "/who"
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(url)
	if err != nil {
		return "error: " + err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestBalancerHonoursReadiness(t *testing.T) {
	a, b := newFakeNode(t, "A"), newFakeNode(t, "B")
	lb := NewBalancer(t, []string{a.addr(), b.addr()}, 50*time.Millisecond)
	front := lb.Frontend(t, 0)
	if got := whoServes(t, front); got != "A" {
		t.Fatalf("with both ready, the frontend preferring A reached %q", got)
	}

	a.ready.Store(false)
	deadline := time.Now().Add(5 * time.Second)
	for lb.Ready(0) {
		if time.Now().After(deadline) {
			t.Fatal("the balancer still counts A ready 5s after its /readyz turned 503")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if lb.DownAt(0).IsZero() {
		t.Error("DownAt(0) is zero after A was taken out")
	}
	for range 5 {
		if got := whoServes(t, front); got != "B" {
			t.Fatalf("with A unready, a new connection reached %q; want B", got)
		}
	}

	// A dead backend that still counts as ready is skipped on dial.
	a.ready.Store(true)
	for !lb.Ready(0) {
		time.Sleep(10 * time.Millisecond)
	}
	a.srv.Close()
	if got := whoServes(t, front); got != "B" {
		t.Fatalf("with A dead, a new connection reached %q; want B", got)
	}
}
