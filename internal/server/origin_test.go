package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/protocol"
)

func dialOrigin(t *testing.T, url, origin string) int {
	t.Helper()
	hdr := http.Header{}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	d := websocket.Dialer{Subprotocols: []string{protocol.Subprotocol}}
	ws, resp, err := d.Dial(url, hdr)
	if ws != nil {
		ws.Close()
	}
	if resp == nil {
		t.Fatalf("no response: %v", err)
	}
	return resp.StatusCode
}

// TestOriginScheme: the Origin must match scheme, host and port, not the
// host alone.
func TestOriginScheme(t *testing.T) {
	s := newTestServer(t, nil)
	host := strings.TrimPrefix(s.ts.URL, "http://")
	tests := []struct {
		origin string
		want   int
	}{
		{"http://" + host, http.StatusSwitchingProtocols},
		{"HTTP://" + strings.ToUpper(host), http.StatusSwitchingProtocols},
		{"https://" + host, http.StatusForbidden}, // the server is plain http
		{"ws://" + host, http.StatusForbidden},
		{"file://" + host, http.StatusForbidden},
		{"javascript://" + host, http.StatusForbidden},
		{"http://" + host + "/path", http.StatusForbidden},
		{"http://user@" + host, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			for _, path := range []string{"/ws", "/echo", "/echo/rfc6455"} {
				if got := dialOrigin(t, strings.TrimSuffix(s.wsURL, "/ws")+path, tt.origin); got != tt.want {
					t.Errorf("%s: status = %d, want %d", path, got, tt.want)
				}
			}
		})
	}
}

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestPublicURL: behind a proxy that rewrites Host, the public URL's
// origin is allowed; a refused origin is counted and logged once with
// what was expected; cookies carry Secure and responses HSTS when the
// public URL is https.
func TestPublicURL(t *testing.T) {
	var logs lockedBuffer
	s, _ := newAccountServer(t, func(c *Config) {
		c.PublicURL = "https://chat.example.com"
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	tests := []struct {
		origin string
		want   int
	}{
		{"https://chat.example.com", http.StatusSwitchingProtocols},
		{"https://chat.example.com:443", http.StatusSwitchingProtocols},
		{"http://chat.example.com", http.StatusForbidden},
		{"https://chat.example.com:8443", http.StatusForbidden},
	}
	for _, tt := range tests {
		if got := dialOrigin(t, s.wsURL, tt.origin); got != tt.want {
			t.Errorf("origin %s: status = %d, want %d", tt.origin, got, tt.want)
		}
	}
	if got := counterValue(s.srv.metrics.upgradeRefused); got != 2 {
		t.Errorf("hubbub_upgrades_refused_total = %v, want 2", got)
	}
	out := logs.String()
	if n := strings.Count(out, "origin refused"); n != 1 {
		t.Errorf("logged %d refusals, want 1 (rate-limited):\n%s", n, out)
	}
	if !strings.Contains(out, "origin=http://chat.example.com") || !strings.Contains(out, "https://chat.example.com:443") {
		t.Errorf("log does not say what came and what was expected:\n%s", out)
	}

	resp := s.post(t, "/api/register", http.Header{"Origin": {"https://chat.example.com"}},
		credentials{Username: "alice", Password: "correct horse"}, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	var secure bool
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			secure = c.Secure
		}
	}
	if !secure {
		t.Errorf("session cookie without Secure behind an https public URL")
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got == "" {
		t.Errorf("no Strict-Transport-Security behind an https public URL")
	}
}

// TestNoPublicURLNoHSTS: a plain-http server sets neither.
func TestNoPublicURLNoHSTS(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	resp := s.post(t, "/api/register", nil, credentials{Username: "alice", Password: "correct horse"}, nil)
	for _, c := range resp.Cookies() {
		if c.Secure {
			t.Errorf("cookie %s has Secure over plain http", c.Name)
		}
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("Strict-Transport-Security = %q over plain http", got)
	}
}

// TestEchoNeedsSessionWithoutGuests: /echo is no way around NoGuests.
func TestEchoNeedsSessionWithoutGuests(t *testing.T) {
	s, _ := newAccountServer(t, func(c *Config) { c.NoGuests = true })
	tok := s.register(t, "alice")
	for _, tt := range []struct {
		name, path string
		hdr        http.Header
		want       int
	}{
		{"no session", "/echo", nil, http.StatusUnauthorized},
		{"session", "/echo", bearer(tok), http.StatusSwitchingProtocols},
		{"rfc6455, no session", "/echo/rfc6455", nil, http.StatusUnauthorized},
		{"rfc6455, session", "/echo/rfc6455", bearer(tok), http.StatusSwitchingProtocols},
	} {
		echoURL := strings.TrimSuffix(s.wsURL, "/ws") + tt.path
		ws, resp, err := websocket.DefaultDialer.Dial(echoURL, tt.hdr)
		if ws != nil {
			ws.Close()
		}
		if resp == nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status = %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
}

// TestSessionSaysOriginRefused: GET /api/session with X-Hubbub-Origin
// tells a page whose origin the WebSocket would refuse, so that it can say
// so instead of retrying.
func TestSessionSaysOriginRefused(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	for _, tt := range []struct {
		origin  string
		refused bool
	}{
		{s.ts.URL, false},
		{"https://chat.example.com", true},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.ts.URL+"/api/session", nil)
		req.Header.Set("X-Hubbub-Origin", tt.origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var reply sessionReply
		json.NewDecoder(resp.Body).Decode(&reply)
		resp.Body.Close()
		if got := reply.OriginRefused != ""; got != tt.refused {
			t.Errorf("origin %s: origin_refused = %q, want refused=%v", tt.origin, reply.OriginRefused, tt.refused)
		}
		if tt.refused && !strings.Contains(reply.OriginRefused, "--public-url "+tt.origin) {
			t.Errorf("reason %q does not name the fix", reply.OriginRefused)
		}
	}
}
