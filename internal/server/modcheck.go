package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// Moderation holds because the store says so, not because an event
// arrived. The broker may lose the banned, kicked or muted event (Redis
// pub/sub and NATS core are at-most-once); the event only makes a
// sanction fast. send, join and history each ask the store, through a
// per-node cache: a sanction set on any node binds every node within
// Config.ModerationCheck (default 2 s), the cache's longest staleness. A
// sanction set on this node binds here at once (sanctionCache.forget).

// sanctionKey names one cached question: is user under kind in room?
type sanctionKey struct{ room, user, kind string }

type sanctionEntry struct {
	s       chat.Sanction
	active  bool
	fetched time.Time
}

// sanctionCache caches chat.Access.ActiveSanction answers for ttl. Its
// methods are safe for concurrent use; reads take no lock shared by all
// connections (sync.Map), so it does not sit on every message's path.
type sanctionCache struct {
	ttl     time.Duration // immutable
	entries sync.Map      // sanctionKey → sanctionEntry
	n       atomic.Int64  // entries stored, roughly; bounds memory
}

// sanctionCacheMax is the most entries held; past it the cache starts over.
const sanctionCacheMax = 100_000

// active reports whether user is under kind in room at now, asking acc
// when the cached answer is older than the cache's ttl.
func (sc *sanctionCache) active(ctx context.Context, acc chat.Access, room, user, kind string, now time.Time) (chat.Sanction, bool, error) {
	k := sanctionKey{room, user, kind}
	if v, ok := sc.entries.Load(k); ok {
		e := v.(sanctionEntry)
		if now.Sub(e.fetched) < sc.ttl {
			return e.s, e.active && (e.s.Until.IsZero() || now.Before(e.s.Until)), nil
		}
	}
	s, active, err := acc.ActiveSanction(ctx, room, user, kind, now)
	if err != nil {
		return s, false, err
	}
	if sc.n.Add(1) > sanctionCacheMax {
		sc.entries.Clear()
		sc.n.Store(0)
	}
	sc.entries.Store(k, sanctionEntry{s: s, active: active, fetched: now})
	return s, active, nil
}

// forget drops the cached answers about user in room, after this node
// changed them.
func (sc *sanctionCache) forget(room, user string) {
	sc.entries.Delete(sanctionKey{room, user, chat.Ban})
	sc.entries.Delete(sanctionKey{room, user, chat.Mute})
}

// userKey is who the session is to moderation and per-user events (the
// key of hub.AddUser and hub.UserEvent): the account name, or a guest's
// identity (guests.go), never a guest's display name, which another guest
// may have held before or an account may take later.
func (ss *session) userKey() string {
	if ss.guestID != "" {
		return ss.guestID
	}
	return ss.self.Name
}

// sanctioned reports whether the caller is under kind in room: by their
// account or guest identity, and, for a guest, by the address a guest
// sanction was bound to, or (bans) by the room refusing guests.
func (ss *session) sanctioned(ctx context.Context, room, kind string) (chat.Sanction, bool, error) {
	acc := ss.srv.cfg.Access
	if acc == nil {
		return chat.Sanction{}, false, nil
	}
	now := time.Now()
	s, on, err := ss.srv.sanctions.active(ctx, acc, room, ss.userKey(), kind, now)
	if err != nil || on || ss.guestID == "" {
		return s, on, err
	}
	if s, on, err = ss.srv.sanctions.active(ctx, acc, room, guestIPKey(ss.ip), kind, now); err != nil || on || kind != chat.Ban {
		return s, on, err
	}
	return ss.srv.sanctions.active(ctx, acc, room, guestsKey, kind, now)
}

// checkBan refuses a banned caller (server administrators are never
// banned). join and history call it through access; send calls it itself.
func (ss *session) checkBan(ctx context.Context, room string) error {
	if ss.admin() {
		return nil
	}
	s, banned, err := ss.sanctioned(ctx, room, chat.Ban)
	if err != nil {
		return err
	}
	if banned {
		return protocol.Errorf(protocol.CodeBanned, "you are banned from %s%s", room, untilText(s.Until))
	}
	return nil
}

// checkSend is the authoritative check of a send: banned or muted by the
// store's word, whatever events this connection did or did not receive.
// A banned sender is also taken out of the room, which the lost event
// would have done.
func (ss *session) checkSend(c *conn, room string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ss.checkBan(ctx, room); err != nil {
		if protocol.CodeOf(err) == protocol.CodeBanned {
			ss.forceLeave(c, room)
		}
		return err
	}
	s, muted, err := ss.sanctioned(ctx, room, chat.Mute)
	if err != nil {
		return err
	}
	if muted {
		return protocol.Errorf(protocol.CodeMuted, "you are muted in %s%s", room, untilText(s.Until))
	}
	return nil
}

// forgetSanctions drops the cached answers about the caller in room.
func (ss *session) forgetSanctions(room string) {
	ss.srv.sanctions.forget(room, ss.userKey())
	if ss.guestID != "" {
		ss.srv.sanctions.forget(room, guestIPKey(ss.ip))
	}
}
