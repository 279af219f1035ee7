package server

import (
	"sync"
	"time"

	"github.com/hubbub-chat/hubbub/internal/hub"
	"github.com/hubbub-chat/hubbub/protocol"
)

// presenceDelay is how long join and leave events of a room are gathered
// before they go out together. Each member then gets one payload (the
// events separated by '\n', as the write loop coalesces them anyway) and
// one write, instead of a write per event: in a storm of joins into a room
// of a thousand, that was most of the server's CPU.
const presenceDelay = 50 * time.Millisecond

// presenceBatch gathers presence events per room until the next flush.
type presenceBatch struct {
	mu      sync.Mutex        // guards the fields below
	pending map[string][]byte // room → its events, '\n'-separated
	armed   bool              // a flush is scheduled
}

// announcePresence is the hub's OnPresence: a user appeared in or left a
// room's cluster-wide list, and this node tells its own members (every node
// does the same for its own), within presenceDelay. Big rooms stay quiet
// past PresenceLimit.
func (s *Server) announcePresence(ch hub.PresenceChange) {
	if ch.Joined && ch.Online > s.cfg.PresenceLimit || !ch.Joined && ch.Online >= s.cfg.PresenceLimit {
		return
	}
	typ := protocol.TypeLeave
	if ch.Joined {
		typ = protocol.TypeJoin
	}
	b, err := protocol.EncodeEvent(&protocol.Event{Type: typ, Room: ch.Room, User: ch.User})
	if err != nil {
		s.log.Error("encode presence", "room", ch.Room, "err", err)
		return
	}
	p := &s.presence
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending == nil {
		p.pending = make(map[string][]byte)
	}
	if prev := p.pending[ch.Room]; len(prev) > 0 {
		b = append(append(prev, '\n'), b...)
	}
	p.pending[ch.Room] = b
	if !p.armed {
		p.armed = true
		time.AfterFunc(presenceDelay, s.flushPresence)
	}
}

// flushPresence hands each room's gathered events to its local members.
func (s *Server) flushPresence() {
	p := &s.presence
	p.mu.Lock()
	pending := p.pending
	p.pending, p.armed = nil, false
	p.mu.Unlock()
	for room, events := range pending {
		s.hub.Local(room, events)
	}
}
