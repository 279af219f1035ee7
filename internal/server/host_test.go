package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/hubbub-chat/hubbub/protocol"
)

func TestHostPolicy(t *testing.T) {
	machine, err := os.Hostname()
	if err != nil || machine == "" {
		machine = "localhost"
	}
	loopback := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	loopback6 := &net.TCPAddr{IP: net.IPv6loopback, Port: 8080}
	network := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 8080}
	tests := []struct {
		name    string
		allowed []string
		public  string
		local   net.Addr // nil: unknown
		host    string
		want    bool
	}{
		{"loopback: a rebound name", nil, "", loopback, "attacker.example:8080", false},
		{"loopback over IPv6: a rebound name", nil, "", loopback6, "attacker.example:8080", false},
		{"loopback: a rebound name with a trailing dot", nil, "", loopback, "attacker.example.:8080", false},
		{"loopback: a name ending in localhost but not under it", nil, "", loopback, "evillocalhost:8080", false},
		{"loopback: the IP address", nil, "", loopback, "127.0.0.1:8080", true},
		{"loopback: an IPv6 address", nil, "", loopback6, "[::1]:8080", true},
		{"loopback: localhost", nil, "", loopback, "localhost:8080", true},
		{"loopback: LOCALHOST.", nil, "", loopback, "LOCALHOST.:8080", true},
		{"loopback: a name under .localhost", nil, "", loopback, "chat.localhost:8080", true},
		{"loopback: the machine's name", nil, "", loopback, machine + ":8080", true},
		{"loopback: the public URL's host (a proxy on the machine)", nil, "https://chat.example.com", loopback, "chat.example.com", true},
		{"loopback: another name than the public URL's", nil, "https://chat.example.com", loopback, "attacker.example", false},
		{"loopback: a listed name", []string{"Chat.Internal"}, "", loopback, "chat.internal:8080", true},
		{"loopback: no Host (HTTP/1.0)", nil, "", loopback, "", true},
		{"network: any name without a list", nil, "", network, "chat.example.com:8080", true},
		{"network: a name off the list", []string{"chat.internal"}, "", network, "attacker.example:8080", false},
		{"network: a listed name", []string{"chat.internal"}, "", network, "chat.internal:8080", true},
		{"network: an IP address with a list", []string{"chat.internal"}, "", network, "10.0.0.5:8080", true},
		{"unknown local address: any name without a list", nil, "", nil, "attacker.example", true},
		{"unknown local address: a name off the list", []string{"chat.internal"}, "", nil, "attacker.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewHostPolicy(tt.allowed, tt.public)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.Host = tt.host
			if tt.local != nil {
				r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, tt.local))
			}
			if got := p.Allowed(r); got != tt.want {
				t.Errorf("Allowed(Host %q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}

func TestHostPolicyRefusesBadNames(t *testing.T) {
	for _, h := range []string{"", "https://chat.example.com", "chat.example.com:443", "a b"} {
		if _, err := NewHostPolicy([]string{h}, ""); err == nil {
			t.Errorf("NewHostPolicy(%q) = nil error, want one", h)
		}
	}
}

// TestDNSRebindingRefused: a page whose name was rebound to the loopback
// sends its own name as Host and as Origin, which match each other; the
// server, listening on 127.0.0.1, refuses every request that names it so,
// the WebSocket handshake included, and answers its own names.
func TestDNSRebindingRefused(t *testing.T) {
	s := newTestServer(t, nil)
	port := s.ts.URL[strings.LastIndexByte(s.ts.URL, ':')+1:]
	tests := []struct {
		path, host string
		want       int
	}{
		{"/", "attacker.example:" + port, http.StatusForbidden},
		{"/api/session", "attacker.example:" + port, http.StatusForbidden},
		{"/api/inspect/conns", "attacker.example:" + port, http.StatusForbidden},
		{"/", "127.0.0.1:" + port, http.StatusOK},
		{"/", "localhost:" + port, http.StatusOK},
		{"/healthz", "attacker.example:" + port, http.StatusOK},
		{"/metrics", "attacker.example:" + port, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.path+" as "+tt.host, func(t *testing.T) {
			resp, b := s.get(t, tt.path, http.Header{"Host": {tt.host}})
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.want)
			}
			var body apiError
			if resp.StatusCode == http.StatusForbidden && (json.Unmarshal(b, &body) != nil || body.Code != protocol.CodeForbidden || !strings.Contains(body.Reason, "--allowed-host")) {
				t.Errorf("body = %s, want code forbidden and a reason naming --allowed-host", b)
			}
		})
	}

	for _, tt := range []struct {
		host string
		want int
	}{
		{"attacker.example:" + port, http.StatusForbidden},
		{"localhost:" + port, http.StatusSwitchingProtocols},
	} {
		// The page's own origin: the Origin check alone lets it in.
		hdr := http.Header{"Host": {tt.host}, "Origin": {"http://" + tt.host}}
		if got, _ := dialStatus(t, s, hdr); got != tt.want {
			t.Errorf("WebSocket as %s: status = %d, want %d", tt.host, got, tt.want)
		}
	}
}

// FuzzHostPolicy: whatever the Host header, Allowed does not panic, a
// request naming an IP address is allowed, and one refused on the
// loopback names neither an IP address nor a loopback name.
func FuzzHostPolicy(f *testing.F) {
	for _, h := range []string{"attacker.example:8080", "127.0.0.1:8080", "[::1]:8080", "[fe80::1%eth0]:80", "LOCALHOST.", "a.localhost", ":", "[", "]:", "%", ""} {
		f.Add(h)
	}
	p, err := NewHostPolicy(nil, "https://chat.example.com")
	if err != nil {
		f.Fatal(err)
	}
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	f.Fuzz(func(t *testing.T, host string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
		ok := p.Allowed(r)
		name := host
		if h, _, err := net.SplitHostPort(host); err == nil {
			name = h
		}
		if net.ParseIP(name) != nil && !ok {
			t.Errorf("Host %q names an IP address and was refused", host)
		}
		if n := hostName(name); !ok && (n == "localhost" || strings.HasSuffix(n, ".localhost")) {
			t.Errorf("Host %q names the loopback and was refused", host)
		}
	})
}
