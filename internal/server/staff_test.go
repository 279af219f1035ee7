package server

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestJoinStaff: the join reply of a public room names its owner and
// moderators (RoomInfo.Staff) to whoever joins — a guest, an account with
// no role, a moderator, the owner — and is absent for a room that has
// none and for a private room (its roster says it). A promotion or
// demotion on this node shows at the next join, and an account's join
// reads the room's roles no more than it did for the joiner's own role.
func TestJoinStaff(t *testing.T) {
	acc := &roleCountingAccess{}
	s, _ := newAccountServer(t, func(c *Config) {
		c.ModerationCheck = time.Hour // what this node does shows at once all the same
		acc.Access = c.Access
		c.Access = acc
	})
	sam := s.account(t, s.register(t, "sam"))
	tess := s.account(t, s.register(t, "tess"))
	uma := s.account(t, s.register(t, "uma"))
	ada := s.guest(t, guestHeader(), "ada")
	sam.ok(protocol.Command{Op: protocol.OpCreate, Room: "hall"})
	sam.ok(protocol.Command{Op: protocol.OpPromote, Room: "hall", User: "tess"})
	sam.ok(protocol.Command{Op: protocol.OpCreate, Room: "solo"})
	sam.ok(protocol.Command{Op: protocol.OpCreate, Room: "den", Private: true})
	sam.ok(protocol.Command{Op: protocol.OpInvite, Room: "den", User: "tess"})
	sam.ok(protocol.Command{Op: protocol.OpPromote, Room: "den", User: "tess"})

	owner := protocol.Member{Name: "sam", Role: protocol.RoleOwner}
	mod := func(name string) protocol.Member { return protocol.Member{Name: name, Role: protocol.RoleModerator} }
	joiners := map[string]*tclient{"guest": ada, "member": uma, "moderator": tess, "owner": sam}
	staffOf := func(c *tclient, room string) []protocol.Member {
		t.Helper()
		return c.ok(protocol.Command{Op: protocol.OpJoin, Room: room}).Info.Staff
	}
	tests := []struct {
		name    string
		room    string
		joiners []string
		want    []protocol.Member
	}{
		{"owner and a moderator", "hall", []string{"guest", "member", "moderator", "owner"}, []protocol.Member{owner, mod("tess")}},
		{"owner, no moderators", "solo", []string{"guest", "member", "moderator", "owner"}, []protocol.Member{owner}},
		{"nobody (the default room)", "lobby", []string{"guest", "member", "moderator", "owner"}, nil},
		{"private: the roster says it", "den", []string{"moderator", "owner"}, nil},
	}
	for _, tt := range tests {
		for _, j := range tt.joiners {
			t.Run(tt.name+"/"+j, func(t *testing.T) {
				if diff := cmp.Diff(tt.want, staffOf(joiners[j], tt.room)); diff != "" {
					t.Errorf("staff (-want +got):\n%s", diff)
				}
			})
		}
	}

	// Changes made on this node show at the next join.
	sam.ok(protocol.Command{Op: protocol.OpPromote, Room: "solo", User: "uma"})
	if diff := cmp.Diff([]protocol.Member{owner, mod("uma")}, staffOf(ada, "solo")); diff != "" {
		t.Errorf("solo after promoting uma: staff (-want +got):\n%s", diff)
	}
	sam.ok(protocol.Command{Op: protocol.OpDemote, Room: "hall", User: "tess"})
	if diff := cmp.Diff([]protocol.Member{owner}, staffOf(ada, "hall")); diff != "" {
		t.Errorf("hall after demoting tess: staff (-want +got):\n%s", diff)
	}

	// The staff comes with the joiner's role: joins within the cache's
	// ttl read nothing more, whoever joins.
	staffOf(uma, "hall")
	before := acc.members.Load()
	for _, j := range []string{"guest", "member", "moderator", "owner"} {
		staffOf(joiners[j], "hall")
	}
	if n := acc.members.Load() - before; n != 0 {
		t.Errorf("four joins read the room's roles %d more times, want 0", n)
	}
}
