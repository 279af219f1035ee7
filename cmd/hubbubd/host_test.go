package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestListenersRefuseRebinding: both of hubbubd's listeners, the chat's
// and the profiler's (whose /debug/pprof/cmdline shows the command line,
// store password included), answer a name --allowed-host lists, and
// refuse one rebound to the loopback.
func TestListenersRefuseRebinding(t *testing.T) {
	debug := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	addr := startMain(t, "--debug-addr", debug, "--allowed-host", "chat.internal")
	get := func(at, path, host string) int {
		t.Helper()
		req, err := http.NewRequest("GET", "http://"+at+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	port := func(a string) string { return a[strings.LastIndexByte(a, ':'):] }
	tests := []struct {
		name, at, path, host string
		want                 int
	}{
		{"chat, a listed name", addr, "/", "chat.internal" + port(addr), http.StatusOK},
		{"chat, a rebound name", addr, "/", "attacker.example" + port(addr), http.StatusForbidden},
		{"chat, its IP address", addr, "/", addr, http.StatusOK},
		{"profiler, a rebound name", debug, "/debug/pprof/cmdline", "attacker.example" + port(debug), http.StatusForbidden},
		{"profiler, localhost", debug, "/debug/pprof/cmdline", "localhost" + port(debug), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := get(tt.at, tt.path, tt.host); got != tt.want {
				t.Errorf("GET %s as %s = %d, want %d", tt.path, tt.host, got, tt.want)
			}
		})
	}
}
