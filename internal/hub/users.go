package hub

import (
	"hash/maphash"
	"sync"
)

// Events addressed to one user (an invitation, a kick, a ban) go to that
// user's members on every node. Each node subscribes UsersTopic once, in
// New, so that registering a user's connection costs no broker call.

// userShard holds the members of the user keys that hash to it.
type userShard struct {
	mu      sync.Mutex
	members map[string]map[Member]struct{} // user key → members; guarded by mu
}

// AddUser registers m for the events addressed to key. The key names one
// identity, never shared by two people (the server decides its form).
func (h *Hub) AddUser(key string, m Member) {
	u := h.userShard(key)
	u.mu.Lock()
	defer u.mu.Unlock()
	set := u.members[key]
	if set == nil {
		set = make(map[Member]struct{})
		u.members[key] = set
	}
	set[m] = struct{}{}
}

// RemoveUser undoes AddUser.
func (h *Hub) RemoveUser(key string, m Member) {
	u := h.userShard(key)
	u.mu.Lock()
	defer u.mu.Unlock()
	if set := u.members[key]; set != nil {
		delete(set, m)
		if len(set) == 0 {
			delete(u.members, key)
		}
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
	for m := range u.members[key] {
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
