package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestListenersRefuseRebinding: hubbubd's listeners, the chat's, the
// profiler's (whose /debug/pprof/cmdline shows the command line, store
// password included) and the metrics', answer a name --allowed-host lists,
// and refuse one rebound to the loopback; but the health and metrics
// endpoints answer whatever name a balancer or scraper uses, on every
// listener (docs/operations.md, docs/protocol.md).
func TestListenersRefuseRebinding(t *testing.T) {
	debug := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	metrics := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	addr := startMain(t, "--debug-addr", debug, "--metrics-addr", metrics, "--allowed-host", "chat.internal")
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
		{"chat, health by a balancer's name", addr, "/readyz", "node1.internal" + port(addr), http.StatusOK},
		{"metrics, a scraper's name", metrics, "/metrics", "node1.internal" + port(metrics), http.StatusOK},
		{"metrics, a listed name", metrics, "/metrics", "chat.internal" + port(metrics), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := get(tt.at, tt.path, tt.host); got != tt.want {
				t.Errorf("GET %s as %s = %d, want %d", tt.path, tt.host, got, tt.want)
			}
		})
	}
}

// TestMetricsAddr: --metrics-addr moves /metrics off the chat's listener
// onto a private one, alone or shared with --debug-addr; without it the
// chat's listener serves it.
func TestMetricsAddr(t *testing.T) {
	get := func(t *testing.T, at, path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + at + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const series = "hubbub_connections "
	type check struct {
		listener string // "chat", "metrics" or "debug"
		path     string
		want     int
	}
	tests := []struct {
		name   string
		args   func(metrics, debug string) []string
		checks []check
	}{
		{"default", func(_, _ string) []string { return nil }, []check{
			{"chat", "/metrics", http.StatusOK},
		}},
		{"a listener of its own", func(metrics, _ string) []string { return []string{"--metrics-addr", metrics} }, []check{
			{"chat", "/metrics", http.StatusNotFound},
			{"metrics", "/metrics", http.StatusOK},
			{"metrics", "/debug/pprof/cmdline", http.StatusNotFound},
			{"chat", "/healthz", http.StatusOK},
		}},
		{"with the profiler", func(_, debug string) []string { return []string{"--metrics-addr", debug, "--debug-addr", debug} }, []check{
			{"chat", "/metrics", http.StatusNotFound},
			{"debug", "/metrics", http.StatusOK},
			{"debug", "/debug/pprof/cmdline", http.StatusOK},
		}},
		{"apart from the profiler", func(metrics, debug string) []string {
			return []string{"--metrics-addr", metrics, "--debug-addr", debug}
		}, []check{
			{"chat", "/metrics", http.StatusNotFound},
			{"metrics", "/metrics", http.StatusOK},
			{"debug", "/metrics", http.StatusNotFound},
			{"debug", "/debug/pprof/cmdline", http.StatusOK},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metrics := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			debug := fmt.Sprintf("127.0.0.1:%d", freePort(t))
			addrs := map[string]string{"metrics": metrics, "debug": debug}
			addrs["chat"] = startMain(t, tt.args(metrics, debug)...)
			for _, c := range tt.checks {
				status, body := get(t, addrs[c.listener], c.path)
				if status != c.want {
					t.Errorf("GET %s on the %s listener = %d, want %d", c.path, c.listener, status, c.want)
				}
				if c.path == "/metrics" && status == http.StatusOK && !strings.Contains(body, series) {
					t.Errorf("GET /metrics on the %s listener lacks %q", c.listener, series)
				}
			}
		})
	}
}
