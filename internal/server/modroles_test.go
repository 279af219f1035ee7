package server

import (
	"testing"

	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// makeAdmin turns the account name into a server administrator, as
// `hubbubd user admin` does; its next connection is one.
func makeAdmin(t *testing.T, store *sqlitestore.Store, name string) {
	t.Helper()
	u, err := store.User(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	u.Admin = true
	if err := store.UpdateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
}

// TestOwnerCannotBeRemoved: nobody, a server administrator included, may
// kick or ban a room's owner; before, an administrator's kick or ban took
// the owner's role away for good and left the room with nobody to manage
// it (a private room: nobody but administrators could even see it).
func TestOwnerCannotBeRemoved(t *testing.T) {
	s, store := newAccountServer(t, nil)
	owner := s.account(t, s.register(t, "olga"))
	rootTok := s.register(t, "root")
	makeAdmin(t, store, "root")
	admin := s.account(t, rootTok)
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "pub"})
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "priv", Private: true})

	for _, room := range []string{"pub", "priv"} {
		for _, op := range []string{protocol.OpKick, protocol.OpBan} {
			t.Run(op+" "+room, func(t *testing.T) {
				ev := admin.do(protocol.Command{Op: op, Room: room, User: "olga"})
				if ev.Code != protocol.CodeForbidden {
					t.Errorf("administrator's %s of the owner: got %s %s (%s), want forbidden", op, ev.Type, ev.Code, ev.Reason)
				}
				if got, err := store.Role(t.Context(), room, "olga"); err != nil || got != protocol.RoleOwner {
					t.Errorf("owner's role after the %s = %q (%v), want owner", op, got, err)
				}
				if ev := owner.do(protocol.Command{Op: protocol.OpJoin, Room: room}); ev.Type != protocol.TypeOK || ev.Info == nil || ev.Info.Role != protocol.RoleOwner {
					t.Errorf("owner's join after the %s: got %s %s (%s) %+v, want ok as owner", op, ev.Type, ev.Code, ev.Reason, ev.Info)
				}
			})
		}
	}
	// The owner may still be muted by an administrator.
	admin.ok(protocol.Command{Op: protocol.OpMute, Room: "pub", User: "olga", Seconds: 60})
}

// TestBanKeepsRole: a ban bars a user from a room without taking away
// their role there; while it lasts the role allows nothing (every command
// in the room gets banned), and when it is lifted the user is back as
// what they were: a moderator still a moderator, a member of a private
// room still a member, with no new invitation. Before, a ban erased the
// role for good, so a timed ban of a private room's member shut them out
// for ever and unban gave a moderator back as a plain user.
func TestBanKeepsRole(t *testing.T) {
	s, store := newAccountServer(t, nil)
	owner := s.account(t, s.register(t, "olga"))
	tessTok, umaTok := s.register(t, "tess"), s.register(t, "uma")
	s.register(t, "vic")
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "pub"})
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "priv", Private: true})
	for _, u := range []string{"tess", "uma", "vic"} {
		owner.ok(protocol.Command{Op: protocol.OpInvite, Room: "priv", User: u})
	}
	owner.ok(protocol.Command{Op: protocol.OpPromote, Room: "pub", User: "tess"})
	owner.ok(protocol.Command{Op: protocol.OpPromote, Room: "priv", User: "tess"})

	tests := []struct {
		room, user, tok, role string
	}{
		{"pub", "tess", tessTok, protocol.RoleModerator},
		{"priv", "tess", tessTok, protocol.RoleModerator},
		{"priv", "uma", umaTok, protocol.RoleMember},
	}
	for _, tt := range tests {
		t.Run(tt.user+" in "+tt.room, func(t *testing.T) {
			c := s.account(t, tt.tok)
			c.ok(protocol.Command{Op: protocol.OpJoin, Room: tt.room})
			owner.ok(protocol.Command{Op: protocol.OpBan, Room: tt.room, User: tt.user, Seconds: 3600})
			c.waitFor("banned", func(ev protocol.Event) bool { return ev.Type == protocol.TypeBanned && ev.Room == tt.room })
			if got, err := store.Role(t.Context(), tt.room, tt.user); err != nil || got != tt.role {
				t.Errorf("role while banned = %q (%v), want %q", got, err, tt.role)
			}
			// The role allows nothing while the ban lasts.
			for _, cmd := range []protocol.Command{
				{Op: protocol.OpJoin, Room: tt.room},
				{Op: protocol.OpHistory, Room: tt.room},
				{Op: protocol.OpMute, Room: tt.room, User: "vic"},
				{Op: protocol.OpTopic, Room: tt.room, Topic: "mine now"},
			} {
				if ev := c.do(cmd); ev.Code != protocol.CodeBanned {
					t.Errorf("banned %s's %s: got %s %s (%s), want banned", tt.role, cmd.Op, ev.Type, ev.Code, ev.Reason)
				}
			}
			owner.ok(protocol.Command{Op: protocol.OpUnban, Room: tt.room, User: tt.user})
			c.waitFor("unbanned", func(ev protocol.Event) bool { return ev.Type == protocol.TypeUnbanned && ev.Room == tt.room })
			ev := c.ok(protocol.Command{Op: protocol.OpJoin, Room: tt.room})
			if ev.Info == nil || ev.Info.Role != tt.role {
				t.Errorf("join after unban: info %+v, want role %q", ev.Info, tt.role)
			}
			if tt.role == protocol.RoleModerator {
				c.ok(protocol.Command{Op: protocol.OpMute, Room: tt.room, User: "vic", Seconds: 1})
			}
		})
	}
}

// TestPromoteNeedsMember: in a private room, promote and demote act on
// its members only; anyone else gets invalid_value and stays out, with no
// role and nothing in the room's history. Before, either one made the
// user a member silently: no invite entry, no invited event. In a public
// room, which has no membership, anyone may be promoted.
func TestPromoteNeedsMember(t *testing.T) {
	s, store := newAccountServer(t, nil)
	owner := s.account(t, s.register(t, "olga"))
	s.register(t, "grace")
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "priv", Private: true})
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "pub"})
	owner.ok(protocol.Command{Op: protocol.OpJoin, Room: "priv"})

	tests := []struct {
		op, room string
		code     protocol.Code
		role     string
	}{
		{protocol.OpPromote, "priv", protocol.CodeInvalidValue, ""},
		{protocol.OpDemote, "priv", protocol.CodeInvalidValue, ""},
		{protocol.OpPromote, "pub", "", protocol.RoleModerator},
	}
	for _, tt := range tests {
		t.Run(tt.op+" "+tt.room, func(t *testing.T) {
			ev := owner.do(protocol.Command{Op: tt.op, Room: tt.room, User: "grace"})
			if ev.Code != tt.code {
				t.Errorf("%s of a non-member: got %s %s (%s), want %q", tt.op, ev.Type, ev.Code, ev.Reason, tt.code)
			}
			if got, err := store.Role(t.Context(), tt.room, "grace"); err != nil || got != tt.role {
				t.Errorf("grace's role = %q (%v), want %q", got, err, tt.role)
			}
		})
	}
	if h := owner.ok(protocol.Command{Op: protocol.OpHistory, Room: "priv"}); len(h.Messages) != 0 {
		t.Errorf("priv's history = %+v, want nothing", h.Messages)
	}
	// Invited first, grace may be promoted and demoted.
	owner.ok(protocol.Command{Op: protocol.OpInvite, Room: "priv", User: "grace"})
	owner.ok(protocol.Command{Op: protocol.OpPromote, Room: "priv", User: "grace"})
	owner.ok(protocol.Command{Op: protocol.OpDemote, Room: "priv", User: "grace"})
}
