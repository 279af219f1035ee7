package server

import (
	"context"
	"math"
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
//
// Each answer carries a sequence of its room read before the store was
// asked (sanctionCache.seqOf): a ban missing from the answer was set after
// it was read, and its entry committed later still, after that sequence.
// A join that decided on the answer checks the entries between that
// sequence and its own last_seq that this node never delivered (see
// session.join), so that a ban committed meanwhile, whose banned event the
// broker lost, does not let the user in.

// sanctionKey names one cached question: is user under kind in room?
type sanctionKey struct{ room, user, kind string }

type sanctionEntry struct {
	s       chat.Sanction
	active  bool
	fetched time.Time
	seq     int64 // the room's sequence before the store was asked (seqOf)
}

// sanctionCache caches the store's answers for ttl. It asks per room: one
// chat.Access.RoomSanctions call fetches every active sanction of a room,
// and every question about that room is answered from it until it is ttl
// old, so that a storm of joins into one room costs one query, not one
// (or, for a guest, three) per joiner. A room with more than
// roomSanctionsMax active sanctions is asked about per user instead
// (ActiveSanction), cached the same way.
//
// Its methods are safe for concurrent use. Reads take no lock shared by
// all rooms (sync.Map) and, while the room's answer is fresh, no lock at
// all (an immutable snapshot behind an atomic pointer), so the cache does
// not sit on every message's path. Concurrent askers of a stale room wait
// for one fetch, each no longer than its ctx allows (fetchLock).
type sanctionCache struct {
	ttl time.Duration // immutable
	// seqOf, if set, returns a sequence that room had reached before the
	// call (one this node read or delivered), -1 if it knows none; the
	// answers fetched after it carry it. Immutable.
	seqOf   func(room string) int64
	rooms   sync.Map     // room → *roomSanctions
	entries sync.Map     // sanctionKey → sanctionEntry, for rooms past roomSanctionsMax
	n       atomic.Int64 // entries and rooms stored, roughly; bounds memory
}

// roomSanctions is the cache's record of one room.
type roomSanctions struct {
	mu   fetchLock // held by the one fetching
	snap atomic.Pointer[sanctionSnap]
}

// sanctionSnap is a room's active sanctions as fetched; never modified.
type sanctionSnap struct {
	fetched  time.Time
	byKey    map[userKind]chat.Sanction
	overflow bool // more than roomSanctionsMax: ask per user
	// seq is a sequence of the room before the store was asked: a ban
	// missing from byKey has its entry after it. -1: unknown. raise may
	// replace the snapshot with one of a higher seq.
	seq int64
}

type userKind struct{ user, kind string }

const (
	// sanctionCacheMax is the most entries held; past it the cache starts over.
	sanctionCacheMax = 100_000
	// roomSanctionsMax is the most sanctions of one room the cache holds.
	roomSanctionsMax = 1000
)

// active reports whether user is under kind in room at now, asking acc
// when the cached answer is older than the cache's ttl.
func (sc *sanctionCache) active(ctx context.Context, acc chat.Access, room, user, kind string, now time.Time) (chat.Sanction, bool, error) {
	s, on, _, err := sc.activeAt(ctx, acc, room, user, kind, now)
	return s, on, err
}

// activeAt is active, with the sequence of room that the answer is as of
// (sanctionSnap.seq): -1 if unknown.
func (sc *sanctionCache) activeAt(ctx context.Context, acc chat.Access, room, user, kind string, now time.Time) (chat.Sanction, bool, int64, error) {
	snap, err := sc.roomSnap(ctx, acc, room, now)
	if err != nil {
		return chat.Sanction{}, false, -1, err
	}
	if snap.overflow {
		return sc.activeUser(ctx, acc, room, user, kind, now)
	}
	s, ok := snap.byKey[userKind{user, kind}]
	return s, ok && (s.Until.IsZero() || now.Before(s.Until)), snap.seq, nil
}

// seqNow is seqOf's answer for room, -1 without seqOf.
func (sc *sanctionCache) seqNow(room string) int64 {
	if sc.seqOf == nil {
		return -1
	}
	return sc.seqOf(room)
}

// raise records that room's snapshot, if it is as of from or later,
// misses no ban whose entry is at or before to: the kick and ban entries
// of the room in (from, to] were read, and there are none. The next
// joins that decide on it need not read them again.
func (sc *sanctionCache) raise(room string, from, to int64) {
	v, ok := sc.rooms.Load(room)
	if !ok {
		return
	}
	rs := v.(*roomSanctions)
	for {
		s := rs.snap.Load()
		if s == nil || s.seq < from || s.seq >= to {
			return
		}
		up := *s
		up.seq = to
		if rs.snap.CompareAndSwap(s, &up) {
			return
		}
	}
}

// forgetRoom drops room's snapshot: the next question fetches it anew.
func (sc *sanctionCache) forgetRoom(room string) { sc.rooms.Delete(room) }

// roomSnap returns a snapshot of room's sanctions younger than ttl.
func (sc *sanctionCache) roomSnap(ctx context.Context, acc chat.Access, room string, now time.Time) (*sanctionSnap, error) {
	rs := roomRecord[roomSanctions](&sc.rooms, &sc.n, sanctionCacheMax, sc.clear, room)
	fresh := func(s *sanctionSnap) bool { return s != nil && now.Sub(s.fetched) < sc.ttl && !now.Before(s.fetched) }
	if s := rs.snap.Load(); fresh(s) {
		return s, nil
	}
	if err := rs.mu.lock(ctx); err != nil {
		return nil, err
	}
	defer rs.mu.unlock()
	if s := rs.snap.Load(); fresh(s) {
		return s, nil // another asker fetched it meanwhile
	}
	seq := sc.seqNow(room)
	list, err := acc.RoomSanctions(ctx, room, now, roomSanctionsMax+1)
	if err != nil {
		return nil, err
	}
	s := &sanctionSnap{fetched: now, seq: seq}
	if len(list) > roomSanctionsMax {
		s.overflow = true
	} else {
		s.byKey = make(map[userKind]chat.Sanction, len(list))
		for _, sn := range list {
			s.byKey[userKind{sn.User, sn.Kind}] = sn
		}
	}
	rs.snap.Store(s)
	return s, nil
}

// activeUser is active for one question, for rooms with too many sanctions
// to hold.
func (sc *sanctionCache) activeUser(ctx context.Context, acc chat.Access, room, user, kind string, now time.Time) (chat.Sanction, bool, int64, error) {
	k := sanctionKey{room, user, kind}
	if v, ok := sc.entries.Load(k); ok {
		e := v.(sanctionEntry)
		if now.Sub(e.fetched) < sc.ttl {
			return e.s, e.active && (e.s.Until.IsZero() || now.Before(e.s.Until)), e.seq, nil
		}
	}
	seq := sc.seqNow(room)
	s, active, err := acc.ActiveSanction(ctx, room, user, kind, now)
	if err != nil {
		return s, false, -1, err
	}
	if sc.n.Add(1) > sanctionCacheMax {
		sc.clear()
	}
	sc.entries.Store(k, sanctionEntry{s: s, active: active, fetched: now, seq: seq})
	return s, active, seq, nil
}

func (sc *sanctionCache) clear() {
	sc.rooms.Clear()
	sc.entries.Clear()
	sc.n.Store(0)
}

// forget drops the cached answers about user in room, after this node
// changed them: the room's snapshot goes, and the next question fetches
// it anew.
func (sc *sanctionCache) forget(room, user string) {
	sc.rooms.Delete(room)
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
	s, on, _, err := ss.sanctionedAt(ctx, room, kind)
	return s, on, err
}

// sanctionedAt is sanctioned, with the sequence of room that its answer
// is as of: the lowest of the answers it took (activeAt), -1 if unknown,
// math.MaxInt64 without Config.Access (no sanctions to miss).
func (ss *session) sanctionedAt(ctx context.Context, room, kind string) (chat.Sanction, bool, int64, error) {
	acc := ss.srv.cfg.Access
	if acc == nil {
		return chat.Sanction{}, false, math.MaxInt64, nil
	}
	now := time.Now()
	s, on, seq, err := ss.srv.sanctions.activeAt(ctx, acc, room, ss.userKey(), kind, now)
	if err != nil || on || ss.guestID == "" {
		return s, on, seq, err
	}
	s, on, ipSeq, err := ss.srv.sanctions.activeAt(ctx, acc, room, guestIPKey(ss.ip), kind, now)
	seq = min(seq, ipSeq)
	if err != nil || on || kind != chat.Ban {
		return s, on, seq, err
	}
	s, on, allSeq, err := ss.srv.sanctions.activeAt(ctx, acc, room, guestsKey, kind, now)
	return s, on, min(seq, allSeq), err
}

// checkBan refuses a banned caller (server administrators are never
// banned). join and history call it through access; send calls it itself.
func (ss *session) checkBan(ctx context.Context, room string) error {
	_, err := ss.checkBanAt(ctx, room)
	return err
}

// checkBanAt is checkBan, with the sequence of room that its answer is as
// of (sanctionedAt); math.MaxInt64 for an administrator, whom no ban
// binds.
func (ss *session) checkBanAt(ctx context.Context, room string) (int64, error) {
	if ss.admin() {
		return math.MaxInt64, nil
	}
	s, banned, seq, err := ss.sanctionedAt(ctx, room, chat.Ban)
	if err != nil {
		return seq, err
	}
	if banned {
		return seq, protocol.Errorf(protocol.CodeBanned, "you are banned from %s%s", room, untilText(s.Until))
	}
	return seq, nil
}

// checkSend is the authoritative check of a send: banned or muted by the
// store's word, whatever events this connection did or did not receive.
// A banned sender is also taken out of the room, which the lost event
// would have done.
func (ss *session) checkSend(c *conn, room string) error {
	ctx, cancel := lazyTimeout(5 * time.Second)
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
