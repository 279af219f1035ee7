//go:build unix

package main

import (
	"context"
	"net"
	"syscall"
	"testing"
)

// TestListenNoKeepAlive: the server's accepted connections carry no TCP
// keep-alive (heartbeats do that job), and a default listener's do, so
// the test can tell the two apart.
func TestListenNoKeepAlive(t *testing.T) {
	tests := []struct {
		name   string
		listen func() (net.Listener, error)
		want   int
	}{
		{"listen", func() (net.Listener, error) { return listen(context.Background(), "127.0.0.1:0") }, 0},
		{"net.Listen, for contrast", func() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := tt.listen()
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			s, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			raw, err := s.(*net.TCPConn).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			var got int
			var optErr error
			if err := raw.Control(func(fd uintptr) {
				got, optErr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
			}); err != nil {
				t.Fatal(err)
			}
			if optErr != nil {
				t.Fatal(optErr)
			}
			if got != tt.want {
				t.Errorf("SO_KEEPALIVE = %d, want %d", got, tt.want)
			}
		})
	}
}
