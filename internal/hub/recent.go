package hub

// A room with local members keeps the last message events it delivered,
// as the very bytes its members got, so that a client which fell behind
// (closed as a slow consumer, or back from a short disconnect) can page
// through what it missed without a read of the store per page (Recent).
// Under overload that paging is what the store spends its time on: with
// 1000 clients of one busy room resuming, history reads were 58% of the
// server's CPU, and each resume made the next one likelier.
//
// What a room keeps is a run of consecutive sequence numbers, oldest
// first, and only events handed over as keepable (Message and Heal's keep,
// Config.Keep for the broker's): the server keeps plain messages as they
// were committed and nothing that acts on one. An event that is not
// keepable, or a gap (a sequence the broker lost, a Seen), starts the run
// afresh after it, so the run never holds a message that a later entry of
// the run changed: what Recent returns is what the store held when the
// run's last event was delivered.
//
// The run is bounded per room (Config.RecentRoomBytes) and across the
// node (Config.RecentBytes); past either, the room's oldest events go first.
// Past the node's total a room keeps no more than it has, and one that
// has nothing waits for another to let go: the first busy rooms keep
// theirs. The shards check and add to the node's total without a lock
// between them, so it may be passed by one event per shard at most. A
// room that loses its last local member lets its run go.

// recentEntry is one kept event.
type recentEntry struct {
	seq   int64
	event []byte // shared with the members it was delivered to: read-only
}

// recentOverhead is what an entry costs besides its event's bytes (the
// capacity of its slice, which holds the array alive), as counted against
// the limits.
const recentOverhead = 32

// recentLog is one room's kept events; guarded by room.rmu.
type recentLog struct {
	ents  []recentEntry // ents[off:] are kept, in sequence order, consecutive
	off   int
	bytes int
	gone  bool // the room was removed: keep nothing more
}

func (l *recentLog) kept() []recentEntry { return l.ents[l.off:] }

// remember keeps it, the message event of r just delivered (it.seq was
// newer than r's head), when it is keepable and fits. Only the shard
// goroutine calls it.
func (h *Hub) remember(r *room, it *item) {
	per, total := h.cfg.RecentRoomBytes, h.cfg.RecentBytes
	if per <= 0 || total <= 0 {
		return
	}
	size := cap(it.event) + recentOverhead
	r.rmu.Lock()
	defer r.rmu.Unlock()
	l := &r.recent
	if l.gone {
		return
	}
	k := l.kept()
	if !it.keep || size > per || len(k) > 0 && k[len(k)-1].seq+1 != it.seq {
		h.dropOldest(l, len(k))
		if !it.keep || size > per {
			return
		}
	}
	// Make room: the oldest go first, this room's own; a node over its
	// total keeps this room's run no longer than it is.
	for len(l.kept()) > 0 && (l.bytes+size > per || h.recentBytes.Load()+int64(size) > int64(total)) {
		h.dropOldest(l, 1)
	}
	if h.recentBytes.Load()+int64(size) > int64(total) {
		return // other rooms hold the node's share; this one starts later
	}
	if l.off > 0 && l.off >= len(l.ents)/2 {
		n := copy(l.ents, l.ents[l.off:])
		clear(l.ents[n:])
		l.ents, l.off = l.ents[:n], 0
	}
	l.ents = append(l.ents, recentEntry{seq: it.seq, event: it.event})
	l.bytes += size
	h.recentBytes.Add(int64(size))
}

// dropOldest lets the n oldest kept events of l go. r.rmu must be held.
func (h *Hub) dropOldest(l *recentLog, n int) {
	freed := 0
	for i := l.off; i < l.off+n; i++ {
		freed += cap(l.ents[i].event) + recentOverhead
		l.ents[i] = recentEntry{}
	}
	l.off += n
	if l.off == len(l.ents) {
		l.ents, l.off = l.ents[:0], 0
	}
	l.bytes -= freed
	h.recentBytes.Add(-int64(freed))
}

// clearRecent lets r's kept events go; r keeps what it is given next.
func (h *Hub) clearRecent(r *room) {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	h.dropOldest(&r.recent, len(r.recent.kept()))
}

// forgetRecent lets r's kept events go, for good: r was removed.
func (h *Hub) forgetRecent(r *room) {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	h.dropOldest(&r.recent, len(r.recent.kept()))
	r.recent.ents = nil
	r.recent.gone = true
}

// Recent returns the message events of roomName with the sequences after
// after+1 … after+max that the room kept, in order, and the sequence of
// the last event it kept (last). ok is false, and nothing is returned,
// unless the room kept the event after+1: it has no local members, or
// that one is older than what it keeps, or not delivered yet. Fewer than
// max events means that last is the room's newest on this node, which the
// store may already have passed (compare it with the store's head).
// The events are shared: read-only.
func (h *Hub) Recent(roomName string, after int64, max int) (events [][]byte, last int64, ok bool) {
	r := h.room(roomName)
	if r == nil || max <= 0 {
		return nil, 0, false
	}
	r.rmu.Lock()
	defer r.rmu.Unlock()
	k := r.recent.kept()
	if len(k) == 0 || after+1 < k[0].seq || after+1 > k[len(k)-1].seq {
		return nil, 0, false
	}
	from := int(after + 1 - k[0].seq)
	to := min(len(k), from+max)
	events = make([][]byte, 0, to-from)
	for _, e := range k[from:to] {
		events = append(events, e.event)
	}
	return events, k[len(k)-1].seq, true
}
