package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// shard owns the rooms whose names hash to it, and one goroutine that
// delivers their events in order.
//
// Handing it an event never waits: the committer acknowledges sends
// before it hands their messages over, and must go on to the next commit
// whatever the fan-out costs. Its queue is bounded instead by
// Config.LagLimit and Config.BacklogLimit: a late event goes to the
// room's Laggards as Lagging, which empties the room and drains the queue.
type shard struct {
	h *Hub // immutable

	qmu    sync.Mutex    // guards queue
	queue  []item        // items in delivery order, waiting for run
	wake   chan struct{} // capacity 1: rung when queue becomes non-empty
	spare  []item        // run's; the last batch's array, for reuse
	events [][]byte      // run's; deliver's scratch for a run's events
	held   *room         // run's; the room whose last run was handed over with more to come

	mu sync.Mutex // guards rooms and the subscription fields of its rooms
	// rooms holds the rooms with at least one local member, or with a
	// joiner waiting for the subscription.
	rooms map[string]*room
}

// item is one event for one room's local members.
type item struct {
	room  *room
	seq   int64  // message sequence; 0 for other events
	event []byte // encoded protocol event; nil with seen
	seen  bool   // no event: members have every message up to seq
	// restart, with seen, starts the room's sequence over at seq and
	// forgets its kept events (Hub.Restart).
	restart bool
	keep    bool // a message event the room may keep for Recent (recent.go)
	// userKey, when set, makes the item an event for that user's
	// members, delivered in the order of the shard; room is nil.
	userKey string
	at      int64 // UnixNano when queued, if Config.LagLimit is set
	behind  bool  // queued behind Config.BacklogLimit others: late
}

// room is one room with local members.
type room struct {
	name string // immutable

	// The broker subscription, guarded by shard.mu. ready is closed when
	// the first Subscribe returned: with cancel set, with subErr set (a
	// closed broker: the join fails), or with neither (the broker is
	// down: the room is served without, and resubscribe sets cancel once
	// a retry succeeds).
	ready  chan struct{}
	cancel func()
	subErr error
	// closed: removed from the shard, no more deliveries or joins.
	// Written under shard.mu; read without it by the shard goroutine.
	closed atomic.Bool

	// head is the highest message sequence delivered to the members, or
	// -1 before the first message or Seen. Written by the shard goroutine.
	head atomic.Int64
	// start is where head started (the first Seen, or the sequence before
	// the first message delivered; Restart's): every message after it
	// reaches the members, those up to it were committed before the room
	// was served here and may never have. -1 while head is. Written by
	// the shard goroutine.
	start atomic.Int64

	rmu    sync.Mutex // guards recent
	recent recentLog  // the last message events delivered (recent.go)

	mu      sync.RWMutex      // guards the fields below
	members map[Member]string // member → user
	// list holds the keys of members, for a fan-out to split into parts;
	// stale says members changed since it was made. add and remove set
	// stale under mu; the shard goroutine, list's only reader, remakes
	// list under mu's read lock.
	list   []Member
	stale  bool
	users  map[string]int     // user → their members here
	remote map[nodeID]*roster // what the other nodes hold (presence.go)
	all    map[string]int     // user → nodes holding them, this one included
	names  nameList           // the keys of all, in order
}

// enqueue queues it for the shard's goroutine. It never blocks.
func (s *shard) enqueue(it item) {
	if s.h.cfg.LagLimit > 0 {
		it.at = time.Now().UnixNano()
	}
	s.qmu.Lock()
	it.behind = len(s.queue) >= s.h.cfg.BacklogLimit
	s.queue = append(s.queue, it)
	first := len(s.queue) == 1
	s.qmu.Unlock()
	if first {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// maxSpare bounds the array run keeps for reuse after a batch, so that a
// backlog's memory goes once it is delivered.
const maxSpare = 1024

func (s *shard) run() {
	for {
		select {
		case <-s.wake:
		case <-s.h.quit:
			return
		}
		s.qmu.Lock()
		batch := s.queue
		s.queue = s.spare[:0]
		s.qmu.Unlock()
		for i := 0; i < len(batch); {
			n := s.runOf(batch[i:])
			// More of the room follows: the next item is its next run.
			next := i + n
			more := next < len(batch) && batch[i].room != nil && batch[next].room == batch[i].room && !batch[next].seen
			s.deliver(batch[i:i+n], more)
			clear(batch[i : i+n]) // let the events go
			i += n
		}
		s.spare = nil
		if cap(batch) <= maxSpare {
			s.spare = batch[:0]
		}
	}
}

// runOf returns how many items at the start of items deliver together:
// consecutive events of one room, at most Config.RunLimit; otherwise 1.
// Only consecutive ones, so that every member still gets the events of
// its rooms, and its user's, in the order of the shard.
func (s *shard) runOf(items []item) int {
	first := &items[0]
	if first.room == nil || first.seen {
		return 1
	}
	n := 1
	for n < len(items) && n < s.h.cfg.RunLimit {
		it := &items[n]
		if it.room != first.room || it.seen { // a user's event has no room
			break
		}
		n++
	}
	return n
}

// deliver runs on the shard goroutine, the only writer of room.head. items
// is one item, or a run of one room's events (runOf); more says that the
// room's next run follows right behind it (see BatchMember). After a run
// handed over with more, the next one is handed over even when none of its
// events is left to deliver, so that the members end their hold.
func (s *shard) deliver(items []item, more bool) {
	held := s.held
	s.held = nil
	it := &items[0]
	if it.userKey != "" {
		s.h.deliverUser(it.userKey, it.event)
		return
	}
	r := it.room
	if r.closed.Load() {
		return // its members were told they have it all as they left (Hub.Leave)
	}
	if it.seen {
		if it.restart {
			r.start.Store(it.seq)
			r.head.Store(it.seq)
			s.h.clearRecent(r)
			return
		}
		if r.head.Load() < 0 { // the shard goroutine is head's only writer
			r.start.Store(it.seq) // first: start is set once head is
			r.head.Store(it.seq)
		}
		return
	}
	now := time.Now()
	events, late := s.events[:0], false
	for i := range items {
		it := &items[i]
		if it.seq > 0 {
			head := r.head.Load()
			if it.seq <= head {
				s.h.stale.Add(1)
				it.seq = 0 // a repeat: not delivered, nothing for Delivered
				continue
			}
			if head < 0 {
				r.start.Store(it.seq - 1)
			}
			r.head.Store(it.seq)
			s.h.remember(r, it)
		}
		// Late events go to the laggards as Lagging, the others in
		// time as a batch: split the run where lateness changes.
		l := it.behind || it.at != 0 && now.UnixNano()-it.at > int64(s.h.cfg.LagLimit)
		if l != late && len(events) > 0 {
			s.fanOut(r, events, late, true, now)
			events = events[:0]
		}
		late = l
		events = append(events, it.event)
	}
	if len(events) > 0 || held == r {
		s.fanOut(r, events, late, more, now)
	}
	if f := s.h.cfg.Delivered; f != nil {
		for i := range items {
			if it := &items[i]; it.seq > 0 {
				f(r.name, it.seq, it.event)
			}
		}
	}
	if more {
		s.held = r
	}
	clear(events)
	s.events = events[:0]
}

// fanOut hands events, in order, to every member of r; when they are
// late, members that are Laggards are told so instead, once per event. A
// big room's members are served in parts, in parallel (Config.FanOutParts);
// fanOut returns when every member has been served. It holds r's read
// lock throughout, so a Join or Leave of r waits for the fan-out in
// progress (a member's DeliverBatch never blocks: at most one
// non-blocking write per member), never for the network.
func (s *shard) fanOut(r *room, events [][]byte, late, more bool, now time.Time) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.stale {
		clear(r.list)
		r.list = r.list[:0]
		for m := range r.members {
			r.list = append(r.list, m)
		}
		r.stale = false
	}
	members := r.list
	parts := min(s.h.cfg.FanOutParts, len(members)/s.h.cfg.FanOutChunk)
	if parts <= 1 {
		s.serve(members, events, late, more, now)
		return
	}
	var wg sync.WaitGroup
	per := (len(members) + parts - 1) / parts
	for i := per; i < len(members); i += per {
		part := members[i:min(i+per, len(members))]
		wg.Go(func() { s.serve(part, events, late, more, now) })
	}
	s.serve(members[:per], events, late, more, now)
	wg.Wait()
}

// serve is fanOut for some of a room's members.
func (s *shard) serve(members []Member, events [][]byte, late, more bool, now time.Time) {
	for _, m := range members {
		if late {
			if l, ok := m.(Laggard); ok {
				for range events {
					l.Lagging()
					s.h.lagged.Add(1)
				}
				continue
			}
		}
		if bm, ok := m.(BatchMember); ok {
			bm.DeliverBatch(events, now, more)
			continue
		}
		for _, e := range events {
			m.Deliver(e)
		}
	}
}

// Presence is what a join leaves: whether the member is its user's first in
// the room on this node (a join event is due), how many distinct users
// the room has here, and their names in order: all of them while there are
// at most Config.MemberList, else the first Config.QuietList (never more
// than MemberList).
type Presence struct {
	First   bool
	Online  int
	Members []string
}

// Join adds m, speaking as user, to roomName and returns once the room's
// broker subscription is in place, or has failed with the broker down:
// every message committed after Join returns reaches m, from this node at
// once and from the others through the broker (or, if the broker loses
// it or could not subscribe, through Heal). Local events
// reach m from the moment Join is called. The first local joiner of a room
// starts the broker call, which runs outside every lock; joiners of other
// rooms never wait for it, joiners of the same room do, until ctx ends.
//
// A broker that is down or slow (its Subscribe fails with anything but
// chat.ErrClosed) does not fail the join: the room is served without its
// subscription, messages of other nodes reach m through Heal only, and
// the subscription is tried again in the background (subscribe).
//
// Joining twice is harmless and reports First == false. On error m is not
// in the room.
func (h *Hub) Join(ctx context.Context, roomName string, m Member, user string) (Presence, error) {
	s := h.shardOf(roomName)
	s.mu.Lock()
	r := s.rooms[roomName]
	creator := r == nil
	if creator {
		r = &room{
			name:    roomName,
			ready:   make(chan struct{}),
			members: make(map[Member]string),
			users:   make(map[string]int),
			remote:  make(map[nodeID]*roster),
			all:     make(map[string]int),
		}
		r.head.Store(-1)
		r.start.Store(-1)
		s.rooms[roomName] = r
	}
	r.mu.Lock() // under s.mu, so that the room cannot be removed meanwhile
	p, changes := r.add(m, user, h.cfg.MemberList, h.cfg.QuietList)
	r.mu.Unlock()
	s.mu.Unlock()
	if p.First {
		h.publishPresence(roomName, presenceAdd, []string{user})
	}
	h.announce(changes)

	if creator {
		// On a goroutine of its own, so that the joiner can give up
		// when ctx ends; Close waits for it.
		h.wg.Go(func() { h.subscribe(s, r) })
	}
	select {
	case <-r.ready:
	default:
		// Asked only when the subscription is still being made: a lazy
		// ctx (the server's) starts a timer for its Done channel, which
		// a join of a room already subscribed, nearly every join, never
		// needs.
		select {
		case <-r.ready:
		case <-ctx.Done():
			h.Leave(roomName, m)
			return Presence{}, ctx.Err()
		}
	}
	s.mu.Lock()
	err := r.subErr
	s.mu.Unlock()
	if err != nil {
		r.mu.Lock()
		r.remove(m)
		r.mu.Unlock()
		return Presence{}, fmt.Errorf("subscribe %s: %w", roomName, err)
	}
	return p, nil
}

// subscribe runs the broker call of r's first joiner, with no lock held.
// A room that emptied meanwhile cancels it at once.
//
// A subscription the broker refuses because it is down or slow (any error
// but chat.ErrClosed) does not keep anyone out: the store, not the broker,
// is where messages live, and Heal brings what other nodes commit (the
// server's heal rounds read every room's head, HealInterval apart), so the
// room is served without its subscription, a joiner gets in, and
// resubscribe tries again in the background. Only a closed broker fails
// the join; the room then leaves the shard, so that the next join tries
// again.
func (h *Hub) subscribe(s *shard, r *room) {
	cancel, err := h.broker.Subscribe(r.name, func(p []byte) { h.fromBroker(r, p) })
	if err != nil && !errors.Is(err, chat.ErrClosed) {
		h.subscribeWarn.Add("", "room", r.name, "err", err)
		s.mu.Lock()
		close(r.ready) // subErr nil: the joiners get in
		s.mu.Unlock()
		h.resubscribe(s, r)
		return
	}
	s.mu.Lock()
	r.cancel, r.subErr = cancel, err
	if err != nil && !r.closed.Load() {
		r.closed.Store(true)
		delete(s.rooms, r.name)
		h.forgetRecent(r)
	}
	cancelNow := err == nil && r.closed.Load()
	close(r.ready)
	s.mu.Unlock()
	if cancelNow {
		cancel()
		return
	}
	if err == nil {
		// The other nodes answer with their rosters of the room.
		h.publishPresence(r.name, presenceRequest, nil)
	}
}

// Waits between the attempts of resubscribe: doubling from the first to
// the most.
const (
	resubscribeFirst = time.Second
	resubscribeMost  = 30 * time.Second
)

// resubscribe subscribes r to the broker again until it succeeds, the room
// empties (closed) or the hub closes, waiting resubscribeFirst, doubling up
// to resubscribeMost, between attempts. Once subscribed it asks the other
// nodes for their rosters, as a first subscription does. It runs on the
// first joiner's subscribe goroutine, which Close waits for.
func (h *Hub) resubscribe(s *shard, r *room) {
	for wait := resubscribeFirst; ; wait = min(2*wait, resubscribeMost) {
		t := time.NewTimer(wait)
		select {
		case <-h.quit:
			t.Stop()
			return
		case <-t.C:
		}
		if r.closed.Load() {
			return
		}
		cancel, err := h.broker.Subscribe(r.name, func(p []byte) { h.fromBroker(r, p) })
		if errors.Is(err, chat.ErrClosed) {
			return
		}
		if err != nil {
			h.subscribeWarn.Add("", "room", r.name, "err", err)
			continue
		}
		s.mu.Lock()
		closed := r.closed.Load()
		if !closed {
			r.cancel = cancel
		}
		s.mu.Unlock()
		if closed {
			cancel() // emptied, or the hub closed, meanwhile
			return
		}
		h.publishPresence(r.name, presenceRequest, nil)
		return
	}
}

// Leave removes m from roomName and reports whether it was the user's last
// member there (so a leave event is due), the user, and how many users
// remain. The broker subscription ends with the room's last local member.
// Leaving a room not joined reports false. Leave must not be called from a
// member's Deliver.
func (h *Hub) Leave(roomName string, m Member) (last bool, user string, online int) {
	s := h.shardOf(roomName)
	s.mu.Lock()
	r := s.rooms[roomName]
	if r == nil {
		s.mu.Unlock()
		return false, "", 0
	}
	r.mu.Lock()
	last, user, changes := r.remove(m)
	online = len(r.all)
	empty := len(r.members) == 0
	r.mu.Unlock()
	var cancel func()
	if empty {
		r.closed.Store(true)
		delete(s.rooms, roomName)
		h.forgetRecent(r)
		cancel = r.cancel // nil while the subscription is pending: subscribe cancels it
	}
	s.mu.Unlock()
	if bm, ok := m.(BatchMember); ok {
		// It may hold runs of the room's backlog for the one that will not
		// reach it now (see BatchMember).
		bm.DeliverBatch(nil, time.Now(), false)
	}
	if cancel != nil {
		cancel() // waits for a delivery in progress; never called from one
	}
	if last {
		h.publishPresence(roomName, presenceDel, []string{user})
		if !empty {
			h.announce(changes)
		}
	}
	return last, user, online
}

// Online returns how many distinct users are in roomName on this node.
func (h *Hub) Online(roomName string) int {
	r := h.room(roomName)
	if r == nil {
		return 0
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.all)
}

// Members returns the users in roomName on this node, sorted, at most limit.
func (h *Hub) Members(roomName string, limit int) []string {
	r := h.room(roomName)
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.names.AppendFirst(make([]string, 0, min(limit, r.names.Len())), limit)
}

// Heads returns, for every room with local members whose starting point is
// known (a message delivered, or Seen), the highest sequence delivered.
// The server compares them with the store's to heal what the broker lost.
func (h *Hub) Heads() map[string]int64 {
	out := make(map[string]int64)
	for _, s := range h.shards {
		s.mu.Lock()
		for name, r := range s.rooms {
			if head := r.head.Load(); head >= 0 {
				out[name] = head
			}
		}
		s.mu.Unlock()
	}
	return out
}

// Rooms returns the names of the rooms with local members, in no order.
func (h *Hub) Rooms() []string {
	var out []string
	for _, s := range h.shards {
		s.mu.Lock()
		for name := range s.rooms {
			out = append(out, name)
		}
		s.mu.Unlock()
	}
	return out
}

func (h *Hub) room(name string) *room {
	s := h.shardOf(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rooms[name]
}

// add needs r.mu held for writing. It keeps names in order with one
// insertion into a chunk (nameList), so a join costs O(log n) to find its
// place and moves at most a chunk, never a sort or a copy of the whole
// room.
func (r *room) add(m Member, user string, full, quiet int) (Presence, []PresenceChange) {
	first := false
	var changes []PresenceChange
	if _, ok := r.members[m]; !ok {
		r.members[m] = user
		r.stale = true
		r.users[user]++
		if r.users[user] == 1 {
			first = true
			if r.addSource(user) {
				changes = r.stamp([]PresenceChange{{Room: r.name, User: user, Joined: true}})
			}
		}
	}
	n := r.names.Len()
	if n > full {
		n = min(quiet, full)
	}
	return Presence{First: first, Online: len(r.all), Members: r.names.AppendFirst(make([]string, 0, n), n)}, changes
}

// remove needs r.mu held for writing.
func (r *room) remove(m Member) (last bool, user string, changes []PresenceChange) {
	user, ok := r.members[m]
	if !ok {
		return false, "", nil
	}
	delete(r.members, m)
	r.stale = true
	r.users[user]--
	if r.users[user] == 0 {
		delete(r.users, user)
		last = true
		if r.dropSource(user) {
			changes = r.stamp([]PresenceChange{{Room: r.name, User: user}})
		}
	}
	return last, user, changes
}
