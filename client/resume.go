package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/hubbub-chat/hubbub/protocol"
)

// roomState is what the client knows of one room it is in or joining.
// Guarded by Client.deliverMu.
//
// A room is live when it is joined and not syncing: a live message with
// the next sequence number is delivered at once. Otherwise live messages
// are held, in seq order, until the join reply says where the room starts
// or until syncLoop has fetched from history what comes before them.
type roomState struct {
	joined  bool               // a join succeeded and no leave since: re-joined after a reconnect
	syncing bool               // a history fetch is due or running; live messages are held
	last    int64              // the newest seq delivered (or, just after the join, the room's LastSeq then)
	held    []protocol.Message // ascending, unique seqs, all > last
}

// hold keeps m for later, in seq order, once.
func (r *roomState) hold(m protocol.Message) {
	i, found := slices.BinarySearchFunc(r.held, m.Seq, func(h protocol.Message, seq int64) int {
		switch {
		case h.Seq < seq:
			return -1
		case h.Seq > seq:
			return 1
		}
		return 0
	})
	if !found {
		r.held = slices.Insert(r.held, i, m)
	}
}

// resetRooms prepares the room table for a new connection: joined rooms
// wait for their re-join and history fetch, anything held from the old
// connection is dropped (history has it), rooms not joined yet are
// forgotten (their Join is sent again).
func (c *Client) resetRooms() {
	c.deliverMu.Lock()
	defer c.deliverMu.Unlock()
	for name, r := range c.rooms {
		if !r.joined {
			delete(c.rooms, name)
			continue
		}
		r.syncing = true
		r.held = nil
	}
}

// handle processes one event object of a server frame. It returns an error
// only when ctx ended while it waited to deliver.
func (c *Client) handle(ctx context.Context, cn *conn, obj []byte) error {
	ev, err := protocol.DecodeEvent(obj)
	if err != nil {
		c.log.Warn("server sent a malformed event; ignored", "conn", cn.gen, "err", err)
		return nil
	}
	switch ev.Type {
	case protocol.TypeOK, protocol.TypeError:
		if ev.ID == "" && ev.Upload != nil && c.chunkAnswered(cn, ev) {
			return nil // an answer to a chunk of a running Upload
		}
		if ev.ID == "" {
			c.log.Warn("server error without a command id", "conn", cn.gen, "code", ev.Code, "reason", ev.Reason)
			return nil
		}
		return c.reply(ctx, ev)
	case protocol.TypeMessage:
		if ev.Message == nil {
			c.log.Warn("server sent a message event without a message; ignored", "conn", cn.gen)
			return nil
		}
		return c.live(ctx, *ev.Message)
	case protocol.TypeJoin:
		return c.emitLocked(ctx, JoinEvent{Room: ev.Room, User: ev.User})
	case protocol.TypeLeave:
		return c.emitLocked(ctx, LeaveEvent{Room: ev.Room, User: ev.User})
	case protocol.TypeTyping:
		return c.emitLocked(ctx, TypingEvent{Room: ev.Room, User: ev.User})
	case protocol.TypeRead:
		return c.emitLocked(ctx, ReadEvent{Room: ev.Room, Seq: ev.Seq})
	case protocol.TypeBlocked:
		return c.emitLocked(ctx, BlockedEvent{User: ev.User})
	case protocol.TypeUnblocked:
		return c.emitLocked(ctx, UnblockedEvent{User: ev.User})
	case protocol.TypeUpload:
		if c.chunkAnswered(cn, ev) {
			return nil
		}
		return c.emitLocked(ctx, OtherEvent{Event: ev})
	case protocol.TypeKicked, protocol.TypeBanned:
		if ev.User == cn.self.Name && ev.Room != "" {
			// The server took us out of the room: stop counting ourselves
			// in it, so that a reconnect does not join it again.
			c.left(ev.Room)
		}
		return c.emitLocked(ctx, OtherEvent{Event: ev})
	case protocol.TypeDirectory:
		if ev.Change == protocol.ChangeDeleted && ev.Room != "" {
			// The room is gone and the server took us out of it; a room
			// made later under its name starts again at seq 1, so its
			// last seq must not be kept either.
			c.left(ev.Room)
		}
		return c.emitLocked(ctx, OtherEvent{Event: ev})
	default:
		return c.emitLocked(ctx, OtherEvent{Event: ev})
	}
}

// emitLocked delivers ev in turn with the other room events.
func (c *Client) emitLocked(ctx context.Context, ev Event) error {
	c.deliverMu.Lock()
	defer c.deliverMu.Unlock()
	return c.emit(ctx, ev)
}

// live handles a message as it arrives from the server: delivered if it is
// the next of its room, dropped if it was delivered already, held if the
// room is joining or syncing, and held with a history fetch started if it
// shows a gap.
func (c *Client) live(ctx context.Context, m protocol.Message) error {
	c.deliverMu.Lock()
	defer c.deliverMu.Unlock()
	r := c.rooms[m.Room]
	if r == nil {
		c.mu.Lock()
		joining := c.joining[m.Room] > 0
		c.mu.Unlock()
		if !joining {
			return nil // a room we are not in (any more)
		}
		// The message overtook the join reply: hold it until the reply
		// says where the room starts.
		r = &roomState{}
		c.rooms[m.Room] = r
	}
	switch {
	case r.joined && m.Seq <= r.last:
		return nil // delivered already
	case r.joined && !r.syncing && m.Seq == r.last+1:
		if err := c.emit(ctx, MessageEvent{Message: m}); err != nil {
			return err
		}
		r.last = m.Seq
		return nil
	case r.joined && !r.syncing:
		c.log.Debug("gap; fetching history", "room", m.Room, "last", r.last, "seq", m.Seq)
		r.syncing = true
		c.wakeSync()
	}
	r.hold(m)
	return nil
}

func (c *Client) wakeSync() {
	select {
	case c.syncWake <- struct{}{}:
	default:
	}
}

// joinReplied applies a join reply to the room table: the first successful
// join of a room sets where its messages start (info.LastSeq) and delivers
// what was held meanwhile. A failed join forgets a room that only this
// join was joining. joiningLeft is how many caller joins of the room are
// still in flight.
func (c *Client) joinReplied(ctx context.Context, room string, ev protocol.Event, err error, joiningLeft int) error {
	c.deliverMu.Lock()
	defer c.deliverMu.Unlock()
	r := c.rooms[room]
	if err != nil {
		if r != nil && !r.joined && joiningLeft == 0 {
			delete(c.rooms, room)
		}
		return nil
	}
	if r == nil {
		r = &roomState{}
		c.rooms[room] = r
	}
	if r.joined {
		return nil // a second join, or a re-join: the room goes on where it was
	}
	r.joined = true
	if ev.Info != nil {
		r.last = ev.Info.LastSeq
	} else {
		c.log.Warn("server's join reply has no info; delivering from the first message seen", "room", room)
		if len(r.held) > 0 {
			r.last = r.held[0].Seq - 1
		}
	}
	return c.flushLocked(ctx, r, r.last)
}

// flushLocked delivers the held messages that follow r.last without a gap,
// dropping those already delivered. A held message after a gap is
// delivered too if its seq is at most accept (the store was asked for
// everything up to it and has nothing in the gap); otherwise the room
// stays or becomes syncing. c.deliverMu is held.
func (c *Client) flushLocked(ctx context.Context, r *roomState, accept int64) error {
	for len(r.held) > 0 {
		m := r.held[0]
		if m.Seq > r.last+1 {
			if m.Seq > accept {
				r.syncing = true
				c.wakeSync()
				return nil
			}
			c.log.Warn("history has a gap; delivering past it", "room", m.Room, "last", r.last, "seq", m.Seq)
		}
		if m.Seq > r.last {
			if err := c.emit(ctx, MessageEvent{Message: m}); err != nil {
				return err
			}
			r.last = m.Seq
		}
		r.held = r.held[1:]
	}
	r.held = nil
	r.syncing = false
	return nil
}

// joinedRooms returns the rooms the client has joined, sorted.
func (c *Client) joinedRooms() []string {
	c.deliverMu.Lock()
	var joined []string
	for name, r := range c.rooms {
		if r.joined {
			joined = append(joined, name)
		}
	}
	c.deliverMu.Unlock()
	slices.Sort(joined)
	return joined
}

// left forgets a room after a leave.
func (c *Client) left(room string) {
	c.deliverMu.Lock()
	defer c.deliverMu.Unlock()
	delete(c.rooms, room)
}

// syncLoop brings a new connection up to date and then heals gaps: it
// re-joins every joined room, makes the connection ready for caller
// commands, and then fetches from history, for every syncing room, what
// the caller has not been given, delivering it before the room's held
// live messages. It returns when cn ends; a failure that leaves a room
// behind ends cn, so that the next connection tries again.
func (c *Client) syncLoop(ctx context.Context, cn *conn) {
	var (
		joined  []string
		results []result
	)
	if cn.rejoins != nil {
		// Sent with hello (dialWS); the rooms cannot have changed since,
		// as nothing else is sent before the connection is ready.
		joined = make([]string, len(cn.rejoins))
		for i, ca := range cn.rejoins {
			joined[i] = ca.cmd.Room
		}
		results = c.awaitAll(ctx, cn, cn.rejoins)
	} else {
		// The joins go out together: one round trip for all the rooms.
		joined = c.joinedRooms()
		joins := make([]protocol.Command, len(joined))
		for i, room := range joined {
			joins[i] = protocol.Command{Op: protocol.OpJoin, Room: room}
		}
		results = c.internalAll(ctx, cn, joins)
	}
	for i, r := range results {
		room, err := joined[i], r.err
		if err == nil {
			continue
		}
		var perr *protocol.Error
		if !errors.As(err, &perr) || retryable(perr.Code) {
			cn.fail(fmt.Errorf("re-join %s: %w", room, err))
			return
		}
		c.log.Warn("cannot re-join room; left it", "room", room, "conn", cn.gen, "err", err)
		c.left(room)
		if c.emit(ctx, ErrorEvent{Room: room, Err: fmt.Errorf("re-join %s: %w", room, err)}) != nil {
			return
		}
	}

	c.markReady(cn)
	c.log.Info("connected", "conn", cn.gen, "user", cn.self.Name, "rooms", len(joined))
	// Never dropped, and ahead of what the catch-up below delivers.
	if c.emitLocked(ctx, StateEvent{State: Connected, Self: cn.self, Conn: int(cn.gen)}) != nil {
		return
	}

	for {
		c.deliverMu.Lock()
		var due []string
		for name, r := range c.rooms {
			if r.joined && r.syncing {
				due = append(due, name)
			}
		}
		c.deliverMu.Unlock()
		slices.Sort(due)
		if err := c.catchUpAll(ctx, cn, due); err != nil {
			cn.fail(err)
			return
		}
		select {
		case <-c.syncWake:
		case <-cn.dead:
			return
		}
	}
}

// retryable reports whether a refusal may go away on another connection.
func retryable(code protocol.Code) bool {
	switch code {
	case protocol.CodeInternal, protocol.CodeUnavailable, protocol.CodeRateLimited:
		return true
	}
	return false
}

// catchUpMax bounds the rooms caught up at once. Their history fetches go
// out together, one round trip for many rooms instead of one per room, and
// with the re-joins before them stay within the server's default command
// burst (100).
const catchUpMax = 16

// catchUpAll catches up rooms, at most catchUpMax at a time, and returns
// the error of the first room, in rooms' order, that failed. Each room's
// messages are delivered in order as catchUp does; rooms interleave, as
// their live messages do.
func (c *Client) catchUpAll(ctx context.Context, cn *conn, rooms []string) error {
	errs := make([]error, len(rooms))
	slots := make(chan struct{}, catchUpMax)
	var wg sync.WaitGroup
	for i, room := range rooms {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := c.catchUp(ctx, cn, room); err != nil {
				errs[i] = fmt.Errorf("catch up %s: %w", room, err)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// catchUp fetches room's history after the last delivered message, page by
// page until the store has no more, delivers it, then delivers the held
// live messages that follow. It repeats while a held message still lies
// beyond a gap that appeared during the fetch.
func (c *Client) catchUp(ctx context.Context, cn *conn, room string) error {
	for {
		c.deliverMu.Lock()
		r := c.rooms[room]
		if r == nil || !r.joined || !r.syncing {
			c.deliverMu.Unlock()
			return nil
		}
		after := r.last
		// Every message held now was committed before the fetch starts,
		// so the fetch returns everything up to it that exists.
		accept := after
		if n := len(r.held); n > 0 {
			accept = r.held[n-1].Seq
		}
		c.deliverMu.Unlock()

		for {
			ev, err := c.internal(ctx, cn, protocol.Command{
				Op: protocol.OpHistory, Room: room, After: &after, Limit: protocol.MaxHistoryLimit,
			})
			if err != nil {
				return err
			}
			c.deliverMu.Lock()
			if c.rooms[room] != r {
				c.deliverMu.Unlock()
				return nil // left meanwhile
			}
			for _, m := range ev.Messages {
				if m.Seq <= r.last {
					continue
				}
				if m.Seq != r.last+1 {
					c.log.Warn("history has a gap; delivering past it", "room", room, "last", r.last, "seq", m.Seq)
				}
				if err := c.emit(ctx, MessageEvent{Message: m}); err != nil {
					c.deliverMu.Unlock()
					return err
				}
				r.last = m.Seq
			}
			after = r.last
			c.deliverMu.Unlock()
			if !ev.More || len(ev.Messages) == 0 {
				break
			}
		}

		c.deliverMu.Lock()
		if c.rooms[room] != r {
			c.deliverMu.Unlock()
			return nil
		}
		err := c.flushLocked(ctx, r, accept)
		syncing := r.syncing
		c.deliverMu.Unlock()
		if err != nil || !syncing {
			return err
		}
	}
}
