package storetest

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// testDeleteUser checks Accounts.DeleteUser: the account is gone for every
// use but its name stays taken; its sessions, roles, sanctions, read
// positions and unsent uploads go; its messages stay; its rooms pass to
// their longest-standing moderator.
func testDeleteUser(t *testing.T, f Factory) {
	s := startAccounts(t, f)
	acc := asAccess(t, s)
	ctx := t.Context()
	mustCreateUser(t, s, "alice", "bob", "carol", "dave")
	for _, tok := range []string{"a1", "a2"} {
		if err := s.CreateSession(ctx, newSession(tok, "alice", t0)); err != nil {
			t.Fatalf("CreateSession(%s): %v", tok, err)
		}
	}
	if err := s.CreateSession(ctx, newSession("b1", "bob", t0)); err != nil {
		t.Fatalf("CreateSession(b1): %v", err)
	}
	// books: carol was promoted after dave, who was promoted, demoted and
	// promoted again after her: carol is the longest-standing moderator.
	// tools: moderators without entries (made before entries existed)
	// count as older, by name. quiet: no moderator, no new owner.
	mustCreateRoom(t, s, "books", "tools", "quiet")
	roles := []struct{ room, user, role string }{
		{"books", "alice", "owner"}, {"books", "bob", "member"}, {"books", "carol", "moderator"}, {"books", "dave", "moderator"},
		{"tools", "alice", "owner"}, {"tools", "dave", "moderator"}, {"tools", "carol", "moderator"},
		{"quiet", "alice", "owner"}, {"quiet", "bob", "member"},
		{"lobby", "alice", "moderator"},
	}
	for _, r := range roles {
		if err := acc.SetRole(ctx, r.room, r.user, r.role); err != nil {
			t.Fatalf("SetRole(%s, %s, %s): %v", r.room, r.user, r.role, err)
		}
	}
	mustAppend(t, s, []chat.NewMessage{
		{Room: "books", Kind: chat.KindRole, Author: "alice", User: "dave", Body: "moderator"},
		{Room: "books", Kind: chat.KindRole, Author: "alice", User: "carol", Body: "moderator"},
		{Room: "books", Kind: chat.KindRole, Author: "alice", User: "dave", Body: "member"},
		{Room: "books", Kind: chat.KindRole, Author: "alice", User: "dave", Body: "moderator"},
		{Room: "books", Author: "alice", Body: "hello from alice"},
	})
	if err := acc.SetSanction(ctx, chat.Sanction{Room: "quiet", User: "alice", Kind: chat.Mute, By: "bob"}); err != nil {
		t.Fatalf("SetSanction: %v", err)
	}
	if rd, ok := s.(chat.Reads); ok {
		if _, err := rd.MarkRead(ctx, "alice", "books", 5); err != nil {
			t.Fatalf("MarkRead: %v", err)
		}
	}
	files, hasFiles := s.(chat.Files)
	if hasFiles {
		for _, u := range []chat.Upload{
			{ID: "f-alice", Owner: "alice", Name: "a.txt", Size: 3, SHA256: "00"},
			{ID: "f-bob", Owner: "bob", Name: "b.txt", Size: 3, SHA256: "00"},
		} {
			if err := files.CreateUpload(ctx, u, chat.Quota{}); err != nil {
				t.Fatalf("CreateUpload(%s): %v", u.ID, err)
			}
		}
	}

	d, err := s.DeleteUser(ctx, "alice")
	if err != nil {
		t.Fatalf("DeleteUser(alice): %v", err)
	}
	want := chat.UserDeletion{
		Sessions: []string{tokenHash("a1"), tokenHash("a2")},
		Rooms:    []string{"books", "lobby", "quiet", "tools"},
		Owners:   []chat.OwnerHandoff{{Room: "books", Owner: "carol"}, {Room: "tools", Owner: "carol"}},
	}
	if want.Sessions[0] > want.Sessions[1] {
		want.Sessions[0], want.Sessions[1] = want.Sessions[1], want.Sessions[0]
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("DeleteUser(alice) mismatch (-want +got):\n%s", diff)
	}

	// Gone for every use, but the name stays taken.
	gone := []struct {
		name string
		err  error
		want error
	}{
		{"User", func() error { _, err := s.User(ctx, "alice"); return err }(), chat.ErrNoSuchUser},
		{"UpdateUser", s.UpdateUser(ctx, chat.User{Name: "alice", PasswordHash: "x"}), chat.ErrNoSuchUser},
		{"CreateSession", s.CreateSession(ctx, newSession("a3", "alice", t0)), chat.ErrNoSuchUser},
		{"Session", func() error { _, err := s.Session(ctx, tokenHash("a1")); return err }(), chat.ErrNoSuchSession},
		{"CreateUser", s.CreateUser(ctx, chat.User{Name: "alice", PasswordHash: "new", CreatedAt: t0}), chat.ErrUserExists},
		{"DeleteUser again", func() error { _, err := s.DeleteUser(ctx, "alice"); return err }(), chat.ErrNoSuchUser},
		{"DeleteUser of nobody", func() error { _, err := s.DeleteUser(ctx, "zed"); return err }(), chat.ErrNoSuchUser},
	}
	for _, g := range gone {
		if !errors.Is(g.err, g.want) {
			t.Errorf("%s after DeleteUser = %v, want %v", g.name, g.err, g.want)
		}
	}
	if taken, err := s.AnyUser(ctx, []string{"alice"}); err != nil || !taken {
		t.Errorf("AnyUser(alice) after DeleteUser = %v, %v; want true, nil", taken, err)
	}
	if _, _, err := s.SessionUser(ctx, tokenHash("b1")); err != nil {
		t.Errorf("SessionUser(b1) of another user = %v, want nil", err)
	}

	// Roles: alice's are gone, the new owners hold theirs.
	wantMembers := map[string][]chat.Member{
		"books": {{User: "bob", Role: "member"}, {User: "carol", Role: "owner"}, {User: "dave", Role: "moderator"}},
		"tools": {{User: "carol", Role: "owner"}, {User: "dave", Role: "moderator"}},
		"quiet": {{User: "bob", Role: "member"}},
		"lobby": nil,
	}
	for room, want := range wantMembers {
		got, err := acc.Members(ctx, room)
		if err != nil {
			t.Fatalf("Members(%s): %v", room, err)
		}
		if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
			t.Errorf("Members(%s) after DeleteUser mismatch (-want +got):\n%s", room, diff)
		}
	}
	if _, ok, err := acc.ActiveSanction(ctx, "quiet", "alice", chat.Mute, t0); err != nil || ok {
		t.Errorf("ActiveSanction(quiet, alice) after DeleteUser = %v, %v; want none", ok, err)
	}
	if rd, ok := s.(chat.Reads); ok {
		if seq, err := rd.ReadPosition(ctx, "alice", "books"); err != nil || seq != 0 {
			t.Errorf("ReadPosition(alice, books) after DeleteUser = %d, %v; want 0, nil", seq, err)
		}
	}
	if hasFiles {
		if _, err := files.Upload(ctx, "f-alice"); !errors.Is(err, chat.ErrNoSuchFile) {
			t.Errorf("Upload(f-alice) after DeleteUser = %v, want %v", err, chat.ErrNoSuchFile)
		}
		if _, err := files.Upload(ctx, "f-bob"); err != nil {
			t.Errorf("Upload(f-bob) of another user after DeleteUser = %v, want nil", err)
		}
	}

	// Her messages stay, under her name.
	var bodies []string
	for _, m := range allHistory(t, s, "books") {
		if m.Author == "alice" && m.Kind == "" {
			bodies = append(bodies, m.Body)
		}
	}
	if diff := cmp.Diff([]string{"hello from alice"}, bodies); diff != "" {
		t.Errorf("alice's messages in books after DeleteUser mismatch (-want +got):\n%s", diff)
	}
}
