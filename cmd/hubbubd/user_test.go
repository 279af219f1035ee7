package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hubbub-chat/hubbub/internal/auth"
	"github.com/hubbub-chat/hubbub/internal/pgtest"
)

// TestUserCommands runs the account commands on each store the server
// can use: the SQLite database under --data and, with
// HUBBUB_TEST_POSTGRES, a PostgreSQL database given by --store or by
// HUBBUB_STORE (a command that quietly used a SQLite file beside it would
// leave the cluster without its administrator).
func TestUserCommands(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		testUserCommands(t, []string{"--data", dir}, func(string) string { return "" }, "", dir)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("HUBBUB_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("HUBBUB_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable); skipping the PostgreSQL store")
		}
		dsn = pgtest.Schema(t, dsn, "hubbubd_user_")
		dir := t.TempDir()
		testUserCommands(t, []string{"--data", dir, "--store", dsn}, func(string) string { return "" }, dsn, dir)
	})
	t.Run("postgres from the environment", func(t *testing.T) {
		dsn := os.Getenv("HUBBUB_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("HUBBUB_TEST_POSTGRES is not set; skipping the PostgreSQL store")
		}
		dsn = pgtest.Schema(t, dsn, "hubbubd_user_")
		dir := t.TempDir()
		env := map[string]string{"HUBBUB_STORE": dsn, "HUBBUB_DATA": dir}
		testUserCommands(t, nil, func(k string) string { return env[k] }, dsn, dir)
	})
}

// testUserCommands runs the commands with flags before each, getenv for
// the environment, and checks the accounts they leave in the store of
// --store spec and --data dir. With a PostgreSQL store, no SQLite file
// may appear under dir.
func testUserCommands(t *testing.T, flags []string, getenv func(string) string, spec, dir string) {
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
		// Said before anything about the name (none, or a bad one).
		{"unknown command without a name", []string{"frob"}, "", `unknown command "frob"`, ""},
		{"unknown command with a bad name", []string{"frob", "x"}, "", `unknown command "frob"`, ""},
		{"add carol", []string{"add", "carol"}, "carol's password\n", "", "created user carol"},
		// Without a terminal, delete asks for --yes and deletes nothing.
		{"delete unconfirmed", []string{"delete", "carol"}, "carol\n", "confirm with --yes", ""},
		{"delete unknown", []string{"delete", "--yes", "zed"}, "", "no user zed", ""},
		{"delete", []string{"delete", "--yes", "carol"}, "", "", "deleted carol: left 0 room(s)"},
		{"delete again", []string{"delete", "carol", "--yes"}, "", "no user carol", ""},
		{"add deleted", []string{"add", "carol"}, "new password\n", "user carol exists", ""},
		{"passwd deleted", []string{"passwd", "carol"}, "new password\n", "no user carol", ""},
		{"list deleted", []string{"list"}, "", "", "carol  user           deleted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append(slices.Clone(flags), tt.args...)
			err := runUser(t.Context(), args, getenv, strings.NewReader(tt.stdin), &out, &errOut)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Errorf("stdout = %q, want it to contain %q", out.String(), tt.wantOut)
			}
		})
	}
	store, _, err := openStore(t.Context(), spec, dir) // as the server opens it
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
	if _, err := os.Stat(filepath.Join(dir, "hubbub.db")); spec != "" && !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("with --store %s, a SQLite file was made under --data (stat: %v)", spec, err)
	}
}
