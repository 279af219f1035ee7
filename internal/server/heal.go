package server

import (
	"context"
	"maps"
	"slices"
	"time"

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
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.HealInterval)
		s.healOnce(ctx)
		cancel()
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
	heads, err := s.cfg.Store.Heads(ctx, names)
	if err != nil {
		s.log.Warn("heal: reading room heads failed", "rooms", len(names), "err", err)
		return
	}
	for room, head := range heads {
		have := ours[room]
		if head <= have {
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
