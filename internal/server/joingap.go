package server

import (
	"context"
	"math"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// A join decides whether the user may enter from answers that may be up
// to Config.ModerationCheck old (the room's cached sanctions), or read
// just before a kick or ban was committed; then it subscribes (hub.Join)
// and reads the room's last sequence, its reply's last_seq. A kick or ban
// entry committed after the decision, at or before that last_seq, takes
// the user out when this node delivers it (entryOut: while the join is in
// flight, through lateOut, or by asking the store again when it comes
// after the join). But the node delivers only the entries after the point
// where it began to serve the room (hub.Start): an entry committed while
// the room had no member here never reaches it, and the kicked or banned
// event may be lost between nodes. Left so, a user banned on another node
// a moment before would join a room that nobody on this node was in, from
// this node's cached answer, and read it until something else asked the
// store.
//
// So the decision carries the room's sequence that it is as of (accessAt:
// the cached sanctions', which sanctionCache records before it asks the
// store, and for a private room the row read before the role), and when
// that is before the node's start in the room (always for the room's
// first joiner here), the join reads the kick and ban entries between
// that sequence and its last_seq, with the room's row it reads anyway
// (chat.Outs, RoomWithOuts). A kick or ban of this user among them has
// the join ask the store again (stillAllowed), as a late entry does: the
// user is out, told with the entry's kicked or banned event, and the join
// ends with that error, if the store says they may no longer be there.
//
// It costs an ordinary join nothing: the first joiner of a room on a node
// reads the room's row anyway, and a later join decides on answers that
// are as of the node's start in the room, or raised to it: the first
// joiner that finds no kick or ban at all between its decision and its
// last_seq records that its cached answer is good up to there
// (sanctionCache.raise), and one that finds some of others drops the
// room's cached sanctions, which the next join reads once, as of a
// sequence this node delivered. Only a join whose decision is older than
// the node's start in a room it already serves reads the entries apart,
// and a kick or ban of this very user costs the read of stillAllowed.

// roomOutsReader is the part of the store that reads a room's row with its
// kick and ban entries after a sequence (chat.Outs); sqlitestore.Store and
// pgstore.Store have it. Without it a join reads the row alone, and the
// gap above stays open.
type roomOutsReader interface {
	RoomWithOuts(ctx context.Context, name string, after int64, user, userKey string) (chat.Room, chat.Outs, error)
}

// knownSeq is the sanction cache's seqOf: a sequence that room had reached
// before the call, the highest that this node delivered of it or holds in
// its cached row (both committed before now); -1 if it knows neither.
func (s *Server) knownSeq(room string) int64 {
	return max(s.hub.Head(room), s.roomRows.lastSeq(room))
}

// joinPoint reads the join's last_seq after hub.Join (see join) and
// returns the room and role to reply with, and the kicked or banned
// notice of the user's newest kick or ban entry that the node may not
// have delivered and that the access decision, as of decided, may
// predate; nil if none.
func (ss *session) joinPoint(ctx context.Context, r chat.Room, role string, decided int64, already bool) (chat.Room, string, *outNotice, error) {
	room := r.Name
	h := ss.srv.hub
	head, start := h.Head(room), h.Start(room)
	reader, ok := ss.srv.cfg.Store.(roomOutsReader)
	check := ok && !already && decided != math.MaxInt64 && (start < 0 || decided < start)
	if !check && head >= 0 && head == r.LastSeq {
		return r, role, nil, nil
	}
	admitted := r.CreatedAt
	var (
		outs  chat.Outs
		after = max(decided, 0)
		err   error
	)
	read := func() {
		if !check {
			r, err = ss.srv.roomRows.fetch(ctx, ss.srv.cfg.Store, room, time.Now())
			return
		}
		key := ss.userKey()
		user := ""
		if key == ss.self.Name {
			user, key = ss.self.Name, ""
		}
		r, outs, err = reader.RoomWithOuts(ctx, room, after, user, key)
		if err == nil && after > r.LastSeq {
			// A sequence of an earlier room of that name (this node
			// lost the news of its deletion): this one's entries are
			// all after the decision.
			after = 0
			r, outs, err = reader.RoomWithOuts(ctx, room, after, user, key)
		}
		ss.srv.roomRows.put(room, r, err, time.Now())
	}
	read()
	if err == nil && !r.CreatedAt.Equal(admitted) {
		// The row access decided on, cached, was of a room since
		// deleted and made again under the name (this node lost the
		// news): decide again, on the new room, which may be private,
		// and read its entries from its start.
		r, role, _, err = ss.accessAt(ctx, room, true)
		if err == nil && check {
			after = 0
			read()
		}
	}
	if err != nil {
		return r, role, nil, err
	}
	if !check {
		return r, role, nil, nil
	}
	if outs.Last == 0 {
		ss.srv.sanctions.raise(room, after, r.LastSeq)
	} else {
		// Someone was kicked or banned meanwhile: the next join
		// decides on the room's sanctions read afresh.
		ss.srv.sanctions.forgetRoom(room)
	}
	if outs.Of.Seq == 0 {
		return r, role, nil, nil
	}
	n := noticeOfEntry(outs.Of)
	return r, role, &n, nil
}

// noticeOfEntry is what a kick or ban entry tells its target, as
// entryDelivered makes it of the entry's event.
func noticeOfEntry(m chat.Message) outNotice {
	n := outNotice{typ: protocol.TypeKicked, by: m.Author, reason: m.Body}
	if m.Kind == chat.KindBan {
		n.typ, n.until = protocol.TypeBanned, millisOf(m.Until)
	}
	return n
}
