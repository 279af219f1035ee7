package server

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/names"
	"github.com/hubbub-chat/hubbub/protocol"
)

// target is the user a moderation command names, resolved: an account by
// its canonical (lower-case) name, or a guest by the identity behind the
// display name.
type target struct {
	name    string // as events show it: the account name, or the guest's display name
	key     string // sanctions, roles and per-user events: the account name or the guest identity
	guestIP string // a guest's address, which the guest's sanctions bind to as well
	admin   bool   // a server administrator
	account bool
}

// guestKey is the chat.NewMessage.UserKey of an entry about t: its
// identity if t is a guest, "" for an account.
func (t target) guestKey() string {
	if t.account {
		return ""
	}
	return t.key
}

// resolveTarget finds who a moderation command's user field names. An
// account matches case-insensitively ("Mallory" is mallory); failing that,
// a guest online on this node, or seen here within guestMemory, matches by
// its names.Key; failing that, with a shared store (Config.Names), a guest
// online on another node, by its name's lease. Anything else names
// nobody: no_such_user.
func (ss *session) resolveTarget(ctx context.Context, user string) (target, error) {
	if accts := ss.srv.cfg.Accounts; accts != nil {
		lower := strings.ToLower(user)
		if protocol.CheckUsername(lower) == nil {
			u, err := accts.User(ctx, lower)
			switch {
			case err == nil:
				return target{name: u.Name, key: u.Name, admin: u.Admin, account: true}, nil
			case !errors.Is(err, chat.ErrNoSuchUser):
				return target{}, err
			}
		}
	}
	if g, ok := ss.srv.guests.lookup(names.Key(user), time.Now()); ok {
		return target{name: g.display, key: g.key, guestIP: g.ip}, nil
	}
	// A guest online on another node holds its name's lease in the
	// shared store, under its identity. Its address is that node's to
	// know: the sanction binds to the identity only.
	if n := ss.srv.cfg.Names; n != nil {
		holder, err := n.NameHolder(ctx, names.Key(user), time.Now())
		if err != nil {
			return target{}, err
		}
		if holder != "" {
			return target{name: user, key: holder}, nil
		}
	}
	return target{}, protocol.Errorf(protocol.CodeNoSuchUser, "nobody called %s is here", user)
}

// setSanction records a sanction on t: on the identity, and for a guest
// on the guest's address too, for as long. A guest's sanction keeps the
// guest's display name (Name), by which the end of a timed one is
// announced where the guest is not known (announceSanctionEnd).
func (ss *session) setSanction(ctx context.Context, t target, s chat.Sanction) error {
	acc := ss.srv.cfg.Access
	s.User = t.key
	if t.guestKey() != "" && t.key != guestsKey {
		s.Name = t.name
	}
	if err := acc.SetSanction(ctx, s); err != nil {
		return err
	}
	ss.srv.sanctions.forget(s.Room, t.key)
	if t.guestIP == "" {
		return nil
	}
	s.User = guestIPKey(t.guestIP)
	ss.srv.sanctions.forget(s.Room, s.User)
	return acc.SetSanction(ctx, s)
}

// clearSanction lifts a sanction of kind on t, and on its address.
func (ss *session) clearSanction(ctx context.Context, t target, room, kind string) error {
	acc := ss.srv.cfg.Access
	if err := acc.ClearSanction(ctx, room, t.key, kind); err != nil {
		return err
	}
	ss.srv.sanctions.forget(room, t.key)
	if t.guestIP == "" {
		return nil
	}
	ss.srv.sanctions.forget(room, guestIPKey(t.guestIP))
	return acc.ClearSanction(ctx, room, guestIPKey(t.guestIP), kind)
}

// guestsKey is the sanction key of "every guest": a ban of guestsKey in a
// room is the room refusing guests. It cannot be an account name or a
// guest identity.
const guestsKey = "~guests"

// roomGuests serves refuse_guests and allow_guests: who may is as for
// kick. Guests in the room are held from their next send, join or
// history (within Config.ModerationCheck on other nodes).
func (ss *session) roomGuests(ctx context.Context, c *conn, cmd *protocol.Command) error {
	acc := ss.srv.cfg.Access
	if acc == nil || ss.self.Guest {
		return errNoModeration
	}
	r, role, err := ss.access(ctx, cmd.Room)
	if err != nil {
		return err
	}
	if _, _, dm := protocol.DMPeers(cmd.Room); dm {
		return protocol.Errorf(protocol.CodeForbidden, "direct-message rooms have no guests to refuse")
	}
	if r.Archived {
		return errArchived(cmd.Room)
	}
	if rank(role, ss.admin()) < 2 {
		return protocol.Errorf(protocol.CodeForbidden, "only the owner and moderators of %s may do that", cmd.Room)
	}
	all := target{name: "guests", key: guestsKey}
	if cmd.Op == protocol.OpRefuseGuests {
		err = ss.setSanction(ctx, all, chat.Sanction{Room: cmd.Room, Kind: chat.Ban, By: ss.self.Name, Reason: "this room is for signed-in users"})
	} else {
		err = ss.clearSanction(ctx, all, cmd.Room, chat.Ban)
	}
	if err != nil {
		return err
	}
	ss.srv.log.Info("moderation", "op", cmd.Op, "room", cmd.Room)
	ss.replyOK(c, cmd.ID, protocol.Event{Room: cmd.Room})
	return nil
}
