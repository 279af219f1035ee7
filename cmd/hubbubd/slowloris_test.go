package main

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// startMain runs hubbubd in-process with args and returns its address.
func startMain(t *testing.T, args ...string) string {
	t.Helper()
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	args = append([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir()}, args...)
	if err := m.ParseFlags(args, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	m.Ready = ready
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-errc
	})
	select {
	case addr := <-ready:
		return addr
	case err := <-errc:
		t.Fatalf("Run: %v", err)
	}
	return ""
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
