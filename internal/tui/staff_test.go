package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// herePanel returns the lines of the "Here" panel under its heading, as
// shown (without the trailing blanks).
func herePanel(h *harness) []string {
	h.t.Helper()
	var out []string
	in := false
	for _, line := range strings.Split(h.view(), "\n") {
		left, _, ok := strings.Cut(line, "│")
		if !ok {
			continue
		}
		left = strings.TrimRight(left, " ")
		switch {
		case strings.HasPrefix(left, " Here ("):
			in = true
		case in && left == "":
			return out
		case in:
			out = append(out, left)
		}
	}
	return out
}

// notesSince returns the notes of w from its entry i on.
func notesSince(w *window, i int) []string {
	var out []string
	for _, e := range w.entries[i:] {
		if e.msg == nil {
			out = append(out, e.note)
		}
	}
	return out
}

// staffMarks returns the room's staff as /staff names them: marked.
func staffMarks(w *window) []string {
	var out []string
	for _, u := range w.staff() {
		out = append(out, roleMark(w.roles[u])+u)
	}
	return out
}

func roleEv(seq int64, from, user, role string) client.Event {
	return client.MessageEvent{Message: protocol.Message{Room: "ops", Seq: seq, Kind: protocol.KindRole, From: from, User: user, Body: role, TS: t0.UnixMilli()}}
}

func modEv(seq int64, kind, user, tag string) client.Event {
	return client.MessageEvent{Message: protocol.Message{Room: "ops", Seq: seq, Kind: kind, From: "grace", User: user, UserTag: tag, TS: t0.UnixMilli()}}
}

// TestStaffPanel: the "Here" panel marks the owner (~) and moderators (@)
// the join reply named (a public room's staff, a private room's roster),
// lists them first, and follows the role and kick entries after the join.
func TestStaffPanel(t *testing.T) {
	owner := func(n string) protocol.Member { return protocol.Member{Name: n, Role: protocol.RoleOwner} }
	mod := func(n string) protocol.Member { return protocol.Member{Name: n, Role: protocol.RoleModerator} }
	member := func(n string) protocol.Member { return protocol.Member{Name: n, Role: protocol.RoleMember} }
	admin := func(n string) protocol.Member { return protocol.Member{Name: n, Role: protocol.RoleAdmin} }
	tests := []struct {
		name      string
		private   bool
		lastSeq   int64
		staff     []protocol.Member // info.staff, or the roster of a private room
		members   []string          // online besides ada (the user)
		events    []client.Event
		wantHere  []string
		wantStaff []string
	}{
		{
			name:    "public room: owner, moderators, then everyone else",
			staff:   []protocol.Member{owner("grace"), mod("linus"), mod("bea")},
			members: []string{"zoe", "linus", "grace", "bob", "bea"},
			wantHere: []string{
				" ~grace", " @bea", " @linus", "  ada (you)", "  bob", "  zoe",
			},
			wantStaff: []string{"~grace", "@bea", "@linus"},
		},
		{
			name:    "public room: administrators first, then the owner, moderators, everyone else",
			staff:   []protocol.Member{admin("zed"), owner("grace"), mod("linus"), admin("root")},
			members: []string{"zoe", "linus", "grace", "zed", "root", "bob"},
			wantHere: []string{
				" &root", " &zed", " ~grace", " @linus", "  ada (you)", "  bob", "  zoe",
			},
			wantStaff: []string{"&root", "&zed", "~grace", "@linus"},
		},
		{
			name:      "an administrator's mark stays whatever the room's entries say",
			staff:     []protocol.Member{owner("grace"), admin("root"), admin("zed")},
			members:   []string{"root", "zed"},
			events:    []client.Event{roleEv(1, "grace", "root", protocol.RoleModerator), roleEv(2, "grace", "zed", protocol.RoleMember), modEv(3, protocol.KindKick, "zed", "")},
			wantHere:  []string{" &root", "  ada (you)"},
			wantStaff: []string{"&root", "&zed", "~grace"},
		},
		{
			// Guests may take names that start with a mark: the mark
			// column stays blank for them, their name one cell further.
			name:      "a guest called like a mark",
			staff:     []protocol.Member{mod("grace")},
			members:   []string{"@grace", "~ada", "grace"},
			wantHere:  []string{" @grace", "  @grace", "  ada (you)", "  ~ada"},
			wantStaff: []string{"@grace"},
		},
		{
			name:      "no staff",
			members:   []string{"bob"},
			wantHere:  []string{"  ada (you)", "  bob"},
			wantStaff: nil,
		},
		{
			name:      "private room: roster",
			private:   true,
			staff:     []protocol.Member{owner("grace"), mod("linus"), member("ada"), member("bob")},
			members:   []string{"grace", "bob"},
			wantHere:  []string{" ~grace", "  ada (you)", "  bob"},
			wantStaff: []string{"~grace", "@linus"},
		},
		{
			name:      "promoted after the join",
			staff:     []protocol.Member{owner("grace")},
			members:   []string{"grace", "bob"},
			events:    []client.Event{roleEv(1, "grace", "bob", protocol.RoleModerator), roleEv(2, "grace", "ada", protocol.RoleModerator)},
			wantHere:  []string{" ~grace", " @ada (you)", " @bob"},
			wantStaff: []string{"~grace", "@ada", "@bob"},
		},
		{
			name:      "demoted after the join",
			staff:     []protocol.Member{owner("grace"), mod("bob")},
			members:   []string{"bob"},
			events:    []client.Event{roleEv(1, "grace", "bob", protocol.RoleMember)},
			wantHere:  []string{"  ada (you)", "  bob"},
			wantStaff: []string{"~grace"},
		},
		{
			name:      "the owner's account deleted: the moderator it hands the room to owns it",
			staff:     []protocol.Member{owner("grace"), mod("linus"), mod("bea")},
			members:   []string{"linus", "grace"},
			events:    []client.Event{roleEv(1, "grace", "linus", protocol.RoleOwner)},
			wantHere:  []string{" ~linus", "  ada (you)", "  grace"},
			wantStaff: []string{"~linus", "@bea"},
		},
		{
			name:      "a kick from a private room ends the role",
			private:   true,
			staff:     []protocol.Member{owner("grace"), mod("linus")},
			members:   []string{"linus"},
			events:    []client.Event{modEv(1, protocol.KindKick, "linus", "")},
			wantHere:  []string{"  ada (you)"},
			wantStaff: []string{"~grace"},
		},
		{
			name:      "a kick from a public room does not",
			staff:     []protocol.Member{owner("grace"), mod("linus")},
			members:   []string{"linus"},
			events:    []client.Event{modEv(1, protocol.KindKick, "linus", "")},
			wantHere:  []string{"  ada (you)"},
			wantStaff: []string{"~grace", "@linus"},
		},
		{
			name:      "a kick of a guest with a moderator's name does not",
			private:   true,
			staff:     []protocol.Member{mod("linus")},
			events:    []client.Event{modEv(1, protocol.KindKick, "linus", "g1")},
			wantHere:  []string{"  ada (you)"},
			wantStaff: []string{"@linus"},
		},
		{
			name:      "a ban keeps the role",
			private:   true,
			staff:     []protocol.Member{mod("linus")},
			members:   []string{"linus"},
			events:    []client.Event{modEv(1, protocol.KindBan, "linus", "")},
			wantHere:  []string{"  ada (you)"},
			wantStaff: []string{"@linus"},
		},
		{
			name:      "entries the join's list is as of are in it already",
			lastSeq:   5,
			staff:     []protocol.Member{mod("linus")},
			members:   []string{"linus"},
			events:    []client.Event{roleEv(4, "grace", "linus", protocol.RoleMember), roleEv(3, "grace", "bob", protocol.RoleModerator)},
			wantHere:  []string{" @linus", "  ada (you)"},
			wantStaff: []string{"@linus"},
		},
		{
			name:      "an entry that comes after a newer one applies before it",
			staff:     []protocol.Member{mod("linus")},
			members:   []string{"linus"},
			events:    []client.Event{roleEv(2, "grace", "linus", protocol.RoleMember), roleEv(1, "grace", "linus", protocol.RoleModerator)},
			wantHere:  []string{"  ada (you)", "  linus"},
			wantStaff: nil,
		},
		{
			name:      "a role this client does not know is no mark",
			staff:     []protocol.Member{mod("linus"), {Name: "bob", Role: "admiral"}},
			members:   []string{"linus", "bob"},
			events:    []client.Event{roleEv(1, "grace", "linus", "admiral")},
			wantHere:  []string{"  ada (you)", "  bob", "  linus"},
			wantStaff: nil,
		},
		{
			name:      "names are sanitized",
			staff:     []protocol.Member{owner("gr\x1b[2Jace"), mod("li\u202enus")},
			members:   []string{"gr\x1b[2Jace", "li\u202enus"},
			wantHere:  []string{" ~gr^[[2Jace", " @li<U+202E>nus", "  ada (you)"},
			wantStaff: []string{"~gr\x1b[2Jace", "@li\u202enus"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("ada", false)
			f.addRoom("ops", "", 0, tt.members...)
			r := f.rooms["ops"]
			r.info.LastSeq, r.info.Private = tt.lastSeq, tt.private
			if tt.private {
				r.roster = tt.staff
			} else {
				r.info.Staff = tt.staff
			}
			h := newHarness(t, f, 100, 30, "ops")
			h.events(tt.events...)
			if diff := cmp.Diff(tt.wantHere, herePanel(h)); diff != "" {
				t.Errorf("Here panel (-want +got):\n%s\n%s", diff, h.view())
			}
			if diff := cmp.Diff(tt.wantStaff, staffMarks(h.m.find("ops"))); diff != "" {
				t.Errorf("staff (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStaffRejoin: every join replaces the roles with its list, and the
// role entries held that are newer than the list still apply: one
// delivered before the reply was handled is not lost.
func TestStaffRejoin(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("ops", "", 0, "linus", "bob")
	f.rooms["ops"].info.Staff = []protocol.Member{{Name: "linus", Role: protocol.RoleModerator}}
	h := newHarness(t, f, 100, 30, "ops")
	h.wantView(" @linus")
	h.events(roleEv(1, "grace", "bob", protocol.RoleModerator), roleEv(2, "grace", "ada", protocol.RoleModerator))

	// The reply of a re-join as of seq 1: linus is no moderator any more
	// (his account was deleted, say), bob is; ada's promotion at seq 2
	// came before the reply was handled.
	h.send(joinedMsg{room: "ops", refresh: true, members: []string{"ada", "bob", "linus"},
		info: protocol.RoomInfo{Name: "ops", LastSeq: 1, Staff: []protocol.Member{{Name: "bob", Role: protocol.RoleModerator}}}})
	if diff := cmp.Diff([]string{" @ada (you)", " @bob", "  linus"}, herePanel(h)); diff != "" {
		t.Errorf("Here panel after the re-join (-want +got):\n%s", diff)
	}
}

// TestStaffCommand: /staff lists the owner and moderators of the shown
// room, online ("here") or not, sanitized; says when there are none, and
// when the server's list may be cut short; and wants a room shown.
func TestStaffCommand(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("ops", "", 0, "linus")
	f.rooms["ops"].info.Staff = []protocol.Member{
		{Name: "grace", Role: protocol.RoleOwner}, {Name: "linus", Role: protocol.RoleModerator}, {Name: "b\x07ea", Role: protocol.RoleModerator},
	}
	f.addRoom("lobby", "", 0, "bob")
	f.addRoom("hall", "", 0, "root")
	f.rooms["hall"].info.Staff = []protocol.Member{
		{Name: "grace", Role: protocol.RoleOwner}, {Name: "root", Role: protocol.RoleAdmin}, {Name: "zed", Role: protocol.RoleAdmin},
	}
	var roster []protocol.Member
	for i := range protocol.MaxRoster {
		roster = append(roster, protocol.Member{Name: fmt.Sprintf("user%04d", i), Role: protocol.RoleMember})
	}
	roster[7].Role = protocol.RoleOwner
	f.addRoom("big", "", 0)
	f.rooms["big"].info.Private = true
	f.rooms["big"].roster = roster
	h := newHarness(t, f, 100, 40, "ops", "lobby", "hall", "big")

	tests := []struct {
		room string // "" for the status window
		want []string
	}{
		{"ops", []string{
			"Owner and moderators of #ops (3):",
			"  ~grace  owner",
			"  @b^Gea  moderator",
			"  @linus  moderator, here",
		}},
		{"lobby", []string{"#lobby has no owner or moderators."}},
		{"hall", []string{
			"Administrators, owner and moderators of #hall (3):",
			"  &root   admin, here",
			"  &zed    admin",
			"  ~grace  owner",
		}},
		{"big", []string{
			"Owner and moderators of #big (1):",
			"  ~user0007  owner",
			"(The server lists at most 1000; there may be more.)",
		}},
		{"", []string{"Show the room first: /staff lists the owner and moderators of the room shown."}},
	}
	for _, tt := range tests {
		i := 0
		if tt.room != "" {
			i = h.m.index(tt.room)
		}
		h.m.show(i)
		w := h.m.current()
		n := len(w.entries)
		h.typeText("/staff", true)
		if diff := cmp.Diff(tt.want, notesSince(w, n)); diff != "" {
			t.Errorf("/staff in %q (-want +got):\n%s", tt.room, diff)
		}
	}
	if !slices.ContainsFunc(Help, func(l string) bool { return strings.HasPrefix(l, "  /staff ") }) {
		t.Error("/help does not list /staff")
	}
	h.m.show(h.m.index("ops"))
	h.wantView("@b^Gea  moderator")
}
