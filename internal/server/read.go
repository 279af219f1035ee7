package server

import (
	"context"

	"github.com/hubbub-chat/hubbub/protocol"
)

// Read positions (docs/protocol.md, "read"). An account's position in a
// room is kept in the store (Config.Reads) and only moves forward; when it
// moves, the account's other sessions, on every node, get a read event
// through the per-user topic (hub.UserEvent), as invitations and
// moderation notices reach them. A guest's read is accepted and kept
// nowhere.

// read moves the caller's read position in cmd.Room forward to cmd.Seq,
// or to the room's last seq if cmd.Seq is past it (so that messages yet to
// come are never counted as read).
func (ss *session) read(ctx context.Context, c *conn, cmd *protocol.Command) error {
	r, _, err := ss.access(ctx, cmd.Room)
	if err != nil {
		return err
	}
	reads := ss.srv.cfg.Reads
	if ss.self.Guest || reads == nil {
		ss.replyOK(c, cmd.ID, protocol.Event{Room: r.Name})
		return nil
	}
	// access may answer from a cached room row: the room's last seq
	// comes from the store itself.
	if r, err = ss.srv.cfg.Store.Room(ctx, r.Name); err != nil {
		return err
	}
	seq := min(cmd.Seq, r.LastSeq)
	moved, err := reads.MarkRead(ctx, ss.self.Name, r.Name, seq)
	if err != nil {
		return err
	}
	if moved {
		// Noted before the event goes out: this session's own copy must
		// find it (userTopic.deliverRead).
		ss.mu.Lock()
		if ss.readSent == nil {
			ss.readSent = make(map[string]int64)
		}
		ss.readSent[r.Name] = max(ss.readSent[r.Name], seq)
		ss.mu.Unlock()
		b, err := protocol.EncodeEvent(&protocol.Event{Type: protocol.TypeRead, Room: r.Name, Seq: seq})
		if err != nil {
			return err
		}
		ss.srv.hub.UserEvent(ss.userKey(), r.Name, b)
	}
	ss.replyOK(c, cmd.ID, protocol.Event{Room: r.Name})
	return nil
}

// deliverRead hands a read event to the connection unless it carries no
// news for it: the session itself marked the room read that far (its own
// read, or one it made as far). Every session of the account gets the
// event, the one that caused it included, so this is how "your other
// sessions" is kept without naming connections across nodes.
func (u *userTopic) deliverRead(ev protocol.Event, payload []byte) {
	ss := u.ss
	ss.mu.Lock()
	own := ss.readSent[ev.Room] >= ev.Seq
	ss.mu.Unlock()
	if !own {
		u.c.enqueue(outMsg{data: payload})
	}
}

// readPosition is the caller's read position in room for a join reply: 0
// for a guest or without Config.Reads.
func (ss *session) readPosition(ctx context.Context, room string) (int64, error) {
	if ss.self.Guest || ss.srv.cfg.Reads == nil {
		return 0, nil
	}
	return ss.srv.cfg.Reads.ReadPosition(ctx, ss.self.Name, room)
}

// readPositions is every read position of the caller, for a rooms reply:
// nil for a guest or without Config.Reads.
func (ss *session) readPositions(ctx context.Context) (map[string]int64, error) {
	if ss.self.Guest || ss.srv.cfg.Reads == nil {
		return nil, nil
	}
	return ss.srv.cfg.Reads.ReadPositions(ctx, ss.self.Name)
}
