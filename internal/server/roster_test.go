package server

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestJoinRoster: the join reply of a private room lists everyone who
// belongs to it, online or not, with their roles; a public room's has none.
func TestJoinRoster(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	alice := s.account(t, s.register(t, "alice"))
	s.register(t, "grace") // invited, never online
	s.register(t, "linus")
	alice.ok(protocol.Command{Op: protocol.OpCreate, Room: "books", Private: true})
	alice.ok(protocol.Command{Op: protocol.OpInvite, Room: "books", User: "linus"})
	alice.ok(protocol.Command{Op: protocol.OpInvite, Room: "books", User: "grace"})
	alice.ok(protocol.Command{Op: protocol.OpPromote, Room: "books", User: "grace"})

	tests := []struct {
		room string
		want []protocol.Member
	}{
		{"books", []protocol.Member{
			{Name: "alice", Role: protocol.RoleOwner},
			{Name: "grace", Role: protocol.RoleModerator},
			{Name: "linus", Role: protocol.RoleMember},
		}},
		{"lobby", nil},
	}
	for _, tc := range tests {
		ev := alice.ok(protocol.Command{Op: protocol.OpJoin, Room: tc.room})
		if diff := cmp.Diff(tc.want, ev.Roster); diff != "" {
			t.Errorf("join %s: roster (-want +got):\n%s", tc.room, diff)
		}
		if tc.room == "books" && len(ev.Members) != 1 {
			t.Errorf("join %s: members = %v, want only alice online", tc.room, ev.Members)
		}
	}
}
