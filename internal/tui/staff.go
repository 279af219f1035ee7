package tui

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"github.com/hubbub-chat/hubbub/protocol"
)

// Who moderates a room: the "Here" panel marks the server's administrators,
// the owner and the moderators of the shown room as IRC clients do, &root,
// ~ada and @grace, and lists them first, in that order; /staff lists them,
// online or not.
//
// The roles come from the join reply (docs/protocol.md, "join"): a public
// room's info.staff, which names the server's administrators too (role
// admin), or a private room's or DM's roster, which lists every member and
// the role (only admin, owner and moderator are kept; a roster names no
// administrator). Every join,
// the re-join after a reconnect too, replaces them. After the join, the
// room's entries change them: a role entry gives its user the role in its
// body (promote: moderator; demote: member, which is no mark; owner: the
// new owner after the owner's account was deleted, and the old owner has
// none), and a kick entry about an account in a private room ends its
// role there. No entry changes an administrator's mark: the rank is the
// server's, not the room's, and shows until a join says otherwise. A ban keeps the role, and a role event to the user says what
// the room's role entry says, so neither changes anything here.
//
// Not seen until the next join: an account deleted while a moderator
// loses its role without an entry (only a room it owned gets one), and a
// public room's staff list may lag a promotion made on another server node
// just before the join, and an administrator made or unmade, by up to the
// moderation check interval. And who is
// online is known by name only (presence carries no guest flag): a guest
// who kept its name when an account of that name was registered, and the
// account made a moderator, would be marked as one.

// The marks of the administrators, owner and moderators in the "Here"
// panel and /staff (& as IRC's mark of an admin or protected user), and
// the blank in their place before everyone else. Each name in the
// panel comes after exactly one cell of mark: the panel's second column is
// the mark, the name starts in the third. Staff are accounts, whose names
// are a-z, 0-9, '-' and '_' starting with a letter (protocol.CheckUsername),
// so no account's name starts with &, ~ or @, and the server refuses a
// guest's display name that starts with @, ~, & or # (internal/names,
// Sigiled). A name from an older server may still, and never with a
// space: a guest called "@grace" is shown as "  @grace", its @ in the
// name column, one cell to the right of a moderator's mark.
const (
	adminMark     = "&"
	ownerMark     = "~"
	moderatorMark = "@"
	noMark        = " "
)

// roleMark is the mark of role in the panel: & for an administrator, ~
// for the owner, @ for a moderator, a blank for everyone else.
func roleMark(role string) string {
	switch role {
	case protocol.RoleAdmin:
		return adminMark
	case protocol.RoleOwner:
		return ownerMark
	case protocol.RoleModerator:
		return moderatorMark
	}
	return noMark
}

// roleRank orders the panel: the administrators, the owner, the
// moderators, everyone else.
func roleRank(role string) int {
	switch role {
	case protocol.RoleAdmin:
		return 0
	case protocol.RoleOwner:
		return 1
	case protocol.RoleModerator:
		return 2
	}
	return 3
}

// isStaff reports whether role is one the panel marks.
func isStaff(role string) bool {
	return role == protocol.RoleAdmin || role == protocol.RoleOwner || role == protocol.RoleModerator
}

// changesRole reports whether an entry of kind may change a role: a role
// entry, or a kick (in a private room, of an account).
func changesRole(kind string) bool {
	return kind == protocol.KindRole || kind == protocol.KindKick
}

// setStaff records the owner and moderators a join reply named in list
// (info.staff, or the roster), as of the room's seq asOf (info.last_seq),
// and applies the held entries after it: a role entry delivered before the
// reply was handled is not lost.
func (w *window) setStaff(list []protocol.Member, private bool, asOf int64) {
	w.staffList, w.private, w.staffSeq = slices.Clone(list), private, asOf
	w.replayRoles()
}

// replayRoles makes roles the join's list with every held entry after it
// applied, in seq order.
func (w *window) replayRoles() {
	clear(w.roles)
	for _, m := range w.staffList {
		if isStaff(m.Role) {
			w.roles[m.Name] = m.Role
		}
	}
	w.rolesSeq = w.staffSeq
	for _, e := range w.entries {
		if e.msg != nil && e.msg.Seq > w.staffSeq && changesRole(e.msg.Kind) {
			w.applyRole(e.msg)
		}
	}
}

// roleEntry applies a role or kick entry that has come to the room, and
// is held already. One the join's list is as of or newer than is part of
// it (replayRoles would skip it too; this spares a replay for each of the
// entries the client catches up with after a reconnect, which the re-join's
// list may be as of already); one older than an entry applied already
// (delivered out of order) is applied in order, by applying them all again.
func (w *window) roleEntry(msg *protocol.Message) {
	switch {
	case msg.Seq <= w.staffSeq:
	case msg.Seq > w.rolesSeq:
		w.applyRole(msg)
	default:
		w.replayRoles()
	}
}

// applyRole applies a role or kick entry to roles. An administrator's
// mark stays: their rank is above any role in the room.
func (w *window) applyRole(msg *protocol.Message) {
	w.rolesSeq = max(w.rolesSeq, msg.Seq)
	if w.roles[msg.User] == protocol.RoleAdmin {
		return
	}
	switch msg.Kind {
	case protocol.KindKick:
		// A kick from a private room ends the account's membership, its
		// role with it; from a public room it changes no role. A guest
		// (user_tag) has no role to lose, and its name may be an
		// account's.
		if w.private && msg.UserTag == "" {
			delete(w.roles, msg.User)
		}
	case protocol.KindRole:
		switch msg.Body {
		case protocol.RoleOwner:
			// A room has one owner: the one before (the deleted account
			// the entry is from) has no role any more.
			for u, r := range w.roles {
				if r == protocol.RoleOwner {
					delete(w.roles, u)
				}
			}
			w.roles[msg.User] = protocol.RoleOwner
		case protocol.RoleModerator:
			w.roles[msg.User] = protocol.RoleModerator
		default: // member, or a role this client does not know
			delete(w.roles, msg.User)
		}
	}
}

// hereList returns the members in the order of the panel: the owner, the
// moderators, then everyone else, each group sorted.
func (w *window) hereList() []string {
	list := slices.Sorted(maps.Keys(w.members))
	slices.SortStableFunc(list, func(a, b string) int {
		return roleRank(w.roles[a]) - roleRank(w.roles[b])
	})
	return list
}

// staff returns the administrators, owner and moderators, in that order,
// each group by name.
func (w *window) staff() []string {
	list := slices.Sorted(maps.Keys(w.roles))
	slices.SortStableFunc(list, func(a, b string) int {
		return roleRank(w.roles[a]) - roleRank(w.roles[b])
	})
	return list
}

// listStaff answers /staff: the server's administrators (in a public
// room), the owner and moderators of the shown room, online or not, with
// their marks.
func (m *Model) listStaff() {
	w := m.current()
	if !w.joined {
		m.note("Show the room first: /staff lists the owner and moderators of the room shown.")
		return
	}
	staff := w.staff()
	if len(staff) == 0 {
		m.note(w.title() + " has no owner or moderators.")
		return
	}
	heading := "Owner and moderators"
	if w.roles[staff[0]] == protocol.RoleAdmin { // ranked first
		heading = "Administrators, owner and moderators"
	}
	m.note(fmt.Sprintf("%s of %s (%d):", heading, w.title(), len(staff)))
	names := make([]string, len(staff))
	width := 0
	for i, u := range staff {
		names[i] = roleMark(w.roles[u]) + SanitizeLine(u)
		width = max(width, lipgloss.Width(names[i]))
	}
	for i, u := range staff {
		line := "  " + names[i] + strings.Repeat(" ", width-lipgloss.Width(names[i])) + "  " + w.roles[u]
		if w.members[u] {
			line += ", here"
		}
		m.note(line)
	}
	if len(w.staffList) >= protocol.MaxRoster {
		m.note(fmt.Sprintf("(The server lists at most %d; there may be more.)", protocol.MaxRoster))
	}
}
