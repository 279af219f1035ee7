package server

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
)

// countingAccess is a real store that counts the sanction queries it gets.
type countingAccess struct {
	chat.Access
	room, user atomic.Int64
}

func (a *countingAccess) RoomSanctions(ctx context.Context, room string, now time.Time, limit int) ([]chat.Sanction, error) {
	a.room.Add(1)
	return a.Access.RoomSanctions(ctx, room, now, limit)
}

func (a *countingAccess) ActiveSanction(ctx context.Context, room, user, kind string, now time.Time) (chat.Sanction, bool, error) {
	a.user.Add(1)
	return a.Access.ActiveSanction(ctx, room, user, kind, now)
}

// TestSanctionCacheAsksPerRoom: many questions about one room cost one
// query per ttl, answers are right, forget refetches at once, and a room
// with more sanctions than the cache holds is asked per user.
func TestSanctionCacheAsksPerRoom(t *testing.T) {
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := t.Context()
	for _, r := range []string{"calm", "rowdy"} {
		if err := store.CreateRoom(ctx, chat.Room{Name: r}); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now()
	set := func(room, user, kind string, until time.Time) {
		t.Helper()
		if err := store.SetSanction(ctx, chat.Sanction{Room: room, User: user, Kind: kind, Until: until, By: "mod"}); err != nil {
			t.Fatal(err)
		}
	}
	set("calm", "mallory", chat.Ban, time.Time{})
	set("calm", "trudy", chat.Mute, t0.Add(time.Minute))
	for i := range roomSanctionsMax + 1 {
		set("rowdy", fmt.Sprintf("u%d", i), chat.Mute, time.Time{})
	}

	acc := &countingAccess{Access: store}
	sc := &sanctionCache{ttl: 2 * time.Second}
	ask := func(room, user, kind string, now time.Time) bool {
		t.Helper()
		_, on, err := sc.active(ctx, acc, room, user, kind, now)
		if err != nil {
			t.Fatal(err)
		}
		return on
	}

	tests := []struct {
		room, user, kind string
		at               time.Duration // after t0
		want             bool
		wantRoom         int64 // RoomSanctions calls so far
		wantUser         int64 // ActiveSanction calls so far
	}{
		{"calm", "mallory", chat.Ban, 0, true, 1, 0},
		{"calm", "mallory", chat.Mute, 0, false, 1, 0},
		{"calm", "trudy", chat.Mute, time.Second, true, 1, 0},
		{"calm", "alice", chat.Ban, time.Second, false, 1, 0},
		{"calm", "trudy", chat.Mute, 2 * time.Second, true, 2, 0},     // stale: fetched again
		{"calm", "trudy", chat.Mute, 61 * time.Second, false, 3, 0},   // the mute ended
		{"rowdy", "u1", chat.Mute, 61 * time.Second, true, 4, 1},      // too many: per user
		{"rowdy", "u1", chat.Mute, 61*time.Second + 1, true, 4, 1},    // cached per user
		{"rowdy", "nobody", chat.Mute, 61 * time.Second, false, 4, 2}, // per user
	}
	for i, tc := range tests {
		if got := ask(tc.room, tc.user, tc.kind, t0.Add(tc.at)); got != tc.want {
			t.Errorf("%d: active(%s, %s, %s) = %v, want %v", i, tc.room, tc.user, tc.kind, got, tc.want)
		}
		if r, u := acc.room.Load(), acc.user.Load(); r != tc.wantRoom || u != tc.wantUser {
			t.Errorf("%d: queries room/user = %d/%d, want %d/%d", i, r, u, tc.wantRoom, tc.wantUser)
		}
	}

	// A sanction set on this node binds here at once.
	now := t0.Add(62 * time.Second)
	if ask("calm", "alice", chat.Ban, now) {
		t.Fatal("alice banned before the ban")
	}
	set("calm", "alice", chat.Ban, time.Time{})
	sc.forget("calm", "alice")
	if !ask("calm", "alice", chat.Ban, now) {
		t.Error("alice not banned right after forget")
	}
}
