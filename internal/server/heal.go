package server

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// heal runs every HealInterval until quit is closed: it compares the
// heads of the rooms this node's connections are in with the store's and
// hands the hub what is missing, in sequence order. The broker is allowed
// to lose news (Redis pub/sub and core NATS are at most once, and either
// may be down); the store is not, so a message committed on another node
// reaches the members here at most about HealInterval after its commit
// whatever the broker does, quiet rooms included. On one node with the
// in-process broker nothing is ever missing and a round is one query.
func (s *Server) heal(quit <-chan struct{}) {
	t := time.NewTicker(s.cfg.HealInterval)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		case <-s.healNow:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.HealInterval)
		s.healOnce(ctx)
		cancel()
	}
}

// brokerGap is what the node does when its broker says it may have lost
// news (chat.GapNotifier: a connection to Redis or NATS was down, or
// payloads were dropped): it drops the rows, roles and sanctions it
// cached, whose changes on other nodes it may not have heard of, and runs
// a heal round now instead of at the next tick, which delivers what was
// lost and takes connections out of rooms deleted meanwhile. Without it
// the same happens within Config.ModerationCheck and HealInterval. It runs
// on the broker's goroutine, possibly many times for one gap: it only
// drops and signals.
func (s *Server) brokerGap() {
	s.roomRows.clear()
	s.roles.clear()
	s.sanctions.clear()
	s.gapWarn.Add("")
	select {
	case s.healNow <- struct{}{}:
	default:
	}
}

// healBatch is the most messages one round fetches for one room; a room
// further behind catches up over several rounds (its clients see the gap
// and fetch history themselves meanwhile).
const healBatch = 200

// healOnce is one round of heal.
func (s *Server) healOnce(ctx context.Context) {
	ours := s.hub.Heads()
	if len(ours) == 0 {
		return
	}
	names := slices.Collect(maps.Keys(ours))
	asked := monoNow()
	heads, err := s.cfg.Store.Heads(ctx, names)
	if err != nil {
		s.log.Warn("heal: reading room heads failed", "rooms", len(names), "err", err)
		return
	}
	restarted := s.dropStale(ours, heads, asked)
	for room, h := range heads {
		have, head := ours[room], h.Seq
		if have > head && !restarted[room] {
			// Delivered past the store's head: what was delivered here
			// was of an earlier room of that name (dropStale took out
			// who was in it), and this room's sequence starts over.
			s.hub.Restart(room, 0)
			continue
		}
		if head <= have || restarted[room] {
			continue
		}
		msgs, err := s.cfg.Store.HistoryAfter(ctx, room, have, healBatch)
		if err != nil {
			s.log.Warn("heal: reading history failed", "room", room, "err", err)
			continue
		}
		for _, m := range msgs {
			pm := wireMessage(m)
			pm.File = s.storedFile(ctx, m.FileID)
			payload, err := protocol.EncodeEvent(&protocol.Event{Type: protocol.TypeMessage, Message: &pm})
			if err != nil {
				s.log.Error("encode message event", "room", m.Room, "err", err)
				break
			}
			s.hub.Heal(room, m.Seq, payload, m.Kind == "")
		}
		s.data.healed.Add(float64(len(msgs)))
	}
}

// dropStale takes this node's connections out of the rooms that were
// deleted since they joined, as the directory event of the deletion
// would have (fromDirectory), when that event never came: the broker may
// lose it. Such a room is missing from heads, the store's answer for the
// rooms in ours; or its name now belongs to another room, created later
// (its Created differs from the one the connection joined), which may be
// private: left alone, the connections of the old room would get its
// messages. A connection that joined after asked (monoNow before the
// store was asked) is left for the next round. One whose join was
// decided on the old room's cached row (join reads the row again only
// when the hub's head says it may be stale) is taken out too, though the
// new room may admit it: it rejoins, decided on the new room. A room
// whose name was taken again and that keeps members here (ones that
// joined the new room) starts its sequence over (hub.Restart); dropStale
// returns those rooms, which this round does not heal.
//
// It walks every identified connection of the node, as a directory event
// does, taking each one's session lock once per round: about 0.7 ms per
// 10,000 connections when nothing is stale (BenchmarkDropStale, 2 vCPU),
// every HealInterval.
func (s *Server) dropStale(ours map[string]int64, heads map[string]chat.Head, asked int64) (restarted map[string]bool) {
	type leaver struct {
		u    *userTopic
		room string
	}
	var leaving []leaver
	for _, u := range s.dir.snapshot() {
		u.ss.mu.Lock()
		u.ss.joined.each(func(jr *joinedRoom) {
			if _, ok := ours[jr.name]; !ok || jr.checked == 0 || jr.checked > asked {
				return
			}
			if h, ok := heads[jr.name]; ok && h.Created.UnixMilli() == jr.created {
				return
			}
			leaving = append(leaving, leaver{u, jr.name})
		})
		u.ss.mu.Unlock()
	}
	if len(leaving) == 0 {
		return nil
	}
	events := make(map[string][]byte)
	for _, l := range leaving {
		if _, ok := events[l.room]; ok {
			continue
		}
		b, err := protocol.EncodeEvent(&protocol.Event{Type: protocol.TypeDirectory, Change: protocol.ChangeDeleted, Room: l.room})
		if err != nil {
			s.log.Error("encode directory event", "err", err)
			return nil
		}
		events[l.room] = b
		s.roomRows.forget(l.room)
		s.roles.forget(l.room)
		s.log.Warn("heal: a room was deleted without news of it reaching this node; its connections here leave it", "room", l.room)
	}
	for _, l := range leaving {
		l.u.c.enqueue(outMsg{data: events[l.room]})
		if l.u.ss.forceLeave(l.u.c, l.room) {
			s.data.staleLeft.Inc()
		}
	}
	// Only once they are out: the new room's messages must not reach them.
	for room := range events {
		if _, ok := heads[room]; ok {
			if restarted == nil {
				restarted = make(map[string]bool)
			}
			restarted[room] = true
			s.hub.Restart(room, 0)
		}
	}
	return restarted
}

// monoStart is the origin of monoNow.
var monoStart = time.Now()

// monoNow returns the nanoseconds since monoStart on the monotonic clock:
// readings of this process that compare without the wall clock's steps.
func monoNow() int64 { return int64(time.Since(monoStart)) }
