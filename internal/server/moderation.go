package server

import (
	"context"
	"errors"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
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
	if ev.User == u.name {
		ss.forgetSanctions(ev.Room) // the store has changed: ask it again
	}
	ss.mu.Lock()
	jr, inRoom := ss.joined[ev.Room]
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
	if ev.User == u.name && (ev.Type == protocol.TypeKicked || ev.Type == protocol.TypeBanned) {
		ss.srv.bg.Go(func() { ss.forceLeave(u.c, ev.Room) })
	}
	// A connection in the room gets the room's own copy of the event.
	if !inRoom {
		u.c.enqueue(outMsg{data: payload})
	}
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

// announce publishes a moderation event to the room and to the target's
// own connections (outside the room too). target is a user key
// (session.userKey, target.key): an account name or a guest identity;
// hub.UserEvent delivers to the connections with exactly that key, on
// every node.
func (ss *session) announce(ctx context.Context, ev *protocol.Event, target string) {
	b, err := protocol.EncodeEvent(ev)
	if err != nil {
		ss.srv.log.Error("encode moderation event", "err", err)
		return
	}
	// The order is the contract. A kick or ban takes the target out of
	// the room when their own copy arrives, so the room's copy goes first
	// (the target sees it before leaving). Every other change (a mute
	// lifted, say) must be in force on the target's connections before
	// anyone, the target included, reads of it: their copy goes first.
	// The hub keeps the order of the two for a room, on every node.
	roomFirst := ev.Type == protocol.TypeKicked || ev.Type == protocol.TypeBanned
	if ev.Room != "" && roomFirst {
		ss.srv.hub.Event(ev.Room, b)
	}
	if target != "" {
		ss.srv.hub.UserEvent(target, ev.Room, b)
	}
	if ev.Room != "" && !roomFirst {
		ss.srv.hub.Event(ev.Room, b)
	}
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
	name := protocol.DMRoom(ss.self.Name, cmd.User)
	err := ss.srv.cfg.Store.CreateRoom(ctx, chat.Room{Name: name, Private: true})
	created := err == nil
	if err != nil && !errors.Is(err, chat.ErrRoomExists) {
		return err
	}
	acc := ss.srv.cfg.Access
	for _, u := range []string{ss.self.Name, cmd.User} {
		if err := acc.SetRole(ctx, name, u, protocol.RoleMember); err != nil {
			return err
		}
	}
	r, err := ss.srv.cfg.Store.Room(ctx, name)
	if err != nil {
		return err
	}
	info := ss.roomInfo(r, protocol.RoleMember)
	if created {
		ss.announce(ctx, &protocol.Event{Type: protocol.TypeInvited, Room: name, User: cmd.User, By: ss.self.Name}, cmd.User)
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
		if err := acc.SetRole(ctx, cmd.Room, cmd.User, protocol.RoleMember); err != nil {
			return err
		}
		ss.announce(ctx, &protocol.Event{Type: protocol.TypeInvited, Room: cmd.Room, User: cmd.User, By: ss.self.Name}, cmd.User)
	}
	ss.replyOK(c, cmd.ID, protocol.Event{Room: cmd.Room, User: cmd.User})
	return nil
}

// kickOrBan removes the target from the room on every node (and from a
// private room's members); ban also keeps them out.
func (ss *session) kickOrBan(ctx context.Context, c *conn, cmd *protocol.Command) error {
	r, t, targetRole, err := ss.moderate(ctx, cmd.Room, cmd.User)
	if err != nil {
		return err
	}
	acc := ss.srv.cfg.Access
	ev := &protocol.Event{Type: protocol.TypeKicked, Room: cmd.Room, User: t.name, By: ss.self.Name, Reason: cmd.Reason}
	if cmd.Op == protocol.OpBan {
		ev.Type = protocol.TypeBanned
		var until time.Time
		if cmd.Seconds > 0 {
			until = time.Now().Add(time.Duration(cmd.Seconds) * time.Second)
			ev.Until = until.UnixMilli()
		}
		if err := ss.setSanction(ctx, t, chat.Sanction{Room: cmd.Room, Kind: chat.Ban, Until: until, By: ss.self.Name, Reason: cmd.Reason}); err != nil {
			return err
		}
	}
	if t.account && (r.Private || cmd.Op == protocol.OpBan && targetRole != "") {
		if err := acc.SetRole(ctx, cmd.Room, t.key, ""); err != nil {
			return err
		}
	}
	ss.srv.log.Info("moderation", "op", cmd.Op, "room", cmd.Room, "target", t.key)
	ss.announce(ctx, ev, t.key)
	ss.replyOK(c, cmd.ID, protocol.Event{Room: cmd.Room, User: t.name})
	return nil
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
	ss.announce(ctx, &protocol.Event{Type: protocol.TypeUnbanned, Room: cmd.Room, User: t.name, By: ss.self.Name}, t.key)
	ss.replyOK(c, cmd.ID, protocol.Event{Room: cmd.Room, User: t.name})
	return nil
}

func (ss *session) mute(ctx context.Context, c *conn, cmd *protocol.Command) error {
	_, t, _, err := ss.moderate(ctx, cmd.Room, cmd.User)
	if err != nil {
		return err
	}
	ev := &protocol.Event{Type: protocol.TypeUnmuted, Room: cmd.Room, User: t.name, By: ss.self.Name}
	if cmd.Op == protocol.OpMute {
		ev.Type, ev.Reason = protocol.TypeMuted, cmd.Reason
		var until time.Time
		if cmd.Seconds > 0 {
			until = time.Now().Add(time.Duration(cmd.Seconds) * time.Second)
			ev.Until = until.UnixMilli()
		}
		if err := ss.setSanction(ctx, t, chat.Sanction{Room: cmd.Room, Kind: chat.Mute, Until: until, By: ss.self.Name, Reason: cmd.Reason}); err != nil {
			return err
		}
	} else if err := ss.clearSanction(ctx, t, cmd.Room, chat.Mute); err != nil {
		return err
	}
	ss.srv.log.Info("moderation", "op", cmd.Op, "room", cmd.Room, "target", t.key)
	ss.announce(ctx, ev, t.key)
	ss.replyOK(c, cmd.ID, protocol.Event{Room: cmd.Room, User: t.name})
	return nil
}

func (ss *session) topic(ctx context.Context, c *conn, cmd *protocol.Command) error {
	if err := ss.requireAccount(); err != nil {
		return err
	}
	_, role, err := ss.access(ctx, cmd.Room)
	if err != nil {
		return err
	}
	if rank(role, ss.admin()) < 2 {
		return protocol.Errorf(protocol.CodeForbidden, "only the owner and moderators of %s may set its topic", cmd.Room)
	}
	if err := ss.srv.cfg.Access.SetTopic(ctx, cmd.Room, cmd.Topic); err != nil {
		return err
	}
	ss.announce(ctx, &protocol.Event{Type: protocol.TypeTopic, Room: cmd.Room, Topic: cmd.Topic, By: ss.self.Name}, "")
	ss.replyOK(c, cmd.ID, protocol.Event{Room: cmd.Room})
	return nil
}

// promote makes a moderator (or, demote, a plain member); owner and
// administrators only.
func (ss *session) promote(ctx context.Context, c *conn, cmd *protocol.Command) error {
	if err := ss.requireAccount(); err != nil {
		return err
	}
	_, role, err := ss.access(ctx, cmd.Room)
	if err != nil {
		return err
	}
	if _, _, dm := protocol.DMPeers(cmd.Room); dm {
		return protocol.Errorf(protocol.CodeForbidden, "direct-message rooms have no roles to give")
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
	newRole := protocol.RoleModerator
	if cmd.Op == protocol.OpDemote {
		newRole = protocol.RoleMember
	}
	if err := acc.SetRole(ctx, cmd.Room, cmd.User, newRole); err != nil {
		return err
	}
	ss.announce(ctx, &protocol.Event{Type: protocol.TypeRole, Room: cmd.Room, User: cmd.User, Role: newRole, By: ss.self.Name}, cmd.User)
	ss.replyOK(c, cmd.ID, protocol.Event{Room: cmd.Room, User: cmd.User, Role: newRole})
	return nil
}
