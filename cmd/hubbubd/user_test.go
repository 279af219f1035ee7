package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubbub-chat/hubbub/internal/auth"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
)

func TestUserCommands(t *testing.T) {
	dir := t.TempDir()
	noenv := func(string) string { return "" }
	tests := []struct {
		name    string
		args    []string
		stdin   string
		wantErr string
		wantOut string
	}{
		{"list empty", []string{"list"}, "", "", "no accounts yet"},
		{"add admin", []string{"add", "--admin", "Alice"}, "first password\n", "", "created administrator alice"},
		{"add again", []string{"add", "alice"}, "first password\n", "exists", ""},
		// The name is checked before the password is read: with no
		// password on stdin, the answer is still that alice exists.
		{"add again without password", []string{"add", "alice"}, "", "user alice exists", ""},
		{"add user", []string{"add", "bob"}, "bob's password\n", "", "created user bob"},
		{"short password", []string{"add", "carol"}, "short\n", "at least 8", ""},
		{"no password", []string{"add", "carol"}, "", "no line", ""},
		{"bad name", []string{"add", "b!"}, "first password\n", "user names", ""},
		{"passwd", []string{"passwd", "alice"}, "second password\n", "", "password of alice changed"},
		{"disable", []string{"disable", "alice"}, "", "", "disabled alice"},
		{"unknown user", []string{"disable", "zed"}, "", "no user zed", ""},
		{"list", []string{"list"}, "", "", "alice  administrator  disabled"},
		{"list with name", []string{"list", "alice"}, "", "takes no NAME", ""},
		{"unknown command", []string{"frob", "alice"}, "", "unknown command", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"--data", dir}, tt.args...)
			err := runUser(t.Context(), args, noenv, strings.NewReader(tt.stdin), &out, &errOut)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want it to contain %q", out.String(), tt.wantOut)
			}
		})
	}
	store, err := sqlitestore.Open(filepath.Join(dir, "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	u, err := store.User(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !u.Admin || !u.Disabled {
		t.Errorf("alice admin=%v disabled=%v, want both", u.Admin, u.Disabled)
	}
	ok, err := auth.NewHasher(1).VerifyPassword(t.Context(), u.PasswordHash, "second password")
	if err != nil || !ok {
		t.Errorf("the changed password does not verify: %v %v", ok, err)
	}
}
