package server

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// adminCache answers "who are the server's administrators?" for what a
// public room's join reply shows (RoomInfo.Staff), from a list of them
// (chat.Accounts.Admins) fetched at most once per ttl
// (Config.ModerationCheck): a storm of guest joins reads it once per ttl,
// not once per joiner. An administrator made or unmade with hubbubd, or
// on another node, shows here within ttl; an account deleted on this node
// at once (forget).
//
// It is never an authorisation: whether a user is an administrator, for
// what they may do or what may be done to them, is read with the user's
// account (their session's, and a moderation target's, targets.go).
//
// Its methods are safe for concurrent use. A fresh list takes no lock
// (an immutable snapshot behind an atomic pointer); concurrent askers of
// a stale one wait for one fetch, each no longer than its ctx allows
// (fetchLock). The zero value with a ttl set is ready to use.
type adminCache struct {
	ttl  time.Duration // immutable after New
	mu   fetchLock     // held by the one fetching
	gen  atomic.Uint64 // bumped by forget
	snap atomic.Pointer[adminSnap]
}

// adminSnap is the administrators as fetched; never modified.
type adminSnap struct {
	fetched time.Time
	gen     uint64   // adminCache.gen when the fetch began
	names   []string // by name, at most protocol.MaxRoster
}

// names returns the administrators' names, by name and at most
// protocol.MaxRoster, from a list younger than ttl, fetching one from acc
// if need be. The slice is shared: callers must not modify it.
func (ac *adminCache) names(ctx context.Context, acc chat.Accounts, now time.Time) ([]string, error) {
	fresh := func(s *adminSnap) bool {
		return s != nil && s.gen == ac.gen.Load() && !now.Before(s.fetched) && now.Sub(s.fetched) < ac.ttl
	}
	if s := ac.snap.Load(); fresh(s) {
		return s.names, nil
	}
	if err := ac.mu.lock(ctx); err != nil {
		return nil, err
	}
	defer ac.mu.unlock()
	if s := ac.snap.Load(); fresh(s) {
		return s.names, nil // another asker fetched it meanwhile
	}
	// A forget after this point makes the list stale at once: it may
	// predate the change it forgets.
	gen := ac.gen.Load()
	names, err := acc.Admins(ctx, protocol.MaxRoster)
	if err != nil {
		return nil, err
	}
	ac.snap.Store(&adminSnap{fetched: now, gen: gen, names: names})
	return names, nil
}

// forget drops the list, after this node changed who is an administrator
// (deleted an account). A fetch in flight stores a list that is already
// stale.
func (ac *adminCache) forget() {
	ac.gen.Add(1)
	ac.snap.Store(nil)
}

// withAdmins returns staff (a room's owner and moderators, by name) with
// admins (by name) merged in as protocol.RoleAdmin, by name and at most
// protocol.MaxRoster: one entry per name, an administrator who also holds
// a role in the room shown as admin, the higher rank. It modifies neither
// argument, and returns staff itself when admins is empty.
func withAdmins(staff []protocol.Member, admins []string) []protocol.Member {
	if len(admins) == 0 {
		return staff
	}
	out := make([]protocol.Member, 0, min(len(staff)+len(admins), protocol.MaxRoster))
	i, j := 0, 0
	for len(out) < protocol.MaxRoster && (i < len(staff) || j < len(admins)) {
		switch {
		case j == len(admins) || (i < len(staff) && staff[i].Name < admins[j]):
			out = append(out, staff[i])
			i++
		default:
			if i < len(staff) && staff[i].Name == admins[j] {
				i++ // the room's role is outranked
			}
			out = append(out, protocol.Member{Name: admins[j], Role: protocol.RoleAdmin})
			j++
		}
	}
	return out
}
