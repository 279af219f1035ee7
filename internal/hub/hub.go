// Package hub is one node's fan-out: it maps each room to the connections
// of this node that joined it, subscribes to the room on the chat.Broker
// while at least one local connection is in it, and hands every payload the
// broker delivers to each of those connections.
//
// The hub never encodes and never blocks: a payload arrives encoded once
// and the same bytes go to every member's Deliver, which must only queue
// them. What a member does when its queue is full (hubbub closes it as a
// slow consumer) is the member's business, not the hub's.
package hub

import (
	"fmt"
	"slices"
	"sync"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// Member is a local subscriber of rooms, normally one WebSocket connection.
type Member interface {
	// Deliver queues payload for sending. It must not block, and must
	// treat payload as read-only: the same slice goes to every member.
	Deliver(payload []byte)
}

// Hub is the per-node room registry. It is safe for concurrent use.
//
// Lock order: Hub.mu before room.mu. Deliveries take only room.mu (read).
type Hub struct {
	broker chat.Broker // immutable after New

	mu    sync.Mutex // guards rooms
	rooms map[string]*room
}

type room struct {
	cancel func() // broker subscription; immutable after creation

	mu      sync.RWMutex      // guards members and users
	members map[Member]string // member → user name
	users   map[string]int    // user name → number of their members here
}

// New returns a hub that subscribes rooms on broker.
func New(broker chat.Broker) *Hub {
	return &Hub{broker: broker, rooms: make(map[string]*room)}
}

// Join adds m, speaking as user, to roomName. It reports whether m is the
// user's first member in the room on this node (so a join event is due) and
// returns the users present after the join, sorted. Joining twice is
// harmless and reports first == false.
func (h *Hub) Join(roomName string, m Member, user string) (first bool, users []string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[roomName]
	if r == nil {
		r = &room{members: make(map[Member]string), users: make(map[string]int)}
		cancel, err := h.broker.Subscribe(roomName, r.deliver)
		if err != nil {
			return false, nil, fmt.Errorf("subscribe %s: %w", roomName, err)
		}
		r.cancel = cancel
		h.rooms[roomName] = r
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.members[m]; !ok {
		r.members[m] = user
		r.users[user]++
		first = r.users[user] == 1
	}
	return first, r.userList(), nil
}

// Leave removes m from roomName and reports whether it was the user's last
// member there (so a leave event is due). The broker subscription ends with
// the room's last local member. Leaving a room not joined reports false.
func (h *Hub) Leave(roomName string, m Member) (last bool, user string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[roomName]
	if r == nil {
		return false, ""
	}
	r.mu.Lock()
	user, ok := r.members[m]
	if ok {
		delete(r.members, m)
		r.users[user]--
		if r.users[user] == 0 {
			delete(r.users, user)
			last = true
		}
	}
	empty := len(r.members) == 0
	r.mu.Unlock()
	if empty {
		delete(h.rooms, roomName)
		r.cancel() // waits for a delivery in progress; never called from one
	}
	return last, user
}

// Users returns the users with a member in roomName on this node, sorted.
func (h *Hub) Users(roomName string) []string {
	h.mu.Lock()
	r := h.rooms[roomName]
	h.mu.Unlock()
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.userList()
}

// Online returns how many distinct users are in roomName on this node.
func (h *Hub) Online(roomName string) int {
	h.mu.Lock()
	r := h.rooms[roomName]
	h.mu.Unlock()
	if r == nil {
		return 0
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.users)
}

// userList needs r.mu held (read or write).
func (r *room) userList() []string {
	out := make([]string, 0, len(r.users))
	for u := range r.users {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// deliver is the broker callback: the same payload to every member.
func (r *room) deliver(payload []byte) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for m := range r.members {
		m.Deliver(payload)
	}
}
