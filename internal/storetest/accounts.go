package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// accountsStore is what RunAccounts tests.
type accountsStore interface {
	chat.Store
	chat.Accounts
}

// startAccounts is start for RunAccounts.
func startAccounts(t *testing.T, f Factory) accountsStore {
	t.Helper()
	return asAccounts(t, start(t, f))
}

// asAccounts fails the test unless s implements chat.Accounts.
func asAccounts(t *testing.T, s chat.Store) accountsStore {
	t.Helper()
	a, ok := s.(accountsStore)
	if !ok {
		t.Fatalf("%T does not implement chat.Accounts", s)
	}
	return a
}

// t0 is the clock of the Accounts and Access tests. Unlike Room.CreatedAt
// and Message.Time, the times these contracts store are the caller's.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// inZone is a time zone that is not UTC, to check that stores keep instants
// rather than wall clocks.
var inZone = time.FixedZone("UTC+2", 2*60*60)

// ms returns tm as a store keeps it: in milliseconds.
func ms(tm time.Time) time.Time { return tm.Truncate(time.Millisecond) }

// tokenHash returns the hex SHA-256 of token, as the server computes a
// Session.TokenHash.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// mustCreateUser creates users with a password hash of their name.
func mustCreateUser(t *testing.T, s chat.Accounts, names ...string) {
	t.Helper()
	for _, name := range names {
		if err := s.CreateUser(t.Context(), chat.User{Name: name, PasswordHash: "h-" + name, CreatedAt: t0}); err != nil {
			t.Fatalf("CreateUser(%q): %v", name, err)
		}
	}
}

// storedUser returns u as a store returns it.
func storedUser(u chat.User) chat.User {
	u.CreatedAt = ms(u.CreatedAt)
	return u
}

func testUsers(t *testing.T, f Factory) {
	s := startAccounts(t, f)
	ctx := t.Context()

	create := []chat.User{
		{Name: "alice", PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", CreatedAt: t0},
		{Name: "root", PasswordHash: "h-root", Admin: true, CreatedAt: t0.Add(time.Hour)},
		{Name: "mallory", PasswordHash: "h-mallory", Disabled: true, CreatedAt: t0.In(inZone)},
		{Name: "bob", PasswordHash: "h-bob", CreatedAt: t0.Add(1234567 * time.Nanosecond)},
		// Stored as given: the server lower-cases names, the store does not.
		{Name: "Eve", PasswordHash: "h-Eve", CreatedAt: t0},
		{Name: "eve", PasswordHash: "h-eve", CreatedAt: t0},
	}
	for _, u := range create {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser(%q): %v", u.Name, err)
		}
	}

	t.Run("Exists", func(t *testing.T) {
		for _, u := range []chat.User{create[0], create[4]} {
			again := chat.User{Name: u.Name, PasswordHash: "other", Admin: true, CreatedAt: t0.Add(time.Minute)}
			if err := s.CreateUser(ctx, again); !errors.Is(err, chat.ErrUserExists) {
				t.Errorf("CreateUser(%q) again = %v, want %v", u.Name, err, chat.ErrUserExists)
			}
			got, err := s.User(ctx, u.Name)
			if err != nil {
				t.Fatalf("User(%q): %v", u.Name, err)
			}
			if diff := cmp.Diff(storedUser(u), got); diff != "" {
				t.Errorf("User(%q) after a failed CreateUser mismatch (-want +got):\n%s", u.Name, diff)
			}
		}
	})

	tests := []struct {
		name    string
		want    chat.User
		wantErr error
	}{
		{name: "alice", want: storedUser(create[0])},
		{name: "root", want: storedUser(create[1])},
		{name: "mallory", want: storedUser(create[2])},
		{name: "bob", want: chat.User{Name: "bob", PasswordHash: "h-bob", CreatedAt: t0.Add(time.Millisecond)}},
		{name: "Eve", want: storedUser(create[4])},
		{name: "eve", want: storedUser(create[5])},
		{name: "Alice", wantErr: chat.ErrNoSuchUser},
		{name: "EVE", wantErr: chat.ErrNoSuchUser},
		{name: "alice ", wantErr: chat.ErrNoSuchUser},
		{name: "ali", wantErr: chat.ErrNoSuchUser},
		{name: "", wantErr: chat.ErrNoSuchUser},
		{name: "nobody", wantErr: chat.ErrNoSuchUser},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("User(%q)", tt.name), func(t *testing.T) {
			got, err := s.User(ctx, tt.name)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func testAnyUser(t *testing.T, f Factory) {
	s := startAccounts(t, f)
	mustCreateUser(t, s, "alice", "bob", "carol")
	if err := s.UpdateUser(t.Context(), chat.User{Name: "carol", PasswordHash: "h-carol", Disabled: true}); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	tests := []struct {
		names []string
		want  bool
	}{
		{nil, false},
		{[]string{}, false},
		{[]string{"alice"}, true},
		{[]string{"dave"}, false},
		{[]string{"dave", "bob"}, true},
		{[]string{"bob", "dave"}, true},
		{[]string{"dave", "erin"}, false},
		{[]string{"dave", "erin", "frank"}, false},
		// Past the first pair, for a store that asks in pairs.
		{[]string{"dave", "erin", "alice"}, true},
		{[]string{"dave", "erin", "frank", "bob"}, true},
		// A disabled account still has its name.
		{[]string{"carol"}, true},
		// Names are compared as stored: the caller lower-cases.
		{[]string{"Alice", "ALICE"}, false},
		{[]string{"alic", "alice2", "lice"}, false},
	}
	for _, tt := range tests {
		got, err := s.AnyUser(t.Context(), tt.names)
		if err != nil {
			t.Fatalf("AnyUser(%q): %v", tt.names, err)
		}
		if got != tt.want {
			t.Errorf("AnyUser(%q) = %v, want %v", tt.names, got, tt.want)
		}
	}
}

func testUpdateUser(t *testing.T, f Factory) {
	s := startAccounts(t, f)
	ctx := t.Context()
	alice := chat.User{Name: "alice", PasswordHash: "h1", CreatedAt: t0}
	bob := chat.User{Name: "bob", PasswordHash: "h-bob", Admin: true, CreatedAt: t0}
	for _, u := range []chat.User{alice, bob} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser(%q): %v", u.Name, err)
		}
	}

	// The steps run in order, each on what the ones before left.
	steps := []struct {
		name    string
		update  chat.User
		wantErr error
	}{
		{"password", chat.User{Name: "alice", PasswordHash: "h2"}, nil},
		{"admin", chat.User{Name: "alice", PasswordHash: "h2", Admin: true}, nil},
		{"disabled", chat.User{Name: "alice", PasswordHash: "h2", Admin: true, Disabled: true}, nil},
		{"same values", chat.User{Name: "alice", PasswordHash: "h2", Admin: true, Disabled: true}, nil},
		// UpdateUser stores three fields, and CreatedAt is not one of them.
		{"created at is kept", chat.User{Name: "alice", PasswordHash: "h3", CreatedAt: t0.Add(time.Hour)}, nil},
		{"no such user", chat.User{Name: "nobody", PasswordHash: "x"}, chat.ErrNoSuchUser},
		{"name is exact", chat.User{Name: "Alice", PasswordHash: "x", Admin: true}, chat.ErrNoSuchUser},
		{"empty name", chat.User{Name: "", PasswordHash: "x"}, chat.ErrNoSuchUser},
	}
	want := alice
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := s.UpdateUser(ctx, st.update)
			if !errors.Is(err, st.wantErr) {
				t.Fatalf("UpdateUser(%+v) = %v, want %v", st.update, err, st.wantErr)
			}
			if err == nil {
				want.PasswordHash, want.Admin, want.Disabled = st.update.PasswordHash, st.update.Admin, st.update.Disabled
			}
			for _, w := range []chat.User{want, bob} {
				got, err := s.User(ctx, w.Name)
				if err != nil {
					t.Fatalf("User(%q): %v", w.Name, err)
				}
				if diff := cmp.Diff(w, got); diff != "" {
					t.Errorf("User(%q) mismatch (-want +got):\n%s", w.Name, diff)
				}
			}
			if err != nil {
				// A failed update creates no one.
				if _, err := s.User(ctx, st.update.Name); !errors.Is(err, chat.ErrNoSuchUser) {
					t.Errorf("User(%q) after a failed update = %v, want %v", st.update.Name, err, chat.ErrNoSuchUser)
				}
			}
		})
	}
}

// testAdmins: Admins lists the enabled, not deleted accounts with Admin
// set, in byte order, the first limit of them, and follows UpdateUser
// and DeleteUser.
func testAdmins(t *testing.T, f Factory) {
	s := startAccounts(t, f)
	ctx := t.Context()
	for _, u := range []chat.User{
		{Name: "root", Admin: true},
		{Name: "alice", Admin: true},
		{Name: "bob"},
		{Name: "mallory", Admin: true, Disabled: true},
		{Name: "Eve", Admin: true}, // byte order: before "alice"
		{Name: "zed", Admin: true},
		{Name: "carol", Admin: true},
	} {
		u.PasswordHash, u.CreatedAt = "h-"+u.Name, t0
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser(%q): %v", u.Name, err)
		}
	}
	if _, err := s.DeleteUser(ctx, "zed"); err != nil {
		t.Fatalf("DeleteUser(zed): %v", err)
	}
	// The steps run in order, each on what the ones before left.
	steps := []struct {
		name  string
		do    func() error
		limit int
		want  []string
	}{
		{"enabled, not deleted, by bytes", nil, 1000, []string{"Eve", "alice", "carol", "root"}},
		{"limit", nil, 2, []string{"Eve", "alice"}},
		{"limit 1", nil, 1, []string{"Eve"}},
		{"limit 0", nil, 0, []string{}},
		{"limit below 0", nil, -1, []string{}},
		{"unadmin", func() error { return s.UpdateUser(ctx, chat.User{Name: "alice", PasswordHash: "h-alice"}) }, 1000, []string{"Eve", "carol", "root"}},
		{"disabled", func() error {
			return s.UpdateUser(ctx, chat.User{Name: "carol", PasswordHash: "h-carol", Admin: true, Disabled: true})
		}, 1000, []string{"Eve", "root"}},
		{"enabled again", func() error {
			return s.UpdateUser(ctx, chat.User{Name: "mallory", PasswordHash: "h-mallory", Admin: true})
		}, 1000, []string{"Eve", "mallory", "root"}},
		{"admin", func() error { return s.UpdateUser(ctx, chat.User{Name: "bob", PasswordHash: "h-bob", Admin: true}) }, 1000, []string{"Eve", "bob", "mallory", "root"}},
		{"deleted", func() error { _, err := s.DeleteUser(ctx, "root"); return err }, 1000, []string{"Eve", "bob", "mallory"}},
	}
	for _, st := range steps {
		if st.do != nil {
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		got, err := s.Admins(ctx, st.limit)
		if err != nil {
			t.Fatalf("%s: Admins(%d): %v", st.name, st.limit, err)
		}
		if diff := cmp.Diff(st.want, got); diff != "" {
			t.Errorf("%s: Admins(%d) mismatch (-want +got):\n%s", st.name, st.limit, diff)
		}
	}
}

// testConcurrentCreateUser checks that of several concurrent CreateUsers of
// one name exactly one wins, and the stored user is the winner's.
func testConcurrentCreateUser(t *testing.T, f Factory) {
	s := startAccounts(t, f)
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.CreateUser(t.Context(), chat.User{Name: "alice", PasswordHash: fmt.Sprintf("h%d", i), CreatedAt: t0})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("CreateUser #%d and #%d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, chat.ErrUserExists):
			t.Errorf("CreateUser #%d = %v, want nil or %v", i, err, chat.ErrUserExists)
		}
	}
	if winner < 0 {
		t.Fatal("no CreateUser succeeded")
	}
	got, err := s.User(t.Context(), "alice")
	if err != nil {
		t.Fatalf("User: %v", err)
	}
	if want := fmt.Sprintf("h%d", winner); got.PasswordHash != want {
		t.Errorf("PasswordHash = %q, want the winner's %q", got.PasswordHash, want)
	}
}

func testAccountsDurability(t *testing.T, f Factory) {
	open := f(t)
	ctx := t.Context()

	first, closeStore := openOnce(t, open)
	s := asAccounts(t, first)
	mustCreateUser(t, s, "alice", "bob")
	steps := []struct {
		name string
		call func() error
	}{
		{"UpdateUser(alice)", func() error {
			return s.UpdateUser(ctx, chat.User{Name: "alice", PasswordHash: "h2", Admin: true})
		}},
		{"UpdateUser(bob)", func() error {
			return s.UpdateUser(ctx, chat.User{Name: "bob", PasswordHash: "h-bob", Disabled: true})
		}},
		{"CreateSession(a1)", func() error { return s.CreateSession(ctx, newSession("a1", "alice", t0)) }},
		{"CreateSession(a2)", func() error { return s.CreateSession(ctx, newSession("a2", "alice", t0)) }},
		{"CreateSession(b1)", func() error { return s.CreateSession(ctx, newSession("b1", "bob", t0)) }},
		{"TouchSession(a1)", func() error { return s.TouchSession(ctx, tokenHash("a1"), t0.Add(time.Hour)) }},
		{"DeleteSession(a2)", func() error { return s.DeleteSession(ctx, tokenHash("a2")) }},
	}
	for _, st := range steps {
		if err := st.call(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	if err := closeStore(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = asAccounts(t, keepOpen(t, open))
	wantUsers := []chat.User{
		{Name: "alice", PasswordHash: "h2", Admin: true, CreatedAt: t0},
		{Name: "bob", PasswordHash: "h-bob", Disabled: true, CreatedAt: t0},
	}
	for _, want := range wantUsers {
		got, err := s.User(ctx, want.Name)
		if err != nil {
			t.Fatalf("User(%q) after reopen: %v", want.Name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("User(%q) after reopen mismatch (-want +got):\n%s", want.Name, diff)
		}
	}
	a1 := newSession("a1", "alice", t0)
	a1.LastSeen = t0.Add(time.Hour)
	checkSessions(t, s, map[string]*chat.Session{
		tokenHash("a1"): &a1,
		tokenHash("a2"): nil,
		tokenHash("b1"): new(newSession("b1", "bob", t0)),
	})
	// SessionUser: the session and its user in one read, as Session and
	// User give them.
	for _, tc := range []struct {
		token   string
		sess    chat.Session
		user    chat.User
		wantErr error
	}{
		{"a1", a1, wantUsers[0], nil},
		{"b1", newSession("b1", "bob", t0), wantUsers[1], nil},
		{"a2", chat.Session{}, chat.User{}, chat.ErrNoSuchSession},
	} {
		sess, u, err := s.SessionUser(ctx, tokenHash(tc.token))
		if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
			t.Errorf("SessionUser(%s) error = %v, want %v", tc.token, err, tc.wantErr)
			continue
		}
		if diff := cmp.Diff(tc.sess, sess); diff != "" {
			t.Errorf("SessionUser(%s) session mismatch (-want +got):\n%s", tc.token, diff)
		}
		if diff := cmp.Diff(tc.user, u); diff != "" {
			t.Errorf("SessionUser(%s) user mismatch (-want +got):\n%s", tc.token, diff)
		}
	}
	if err := s.CreateUser(ctx, chat.User{Name: "alice"}); !errors.Is(err, chat.ErrUserExists) {
		t.Errorf("CreateUser(alice) after reopen = %v, want %v", err, chat.ErrUserExists)
	}
	got, err := s.DeleteUserSessions(ctx, "alice", "")
	if err != nil {
		t.Fatalf("DeleteUserSessions after reopen: %v", err)
	}
	if diff := cmp.Diff([]string{tokenHash("a1")}, got); diff != "" {
		t.Errorf("DeleteUserSessions after reopen mismatch (-want +got):\n%s", diff)
	}
}

func testAccountsClosed(t *testing.T, f Factory) {
	first, closeStore := openOnce(t, f(t))
	s := asAccounts(t, first)
	mustCreateUser(t, s, "alice")
	if err := s.CreateSession(t.Context(), newSession("a1", "alice", t0)); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if err := closeStore(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	h := tokenHash("a1")
	calls := []struct {
		name string
		call func() error
	}{
		{"CreateUser", func() error { return s.CreateUser(ctx, chat.User{Name: "bob", CreatedAt: t0}) }},
		{"User", func() error { _, err := s.User(ctx, "alice"); return err }},
		{"AnyUser", func() error { _, err := s.AnyUser(ctx, []string{"alice"}); return err }},
		{"UpdateUser", func() error { return s.UpdateUser(ctx, chat.User{Name: "alice"}) }},
		{"Admins", func() error { _, err := s.Admins(ctx, 10); return err }},
		{"CreateSession", func() error { return s.CreateSession(ctx, newSession("a2", "alice", t0)) }},
		{"Session", func() error { _, err := s.Session(ctx, h); return err }},
		{"SessionUser", func() error { _, _, err := s.SessionUser(ctx, h); return err }},
		{"TouchSession", func() error { return s.TouchSession(ctx, h, t0) }},
		{"DeleteSession", func() error { return s.DeleteSession(ctx, h) }},
		{"DeleteUserSessions", func() error { _, err := s.DeleteUserSessions(ctx, "alice", ""); return err }},
		{"DeleteUser", func() error { _, err := s.DeleteUser(ctx, "alice"); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, chat.ErrClosed) {
			t.Errorf("%s after Close = %v, want %v", c.name, err, chat.ErrClosed)
		}
	}
}
