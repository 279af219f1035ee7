package main

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// startMain runs hubbubd in-process with args and returns its address.
func startMain(t *testing.T, args ...string) string {
	t.Helper()
	addr, _ := startNode(t, args...)
	return addr
}

// startNode runs hubbubd in-process with args; it returns the address and
// a function that shuts the node down (as SIGTERM would) and waits. The
// node is shut down at the end of the test if stop was not called.
func startNode(t *testing.T, args ...string) (addr string, stop func()) {
	t.Helper()
	return startNodeLogging(t, io.Discard, args...)
}

// startNodeLogging is startNode with the node's log written to stderr.
func startNodeLogging(t *testing.T, stderr io.Writer, args ...string) (addr string, stop func()) {
	t.Helper()
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, stderr
	args = append([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--drain-grace", "0s", "--drain-window", "0s"}, args...)
	if err := m.ParseFlags(args, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	m.Ready = ready
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- m.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-errc; err != nil {
				t.Errorf("node stopped with %v", err)
			}
		})
	}
	t.Cleanup(stop)
	select {
	case addr = <-ready:
		return addr, stop
	case err := <-errc:
		once.Do(func() {}) // Run has returned: nothing left to stop
		t.Fatalf("Run: %v", err)
	}
	return "", stop
}

// TestSlowHandshakeIsCut: a client that sends its request headers slowly
// cannot hold a connection past --read-header-timeout, and an oversized
// header block is refused.
func TestSlowHandshakeIsCut(t *testing.T) {
	addr := startMain(t, "--read-header-timeout", "300ms", "--max-header-bytes", "4096")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\n") // and never the end
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(c)
	if err != nil {
		t.Fatalf("read: %v (the server did not close the slow connection)", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("closed after %v, want about 300ms", d)
	}

	big, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	io.WriteString(big, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: "+strings.Repeat("a", 64<<10)+"\r\n\r\n")
	big.SetReadDeadline(time.Now().Add(5 * time.Second))
	reply, _ := io.ReadAll(big)
	if !strings.HasPrefix(string(reply), "HTTP/1.1 431") {
		t.Errorf("oversized headers: got %.40q, want HTTP 431", reply)
	}
}

// TestListenFailureExitsAtOnce: when hubbubd cannot open one of its
// addresses it says so and exits, without the drain grace that a server
// which served nobody has no reason to wait out. The grace here is an
// hour; the test gives Run 20 s.
func TestListenFailureExitsAtOnce(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, flag := range []string{"--addr", "--debug-addr", "--metrics-addr"} {
		t.Run(flag, func(t *testing.T) {
			m := NewMain()
			m.Stdout, m.Stderr = io.Discard, io.Discard
			args := []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--drain-grace", "1h", "--drain-window", "1h", flag, taken.Addr().String()}
			if err := m.ParseFlags(args, func(string) string { return "" }); err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { errc <- m.Run(context.Background()) }()
			select {
			case err := <-errc:
				if err == nil || !strings.Contains(err.Error(), "address already in use") {
					t.Errorf("Run = %v, want the address in use", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("Run still running 20 s after its listener failed: it waits out the drain grace")
			}
		})
	}
}
