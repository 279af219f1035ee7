package server

import (
	"context"

	"github.com/hubbub-chat/hubbub/protocol"
)

// recentHistory answers a history page after seq after, of at most limit
// messages, from the events the room keeps in memory on this node
// (hub.Recent: the latest plain messages, as delivered), without reading
// the messages from the store. It reports ok false, having answered
// nothing, when the room's run does not start at after+1, or when the page
// would reach the newest message the run holds while the store already
// has a newer one (a send acknowledged a moment ago must be in its
// sender's history), or when the store does not know the room at that
// height or cannot say (an error reading the head); the caller then
// reads the store, which reports its own error.
//
// A page served so is what the store held when the run's last event was
// delivered: the run holds no message that an entry of the run changed
// (an edit, deletion or reaction starts it afresh), and an entry newer
// than the run reaches the room's members as an event, with the version
// (V) a client orders the two by. It costs a read of the room's head
// (Store.Heads) where the store path costs a read of every message of the
// page, their reactions and the full-text row; a client that resumes
// after falling behind a busy room pages through thousands (docs/benchmarks.md,
// round 13).
func (s *Server) recentHistory(ctx context.Context, room string, after int64, limit int) (out []protocol.Message, more, ok bool) {
	events, last, ok := s.hub.Recent(room, after, limit+1)
	if !ok {
		return nil, false, false
	}
	heads, err := s.cfg.Store.Heads(ctx, []string{room})
	h, found := heads[room]
	head := h.Seq
	switch {
	case err != nil || !found || head < last:
		return nil, false, false
	case len(events) <= limit && head != last:
		return nil, false, false
	}
	out = make([]protocol.Message, 0, len(events))
	for _, e := range events {
		ev, err := protocol.DecodeEvent(e)
		if err != nil || ev.Type != protocol.TypeMessage || ev.Message == nil {
			return nil, false, false
		}
		m := *ev.Message
		if m.File != nil {
			// What the store says of the file now (a thumbnail may have
			// been made since), as the store path does.
			m.File = s.storedFile(ctx, m.File.ID)
		}
		out = append(out, m)
	}
	if len(out) > limit {
		out, more = out[:limit], true
	}
	s.data.recentHistory.Inc()
	return out, more, true
}

// plainMessageEvent is the hub's Config.Keep: whether an event from
// another node is a plain message's, which a room may keep for history.
func plainMessageEvent(event []byte) bool {
	ev, err := protocol.DecodeEvent(event)
	return err == nil && ev.Type == protocol.TypeMessage && ev.Message != nil && ev.Message.Kind == ""
}
