package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// accessStore is what RunAccess tests.
type accessStore interface {
	chat.Store
	chat.Access
}

// startAccess is start for RunAccess.
func startAccess(t *testing.T, f Factory) accessStore {
	t.Helper()
	return asAccess(t, start(t, f))
}

// asAccess fails the test unless s implements chat.Access.
func asAccess(t *testing.T, s chat.Store) accessStore {
	t.Helper()
	a, ok := s.(accessStore)
	if !ok {
		t.Fatalf("%T does not implement chat.Access", s)
	}
	return a
}

// Roles as the server names them (protocol.RoleOwner and so on). Stores
// keep whatever string they are given.
const (
	owner     = "owner"
	moderator = "moderator"
	member    = "member"
)

// roleModel is what a store's roles should be: room → user → role.
type roleModel map[string]map[string]string

func (m roleModel) set(room, user, role string) {
	if role == "" {
		delete(m[room], user)
		return
	}
	if m[room] == nil {
		m[room] = make(map[string]string)
	}
	m[room][user] = role
}

// members returns room's members ordered by name.
func (m roleModel) members(room string) []chat.Member {
	var ms []chat.Member
	for user, role := range m[room] {
		ms = append(ms, chat.Member{User: user, Role: role})
	}
	slices.SortFunc(ms, func(a, b chat.Member) int { return strings.Compare(a.User, b.User) })
	return ms
}

func testRoles(t *testing.T, f Factory) {
	s := startAccess(t, f)
	ctx := t.Context()
	const lobby, general, secret = chat.DefaultRoom, "general", "secret"
	if err := s.CreateRoom(ctx, chat.Room{Name: general}); err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	if err := s.CreateRoom(ctx, chat.Room{Name: secret, Private: true, Owner: "alice"}); err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	rooms := []string{lobby, general, secret}
	// Byte order: "Alice" < "alice" < "bob" < "carol".
	users := []string{"carol", "alice", "bob", "Alice", "nobody"}

	// The steps run in order, each on what the ones before left.
	steps := []struct {
		name             string
		room, user, role string
		wantErr          error
	}{
		{"member of a private room", secret, "carol", member, nil},
		{"owner", secret, "alice", owner, nil},
		{"moderator of a public room", general, "bob", moderator, nil},
		{"replace", secret, "carol", moderator, nil},
		{"replace with the same", secret, "carol", moderator, nil},
		{"user name is exact", secret, "Alice", member, nil},
		{"default room", lobby, "alice", member, nil},
		{"second member", secret, "bob", member, nil},
		{"remove", secret, "carol", "", nil},
		{"remove a missing role", secret, "carol", "", nil},
		{"remove from a room without roles", general, "alice", "", nil},
		{"no such room", "nope", "alice", member, chat.ErrNoSuchRoom},
		{"no such room, remove", "nope", "alice", "", chat.ErrNoSuchRoom},
		{"room name is exact", "Secret", "alice", member, chat.ErrNoSuchRoom},
		{"remove the last", general, "bob", "", nil},
	}
	model := roleModel{}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := s.SetRole(ctx, st.room, st.user, st.role)
			if !errors.Is(err, st.wantErr) {
				t.Fatalf("SetRole(%q, %q, %q) = %v, want %v", st.room, st.user, st.role, err, st.wantErr)
			}
			if err == nil {
				model.set(st.room, st.user, st.role)
			}
			for _, room := range rooms {
				got, err := s.Members(ctx, room)
				if err != nil {
					t.Fatalf("Members(%q): %v", room, err)
				}
				if diff := cmp.Diff(model.members(room), got, equateEmpty); diff != "" {
					t.Errorf("Members(%q) mismatch (-want +got):\n%s", room, diff)
				}
				for _, user := range users {
					got, err := s.Role(ctx, room, user)
					if err != nil {
						t.Fatalf("Role(%q, %q): %v", room, user, err)
					}
					if want := model[room][user]; got != want {
						t.Errorf("Role(%q, %q) = %q, want %q", room, user, got, want)
					}
				}
			}
		})
	}

	t.Run("MembersOfNoSuchRoom", func(t *testing.T) {
		for _, room := range []string{"nope", "Secret", ""} {
			if got, err := s.Members(ctx, room); !errors.Is(err, chat.ErrNoSuchRoom) {
				t.Errorf("Members(%q) = %v, %v; want %v", room, got, err, chat.ErrNoSuchRoom)
			}
		}
	})
}

func testConcurrentSetRole(t *testing.T, f Factory) {
	s := startAccess(t, f)
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.SetRole(t.Context(), chat.DefaultRoom, fmt.Sprintf("user%02d", i), member)
		})
	}
	wg.Wait()
	var want []chat.Member
	for i, err := range errs {
		if err != nil {
			t.Errorf("SetRole #%d: %v", i, err)
		}
		want = append(want, chat.Member{User: fmt.Sprintf("user%02d", i), Role: member})
	}
	got, err := s.Members(t.Context(), chat.DefaultRoom)
	if err != nil {
		t.Fatalf("Members: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Members mismatch (-want +got):\n%s", diff)
	}
}

func testVisibleRooms(t *testing.T, f Factory) {
	s := startAccess(t, f)
	ctx := t.Context()

	rooms := map[string]chat.Room{
		chat.DefaultRoom: {Name: chat.DefaultRoom},
		"general":        {Name: "general", Topic: "anything", Owner: "alice"},
		"Zoo":            {Name: "Zoo", Owner: "bob"},
		"secret":         {Name: "secret", Topic: "shh", Private: true, Owner: "alice"},
		// carol owns hidden but has no role in it: she does not see it.
		"hidden": {Name: "hidden", Private: true, Owner: "carol"},
		"attic":  {Name: "attic", Private: true, Owner: "bob"},
	}
	for _, name := range []string{"general", "Zoo", "secret", "hidden", "attic"} {
		if err := s.CreateRoom(ctx, rooms[name]); err != nil {
			t.Fatalf("CreateRoom(%q): %v", name, err)
		}
	}
	for _, r := range []struct{ room, user, role string }{
		{"secret", "alice", member},
		{"hidden", "bob", owner},
		{"attic", "alice", owner},
		{"attic", "bob", member},
		{"general", "alice", moderator}, // a role in a public room shows it once
	} {
		if err := s.SetRole(ctx, r.room, r.user, r.role); err != nil {
			t.Fatalf("SetRole(%q, %q, %q): %v", r.room, r.user, r.role, err)
		}
	}
	var batch []chat.NewMessage
	for room, n := range map[string]int{"secret": 2, "general": 1, "hidden": 3, chat.DefaultRoom: 1} {
		for range n {
			batch = append(batch, chat.NewMessage{Room: room, Author: "alice", Body: "hi"})
		}
		r := rooms[room]
		r.LastSeq = int64(n)
		rooms[room] = r
	}
	mustAppend(t, s, batch)

	roomsNamed := func(names ...string) []chat.Room {
		var rs []chat.Room
		for _, name := range names {
			rs = append(rs, rooms[name])
		}
		return rs
	}
	public := roomsNamed("Zoo", "general", chat.DefaultRoom)
	check := func(t *testing.T, user string, want []chat.Room) {
		t.Helper()
		got, err := s.VisibleRooms(ctx, user)
		if err != nil {
			t.Fatalf("VisibleRooms(%q): %v", user, err)
		}
		if diff := cmp.Diff(want, got, ignoreCreatedAt, equateEmpty); diff != "" {
			t.Errorf("VisibleRooms(%q) mismatch (-want +got):\n%s", user, diff)
		}
		// VisibleRooms and Room agree, CreatedAt included.
		for _, r := range got {
			one, err := s.Room(ctx, r.Name)
			if err != nil {
				t.Fatalf("Room(%q): %v", r.Name, err)
			}
			if diff := cmp.Diff(one, r); diff != "" {
				t.Errorf("VisibleRooms(%q) and Room(%q) disagree (-Room +VisibleRooms):\n%s", user, r.Name, diff)
			}
		}
	}

	tests := []struct {
		user string
		want []chat.Room
	}{
		{"alice", roomsNamed("Zoo", "attic", "general", chat.DefaultRoom, "secret")},
		{"bob", roomsNamed("Zoo", "attic", "general", "hidden", chat.DefaultRoom)},
		{"carol", public},
		{"", public},
		{"Alice", public},
		{"nobody", public},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("VisibleRooms(%q)", tt.user), func(t *testing.T) {
			check(t, tt.user, tt.want)
		})
	}

	t.Run("AfterRoleRemoved", func(t *testing.T) {
		if err := s.SetRole(ctx, "secret", "alice", ""); err != nil {
			t.Fatalf("SetRole: %v", err)
		}
		check(t, "alice", roomsNamed("Zoo", "attic", "general", chat.DefaultRoom))
	})
}

func testAccessDurability(t *testing.T, f Factory) {
	open := f(t)
	ctx := t.Context()

	first, closeStore := openOnce(t, open)
	s := asAccess(t, first)
	secret := chat.Room{Name: "secret", Private: true, Owner: "alice"}
	if err := s.CreateRoom(ctx, secret); err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	ban := chat.Sanction{Room: chat.DefaultRoom, User: "mallory", Kind: chat.Ban, By: "alice", Reason: "spam"}
	mute := chat.Sanction{Room: "secret", User: "bob", Kind: chat.Mute, Until: t0.Add(time.Hour), By: "alice", Reason: "calm down"}
	steps := []struct {
		name string
		call func() error
	}{
		{"SetRole(alice)", func() error { return s.SetRole(ctx, "secret", "alice", owner) }},
		{"SetRole(bob)", func() error { return s.SetRole(ctx, "secret", "bob", member) }},
		{"SetRole(carol)", func() error { return s.SetRole(ctx, "secret", "carol", member) }},
		{"SetRole(carol, none)", func() error { return s.SetRole(ctx, "secret", "carol", "") }},
		{"SetSanction(ban)", func() error { return s.SetSanction(ctx, ban) }},
		{"SetSanction(mute)", func() error { return s.SetSanction(ctx, mute) }},
		{"SetSanction(cleared)", func() error {
			return s.SetSanction(ctx, chat.Sanction{Room: chat.DefaultRoom, User: "bob", Kind: chat.Ban})
		}},
		{"ClearSanction", func() error { return s.ClearSanction(ctx, chat.DefaultRoom, "bob", chat.Ban) }},
	}
	for _, st := range steps {
		if err := st.call(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	if err := closeStore(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = asAccess(t, keepOpen(t, open))
	members, err := s.Members(ctx, "secret")
	if err != nil {
		t.Fatalf("Members after reopen: %v", err)
	}
	wantMembers := []chat.Member{{User: "alice", Role: owner}, {User: "bob", Role: member}}
	if diff := cmp.Diff(wantMembers, members); diff != "" {
		t.Errorf("Members after reopen mismatch (-want +got):\n%s", diff)
	}
	rooms, err := s.VisibleRooms(ctx, "bob")
	if err != nil {
		t.Fatalf("VisibleRooms after reopen: %v", err)
	}
	if diff := cmp.Diff([]chat.Room{{Name: chat.DefaultRoom}, secret}, rooms, ignoreCreatedAt); diff != "" {
		t.Errorf("VisibleRooms(bob) after reopen mismatch (-want +got):\n%s", diff)
	}

	sanctions := []struct {
		room, user, kind string
		want             *chat.Sanction
	}{
		{chat.DefaultRoom, "mallory", chat.Ban, &ban},
		{"secret", "bob", chat.Mute, &mute},
		{chat.DefaultRoom, "bob", chat.Ban, nil},
	}
	for _, sn := range sanctions {
		got, ok, err := s.ActiveSanction(ctx, sn.room, sn.user, sn.kind, t0)
		if err != nil {
			t.Fatalf("ActiveSanction after reopen: %v", err)
		}
		if ok != (sn.want != nil) {
			t.Errorf("ActiveSanction(%q, %q, %q) after reopen: active = %v, want %v", sn.room, sn.user, sn.kind, ok, sn.want != nil)
			continue
		}
		if sn.want == nil {
			continue
		}
		if diff := cmp.Diff(*sn.want, got); diff != "" {
			t.Errorf("ActiveSanction(%q, %q, %q) after reopen mismatch (-want +got):\n%s", sn.room, sn.user, sn.kind, diff)
		}
	}
}

func testAccessClosed(t *testing.T, f Factory) {
	first, closeStore := openOnce(t, f(t))
	s := asAccess(t, first)
	if err := s.SetRole(t.Context(), chat.DefaultRoom, "alice", member); err != nil {
		t.Fatalf("SetRole: %v", err)
	}
	if err := closeStore(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	lobby := chat.DefaultRoom
	calls := []struct {
		name string
		call func() error
	}{
		{"SetRole", func() error { return s.SetRole(ctx, lobby, "bob", member) }},
		{"SetRoleRemove", func() error { return s.SetRole(ctx, lobby, "alice", "") }},
		{"Role", func() error { _, err := s.Role(ctx, lobby, "alice"); return err }},
		{"Members", func() error { _, err := s.Members(ctx, lobby); return err }},
		{"VisibleRooms", func() error { _, err := s.VisibleRooms(ctx, "alice"); return err }},
		{"SetSanction", func() error {
			return s.SetSanction(ctx, chat.Sanction{Room: lobby, User: "bob", Kind: chat.Ban})
		}},
		{"ClearSanction", func() error { return s.ClearSanction(ctx, lobby, "bob", chat.Ban) }},
		{"ActiveSanction", func() error { _, _, err := s.ActiveSanction(ctx, lobby, "bob", chat.Ban, t0); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, chat.ErrClosed) {
			t.Errorf("%s after Close = %v, want %v", c.name, err, chat.ErrClosed)
		}
	}
}
