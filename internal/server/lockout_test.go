package server

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"
)

// fromAddr returns an HTTP client whose connections come from the
// loopback address ip (all of 127.0.0.0/8 is loopback on Linux), so that
// a test can be two people at two addresses.
func fromAddr(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
}

func postFrom(t *testing.T, hc *http.Client, url string, hdr http.Header, body any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestLockoutSparesTheOwner: a stranger's wrong passwords for carol slow
// the stranger, not carol at an address of her own, for login and for
// /api/password.
func TestLockoutSparesTheOwner(t *testing.T) {
	s, _ := newAccountServer(t, func(c *Config) { c.LoginFreeFails = 2 })
	tok := s.register(t, "carol")
	attacker, owner := fromAddr("127.0.0.2"), fromAddr("127.0.0.3")
	var got []int
	for range 5 {
		got = append(got, postFrom(t, attacker, s.ts.URL+"/api/login", nil, credentials{Username: "carol", Password: "wrong password"}))
	}
	if got[4] != http.StatusTooManyRequests {
		t.Errorf("attacker's statuses = %v, want to end in 429", got)
	}
	// The attacker is slowed, even with the right password.
	if code := postFrom(t, attacker, s.ts.URL+"/api/login", nil, credentials{Username: "carol", Password: "correct horse"}); code != http.StatusTooManyRequests {
		t.Errorf("attacker during backoff: %d, want 429", code)
	}
	if code := postFrom(t, owner, s.ts.URL+"/api/login", nil, credentials{Username: "carol", Password: "correct horse"}); code != http.StatusOK {
		t.Errorf("owner's login from a clean address: %d, want 200", code)
	}
	if code := postFrom(t, owner, s.ts.URL+"/api/password", bearer(tok), map[string]string{"old": "correct horse", "new": "battery staple"}); code != http.StatusNoContent {
		t.Errorf("owner's password change from a clean address: %d, want 204", code)
	}
}

// TestLockoutDistributedGuesser: failures spread over many addresses slow
// every address that failed on the account once the account has had
// LoginAccountFails.
func TestLockoutDistributedGuesser(t *testing.T) {
	s, _ := newAccountServer(t, func(c *Config) { c.LoginFreeFails = 100; c.LoginAccountFails = 4 })
	s.register(t, "carol")
	for i := range 4 {
		hc := fromAddr("127.0.1." + string(rune('1'+i)))
		postFrom(t, hc, s.ts.URL+"/api/login", nil, credentials{Username: "carol", Password: "wrong password"})
	}
	if code := postFrom(t, fromAddr("127.0.1.1"), s.ts.URL+"/api/login", nil, credentials{Username: "carol", Password: "wrong again"}); code != http.StatusTooManyRequests {
		t.Errorf("a guessing address after the account's free failures: %d, want 429", code)
	}
	if code := postFrom(t, fromAddr("127.0.1.9"), s.ts.URL+"/api/login", nil, credentials{Username: "carol", Password: "correct horse"}); code != http.StatusOK {
		t.Errorf("a clean address: %d, want 200", code)
	}
}
