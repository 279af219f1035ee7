package sqlitestore

import (
	"database/sql"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// addUserElsewhere adds an account to the file at path through a
// connection of its own, as another process (hubbubd user add) would.
func addUserElsewhere(t *testing.T, path, name string) {
	t.Helper()
	other, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Exec(`INSERT INTO users (name, password_hash, created_at) VALUES (?, 'h', 0)`, name); err != nil {
		t.Fatalf("adding %s from another connection: %v", name, err)
	}
}

// TestAnyUserFromCopy: AnyUser answers from the store's copy of the
// account names, which CreateUser keeps at once and refreshNames brings up
// to date with accounts another connection added; without a copy it reads
// the table.
func TestAnyUserFromCopy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubbub.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if err := s.CreateUser(ctx, chat.User{Name: "alice", PasswordHash: "h", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	addUserElsewhere(t, path, "bob")

	steps := []struct {
		name string
		do   func()
		want map[string]bool
	}{
		{"created here: at once; added elsewhere: not yet", func() {}, map[string]bool{"alice": true, "bob": false, "carol": false}},
		{"after a refresh", func() { s.refreshNames(ctx) }, map[string]bool{"alice": true, "bob": true, "carol": false}},
		{"another account elsewhere, and a refresh", func() {
			addUserElsewhere(t, path, "carol")
			s.refreshNames(ctx)
		}, map[string]bool{"alice": true, "bob": true, "carol": true, "dave": false}},
		{"without a copy, from the table", func() {
			addUserElsewhere(t, path, "dave")
			s.names.drop()
		}, map[string]bool{"alice": true, "dave": true, "erin": false}},
		{"the copy loaded again", func() { s.refreshNames(ctx) }, map[string]bool{"alice": true, "bob": true, "carol": true, "dave": true, "erin": false}},
	}
	for _, st := range steps {
		st.do()
		for name, want := range st.want {
			got, err := s.AnyUser(ctx, []string{"zed", name})
			if err != nil {
				t.Fatalf("%s: AnyUser(%s): %v", st.name, name, err)
			}
			if got != want {
				t.Errorf("%s: AnyUser(%s) = %v, want %v", st.name, name, got, want)
			}
		}
	}
	if s.names.names == nil {
		t.Error("no copy of the account names after a refresh")
	}
}

// TestAnyUserPolls: an account another process adds is seen within
// namesPoll, without a refresh from the caller.
func TestAnyUserPolls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "hubbub.db")
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		addUserElsewhere(t, path, "bob")
		if got, _ := s.AnyUser(t.Context(), []string{"bob"}); got {
			t.Fatal("AnyUser(bob) = true before the poll; want the copy's answer, false")
		}
		time.Sleep(namesPoll)
		synctest.Wait()
		if got, err := s.AnyUser(t.Context(), []string{"bob"}); err != nil || !got {
			t.Errorf("AnyUser(bob) after %v = %v, %v; want true", namesPoll, got, err)
		}
	})
}

// TestAnyUserTooMany: past maxCachedNames accounts the store keeps no copy
// and AnyUser reads the table.
func TestAnyUserTooMany(t *testing.T) {
	defer func(n int64) { maxCachedNames = n }(maxCachedNames)
	maxCachedNames = 2
	path := filepath.Join(t.TempDir(), "hubbub.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, name := range []string{"alice", "bob", "carol"} {
		addUserElsewhere(t, path, name)
	}
	s.refreshNames(t.Context())
	addUserElsewhere(t, path, "dave") // no refresh: only the table knows
	for _, name := range []string{"alice", "carol", "dave"} {
		if got, err := s.AnyUser(t.Context(), []string{name}); err != nil || !got {
			t.Errorf("AnyUser(%s) = %v, %v; want true", name, got, err)
		}
	}
	if got, _ := s.AnyUser(t.Context(), []string{"erin"}); got {
		t.Error("AnyUser(erin) = true, want false")
	}
	if s.names.names != nil || !s.names.tooMany {
		t.Errorf("copy of %d names kept past maxCachedNames = 2 (tooMany %v)", len(s.names.names), s.names.tooMany)
	}
}
