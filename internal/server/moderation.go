package server

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/names"
	"github.com/hubbub-chat/hubbub/protocol"
)

// userTopic receives the events addressed to one user (invitations,
// moderation) for one of their connections, on every node.
type userTopic struct {
	ss   *session
	c    *conn
	name string // the user; immutable
	key  string // userKey; immutable
}

// Deliver implements hub.Member. It runs on the hub's or the broker's
// goroutine, so it only queues: leaving a room takes hub locks, and
// happens on a goroutine of its own.
func (u *userTopic) Deliver(payload []byte) {
	ev, err := protocol.DecodeEvent(payload)
	if err != nil {
		return
	}
	if ev.Type == protocol.TypeRead {
		u.deliverRead(ev, payload)
		return
	}
	ss := u.ss
	switch ev.Type {
	case protocol.TypeKicked, protocol.TypeBanned, protocol.TypeUnbanned, protocol.TypeMuted, protocol.TypeUnmuted:
		if ev.User != u.name {
			// Addressed to this user's key, so it is about them: a guest
			// on another node is named as the moderator typed the name
			// ("mallory" for Mallory; the store's lease of the name
			// knows the identity, not the spelling). The user is told
			// by their own name, which is what their client knows.
			ev.User = u.name
			b, err := protocol.EncodeEvent(&ev)
			if err != nil {
				return
			}
			payload = b
		}
	}
	if ev.User == u.name {
		ss.forgetSanctions(ev.Room) // the store has changed: ask it again
	}
	out := false
	ss.mu.Lock()
	if ev.User == u.name && (ev.Type == protocol.TypeKicked || ev.Type == protocol.TypeBanned) {
		if n, ok := ss.toldOut[ev.Room]; ok && n == noticeOf(ev) {
			// The room's entry of this very action told this
			// connection and took it out already (entryOut).
			delete(ss.toldOut, ev.Room)
			ss.mu.Unlock()
			return
		}
		if jr, in := ss.joined.get(ev.Room); in && jr.checked == 0 {
			// Still joining: the join takes the connection out and
			// answers with an error, after this event.
			n := noticeOf(ev)
			jr.out = &n
		} else {
			out = ss.joined.remove(ev.Room)
		}
	}
	jr, inRoom := ss.joined.get(ev.Room)
	if inRoom && ev.User == u.name {
		switch ev.Type {
		case protocol.TypeMuted:
			jr.muted, jr.mutedUntil = true, time.UnixMilli(ev.Until)
			if ev.Until == 0 {
				jr.mutedUntil = time.Time{}
			}
		case protocol.TypeUnmuted:
			jr.muted, jr.mutedUntil = false, time.Time{}
		}
	}
	ss.mu.Unlock()
	if out {
		ss.srv.bg.Go(func() { ss.leaveHub(ev.Room, u.c) })
	}
	// The typed events reach only the user's own sessions, in the room or
	// not; the room sees the action as an entry of its sequence.
	u.c.enqueue(outMsg{data: payload})
}

// outNotice is what a kicked or banned event says, as a kick or ban entry
// of the room says it too.
type outNotice struct {
	typ, by, reason string
	until           int64
}

func noticeOf(ev protocol.Event) outNotice {
	return outNotice{typ: ev.Type, by: ev.By, reason: ev.Reason, until: ev.Until}
}

// Kinds of the entries that take their target out of the room, as they
// appear in an encoded message event. Inside a string (a body, a name) a
// quote is escaped, so only the kind field itself matches.
var (
	kickKind = []byte(`"kind":"` + protocol.KindKick + `"`)
	banKind  = []byte(`"kind":"` + protocol.KindBan + `"`)
)

// entryDelivered is the hub's Config.Delivered: it sees every message
// event once this node's members of the room have it, in room order. A
// kick or ban entry takes its target's connections on this node out of
// the room and tells them (entryOut), as the kicked or banned event
// would. That event is news, which the broker between nodes may lose;
// the entry is the room's record, which reaches every node that serves
// the room (from the broker, or from the store at the next heal round),
// so a removed user never goes on reading, or writing to, a room (a
// private one above all) on another node. The target is found on this
// node by identity, never by a name that merely compares equal: an
// account's connections by its name, a guest's (an entry with a
// user_tag) by the identity whose guestTag the entry carries. A guest
// who kept its name when an account of that name was registered is never
// taken for the account, nor the account for the guest.
func (s *Server) entryDelivered(room string, seq int64, event []byte) {
	if !bytes.Contains(event, kickKind) && !bytes.Contains(event, banKind) {
		return
	}
	ev, err := protocol.DecodeEvent(event)
	if err != nil || ev.Type != protocol.TypeMessage || ev.Message == nil {
		return
	}
	m := ev.Message
	n := outNotice{typ: protocol.TypeKicked, by: m.From, reason: m.Body}
	switch m.Kind {
	case protocol.KindKick:
	case protocol.KindBan:
		n.typ, n.until = protocol.TypeBanned, m.Until
	default:
		return
	}
	key := m.User // an account: its name is its identity
	if m.UserTag != "" {
		var ok bool
		key, ok = s.guests.onlineMatching(names.Key(m.User), func(k string) bool { return guestTag(room, seq, k) == m.UserTag })
		if !ok {
			return // not online here
		}
	}
	for _, mem := range s.hub.UserMembers(key) {
		if u, ok := mem.(*userTopic); ok {
			u.entryOut(room, seq, n)
		}
	}
}

// entryOut takes this connection out of room, where a kick or ban entry
// at seq removed its user, and tells it so with a kicked or banned event
// made of the entry. It does nothing if the connection is not in the
// room (the event was first). A connection still joining the room is
// told, and the join takes it out (joinedRoom.out). It runs on the hub's
// goroutines, so it only queues: leaving the room's hub happens on a
// goroutine of its own.
//
// An entry at or before the join's since was in the room before the join
// read it, but not necessarily before the join decided that the user may
// enter: that decision may rest on a cached answer up to
// Config.ModerationCheck old, or have been made before the kick or ban
// was committed, and the kicked or banned event may be lost between
// nodes. So such an entry has the user's access asked of the store again
// (recheckOut), and so does one that arrives while the connection is not
// in the room's joined set, for a join of it that may be in flight (the
// join asks, through lateOut). Only a kick or ban of this very user costs
// that read, never an ordinary join. An entry this node never delivers,
// committed before it served the room, is the join's own to find
// (joingap.go).
func (u *userTopic) entryOut(room string, seq int64, n outNotice) {
	ss := u.ss
	ss.mu.Lock()
	jr, in := ss.joined.get(room)
	joining := in && jr.checked == 0
	switch {
	case !in:
		if ss.lateOut == nil {
			ss.lateOut = make(map[string]lateOut)
		}
		ss.lateOut[room] = lateOut{n: n, at: monoNow()}
		ss.mu.Unlock()
		ss.forgetSanctions(room)
		return
	case jr.out != nil:
		ss.mu.Unlock()
		return
	case !joining && seq <= jr.since:
		ss.mu.Unlock()
		ss.srv.bg.Go(func() { u.recheckOut(room, jr, n) })
		return
	case joining:
		jr.out = &n
	default:
		ss.joined.remove(room)
	}
	u.toldOut(room, n, !joining)
}

// toldOut finishes taking the connection out of room with notice n, ss.mu
// held and the joined record already dealt with: it unlocks, tells the
// connection, and (leave) leaves the room's hub on a goroutine of its own.
func (u *userTopic) toldOut(room string, n outNotice, leave bool) {
	ss := u.ss
	if ss.toldOut == nil {
		ss.toldOut = make(map[string]outNotice)
	}
	ss.toldOut[room] = n
	ss.mu.Unlock()
	ss.forgetSanctions(room)
	b, err := protocol.EncodeEvent(&protocol.Event{Type: n.typ, Room: room, User: u.name, By: n.by, Reason: n.reason, Until: n.until})
	if err == nil {
		u.c.enqueue(outMsg{data: b})
	}
	if leave {
		ss.srv.bg.Go(func() { ss.leaveHub(room, u.c) })
	}
}

// lateOut is a kick or ban entry about the session's user that arrived,
// at monoNow at, while the connection was not in the room.
type lateOut struct {
	n  outNotice
	at int64
}

// stillAllowed asks the store, past the node's caches, whether the
// session may still be in room. It answers true unless the store says
// no (banned, or no role in a private room): a store that fails leaves
// the session where it is.
func (ss *session) stillAllowed(ctx context.Context, room string) bool {
	ss.forgetSanctions(room)
	_, _, err := ss.access(ctx, room)
	return err == nil || !errors.Is(err, chat.ErrNoSuchRoom) && protocol.CodeOf(err) != protocol.CodeBanned && protocol.CodeOf(err) != protocol.CodeNoSuchRoom
}

// recheckOut takes the connection out of room, told with n, if the store
// says its user may no longer be there and it is still in the room by
// the join jr (see entryOut).
func (u *userTopic) recheckOut(room string, jr *joinedRoom, n outNotice) {
	ss := u.ss
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if ss.stillAllowed(ctx, room) {
		return
	}
	ss.mu.Lock()
	if cur, in := ss.joined.get(room); !in || cur != jr {
		ss.mu.Unlock() // left meanwhile, or joined again
		return
	}
	ss.joined.remove(room)
	ss.srv.log.Info("moderation: out after a late entry", "room", room, "target", u.key)
	u.toldOut(room, n, true)
}

// rank orders authority: a user may moderate those of lower rank.
func rank(role string, admin bool) int {
	if admin {
		return 4
	}
	switch role {
	case protocol.RoleOwner:
		return 3
	case protocol.RoleModerator:
		return 2
	case protocol.RoleMember:
		return 1
	}
	return 0
}

var errNoModeration = protocol.Errorf(protocol.CodeForbidden, "moderation needs accounts on this server")

// moderate checks that the caller may moderate the user named user in
// room, and returns the room, the resolved target and the target's role.
func (ss *session) moderate(ctx context.Context, room, user string) (chat.Room, target, string, error) {
	acc := ss.srv.cfg.Access
	if acc == nil || ss.self.Guest {
		return chat.Room{}, target{}, "", errNoModeration
	}
	r, role, err := ss.access(ctx, room)
	if err != nil {
		return r, target{}, "", err
	}
	if _, _, dm := protocol.DMPeers(room); dm {
		return r, target{}, "", protocol.Errorf(protocol.CodeForbidden, "direct-message rooms have no moderation")
	}
	if r.Archived {
		return r, target{}, "", errArchived(room)
	}
	mine := rank(role, ss.admin())
	if mine < 2 {
		return r, target{}, "", protocol.Errorf(protocol.CodeForbidden, "only the owner and moderators of %s may do that", room)
	}
	t, err := ss.resolveTarget(ctx, user)
	if err != nil {
		return r, t, "", err
	}
	targetRole := ""
	if t.account {
		if targetRole, err = acc.Role(ctx, room, t.key); err != nil {
			return r, t, "", err
		}
	}
	if t.key == ss.userKey() || rank(targetRole, t.admin) >= mine {
		return r, t, "", protocol.Errorf(protocol.CodeForbidden, "you may not do that to %s", t.name)
	}
	return r, t, targetRole, nil
}

// record appends e, the entry of a moderation action already applied, to
// its room's sequence through the committer, tells the target's own
// connections with ev (if not nil) and replies reply to the command id.
// key is the target's user key (session.userKey, target.key): an account
// name or a guest identity; hub.UserEvent delivers to the connections with
// exactly that key, on every node. It returns at once; the reply follows
// the commit, like a send's.
//
// The order is the contract. A kick or ban takes the target out of the
// room when their own copy arrives, so the room's entry goes first (the
// target sees it before leaving). Every other change (a mute lifted, say)
// must be in force on the target's connections before anyone, the target
// included, reads of it: their copy goes first, as the committer
// acknowledges, before it publishes the entry. The hub keeps the order of
// the two for a room, on every node.
//
// If the entry cannot be stored, the action stays applied (the store says
// so to every check) and the target is told all the same; the caller gets
// the error and may repeat the command.
func (ss *session) record(c *conn, id string, e chat.NewMessage, ev *protocol.Event, key string, reply protocol.Event) error {
	var b []byte
	if ev != nil {
		var err error
		if b, err = protocol.EncodeEvent(ev); err != nil {
			return err
		}
	}
	tell := func() {
		if b != nil {
			ss.srv.hub.UserEvent(key, ev.Room, b)
		}
	}
	roomFirst := e.Kind == chat.KindKick || e.Kind == chat.KindBan
	e.Author, e.Guest = ss.self.Name, ss.self.Guest
	p := pendingSend{
		msg: e,
		at:  time.Now(),
		done: func(res chat.AppendResult, err error) {
			if err == nil {
				err = res.Err
			}
			if err != nil || !roomFirst {
				tell()
			}
			if err != nil {
				ss.replyErr(c, id, err)
				return
			}
			ss.replyAck(c, id, reply)
		},
	}
	if roomFirst {
		p.published = func(chat.Message) { tell() }
	}
	if !ss.srv.commit.submit(p) {
		tell()
		return errStopping
	}
	return nil
}

// untilOf is the end of a sanction lasting seconds, zero for none.
func untilOf(seconds int) time.Time {
	if seconds <= 0 {
		return time.Time{}
	}
	return time.Now().Add(time.Duration(seconds) * time.Second).Truncate(time.Millisecond)
}

// millisOf is t in Unix ms, 0 for the zero time.
func millisOf(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// timeOfMillis is the inverse of millisOf.
func timeOfMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func (ss *session) requireAccount() error {
	if ss.self.Guest || ss.srv.cfg.Access == nil || ss.srv.cfg.Accounts == nil {
		return protocol.Errorf(protocol.CodeForbidden, "only signed-in users can do that")
	}
	return nil
}

// account returns the named account or no_such_user.
func (ss *session) account(ctx context.Context, name string) (chat.User, error) {
	u, err := ss.srv.cfg.Accounts.User(ctx, name)
	if errors.Is(err, chat.ErrNoSuchUser) || err == nil && u.Disabled {
		return u, protocol.Errorf(protocol.CodeNoSuchUser, "no user %s", name)
	}
	return u, err
}

// dm opens the direct-message room of the caller and cmd.User, creating
// it with both as members if needed, and tells the other user.
func (ss *session) dm(ctx context.Context, c *conn, cmd *protocol.Command) error {
	if err := ss.requireAccount(); err != nil {
		return err
	}
	if cmd.User == ss.self.Name {
		return protocol.Errorf(protocol.CodeInvalidValue, "a direct message needs another user")
	}
	if _, err := ss.account(ctx, cmd.User); err != nil {
		return err
	}
	if err := ss.checkDMOpen(ctx, cmd.User); err != nil {
		return err
	}
	name := protocol.DMRoom(ss.self.Name, cmd.User)
	err := ss.srv.cfg.Store.CreateRoom(ctx, chat.Room{Name: name, Private: true})
	created := err == nil
	if err != nil && !errors.Is(err, chat.ErrRoomExists) {
		return err
	}
	for _, u := range []string{ss.self.Name, cmd.User} {
		if err := ss.setRole(ctx, name, u, protocol.RoleMember); err != nil {
			return err
		}
	}
	r, err := ss.srv.cfg.Store.Room(ctx, name)
	if err != nil {
		return err
	}
	info := ss.roomInfo(r, protocol.RoleMember)
	if created {
		// A new DM is no moderation: no entry, only the other user's notice.
		if b, err := protocol.EncodeEvent(&protocol.Event{Type: protocol.TypeInvited, Room: name, User: cmd.User, By: ss.self.Name}); err == nil {
			ss.srv.hub.UserEvent(cmd.User, name, b)
		}
	}
	ss.replyOK(c, cmd.ID, protocol.Event{Room: name, Info: &info})
	return nil
}

func (ss *session) invite(ctx context.Context, c *conn, cmd *protocol.Command) error {
	if err := ss.requireAccount(); err != nil {
		return err
	}
	r, role, err := ss.access(ctx, cmd.Room)
	if err != nil {
		return err
	}
	if _, _, dm := protocol.DMPeers(cmd.Room); dm || !r.Private {
		return protocol.Errorf(protocol.CodeInvalidValue, "invitations are for private rooms; anyone may join %s", cmd.Room)
	}
	if r.Archived {
		return errArchived(cmd.Room)
	}
	if rank(role, ss.admin()) < 2 {
		return protocol.Errorf(protocol.CodeForbidden, "only the owner and moderators of %s may invite", cmd.Room)
	}
	if _, err := ss.account(ctx, cmd.User); err != nil {
		return err
	}
	acc := ss.srv.cfg.Access
	if cur, err := acc.Role(ctx, cmd.Room, cmd.User); err != nil {
		return err
	} else if cur == "" {
		if err := ss.setRole(ctx, cmd.Room, cmd.User, protocol.RoleMember); err != nil {
			return err
		}
		return ss.record(c, cmd.ID,
			chat.NewMessage{Room: cmd.Room, Kind: chat.KindInvite, User: cmd.User},
			&protocol.Event{Type: protocol.TypeInvited, Room: cmd.Room, User: cmd.User, By: ss.self.Name}, cmd.User,
			protocol.Event{Room: cmd.Room, User: cmd.User})
	}
	ss.replyOK(c, cmd.ID, protocol.Event{Room: cmd.Room, User: cmd.User})
	return nil
}

// kickOrBan removes the target from the room on every node (a kick also
// from a private room's members); ban also keeps them out, and leaves
// their role as it is, to come back with them. The room's owner can
// be neither kicked nor banned, by anyone: either would leave the room
// without anybody to manage it (a private one, without anybody but
// administrators who can even see it). An administrator may still mute
// the owner, archive or delete the room, or disable the account.
func (ss *session) kickOrBan(ctx context.Context, c *conn, cmd *protocol.Command) error {
	r, t, targetRole, err := ss.moderate(ctx, cmd.Room, cmd.User)
	if err != nil {
		return err
	}
	if targetRole == protocol.RoleOwner {
		return protocol.Errorf(protocol.CodeForbidden, "%s owns %s and cannot be removed from it; archive or delete the room instead", t.name, cmd.Room)
	}
	ev := &protocol.Event{Type: protocol.TypeKicked, Room: cmd.Room, User: t.name, By: ss.self.Name, Reason: cmd.Reason}
	e := chat.NewMessage{Room: cmd.Room, Kind: chat.KindKick, User: t.name, UserKey: t.guestKey(), Body: cmd.Reason}
	if cmd.Op == protocol.OpBan {
		ev.Type, e.Kind = protocol.TypeBanned, chat.KindBan
		until := untilOf(cmd.Seconds)
		ev.Until, e.Until = millisOf(until), until
		if err := ss.setSanction(ctx, t, chat.Sanction{Room: cmd.Room, Kind: chat.Ban, Until: until, By: ss.self.Name, Reason: cmd.Reason}); err != nil {
			return err
		}
	}
	// A kick from a private room ends the membership (the role); a ban
	// keeps the role, which allows nothing while the ban lasts (access
	// answers banned first) and is theirs again when it ends or is lifted.
	if t.account && r.Private && cmd.Op == protocol.OpKick && targetRole != "" {
		if err := ss.setRole(ctx, cmd.Room, t.key, ""); err != nil {
			return err
		}
	}
	ss.srv.log.Info("moderation", "op", cmd.Op, "room", cmd.Room, "target", t.key)
	return ss.record(c, cmd.ID, e, ev, t.key, protocol.Event{Room: cmd.Room, User: t.name})
}

func (ss *session) unban(ctx context.Context, c *conn, cmd *protocol.Command) error {
	_, t, _, err := ss.moderate(ctx, cmd.Room, cmd.User)
	if err != nil {
		return err
	}
	if err := ss.clearSanction(ctx, t, cmd.Room, chat.Ban); err != nil {
		return err
	}
	ss.srv.log.Info("moderation", "op", cmd.Op, "room", cmd.Room, "target", t.key)
	return ss.record(c, cmd.ID,
		chat.NewMessage{Room: cmd.Room, Kind: chat.KindUnban, User: t.name, UserKey: t.guestKey()},
		&protocol.Event{Type: protocol.TypeUnbanned, Room: cmd.Room, User: t.name, By: ss.self.Name}, t.key,
		protocol.Event{Room: cmd.Room, User: t.name})
}

func (ss *session) mute(ctx context.Context, c *conn, cmd *protocol.Command) error {
	_, t, _, err := ss.moderate(ctx, cmd.Room, cmd.User)
	if err != nil {
		return err
	}
	ev := &protocol.Event{Type: protocol.TypeUnmuted, Room: cmd.Room, User: t.name, By: ss.self.Name}
	e := chat.NewMessage{Room: cmd.Room, Kind: chat.KindUnmute, User: t.name, UserKey: t.guestKey()}
	if cmd.Op == protocol.OpMute {
		ev.Type, ev.Reason = protocol.TypeMuted, cmd.Reason
		until := untilOf(cmd.Seconds)
		ev.Until = millisOf(until)
		e.Kind, e.Body, e.Until = chat.KindMute, cmd.Reason, until
		if err := ss.setSanction(ctx, t, chat.Sanction{Room: cmd.Room, Kind: chat.Mute, Until: until, By: ss.self.Name, Reason: cmd.Reason}); err != nil {
			return err
		}
	} else if err := ss.clearSanction(ctx, t, cmd.Room, chat.Mute); err != nil {
		return err
	}
	ss.srv.log.Info("moderation", "op", cmd.Op, "room", cmd.Room, "target", t.key)
	return ss.record(c, cmd.ID, e, ev, t.key, protocol.Event{Room: cmd.Room, User: t.name})
}

func (ss *session) topic(ctx context.Context, c *conn, cmd *protocol.Command) error {
	if err := ss.requireAccount(); err != nil {
		return err
	}
	r, role, err := ss.access(ctx, cmd.Room)
	if err != nil {
		return err
	}
	if rank(role, ss.admin()) < 2 {
		return protocol.Errorf(protocol.CodeForbidden, "only the owner and moderators of %s may set its topic", cmd.Room)
	}
	if r.Archived {
		return errArchived(cmd.Room)
	}
	if err := ss.srv.cfg.Access.SetTopic(ctx, cmd.Room, cmd.Topic); err != nil {
		return err
	}
	ss.srv.roomRows.forget(cmd.Room)
	return ss.record(c, cmd.ID, chat.NewMessage{Room: cmd.Room, Kind: chat.KindTopic, Body: cmd.Topic},
		nil, "", protocol.Event{Room: cmd.Room})
}

// promote makes a moderator (or, demote, a plain member); owner and
// administrators only. In a private room it acts on members only: a user
// with no role there gets invalid_value (invite comes first).
func (ss *session) promote(ctx context.Context, c *conn, cmd *protocol.Command) error {
	if err := ss.requireAccount(); err != nil {
		return err
	}
	r, role, err := ss.access(ctx, cmd.Room)
	if err != nil {
		return err
	}
	if _, _, dm := protocol.DMPeers(cmd.Room); dm {
		return protocol.Errorf(protocol.CodeForbidden, "direct-message rooms have no roles to give")
	}
	if r.Archived {
		return errArchived(cmd.Room)
	}
	if rank(role, ss.admin()) < 3 {
		return protocol.Errorf(protocol.CodeForbidden, "only the owner of %s may change roles", cmd.Room)
	}
	if _, err := ss.account(ctx, cmd.User); err != nil {
		return err
	}
	acc := ss.srv.cfg.Access
	cur, err := acc.Role(ctx, cmd.Room, cmd.User)
	if err != nil {
		return err
	}
	if cur == protocol.RoleOwner {
		return protocol.Errorf(protocol.CodeForbidden, "the owner's role cannot change")
	}
	if cur == "" && r.Private {
		// A role in a private room is its membership: giving one would
		// let the user in with no invite entry and no invited event.
		return protocol.Errorf(protocol.CodeInvalidValue, "%s is not a member of %s: invite them first", cmd.User, cmd.Room)
	}
	newRole := protocol.RoleModerator
	if cmd.Op == protocol.OpDemote {
		newRole = protocol.RoleMember
	}
	if err := ss.setRole(ctx, cmd.Room, cmd.User, newRole); err != nil {
		return err
	}
	return ss.record(c, cmd.ID,
		chat.NewMessage{Room: cmd.Room, Kind: chat.KindRole, User: cmd.User, Body: newRole},
		&protocol.Event{Type: protocol.TypeRole, Room: cmd.Room, User: cmd.User, Role: newRole, By: ss.self.Name}, cmd.User,
		protocol.Event{Room: cmd.Room, User: cmd.User, Role: newRole})
}
