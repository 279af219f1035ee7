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

// resolveTarget finds who a moderation command's user field names. An
// account matches case-insensitively ("Mallory" is mallory); failing that,
// a guest online on this node, or seen here within guestMemory, matches by
// its names.Key. Anything else names nobody: no_such_user.
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
	return target{}, protocol.Errorf(protocol.CodeNoSuchUser, "nobody called %s is here", user)
}

// setSanction records a sanction on t: on the identity, and for a guest
// on the guest's address too, for as long.
func (ss *session) setSanction(ctx context.Context, t target, s chat.Sanction) error {
	acc := ss.srv.cfg.Access
	s.User = t.key
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
