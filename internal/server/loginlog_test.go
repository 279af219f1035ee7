package server

import (
	"log/slog"
	"strings"
	"testing"
)

// TestLoginLogKeepsTypedNames: a failed login logs the account's name only
// when the account exists. What was typed as a name that belongs to no
// account (often a password typed into the wrong field) never reaches the
// log, at any level; nor does any password.
func TestLoginLogKeepsTypedNames(t *testing.T) {
	var logs lockedBuffer
	s, _ := newAccountServer(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	s.register(t, "alice")
	tests := []struct {
		name, password string
		logged         []string // must be in the log
	}{
		{"alice", "wrong password", []string{"user=alice"}},
		{"hunter2hunter2", "whatever12", []string{"no such account"}},
		{"correct horse battery", "x12345678", []string{"no such account"}},
	}
	for _, tt := range tests {
		s.post(t, "/api/login", nil, credentials{Username: tt.name, Password: tt.password}, nil).Body.Close()
		got := logs.String()
		for _, want := range tt.logged {
			if !strings.Contains(got, want) {
				t.Errorf("after a failed login as %q the log lacks %q:\n%s", tt.name, want, got)
			}
		}
		if tt.name != "alice" && strings.Contains(strings.ToLower(got), strings.ToLower(tt.name)) {
			t.Errorf("the log holds %q, typed as a name of no account:\n%s", tt.name, got)
		}
		if strings.Contains(got, tt.password) {
			t.Errorf("the log holds the password %q:\n%s", tt.password, got)
		}
	}
}
