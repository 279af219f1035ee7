// Package hub is one node's fan-out: it maps each room to the connections
// of this node that joined it, delivers the room's events to them, and
// exchanges news with the other nodes through a chat.Broker.
//
// The data path of a committed message is
//
//	committer ─Message─▶ shard queue ─▶ shard goroutine ─▶ every local member's Deliver
//	          └────────▶ publish queue ─▶ publisher goroutine ─▶ Broker.PublishBatch ─▶ other nodes
//	other node ─broker─▶ shard queue ─▶ shard goroutine ─▶ local members
//
// Members on the node that committed a message get it whatever the
// broker's state: the broker only carries news between nodes, and a node
// drops the news it published itself. Rooms are spread over shards by a
// hash of their name; each shard has one goroutine, so the events of one
// room are delivered in the order they were handed over, and no lock is
// held across the nodes or the shards. A shard remembers the highest
// message sequence it delivered per room and drops what is not newer, so
// a message that arrives twice (from the broker and from the store, see
// Heal) reaches each member once.
//
// The hub never encodes the events it delivers and never blocks on a
// member: the same bytes go to every member's Deliver, which must only
// queue them. What a member does when its queue is full (hubbub closes it
// as a slow consumer) is the member's business.
//
// Handing the hub an event never waits either: the committer acknowledges
// sends before it hands their messages over, and must not wait for a
// fan-out. A shard's queue is bounded instead by age and length: an event
// queued longer than Config.LagLimit, or behind Config.BacklogLimit others,
// goes to the room's Laggards as Lagging (they leave and resume from the
// store), which empties the room and lets the queue drain.
//
// Lock order: shard.mu, then room.mu or room.rmu; users.mu alone. No lock is held
// during a broker call.
package hub

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/ratelimit"
)

// Member is a local subscriber of rooms, normally one WebSocket connection.
type Member interface {
	// Deliver queues payload for sending. It must not block, and must
	// treat payload as read-only: the same slice goes to every member.
	Deliver(payload []byte)
}

// BatchMember is a Member that takes a run of its room's events in one
// call, with the time the hub read when it handed them over. A room of N
// reads the clock once per run instead of once per delivery, and a member
// behind on a busy room takes k queued events with one call (one lock,
// one wake-up of its writer) instead of k. payloads is in delivery order;
// the slice is the hub's and valid only during the call, while each
// payload is shared read-only with every member, as with Deliver. A run
// is at most Config.RunLimit events. more says that the shard holds
// more of the room's events right behind this run (a backlog was cut into
// runs): a member that writes events to its socket when it can may hold
// this run, to send the runs together. The hub ends every such hold with a
// call with more false: the room's next run, with no payloads if none of
// its events is left to deliver, or, if the member leaves the room first,
// a call with no payloads from Leave. DeliverBatch must not block.
type BatchMember interface {
	Member
	DeliverBatch(payloads [][]byte, now time.Time, more bool)
}

// Laggard is a Member that can be told it fell behind: an event of its
// room reached it more than Config.LagLimit after it was handed to the
// hub. The member is expected to leave (the server closes the connection
// as a slow consumer, and the client resumes from history). Lagging must
// not block; it may be called again until the member has left.
type Laggard interface {
	Member
	Lagging()
}

// warnEvery is the least time between two warnings of one kind.
const warnEvery = 10 * time.Second

// UsersTopic is the broker topic that carries events addressed to one
// user. Room names never start with '@', so it cannot collide with a room.
const UsersTopic = "@users"

// Config configures a Hub. Every zero field takes the default noted.
type Config struct {
	Broker chat.Broker  // required
	Logger *slog.Logger // default slog.Default()

	// Shards is the number of room shards, each with its goroutine.
	// Default 4×GOMAXPROCS, at least 8.
	Shards int
	// LagLimit: an event that reaches its room's members later than this
	// after it was handed to the hub (Message, Event, Heal, Local) means
	// that this node is behind on the room. Members that are Laggards are
	// then told (Lagging) instead of being given the event; others get it
	// late. 0: never. Handing an event over never waits (acknowledgements
	// must not wait for deliveries); this and BacklogLimit are what bound
	// a shard's queue.
	LagLimit time.Duration
	// BacklogLimit: an event queued behind this many others on its shard
	// is late whatever its age (see LagLimit), so that a node falling
	// behind faster than the clock shows keeps a bounded queue. Default
	// 262144.
	BacklogLimit int
	// RunLimit is the most events of one room the shard hands a
	// BatchMember in one call, when a backlog has queued several. A
	// member that queues events (the server's connection) should be able
	// to take this many at once. Default 64.
	RunLimit int
	// FanOutParts is the most goroutines that hand one room's events to
	// its members at once: a room with at least 2×FanOutChunk members is
	// split into parts of at least FanOutChunk members each, delivered in
	// parallel, and the shard waits for every part before its next
	// event. A member that writes to its socket when handed an event (the
	// server's connection) makes a big room's fan-out a few milliseconds
	// of system calls, which one goroutine would serialize on one core.
	// Default GOMAXPROCS; 1 delivers every room on its shard's goroutine.
	FanOutParts int
	// FanOutChunk is the fewest members in one part; default 128.
	FanOutChunk int
	// PublishQueue bounds the publications waiting for the broker. When it
	// is full (the broker is down or slow) new publications are dropped
	// and counted; other nodes heal from the store. Default 65536.
	PublishQueue int
	// PublishBatch is the most publications sent in one PublishBatch
	// call. Default 256.
	PublishBatch int
	// PublishTimeout bounds one PublishBatch call. Default 5s.
	PublishTimeout time.Duration
	// MemberList: Join returns every member's name while the room has at
	// most this many users here. Default 1000.
	MemberList int
	// QuietList: past MemberList users, Join returns only the first
	// QuietList names. Default 100.
	QuietList int
	// RosterInterval is how often this node sends the others its list of
	// each room's users (default 5s); RosterTTL is how long a node's list
	// counts without news from it (default 3×RosterInterval): it bounds
	// how long the users of a dead node stay listed.
	RosterInterval, RosterTTL time.Duration
	// OnPresence, if set, hears of every user who appears in or leaves a
	// room's cluster-wide list (see presence.go). It runs on the hub's or
	// the broker's goroutines, with no hub lock held, and must not block.
	OnPresence func(PresenceChange)
	// RecentRoomBytes is the most bytes of message events one room keeps
	// for Recent (recent.go), default 1 MiB; RecentBytes is the most all
	// rooms of the node keep together, default 16 MiB. Negative: keep
	// none. The process holds up to about twice RecentBytes for them (the
	// garbage collector's headroom).
	RecentRoomBytes, RecentBytes int
	// Keep, if set, reports whether a message event that came from the
	// broker may be kept for Recent (see recent.go): it must be true only
	// for an event that no later entry of the room can have changed
	// unless that entry also comes as an event (the server: a plain
	// message). Unset: none is kept. It runs on the broker's goroutines.
	Keep func(event []byte) bool
	// Delivered, if set, hears of every message event (one with a
	// sequence) once the room's local members have been handed it: in
	// the room's sequence order, whether it came from this node, the
	// broker or Heal, and never of a repeat the room skipped. It runs on
	// the hub's goroutines, with no hub lock held, and must not block; it
	// may deliver user events (it runs where the room's user events do).
	Delivered func(room string, seq int64, event []byte)
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Shards <= 0 {
		c.Shards = max(8, 4*runtime.GOMAXPROCS(0))
	}
	if c.BacklogLimit <= 0 {
		c.BacklogLimit = 1 << 18
	}
	if c.RunLimit <= 0 {
		c.RunLimit = 64
	}
	if c.FanOutParts <= 0 {
		c.FanOutParts = runtime.GOMAXPROCS(0)
	}
	if c.FanOutChunk <= 0 {
		c.FanOutChunk = 128
	}
	if c.PublishQueue <= 0 {
		c.PublishQueue = 65536
	}
	if c.PublishBatch <= 0 {
		c.PublishBatch = 256
	}
	if c.PublishTimeout <= 0 {
		c.PublishTimeout = 5 * time.Second
	}
	if c.MemberList <= 0 {
		c.MemberList = 1000
	}
	if c.QuietList <= 0 {
		c.QuietList = 100
	}
	if c.RosterInterval <= 0 {
		c.RosterInterval = 5 * time.Second
	}
	if c.RosterTTL <= 0 {
		c.RosterTTL = 3 * c.RosterInterval
	}
	if c.RecentRoomBytes == 0 {
		c.RecentRoomBytes = 1 << 20
	}
	if c.RecentBytes == 0 {
		c.RecentBytes = 16 << 20
	}
}

// Stats are the hub's counters since New.
type Stats struct {
	Published      uint64 // publications the broker accepted
	PublishFailed  uint64 // publications in a batch the broker refused
	PublishDropped uint64 // publications dropped because the publish queue was full
	Own            uint64 // broker payloads this node published itself, skipped
	Stale          uint64 // message events not newer than what the room had, skipped
	Malformed      uint64 // broker payloads that were not envelopes
	PublishQueue   int    // publications waiting now
	Backlog        int    // events waiting now for their shard's goroutine, all shards
	Lagged         uint64 // deliveries replaced by Lagging (Config.LagLimit)
	RecentKept     int64  // bytes of message events kept for Recent now, all rooms (overhead included)
}

// Hub is the per-node room registry. It is safe for concurrent use. Create
// it with New and stop it with Close.
type Hub struct {
	// Immutable after New.
	cfg            Config
	broker         chat.Broker
	log            *slog.Logger
	id             nodeID
	seed           maphash.Seed
	shards         []*shard
	users          []*userShard
	pubq           chan publication
	quit           chan struct{}
	wg             sync.WaitGroup
	usersSubCancel func()

	closeOnce sync.Once
	// Warnings, at most one line per warnEvery each, with counts.
	queueFullWarn, publishWarn, subscribeWarn *ratelimit.Log

	published, publishFailed, publishDropped atomic.Uint64
	own, stale, malformed, lagged            atomic.Uint64
	recentBytes                              atomic.Int64 // kept for Recent, all rooms (recent.go)
}

type publication struct {
	topic string
	env   envelope // event shared with local delivery: read-only
}

// New returns a running hub and subscribes it to the users topic.
func New(cfg Config) (*Hub, error) {
	if cfg.Broker == nil {
		return nil, errors.New("hub: Config.Broker is required")
	}
	cfg.setDefaults()
	h := &Hub{
		cfg:    cfg,
		broker: cfg.Broker,
		log:    cfg.Logger,
		seed:   maphash.MakeSeed(),
		pubq:   make(chan publication, cfg.PublishQueue),
		quit:   make(chan struct{}),
	}
	h.queueFullWarn = ratelimit.NewLog(cfg.Logger, "publish queue full; other nodes will heal from the store", warnEvery)
	h.publishWarn = ratelimit.NewLog(cfg.Logger, "publish to broker failed; other nodes will heal from the store", warnEvery)
	h.subscribeWarn = ratelimit.NewLog(cfg.Logger, "broker subscription failed; the room is served, other nodes' messages reach it from the store until a retry subscribes", warnEvery)
	rand.Read(h.id[:])
	h.users = make([]*userShard, cfg.Shards)
	for i := range h.users {
		h.users[i] = &userShard{members: make(map[string][]Member)}
	}
	cancel, err := h.broker.Subscribe(UsersTopic, h.fromBrokerUsers)
	if err != nil {
		return nil, fmt.Errorf("hub: subscribe %s: %w", UsersTopic, err)
	}
	h.usersSubCancel = cancel
	h.shards = make([]*shard, cfg.Shards)
	for i := range h.shards {
		s := &shard{h: h, rooms: make(map[string]*room), wake: make(chan struct{}, 1)}
		h.shards[i] = s
		h.wg.Go(s.run)
	}
	h.wg.Go(h.publishLoop)
	h.wg.Go(h.rosterLoop)
	return h, nil
}

// Close ends every broker subscription and stops the hub's goroutines,
// after a last attempt (bounded by Config.PublishTimeout) to publish what
// is queued. Events handed over later are dropped. It does not close the
// broker.
func (h *Hub) Close() {
	h.closeOnce.Do(func() {
		h.usersSubCancel()
		var cancels []func()
		for _, s := range h.shards {
			s.mu.Lock()
			for name, r := range s.rooms {
				r.closed.Store(true)
				h.forgetRecent(r)
				if r.cancel != nil {
					cancels = append(cancels, r.cancel)
				}
				delete(s.rooms, name)
			}
			s.mu.Unlock()
		}
		for _, c := range cancels {
			c()
		}
		close(h.quit)
		h.wg.Wait()
	})
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	backlog := 0
	for _, s := range h.shards {
		s.qmu.Lock()
		backlog += len(s.queue)
		s.qmu.Unlock()
	}
	return Stats{
		Published:      h.published.Load(),
		PublishFailed:  h.publishFailed.Load(),
		PublishDropped: h.publishDropped.Load(),
		Own:            h.own.Load(),
		Stale:          h.stale.Load(),
		Malformed:      h.malformed.Load(),
		PublishQueue:   len(h.pubq),
		Backlog:        backlog,
		Lagged:         h.lagged.Load(),
		RecentKept:     h.recentBytes.Load(),
	}
}

func (h *Hub) shardOf(room string) *shard {
	return h.shards[maphash.String(h.seed, room)%uint64(len(h.shards))]
}

// Message hands the encoded event of a committed message to the room's
// local members, in the order of the calls for that room, and queues it
// for the other nodes. Call it only after the commit, and for the
// messages of one room in sequence order. keep says the room may keep the
// event for Recent (see recent.go and Config.Keep).
func (h *Hub) Message(room string, seq int64, event []byte, keep bool) {
	h.local(room, item{seq: seq, event: event, keep: keep})
	h.publish(room, envelope{kind: kindRoom, origin: h.id, seq: seq, event: event})
}

// Event hands a room event that is not a message (presence, typing,
// moderation) to the room's local members and queues it for the other
// nodes. It is not ordered against messages and is news only: the broker
// may lose it.
func (h *Hub) Event(room string, event []byte) {
	h.local(room, item{event: event})
	h.publish(room, envelope{kind: kindRoom, origin: h.id, event: event})
}

// Heal hands the local members a message read back from the store, which
// they get unless the room already delivered its sequence. It publishes
// nothing. keep is Message's.
func (h *Hub) Heal(room string, seq int64, event []byte, keep bool) {
	h.local(room, item{seq: seq, event: event, keep: keep})
}

// Local hands an event to the room's local members only.
func (h *Hub) Local(room string, event []byte) {
	h.local(room, item{event: event})
}

// Seen tells the room that its members have every message up to seq (a
// join reply said so): until the room has delivered a message, Heal treats
// seq as its starting point. It is ignored once the room has one.
func (h *Hub) Seen(room string, seq int64) {
	h.local(room, item{seq: seq, seen: true})
}

// Restart tells the room that its name now belongs to another room: the
// one it served was deleted and another created under the name, and the
// directory's news of it did not reach this node. The room forgets the
// events it kept (Recent) and takes seq as its head, so that the new
// room's messages, whose sequences start over, are not taken for repeats
// of the old one's. Queued like a message, it acts after what was queued
// for the room before it.
func (h *Hub) Restart(room string, seq int64) {
	h.local(room, item{seq: seq, seen: true, restart: true})
}

// Head returns the highest sequence delivered to room's local members
// (or marked Seen), or -1 if the room has no local members or none yet.
// Read after Join returned, it is a sequence every later message of the
// room follows: the joiner receives all of them.
func (h *Hub) Head(room string) int64 {
	r := h.served(room)
	if r == nil {
		return -1
	}
	return r.head.Load()
}

// Start returns the sequence from which room's local members get every
// message: those after it reach them (from this node, the broker or
// Heal), those up to it were committed before the room was served on
// this node (its first Seen, or the message before the first delivered;
// Restart's sequence) and may never have reached it. -1 if the room has
// no local members or no starting point yet. It is at most Head.
func (h *Hub) Start(room string) int64 {
	r := h.served(room)
	if r == nil {
		return -1
	}
	return r.start.Load()
}

// served returns the room called name if it has local members and is not
// closed, else nil.
func (h *Hub) served(name string) *room {
	s := h.shardOf(name)
	s.mu.Lock()
	r := s.rooms[name]
	s.mu.Unlock()
	if r == nil || r.closed.Load() {
		return nil
	}
	return r
}

// local queues it on the room's shard if the room has local members.
func (h *Hub) local(roomName string, it item) {
	s := h.shardOf(roomName)
	s.mu.Lock()
	r := s.rooms[roomName]
	s.mu.Unlock()
	if r == nil {
		return
	}
	it.room = r
	s.enqueue(it)
}

func (h *Hub) publish(topic string, env envelope) {
	select {
	case h.pubq <- publication{topic: topic, env: env}:
	default:
		h.publishDropped.Add(1)
		h.queueFullWarn.Add("", "queue", cap(h.pubq))
	}
}

// publishLoop sends what is queued to the broker in batches, in queue
// order. A failed batch is dropped: the store has every message, and the
// other nodes heal from it.
func (h *Hub) publishLoop() {
	batch := make([]chat.Publication, 0, h.cfg.PublishBatch)
	var buf []byte
	for {
		var first publication
		select {
		case first = <-h.pubq:
		case <-h.quit:
			// A last attempt, so that a clean shutdown tells the others.
			for {
				batch, buf = batch[:0], nil
			drain:
				for len(batch) < cap(batch) {
					select {
					case p := <-h.pubq:
						batch, buf = h.appendPublication(batch, buf, p)
					default:
						break drain
					}
				}
				if len(batch) == 0 {
					return
				}
				h.sendBatch(batch)
			}
		}
		batch, buf = h.appendPublication(batch[:0], nil, first)
	gather:
		for len(batch) < cap(batch) {
			select {
			case p := <-h.pubq:
				batch, buf = h.appendPublication(batch, buf, p)
			default:
				break gather
			}
		}
		h.sendBatch(batch)
	}
}

// appendPublication encodes p's envelope into buf, which backs the
// payloads of one batch. A batch gets a fresh buf (never reused): a broker
// may hand a payload on to a subscriber that keeps it.
func (h *Hub) appendPublication(batch []chat.Publication, buf []byte, p publication) ([]chat.Publication, []byte) {
	start := len(buf)
	buf = appendEnvelope(buf, p.env)
	return append(batch, chat.Publication{Topic: p.topic, Payload: buf[start:len(buf):len(buf)]}), buf
}

func (h *Hub) sendBatch(batch []chat.Publication) {
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.PublishTimeout)
	defer cancel()
	if err := h.broker.PublishBatch(ctx, batch); err != nil {
		h.publishFailed.Add(uint64(len(batch)))
		h.publishWarn.Add("", "publications", len(batch), "err", err)
		return
	}
	h.published.Add(uint64(len(batch)))
}

// fromBroker is the broker callback of a room's subscription.
func (h *Hub) fromBroker(r *room, payload []byte) {
	e, err := parseEnvelope(payload)
	if err != nil || e.kind == kindUser {
		h.malformed.Add(1)
		return
	}
	if e.origin == h.id {
		h.own.Add(1)
		return
	}
	if e.kind == kindPresence {
		h.fromBrokerPresence(r, e)
		return
	}
	keep := e.seq > 0 && h.cfg.Keep != nil && h.cfg.RecentRoomBytes > 0 && h.cfg.RecentBytes > 0 && h.cfg.Keep(e.event)
	h.shardOf(r.name).enqueue(item{room: r, seq: e.seq, event: e.event, keep: keep})
}
