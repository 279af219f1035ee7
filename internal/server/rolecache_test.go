package server

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestJoinShowsRoles: a join reply shows the joiner's role in a public room
// from the node's role cache, so a change made on this node shows at once
// and one made behind its back (as another node's would be; here the
// store's own SetRole) only once Config.ModerationCheck has passed. What
// a role allows, and who may enter a private room, is asked of the store
// every time.
func TestJoinShowsRoles(t *testing.T) {
	s, store := newAccountServer(t, func(c *Config) { c.ModerationCheck = time.Hour })
	ctx := t.Context()
	owner := s.account(t, s.register(t, "sam"))
	tessTok := s.register(t, "tess")
	tess := s.account(t, tessTok)
	uma := s.account(t, s.register(t, "uma"))
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "hall"})
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "den", Private: true})
	uma.ok(protocol.Command{Op: protocol.OpJoin, Room: "hall"})
	shown := func(c *tclient, room string) string {
		t.Helper()
		return c.ok(protocol.Command{Op: protocol.OpJoin, Room: room}).Info.Role
	}

	for _, tc := range []struct {
		step string
		do   func()
		want string
	}{
		{"first join", func() {}, ""},
		{"promoted on this node", func() { owner.ok(protocol.Command{Op: protocol.OpPromote, Room: "hall", User: "tess"}) }, protocol.RoleModerator},
		// Behind the node's back: the cached role stays for the hour.
		{"demoted elsewhere", func() {
			if err := store.SetRole(ctx, "hall", "tess", protocol.RoleMember); err != nil {
				t.Fatal(err)
			}
		}, protocol.RoleModerator},
	} {
		tc.do()
		if got := shown(tess, "hall"); got != tc.want {
			t.Errorf("%s: join shows role %q, want %q", tc.step, got, tc.want)
		}
	}
	// The demotion binds at once all the same: kicking asks the store.
	if ev := tess.do(protocol.Command{Op: protocol.OpKick, Room: "hall", User: "uma"}); ev.Code != protocol.CodeForbidden {
		t.Errorf("demoted moderator kicks: %+v, want forbidden", ev)
	}
	// The room listing shows what the join shows.
	for _, r := range tess.ok(protocol.Command{Op: protocol.OpRooms}).Rooms {
		if r.Name == "hall" && r.Role != protocol.RoleModerator {
			t.Errorf("rooms lists hall with role %q, want the cached %q", r.Role, protocol.RoleModerator)
		}
	}
	// A private room is never answered from the cache: a removal made
	// behind the node's back keeps tess out at once.
	owner.ok(protocol.Command{Op: protocol.OpInvite, Room: "den", User: "tess"})
	if got := shown(tess, "den"); got != protocol.RoleMember {
		t.Errorf("invited to den: join shows %q, want %q", got, protocol.RoleMember)
	}
	if err := store.SetRole(ctx, "den", "tess", ""); err != nil {
		t.Fatal(err)
	}
	again := s.account(t, tessTok)
	if ev := again.do(protocol.Command{Op: protocol.OpJoin, Room: "den"}); ev.Code != protocol.CodeNoSuchRoom {
		t.Errorf("removed elsewhere, joins den: %+v, want no_such_room", ev)
	}
}

// roleCountingAccess counts the role reads roleCache makes of a real store,
// and can hold Members until release is closed.
type roleCountingAccess struct {
	chat.Access
	members, roles atomic.Int64
	hold           chan struct{} // when not nil, Members waits for it after reading
	fetched        chan struct{} // signalled when a held Members has read
}

func (a *roleCountingAccess) Members(ctx context.Context, room string) ([]chat.Member, error) {
	a.members.Add(1)
	m, err := a.Access.Members(ctx, room)
	if a.hold != nil {
		a.fetched <- struct{}{}
		<-a.hold
	}
	return m, err
}

func (a *roleCountingAccess) Role(ctx context.Context, room, user string) (string, error) {
	a.roles.Add(1)
	return a.Access.Role(ctx, room, user)
}

func TestRoleCache(t *testing.T) {
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := t.Context()
	if err := store.CreateRoom(ctx, chat.Room{Name: "hall", Owner: "sam"}); err != nil {
		t.Fatal(err)
	}
	if err := store.SetRole(ctx, "hall", "sam", protocol.RoleOwner); err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_000_000, 0)
	ask := func(rc *roleCache, acc chat.Access, user string, at time.Duration) string {
		t.Helper()
		r, err := rc.role(ctx, acc, "hall", user, t0.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	t.Run("one read per ttl, forget, ttl", func(t *testing.T) {
		acc := &roleCountingAccess{Access: store}
		rc := &roleCache{ttl: 2 * time.Second}
		for i := range 100 {
			user := []string{"sam", "tess", "uma"}[i%3]
			want := map[string]string{"sam": protocol.RoleOwner}[user]
			if got := ask(rc, acc, user, time.Duration(i)*time.Millisecond); got != want {
				t.Fatalf("role of %s = %q, want %q", user, got, want)
			}
		}
		if n := acc.members.Load(); n != 1 {
			t.Errorf("100 asks within ttl read the room's roles %d times, want 1", n)
		}
		if err := store.SetRole(ctx, "hall", "tess", protocol.RoleModerator); err != nil {
			t.Fatal(err)
		}
		if got := ask(rc, acc, "tess", time.Second); got != "" {
			t.Errorf("before forget: %q, want the cached \"\"", got)
		}
		rc.forget("hall")
		if got := ask(rc, acc, "tess", time.Second); got != protocol.RoleModerator {
			t.Errorf("after forget: %q, want %q", got, protocol.RoleModerator)
		}
		if err := store.SetRole(ctx, "hall", "tess", protocol.RoleMember); err != nil {
			t.Fatal(err)
		}
		if got := ask(rc, acc, "tess", 3*time.Second); got != protocol.RoleMember { // the snapshot is from 1s
			t.Errorf("ttl after the fetch: %q, want %q", got, protocol.RoleMember)
		}
		if n := acc.members.Load(); n != 3 {
			t.Errorf("reads of the room's roles = %d, want 3", n)
		}
		if n := acc.roles.Load(); n != 0 {
			t.Errorf("Role asked %d times, want 0", n)
		}
		// What counts against roleCacheMax is what is held: the room
		// and its two holders, not every snapshot ever read.
		if n := rc.n.Load(); n != 3 {
			t.Errorf("cache counts %d rooms and roles, want 3", n)
		}
	})

	t.Run("a fetch that predates a forget is not kept", func(t *testing.T) {
		if err := store.SetRole(ctx, "hall", "tess", ""); err != nil {
			t.Fatal(err)
		}
		acc := &roleCountingAccess{Access: store, hold: make(chan struct{}), fetched: make(chan struct{})}
		rc := &roleCache{ttl: time.Hour}
		done := make(chan string)
		go func() {
			r, _ := rc.role(ctx, acc, "hall", "tess", t0)
			done <- r
		}()
		<-acc.fetched // the snapshot is read: tess has no role in it
		if err := store.SetRole(ctx, "hall", "tess", protocol.RoleModerator); err != nil {
			t.Fatal(err)
		}
		rc.forget("hall")
		close(acc.hold)
		if got := <-done; got != "" {
			t.Errorf("the asker in flight got %q, want the \"\" it read", got)
		}
		acc.hold = nil
		if got := ask(rc, acc, "tess", time.Second); got != protocol.RoleModerator {
			t.Errorf("after the forget: %q, want %q (the older snapshot kept)", got, protocol.RoleModerator)
		}
	})

	t.Run("a room with too many holders is asked per user", func(t *testing.T) {
		acc := &roleCountingAccess{Access: store}
		rc := &roleCache{ttl: time.Second, max: 2} // hall has sam and tess: 2 holders
		if err := store.SetRole(ctx, "hall", "uma", protocol.RoleMember); err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{protocol.RoleOwner, protocol.RoleModerator, protocol.RoleMember} {
			user := []string{"sam", "tess", "uma"}[i]
			if got := ask(rc, acc, user, time.Duration(i)*time.Second); got != want {
				t.Errorf("role of %s = %q, want %q", user, got, want)
			}
		}
		if m, r := acc.members.Load(), acc.roles.Load(); m != 1 || r != 3 {
			t.Errorf("Members read %d times, Role %d; want 1 (held for overflowTTL) and 3", m, r)
		}
		if got := ask(rc, acc, "sam", overflowTTL+time.Second); got != protocol.RoleOwner || acc.members.Load() != 2 {
			t.Errorf("after overflowTTL: %q, Members read %d times; want owner, 2", got, acc.members.Load())
		}
		// The staff of a join reply is kept all the same, from that read.
		staff, err := rc.staff(ctx, acc, "hall", t0.Add(overflowTTL+time.Second))
		if err != nil {
			t.Fatal(err)
		}
		want := []protocol.Member{{Name: "sam", Role: protocol.RoleOwner}, {Name: "tess", Role: protocol.RoleModerator}}
		if diff := cmp.Diff(want, staff); diff != "" || acc.members.Load() != 2 {
			t.Errorf("staff of an overflowing room (-want +got):\n%s\nMembers read %d times, want 2", diff, acc.members.Load())
		}
	})
}

// TestRoleCacheWaitEndsWithCtx: while one asker's fetch hangs in the
// store, another asker of the same room gives up when its ctx ends,
// instead of queueing behind the store.
func TestRoleCacheWaitEndsWithCtx(t *testing.T) {
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	acc := &roleCountingAccess{Access: store, hold: make(chan struct{}), fetched: make(chan struct{})}
	rc := &roleCache{ttl: time.Hour}
	first := make(chan error)
	go func() {
		_, err := rc.role(t.Context(), acc, chat.DefaultRoom, "ada", time.Unix(1, 0))
		first <- err
	}()
	<-acc.fetched // the first asker holds the fetch
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	second := make(chan error)
	go func() {
		_, err := rc.role(ctx, acc, chat.DefaultRoom, "bob", time.Unix(1, 0))
		second <- err
	}()
	waited := false
	select {
	case err := <-second:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("second asker: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("second asker still waits behind the hung fetch after its ctx ended")
		waited = true
	}
	close(acc.hold)
	if err := <-first; err != nil {
		t.Errorf("first asker: %v", err)
	}
	if waited {
		<-second // it ends once the fetch does
	}
}
