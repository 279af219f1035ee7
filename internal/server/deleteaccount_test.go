package server

import (
	"fmt"
	"net/http"
	"testing"
)

// TestDeleteAccountRefusals: POST /api/account/delete needs a session,
// JSON and an accepted origin, and its wrong passwords count as failed
// logins of the account: past LoginFreeFails they get 429, like login
// and /api/password, and the account is still there afterwards.
func TestDeleteAccountRefusals(t *testing.T) {
	s, store := newAccountServer(t, func(c *Config) { c.LoginFreeFails = 2 })
	tok := s.register(t, "liam")
	wrong := map[string]string{"password": "wrong password"}
	tests := []struct {
		name string
		hdr  http.Header
		body any
		want int
	}{
		{"no session", nil, map[string]string{"password": "correct horse"}, http.StatusUnauthorized},
		{"forged token", bearer("AAAA"), map[string]string{"password": "correct horse"}, http.StatusUnauthorized},
		{"unknown field", bearer(tok), map[string]string{"password": "correct horse", "old": "x"}, http.StatusBadRequest},
		{"foreign origin", http.Header{"Authorization": {"Bearer " + tok}, "Origin": {"https://evil.example"}}, map[string]string{"password": "correct horse"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.post(t, "/api/account/delete", tt.hdr, tt.body, nil).StatusCode; got != tt.want {
				t.Errorf("status = %d, want %d", got, tt.want)
			}
		})
	}
	var codes []int
	for range 3 {
		codes = append(codes, s.post(t, "/api/account/delete", bearer(tok), wrong, nil).StatusCode)
	}
	// Backed off, the right password waits too.
	codes = append(codes, s.post(t, "/api/account/delete", bearer(tok), map[string]string{"password": "correct horse"}, nil).StatusCode)
	if want := []int{401, 401, 429, 429}; fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Errorf("statuses = %v, want %v", codes, want)
	}
	if _, err := store.User(t.Context(), "liam"); err != nil {
		t.Errorf("User(liam) after refused deletions: %v", err)
	}
}
