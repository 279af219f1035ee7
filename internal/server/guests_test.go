package server

import (
	"fmt"
	"testing"
	"time"
)

// TestGuestRegistry: a name is held by one guest identity at a time,
// and a moderator can name a guest who is online, or who left within
// guestMemory; the registry keeps one record per guest, online or
// departed, and at most guestSeenKeys departed ones.
func TestGuestRegistry(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	alice := guestRecord{key: "~ga", display: "Alice", ip: "10.0.0.1", at: t0}
	mallory := guestRecord{key: "~gm", display: "alice", ip: "10.0.0.2", at: t0}

	var g guestRegistry
	steps := []struct {
		name            string
		do              func() bool // what the step reports
		want            bool
		lookupAt        time.Time
		wantFound       bool
		wantKey         string
		wantSeen        int // departed records kept
		wantOnlineAfter int
	}{
		{"first claim", func() bool { first, ok := g.claim("alice", alice); return first && ok }, true, t0, true, "~ga", 0, 1},
		{"second connection of the same guest", func() bool { first, ok := g.claim("alice", alice); return !first && ok }, true, t0, true, "~ga", 0, 1},
		{"another identity is refused", func() bool { _, ok := g.claim("alice", mallory); return ok }, false, t0, true, "~ga", 0, 1},
		{"one of two releases", func() bool { return g.release("alice", "~ga", t0) }, false, t0, true, "~ga", 0, 1},
		{"the last release", func() bool { return g.release("alice", "~ga", t0) }, true, t0.Add(guestMemory), true, "~ga", 1, 0},
		{"forgotten after guestMemory", func() bool { return true }, true, t0.Add(guestMemory + time.Second), false, "", 1, 0},
		{"claimed again", func() bool { _, ok := g.claim("alice", mallory); return ok }, true, t0, true, "~gm", 0, 1},
	}
	for _, st := range steps {
		if got := st.do(); got != st.want {
			t.Fatalf("%s: reported %v, want %v", st.name, got, st.want)
		}
		rec, found := g.lookup("alice", st.lookupAt)
		if found != st.wantFound || rec.key != st.wantKey {
			t.Errorf("%s: lookup = %q, %v; want %q, %v", st.name, rec.key, found, st.wantKey, st.wantFound)
		}
		if len(g.seen) != st.wantSeen || len(g.online) != st.wantOnlineAfter {
			t.Errorf("%s: %d departed and %d online records, want %d and %d", st.name, len(g.seen), len(g.online), st.wantSeen, st.wantOnlineAfter)
		}
	}

	// The bound on departed guests leaves online ones alone.
	for i := range guestSeenKeys + 1 {
		key := fmt.Sprint("g", i)
		g.claim(key, guestRecord{key: "~" + key, at: t0})
		g.release(key, "~"+key, t0)
	}
	if n := len(g.seen); n > guestSeenKeys {
		t.Errorf("%d departed guests kept, want at most %d", n, guestSeenKeys)
	}
	if rec, ok := g.lookup("alice", t0); !ok || rec.key != "~gm" {
		t.Errorf("online guest after the trim: %q, %v; want ~gm", rec.key, ok)
	}
}
