package hub

import (
	"hash/maphash"
	"slices"
	"sync"
)

// Events addressed to one user (an invitation, a kick, a ban) go to that
// user's members on every node. Each node subscribes UsersTopic once, in
// New, so that registering a user's connection costs no broker call.

// userShard holds the members of the user keys that hash to it.
type userShard struct {
	mu sync.Mutex
	// user key → members, each once, in no order; guarded by mu. A slice,
	// not a set: a user has one or a few connections, and a map per user
	// cost every connection about 300 bytes.
	members map[string][]Member
}

// AddUser registers m for the events addressed to key. The key names one
// identity, never shared by two people (the server decides its form).
// Registering m again for the same key changes nothing.
func (h *Hub) AddUser(key string, m Member) {
	u := h.userShard(key)
	u.mu.Lock()
	defer u.mu.Unlock()
	ms := u.members[key]
	if slices.Contains(ms, m) {
		return
	}
	if ms == nil {
		ms = make([]Member, 0, 1) // exactly one: most users have one connection
	}
	u.members[key] = append(ms, m)
}

// UserMembers returns a copy of the members registered for key on this
// node (AddUser), in no order.
func (h *Hub) UserMembers(key string) []Member {
	u := h.userShard(key)
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.members[key])
}

// RemoveUser undoes AddUser.
func (h *Hub) RemoveUser(key string, m Member) {
	u := h.userShard(key)
	u.mu.Lock()
	defer u.mu.Unlock()
	ms := u.members[key]
	i := slices.Index(ms, m)
	switch {
	case i < 0:
	case len(ms) == 1:
		delete(u.members, key)
	default:
		last := len(ms) - 1
		ms[i] = ms[last]
		ms[last] = nil // let the member go
		u.members[key] = ms[:last]
	}
}

// UserEvent hands event to key's members on every node. An event about a
// room (room != "") is delivered on this node after the events of that
// room handed over before it, by the room's shard: a user kicked from a
// room sees the room's copy of the kick before their own copy takes them
// out of it. Other nodes do the same with the copy they receive, after
// the room's events they received before it.
func (h *Hub) UserEvent(key, room string, event []byte) {
	h.userLocal(key, room, event)
	h.publish(UsersTopic, envelope{kind: kindUser, origin: h.id, key: key, room: room, event: event})
}

func (h *Hub) userLocal(key, room string, event []byte) {
	if room == "" {
		h.deliverUser(key, event)
		return
	}
	h.shardOf(room).enqueue(item{userKey: key, event: event})
}

func (h *Hub) deliverUser(key string, event []byte) {
	u := h.userShard(key)
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, m := range u.members[key] {
		m.Deliver(event)
	}
}

// fromBrokerUsers is the callback of the UsersTopic subscription.
func (h *Hub) fromBrokerUsers(payload []byte) {
	e, err := parseEnvelope(payload)
	if err != nil || e.kind != kindUser {
		h.malformed.Add(1)
		return
	}
	if e.origin == h.id {
		h.own.Add(1)
		return
	}
	h.userLocal(e.key, e.room, e.event)
}

func (h *Hub) userShard(key string) *userShard {
	return h.users[maphash.String(h.seed, key)%uint64(len(h.users))]
}
