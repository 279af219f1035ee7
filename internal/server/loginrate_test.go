package server

import (
	"net/http"
	"testing"
)

// TestPasswordChecksPerIP: every password check costs an argon2id hash
// (19 MiB, tens of milliseconds, HashConcurrency at once), right password
// or wrong. A client that logs in to its own account in a loop (the
// failure limits never see it) queued everyone else's logins behind its
// hashes and left a session row per login. Password checks, login and
// password change, right or wrong, are limited per address.
func TestPasswordChecksPerIP(t *testing.T) {
	s, _ := newAccountServer(t, func(c *Config) {
		c.TrustedProxies = []string{"127.0.0.1"}
		c.LoginIPRate = 6 // per minute, with a burst of as many
	})
	from := func(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }
	tok := s.register(t, "flooder")
	s.register(t, "honest")
	good := credentials{Username: "flooder", Password: "correct horse", Bearer: true}

	var codes []int
	for range 6 {
		codes = append(codes, s.post(t, "/api/login", from("198.51.100.7"), good, nil).StatusCode)
	}
	for i, code := range codes {
		if code != http.StatusOK {
			t.Errorf("login %d within the burst: status %d, want 200", i+1, code)
		}
	}
	for _, tt := range []struct {
		name string
		path string
		hdr  http.Header
		body any
		want int
	}{
		{"login past the burst", "/api/login", from("198.51.100.7"), good, http.StatusTooManyRequests},
		{"password change past the burst", "/api/password",
			http.Header{"X-Forwarded-For": {"198.51.100.7"}, "Authorization": {"Bearer " + tok}},
			map[string]string{"old": "correct horse", "new": "battery staple"}, http.StatusTooManyRequests},
		{"another address", "/api/login", from("198.51.100.8"),
			credentials{Username: "honest", Password: "correct horse"}, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.post(t, tt.path, tt.hdr, tt.body, nil)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
		})
	}
}
