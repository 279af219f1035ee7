package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// roleCache answers "what is this user's role in this public room?", and
// "who are its owner and moderators?", for what a join reply and a room
// listing show, from a snapshot of the room's
// role holders (chat.Access.Members), fetched at most once per ttl
// (Config.ModerationCheck): a storm of account joins into one room reads
// its roles once, not once per joiner (round 15's account storm: Role was
// a tenth of the server's CPU).
//
// It is never an authorisation. Who may see a private room or DM, and
// whether a moderator may act, are asked of the store each time (access):
// only public rooms, which anyone may join, are cached, and only for what
// is shown. A role changed on this node is forgotten at once (forget); one
// changed on another node shows here within ttl.
//
// Its methods are safe for concurrent use. A fresh room's answer takes no
// lock shared by all rooms (sync.Map) and none of its own (an immutable
// snapshot behind an atomic pointer); concurrent askers of a stale room
// wait for one fetch, each no longer than its ctx
// allows (fetchLock).
type roleCache struct {
	ttl   time.Duration // immutable
	max   int           // role holders a snapshot keeps; 0: roomRolesMax. Immutable
	rooms sync.Map      // room → *roomRoles
	n     atomic.Int64  // rooms and roles stored, roughly; bounds memory
}

// roomRoles is the cache's record of one room.
type roomRoles struct {
	mu   fetchLock // held by the one fetching
	gen  atomic.Uint64
	snap atomic.Pointer[roleSnap]
}

// roleSnap is a room's role holders as fetched; never modified.
type roleSnap struct {
	fetched  time.Time
	gen      uint64            // roomRoles.gen when the fetch began
	roles    map[string]string // user → role
	overflow bool              // more than roomRolesMax holders: ask per user
	// staff is the owner and moderators, by name, at most
	// protocol.MaxRoster, kept even when overflow: the join reply's
	// RoomInfo.Staff, shared by every reply that shows it.
	staff []protocol.Member
}

// held is how many roles s counts against roleCacheMax: its staff is a
// part of its roles, unless it overflows.
func (s *roleSnap) held() int { return max(len(s.roles), len(s.staff)) }

const (
	// roleCacheMax is the most rooms and roles held; past it the cache
	// starts over.
	roleCacheMax = 100_000
	// roomRolesMax is the most role holders of one room a snapshot
	// keeps; a room with more is asked about per user.
	roomRolesMax = 1000
	// overflowTTL is how long a room found to have more than
	// roomRolesMax holders is asked about per user before its holders
	// are counted again, so that such a room is not read whole every ttl.
	overflowTTL = time.Minute
)

// role returns user's role in the public room, from a snapshot younger
// than ttl, or asks acc when the room has too many role holders to keep.
func (rc *roleCache) role(ctx context.Context, acc chat.Access, room, user string, now time.Time) (string, error) {
	rr := roomRecord[roomRoles](&rc.rooms, &rc.n, roleCacheMax, rc.clear, room)
	s, err := rc.snapshot(ctx, acc, rr, room, now)
	if err != nil {
		return "", err
	}
	if s.overflow {
		return acc.Role(ctx, room, user)
	}
	return s.roles[user], nil
}

// staff returns the owner and moderators of the public room, by name and
// at most protocol.MaxRoster, from a snapshot younger than ttl (fetching
// one if need be, as role does): a join that asked the joiner's role reads
// nothing more. The slice is shared: callers must not modify it.
func (rc *roleCache) staff(ctx context.Context, acc chat.Access, room string, now time.Time) ([]protocol.Member, error) {
	rr := roomRecord[roomRoles](&rc.rooms, &rc.n, roleCacheMax, rc.clear, room)
	s, err := rc.snapshot(ctx, acc, rr, room, now)
	if err != nil {
		return nil, err
	}
	return s.staff, nil
}

// snapshot returns a snapshot of rr younger than ttl (overflowTTL for an
// overflowing room), fetching one if need be.
func (rc *roleCache) snapshot(ctx context.Context, acc chat.Access, rr *roomRoles, room string, now time.Time) (*roleSnap, error) {
	fresh := func(s *roleSnap) bool {
		if s == nil || s.gen != rr.gen.Load() || now.Before(s.fetched) {
			return false
		}
		ttl := rc.ttl
		if s.overflow {
			ttl = max(ttl, overflowTTL)
		}
		return now.Sub(s.fetched) < ttl
	}
	if s := rr.snap.Load(); fresh(s) {
		return s, nil
	}
	if err := rr.mu.lock(ctx); err != nil {
		return nil, err
	}
	defer rr.mu.unlock()
	if s := rr.snap.Load(); fresh(s) {
		return s, nil // another asker fetched it meanwhile
	}
	// A forget after this point makes the snapshot stale at once: it
	// may predate the change it forgets.
	gen := rr.gen.Load()
	members, err := acc.Members(ctx, room)
	if err != nil {
		return nil, err
	}
	s := &roleSnap{fetched: now, gen: gen}
	limit := rc.max
	if limit <= 0 {
		limit = roomRolesMax
	}
	if len(members) > limit {
		s.overflow = true
	} else {
		s.roles = make(map[string]string, len(members))
		for _, m := range members {
			s.roles[m.User] = m.Role
		}
	}
	for _, m := range members { // ordered by name
		if (m.Role == protocol.RoleOwner || m.Role == protocol.RoleModerator) && len(s.staff) < protocol.MaxRoster {
			s.staff = append(s.staff, protocol.Member{Name: m.User, Role: m.Role})
		}
	}
	if rc.n.Add(int64(s.held()-rr.swap(s).held())) > roleCacheMax {
		rc.clear()
	}
	return s, nil
}

// swap stores s as rr's snapshot and returns the one it replaces (an
// empty one if none), whose roles are no longer counted.
func (rr *roomRoles) swap(s *roleSnap) *roleSnap {
	if old := rr.snap.Swap(s); old != nil {
		return old
	}
	return &roleSnap{}
}

// forget drops what is known of room's roles, after this node changed one.
// A fetch in flight stores a snapshot that is already stale.
func (rc *roleCache) forget(room string) {
	if v, ok := rc.rooms.Load(room); ok {
		rr := v.(*roomRoles)
		rr.gen.Add(1)
		rc.n.Add(-int64(rr.swap(nil).held()))
	}
}

// clear forgets everything.
func (rc *roleCache) clear() {
	rc.rooms.Range(func(k, v any) bool {
		v.(*roomRoles).gen.Add(1)
		rc.rooms.Delete(k)
		return true
	})
	rc.n.Store(0)
}

// roomRecord returns the record of room in rooms, a cache of per-room
// records of type T (sanction and role snapshots), making an empty one if
// there is none. A new record counts one against max in n; past max the
// cache starts over (clear) first.
func roomRecord[T any](rooms *sync.Map, n *atomic.Int64, max int64, clear func(), room string) *T {
	if v, ok := rooms.Load(room); ok {
		return v.(*T)
	}
	if n.Add(1) > max {
		clear()
	}
	v, _ := rooms.LoadOrStore(room, new(T))
	return v.(*T)
}
