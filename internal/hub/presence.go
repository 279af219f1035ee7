package hub

import (
	"encoding/binary"
	"time"
)

// Presence is cluster-wide. Each node tells the others who of a room's
// users it holds: a change when a user's first member joins or last member
// leaves (a delta), and the whole list (a roster) every RosterInterval and
// when another node asks, which it does when its first member joins a
// room. A node merges the other nodes' lists with its own; a user counts
// once however many nodes and connections hold them. A node that stops
// sending (it died, or the broker is away) drops out of the lists after
// RosterTTL. Config.OnPresence hears of every user who appears in or
// disappears from a room's merged list, so the server can announce them to
// its own members; no node forwards join or leave events of another.
//
// Presence payloads travel in envelopes of kind kindPresence on the room's
// topic. Their event part is one op byte and a list of names, each a
// uvarint length and the bytes:
//
//	'+' names   these users are here now (a delta)
//	'-' names   these users left (a delta)
//	'=' names   the whole list of this node (a roster)
//	'?'         please send your roster
const (
	presenceAdd     = '+'
	presenceDel     = '-'
	presenceRoster  = '='
	presenceRequest = '?'
	kindPresence    = 'p'
	// maxRosterNames bounds a roster; a room with more users on one node
	// lists its first names only (past the presence limit nobody needs
	// them all), and counts are then a lower bound.
	maxRosterNames = 10000
)

// PresenceChange is one user appearing in or disappearing from a room's
// merged list, for Config.OnPresence.
type PresenceChange struct {
	Room   string
	User   string
	Joined bool // false: left
	Online int  // users in the merged list after the change
}

// roster is what one other node holds of a room.
type roster struct {
	users map[string]struct{}
	seen  time.Time // last roster or delta from that node
}

// addSource counts one more holder (this node, or another) of user and
// reports whether the user is new to the merged list. r.mu held.
func (r *room) addSource(user string) bool {
	r.all[user]++
	if r.all[user] > 1 {
		return false
	}
	r.names.Insert(user)
	return true
}

// dropSource counts one holder less and reports whether user left the
// merged list. r.mu held.
func (r *room) dropSource(user string) bool {
	n, ok := r.all[user]
	if !ok {
		return false
	}
	if n > 1 {
		r.all[user] = n - 1
		return false
	}
	delete(r.all, user)
	r.names.Delete(user)
	return true
}

// applyPresence applies what node from said about r. r.mu held. It
// returns the changes to announce and whether node asked for our roster.
func (r *room) applyPresence(from nodeID, body []byte, now time.Time) (changes []PresenceChange, asked bool) {
	if len(body) == 0 {
		return nil, false
	}
	op, names := body[0], parseNames(body[1:])
	if op == presenceRequest {
		return nil, true
	}
	ro := r.remote[from]
	if ro == nil {
		ro = &roster{users: make(map[string]struct{})}
		r.remote[from] = ro
	}
	ro.seen = now
	add := func(u string) {
		if _, ok := ro.users[u]; ok {
			return
		}
		ro.users[u] = struct{}{}
		if r.addSource(u) {
			changes = append(changes, PresenceChange{Room: r.name, User: u, Joined: true})
		}
	}
	del := func(u string) {
		if _, ok := ro.users[u]; !ok {
			return
		}
		delete(ro.users, u)
		if r.dropSource(u) {
			changes = append(changes, PresenceChange{Room: r.name, User: u})
		}
	}
	switch op {
	case presenceAdd:
		for _, u := range names {
			add(u)
		}
	case presenceDel:
		for _, u := range names {
			del(u)
		}
	case presenceRoster:
		keep := make(map[string]struct{}, len(names))
		for _, u := range names {
			keep[u] = struct{}{}
			add(u)
		}
		for u := range ro.users {
			if _, ok := keep[u]; !ok {
				del(u)
			}
		}
	}
	return r.stamp(changes), false
}

// expire drops the rosters of nodes not heard from since before. r.mu held.
func (r *room) expire(before time.Time) []PresenceChange {
	var changes []PresenceChange
	for id, ro := range r.remote {
		if !ro.seen.Before(before) {
			continue
		}
		for u := range ro.users {
			if r.dropSource(u) {
				changes = append(changes, PresenceChange{Room: r.name, User: u})
			}
		}
		delete(r.remote, id)
	}
	return r.stamp(changes)
}

// stamp sets the Online of changes to the merged count now. r.mu held.
func (r *room) stamp(changes []PresenceChange) []PresenceChange {
	for i := range changes {
		changes[i].Online = len(r.all)
	}
	return changes
}

// localRoster returns this node's users of r, at most maxRosterNames, in
// order. r.mu held.
func (r *room) localRoster() []string {
	out := make([]string, 0, min(len(r.users), maxRosterNames))
	for u := range r.names.All() {
		if len(out) == maxRosterNames {
			break
		}
		if r.users[u] > 0 {
			out = append(out, u)
		}
	}
	return out
}

func appendNames(dst []byte, op byte, names []string) []byte {
	dst = append(dst, op)
	for _, n := range names {
		dst = binary.AppendUvarint(dst, uint64(len(n)))
		dst = append(dst, n...)
	}
	return dst
}

// parseNames reads names until the end or the first malformed one.
func parseNames(p []byte) []string {
	var out []string
	for len(p) > 0 {
		s, rest, ok := cutString(p)
		if !ok || s == "" {
			break
		}
		out = append(out, s)
		p = rest
	}
	return out
}

// publishPresence sends op and names about room to the other nodes.
func (h *Hub) publishPresence(room string, op byte, names []string) {
	h.publish(room, envelope{kind: kindPresence, origin: h.id, event: appendNames(nil, op, names)})
}

// announce hands changes to Config.OnPresence. No lock may be held.
func (h *Hub) announce(changes []PresenceChange) {
	if h.cfg.OnPresence == nil {
		return
	}
	for _, c := range changes {
		h.cfg.OnPresence(c)
	}
}

// rosterLoop sends this node's rosters every RosterInterval and drops the
// rosters of nodes silent for RosterTTL.
func (h *Hub) rosterLoop() {
	t := time.NewTicker(h.cfg.RosterInterval)
	defer t.Stop()
	for {
		select {
		case <-h.quit:
			return
		case <-t.C:
		}
		h.rosterRound(time.Now())
	}
}

// rosterRound is one round of rosterLoop.
func (h *Hub) rosterRound(now time.Time) {
	type out struct {
		room  string
		names []string
	}
	var rosters []out
	var changes []PresenceChange
	for _, s := range h.shards {
		s.mu.Lock()
		for name, r := range s.rooms {
			r.mu.Lock()
			changes = append(changes, r.expire(now.Add(-h.cfg.RosterTTL))...)
			rosters = append(rosters, out{name, r.localRoster()})
			r.mu.Unlock()
		}
		s.mu.Unlock()
	}
	h.announce(changes)
	for _, o := range rosters {
		h.publishPresence(o.room, presenceRoster, o.names)
	}
}

// fromBrokerPresence applies a presence envelope of another node to r.
func (h *Hub) fromBrokerPresence(r *room, e envelope) {
	if r.closed.Load() {
		return
	}
	r.mu.Lock()
	changes, asked := r.applyPresence(e.origin, e.event, time.Now())
	var mine []string
	if asked {
		mine = r.localRoster()
	}
	r.mu.Unlock()
	h.announce(changes)
	if asked {
		h.publishPresence(r.name, presenceRoster, mine)
	}
}
