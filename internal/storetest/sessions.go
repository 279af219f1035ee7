package storetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// sessionTTL is the absolute lifetime of the sessions the tests create.
const sessionTTL = 30 * 24 * time.Hour

// newSession returns a session of user for token, created and last seen at
// created.
func newSession(token, user string, created time.Time) chat.Session {
	return chat.Session{
		TokenHash: tokenHash(token),
		User:      user,
		CreatedAt: created,
		LastSeen:  created,
		ExpiresAt: created.Add(sessionTTL),
	}
}

// storedSession returns sess as a store returns it.
func storedSession(sess chat.Session) chat.Session {
	sess.CreatedAt, sess.LastSeen, sess.ExpiresAt = ms(sess.CreatedAt), ms(sess.LastSeen), ms(sess.ExpiresAt)
	return sess
}

// mustCreateSessions stores sessions and returns them by token hash as a
// store returns them.
func mustCreateSessions(t *testing.T, s chat.Accounts, sessions ...chat.Session) map[string]*chat.Session {
	t.Helper()
	m := make(map[string]*chat.Session)
	for _, sess := range sessions {
		if err := s.CreateSession(t.Context(), sess); err != nil {
			t.Fatalf("CreateSession(%s of %q): %v", sess.TokenHash, sess.User, err)
		}
		m[sess.TokenHash] = new(storedSession(sess))
	}
	return m
}

// checkSessions reports an error unless Session returns want[h] for each
// token hash h, or ErrNoSuchSession where want[h] is nil.
func checkSessions(t *testing.T, s chat.Accounts, want map[string]*chat.Session) {
	t.Helper()
	for _, h := range slices.Sorted(maps.Keys(want)) {
		got, err := s.Session(t.Context(), h)
		if want[h] == nil {
			if !errors.Is(err, chat.ErrNoSuchSession) {
				t.Errorf("Session(%s) = %+v, %v; want %v", h, got, err, chat.ErrNoSuchSession)
			}
			continue
		}
		if err != nil {
			t.Errorf("Session(%s): %v", h, err)
			continue
		}
		if diff := cmp.Diff(*want[h], got); diff != "" {
			t.Errorf("Session(%s) mismatch (-want +got):\n%s", h, diff)
		}
	}
}

func testSessions(t *testing.T, f Factory) {
	s := startAccounts(t, f)
	ctx := t.Context()
	mustCreateUser(t, s, "alice", "bob")

	create := []chat.Session{
		newSession("a1", "alice", t0),
		{
			TokenHash: tokenHash("a2"),
			User:      "alice",
			CreatedAt: t0.Add(1500 * time.Microsecond),
			LastSeen:  t0.Add(time.Hour + 999999*time.Nanosecond),
			ExpiresAt: t0.Add(sessionTTL + time.Nanosecond),
		},
		newSession("b1", "bob", t0.In(inZone)),
		// Session does not check expiry: callers do.
		newSession("expired", "bob", t0.AddDate(-1, 0, 0)),
		{TokenHash: tokenHash("long"), User: "alice", CreatedAt: t0, LastSeen: t0, ExpiresAt: time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)},
	}
	stored := mustCreateSessions(t, s, create...)

	t.Run("NoSuchUser", func(t *testing.T) {
		for _, user := range []string{"nobody", "Alice", ""} {
			sess := newSession("x-"+user, user, t0)
			if err := s.CreateSession(ctx, sess); !errors.Is(err, chat.ErrNoSuchUser) {
				t.Errorf("CreateSession for user %q = %v, want %v", user, err, chat.ErrNoSuchUser)
			}
			if _, err := s.Session(ctx, sess.TokenHash); !errors.Is(err, chat.ErrNoSuchSession) {
				t.Errorf("Session after a failed CreateSession = %v, want %v", err, chat.ErrNoSuchSession)
			}
		}
	})

	tests := []struct {
		name    string
		hash    string
		want    chat.Session
		wantErr error
	}{
		{"created", tokenHash("a1"), *stored[tokenHash("a1")], nil},
		{"times in milliseconds", tokenHash("a2"), chat.Session{
			TokenHash: tokenHash("a2"),
			User:      "alice",
			CreatedAt: t0.Add(time.Millisecond),
			LastSeen:  t0.Add(time.Hour),
			ExpiresAt: t0.Add(sessionTTL),
		}, nil},
		{"other zone", tokenHash("b1"), *stored[tokenHash("b1")], nil},
		{"expired", tokenHash("expired"), *stored[tokenHash("expired")], nil},
		{"far expiry", tokenHash("long"), *stored[tokenHash("long")], nil},
		{"missing", tokenHash("nope"), chat.Session{}, chat.ErrNoSuchSession},
		{"hash is exact", strings.ToUpper(tokenHash("a1")), chat.Session{}, chat.ErrNoSuchSession},
		{"prefix", tokenHash("a1")[:32], chat.Session{}, chat.ErrNoSuchSession},
		{"empty", "", chat.Session{}, chat.ErrNoSuchSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Session(ctx, tt.hash)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Session(%s) = %v, want %v", tt.hash, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Session(%s) mismatch (-want +got):\n%s", tt.hash, diff)
			}
		})
	}
}

func testTouchSession(t *testing.T, f Factory) {
	s := startAccounts(t, f)
	mustCreateUser(t, s, "alice", "bob")
	want := mustCreateSessions(t, s,
		newSession("a1", "alice", t0),
		newSession("a2", "alice", t0),
		newSession("b1", "bob", t0),
	)
	want[tokenHash("nope")] = nil

	// The steps run in order, each on what the ones before left.
	steps := []struct {
		name     string
		hash     string
		lastSeen time.Time
	}{
		{"later", tokenHash("a1"), t0.Add(time.Minute)},
		{"later again", tokenHash("a1"), t0.Add(time.Hour)},
		{"sub-millisecond", tokenHash("a2"), t0.Add(2*time.Hour + 700*time.Microsecond)},
		{"other zone", tokenHash("b1"), t0.Add(3 * time.Hour).In(inZone)},
		{"missing", tokenHash("nope"), t0.Add(time.Hour)},
		{"empty hash", "", t0.Add(time.Hour)},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := s.TouchSession(t.Context(), st.hash, st.lastSeen); err != nil {
				t.Fatalf("TouchSession(%s): %v", st.hash, err)
			}
			if w := want[st.hash]; w != nil {
				w.LastSeen = ms(st.lastSeen)
			}
			checkSessions(t, s, want)
		})
	}
}

func testDeleteSession(t *testing.T, f Factory) {
	s := startAccounts(t, f)
	mustCreateUser(t, s, "alice", "bob")
	want := mustCreateSessions(t, s,
		newSession("a1", "alice", t0),
		newSession("a2", "alice", t0),
		newSession("b1", "bob", t0),
	)

	steps := []struct {
		name string
		hash string
	}{
		{"one", tokenHash("a1")},
		{"again", tokenHash("a1")},
		{"hash is exact", strings.ToUpper(tokenHash("a2"))},
		{"missing", tokenHash("nope")},
		{"empty hash", ""},
		{"another", tokenHash("b1")},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := s.DeleteSession(t.Context(), st.hash); err != nil {
				t.Fatalf("DeleteSession(%s): %v", st.hash, err)
			}
			if _, ok := want[st.hash]; ok {
				want[st.hash] = nil
			}
			checkSessions(t, s, want)
		})
	}

	t.Run("CreateAfterDelete", func(t *testing.T) {
		again := newSession("a1", "alice", t0.Add(time.Hour))
		if err := s.CreateSession(t.Context(), again); err != nil {
			t.Fatalf("CreateSession of a deleted token hash: %v", err)
		}
		want[again.TokenHash] = new(storedSession(again))
		checkSessions(t, s, want)
	})
}

func testDeleteUserSessions(t *testing.T, f Factory) {
	setup := []chat.Session{
		newSession("a1", "alice", t0),
		newSession("a2", "alice", t0.Add(time.Minute)),
		newSession("a3", "alice", t0.Add(time.Hour)),
		newSession("b1", "bob", t0),
		newSession("b2", "bob", t0),
	}
	tests := []struct {
		name, user, keep string
		want             []string // removed token hashes, in any order
	}{
		{"keep one", "alice", tokenHash("a2"), tokenHashes("a1", "a3")},
		{"keep none", "alice", "", tokenHashes("a1", "a2", "a3")},
		{"keep another user's", "alice", tokenHash("b1"), tokenHashes("a1", "a2", "a3")},
		{"keep a missing one", "alice", tokenHash("nope"), tokenHashes("a1", "a2", "a3")},
		{"keep is exact", "alice", strings.ToUpper(tokenHash("a2")), tokenHashes("a1", "a2", "a3")},
		{"other user", "bob", tokenHash("b2"), tokenHashes("b1")},
		{"no sessions", "carol", "", nil},
		{"no such user", "nobody", "", nil},
		{"user is exact", "Alice", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startAccounts(t, f)
			mustCreateUser(t, s, "alice", "bob", "carol")
			want := mustCreateSessions(t, s, setup...)

			got, err := s.DeleteUserSessions(t.Context(), tt.user, tt.keep)
			if err != nil {
				t.Fatalf("DeleteUserSessions(%q, %q): %v", tt.user, tt.keep, err)
			}
			checkRemoved(t, s, want, tt.want, got)
		})
	}
}

// checkRemoved reports an error unless got lists the token hashes removed
// (in any order), and the store holds the sessions of want but those.
func checkRemoved(t *testing.T, s chat.Accounts, want map[string]*chat.Session, removed, got []string) {
	t.Helper()
	if diff := cmp.Diff(slices.Sorted(slices.Values(removed)), slices.Sorted(slices.Values(got)), equateEmpty); diff != "" {
		t.Errorf("removed token hashes mismatch (-want +got):\n%s", diff)
	}
	for _, h := range removed {
		want[h] = nil
	}
	checkSessions(t, s, want)
}

// tokenHashes returns the token hashes of tokens, in order (an empty
// slice for none).
func tokenHashes(tokens ...string) []string {
	hs := []string{}
	for _, tok := range tokens {
		hs = append(hs, tokenHash(tok))
	}
	return hs
}

func testTrimUserSessions(t *testing.T, f Factory) {
	seen := func(token, user string, created, lastSeen time.Time) chat.Session {
		s := newSession(token, user, created)
		s.LastSeen = lastSeen
		return s
	}
	setup := []chat.Session{
		seen("a1", "alice", t0, t0.Add(3*time.Hour)),                // seen last
		seen("a2", "alice", t0.Add(time.Minute), t0.Add(time.Hour)), // seen second
		seen("a3", "alice", t0.Add(2*time.Minute), t0.Add(time.Minute)),
		seen("a4", "alice", t0.Add(3*time.Minute), t0.Add(time.Minute)), // newer than a3, seen as long ago
		seen("b1", "bob", t0, t0),
	}
	tests := []struct {
		name, user string
		keep       int
		want       []string // removed token hashes
	}{
		{"keep all", "alice", 4, tokenHashes()},
		{"keep more than there are", "alice", 10, tokenHashes()},
		{"keep three: the newest of two seen as long ago stays", "alice", 3, tokenHashes("a3")},
		{"keep two", "alice", 2, tokenHashes("a3", "a4")},
		{"keep one", "alice", 1, tokenHashes("a2", "a3", "a4")},
		{"keep zero keeps one", "alice", 0, tokenHashes("a2", "a3", "a4")},
		{"other user untouched", "bob", 1, tokenHashes()},
		{"no sessions", "carol", 1, tokenHashes()},
		{"no such user", "nobody", 1, tokenHashes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startAccounts(t, f)
			mustCreateUser(t, s, "alice", "bob", "carol")
			want := mustCreateSessions(t, s, setup...)

			got, err := s.TrimUserSessions(t.Context(), tt.user, tt.keep)
			if err != nil {
				t.Fatalf("TrimUserSessions(%q, %d): %v", tt.user, tt.keep, err)
			}
			checkRemoved(t, s, want, tt.want, got)
		})
	}
}

// endedBatchPlus is more ended sessions than the stores remove in one
// statement (1000), so DeleteEndedSessions must go on to a second.
const endedBatchPlus = 1005

func testDeleteEndedSessions(t *testing.T, f Factory) {
	s := startAccounts(t, f)
	mustCreateUser(t, s, "alice", "bob")
	now := t0.Add(40 * 24 * time.Hour)
	idleSince := now.Add(-7 * 24 * time.Hour)
	var sessions []chat.Session
	ended := map[string]bool{}
	add := func(token, user string, created, lastSeen time.Time, isEnded bool) {
		sess := newSession(token, user, created)
		sess.LastSeen = lastSeen
		sessions = append(sessions, sess)
		ended[sess.TokenHash] = isEnded
	}
	add("expired", "alice", t0, now.Add(-time.Hour), true)                             // created 40 days ago: past its 30
	add("expires-now", "bob", now.Add(-sessionTTL), now.Add(-time.Minute), true)       // ExpiresAt == now
	add("idle", "alice", now.Add(-10*24*time.Hour), idleSince.Add(-time.Second), true) // unused for over 7 days
	add("idle-exactly", "bob", now.Add(-10*24*time.Hour), idleSince, true)             // LastSeen == idleSince
	add("live", "alice", now.Add(-10*24*time.Hour), now.Add(-time.Hour), false)        // expires in 20 days, seen an hour ago
	add("live-just", "bob", now.Add(-sessionTTL+time.Second), idleSince.Add(time.Second), false)
	// More than one batch of ended sessions.
	for i := range endedBatchPlus {
		add(fmt.Sprintf("old-%d", i), "bob", t0, t0, true)
	}
	want := mustCreateSessions(t, s, sessions...)

	n, err := s.DeleteEndedSessions(t.Context(), now, idleSince)
	if err != nil {
		t.Fatalf("DeleteEndedSessions: %v", err)
	}
	wantN := 0
	for h, e := range ended {
		if e {
			want[h] = nil
			wantN++
		}
	}
	if n != int64(wantN) {
		t.Errorf("DeleteEndedSessions removed %d, want %d", n, wantN)
	}
	checkSessions(t, s, want)

	// Nothing left to remove.
	if n, err := s.DeleteEndedSessions(t.Context(), now, idleSince); err != nil || n != 0 {
		t.Errorf("DeleteEndedSessions again = %d, %v; want 0, nil", n, err)
	}
}
