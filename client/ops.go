package client

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

// call is one command waiting for its reply.
type call struct {
	// Immutable after register.
	seq   uint64 // numeric id: resends go out in the order the calls were made
	cmd   protocol.Command
	frame []byte
	retry bool  // a caller call sent again after a reconnect
	conn  *conn // an internal call bound to this connection; nil for a caller's call
	reply chan result

	// Guarded by Client.mu.
	sentGen   uint64 // generation of the connection it was last queued on; 0: never
	abandoned bool   // the caller stopped waiting; finish the call without resending
}

type result struct {
	ev  protocol.Event
	err error
}

// finish hands the call its outcome. It never blocks: each call is finished
// once, because only the goroutine that removes it from pending finishes it.
func (ca *call) finish(ev protocol.Event, err error) {
	select {
	case ca.reply <- result{ev, err}:
	default:
	}
}

// register validates cmd, gives it an id, records it as pending and queues
// it on cn (internal calls) or on the ready connection, if any (caller
// calls; they wait for one otherwise).
func (c *Client) register(cmd protocol.Command, retry bool, cn *conn) (*call, error) {
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil, c.stopErr
	}
	c.nextID++
	cmd.ID = strconv.FormatUint(c.nextID, 10)
	frame, err := protocol.EncodeCommand(&cmd)
	if err != nil {
		return nil, err
	}
	ca := &call{seq: c.nextID, cmd: cmd, frame: frame, retry: retry, conn: cn, reply: make(chan result, 1)}
	c.pending[cmd.ID] = ca
	if cn == nil && cmd.Op == protocol.OpJoin {
		c.joining[cmd.Room]++
	}
	target := cn
	if target == nil {
		target = c.cur
	}
	if target != nil {
		ca.sentGen = target.gen
		target.enqueue(frame)
	}
	return ca, nil
}

// removeLocked forgets a pending call. c.mu is held.
func (c *Client) removeLocked(ca *call) {
	delete(c.pending, ca.cmd.ID)
	if ca.conn == nil && ca.cmd.Op == protocol.OpJoin {
		if c.joining[ca.cmd.Room]--; c.joining[ca.cmd.Room] <= 0 {
			delete(c.joining, ca.cmd.Room)
		}
	}
}

// do runs one caller command and waits for its reply.
func (c *Client) do(ctx context.Context, cmd protocol.Command, retry bool) (protocol.Event, error) {
	ca, err := c.register(cmd, retry, nil)
	if err != nil {
		return protocol.Event{}, err
	}
	select {
	case r := <-ca.reply:
		return r.ev, r.err
	case <-ctx.Done():
		c.abandon(ca)
		return protocol.Event{}, ctx.Err()
	}
}

// abandon is called when the caller stops waiting. A call that was never
// queued, or whose connection has ended already (it waits to be resent
// after a reconnect), is forgotten; one queued on the ready connection is
// left pending until its reply or the end of its connection, so that the
// reply's side effects (a join, a leave) still reach the room table, and
// it is never resent.
func (c *Client) abandon(ca *call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending[ca.cmd.ID] != ca {
		return
	}
	// Caller calls are queued on the ready connection only, and c.cur
	// moves on (to nil, then to a newer one) only once it has ended: a
	// call queued on another than c.cur gets no reply, and
	// connectionEnded, which settles the calls of the connection that
	// ends, has passed it by.
	if ca.sentGen == 0 || c.cur == nil || c.cur.gen != ca.sentGen {
		c.removeLocked(ca)
		return
	}
	ca.abandoned = true
}

// markReady makes cn the connection caller calls go to, and queues on it
// every waiting caller call not yet queued on it, in the order they were
// made.
func (c *Client) markReady(cn *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped || cn.isDead() {
		return
	}
	c.cur = cn
	c.signalReadyLocked()
	var resend []*call
	for _, ca := range c.pending {
		if ca.conn == nil && !ca.abandoned && ca.sentGen != cn.gen {
			resend = append(resend, ca)
		}
	}
	slices.SortFunc(resend, func(a, b *call) int { return cmp.Compare(a.seq, b.seq) })
	for _, ca := range resend {
		if ca.sentGen != 0 {
			c.log.Debug("resending", "op", ca.cmd.Op, "id", ca.cmd.ID, "conn", cn.gen)
		}
		ca.sentGen = cn.gen
		cn.enqueue(ca.frame)
	}
}

// connectionEnded settles the calls that cn's end leaves without a reply:
// internal calls fail, abandoned calls are forgotten, the calls not to be
// resent (Create, Typing, ...) fail with ErrConnectionLost, and the rest
// wait for the next connection.
func (c *Client) connectionEnded(cn *conn) {
	c.mu.Lock()
	var failed []*call
	for _, ca := range c.pending {
		switch {
		case ca.conn == cn:
			c.removeLocked(ca)
			failed = append(failed, ca)
		case ca.conn != nil || ca.sentGen != cn.gen:
		case ca.abandoned:
			c.removeLocked(ca)
		case !ca.retry:
			c.removeLocked(ca)
			failed = append(failed, ca)
		}
	}
	c.mu.Unlock()
	for _, ca := range failed {
		ca.finish(protocol.Event{}, ErrConnectionLost)
	}
}

// reply hands a server reply to the call that waits for it, after applying
// what a join or leave reply means for the room table.
func (c *Client) reply(ctx context.Context, ev protocol.Event) error {
	c.mu.Lock()
	ca := c.pending[ev.ID]
	joiningLeft := 0
	if ca != nil {
		c.removeLocked(ca)
		joiningLeft = c.joining[ca.cmd.Room]
	}
	c.mu.Unlock()
	if ca == nil {
		if ev.Type == protocol.TypeError {
			c.log.Warn("server error for no pending command", "id", ev.ID, "code", ev.Code, "reason", ev.Reason)
		}
		return nil
	}
	var err error
	if ev.Type == protocol.TypeError {
		err = &protocol.Error{Code: ev.Code, Reason: ev.Reason}
	}
	var deliverErr error
	switch ca.cmd.Op {
	case protocol.OpJoin:
		deliverErr = c.joinReplied(ctx, ca.cmd.Room, ev, err, joiningLeft)
	case protocol.OpLeave:
		if err == nil || protocol.CodeOf(err) == protocol.CodeNotJoined {
			c.left(ca.cmd.Room)
		}
	}
	ca.finish(ev, err)
	return deliverErr
}

// internal runs a command of the client's own on cn (a re-join or a history
// fetch of a resume). It waits out rate_limited refusals and fails when cn
// ends or the reply takes longer than syncWait.
func (c *Client) internal(ctx context.Context, cn *conn, cmd protocol.Command) (protocol.Event, error) {
	wait := c.bo.base
	for {
		ca, err := c.register(cmd, false, cn)
		if err != nil {
			return protocol.Event{}, err
		}
		r := c.awaitInternal(ctx, cn, ca)
		if protocol.CodeOf(r.err) != protocol.CodeRateLimited {
			return r.ev, r.err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-cn.dead:
			t.Stop()
			return protocol.Event{}, ErrConnectionLost
		case <-ctx.Done():
			t.Stop()
			return protocol.Event{}, ctx.Err()
		}
		wait = min(2*wait, c.bo.max)
	}
}

// internalAll runs commands of the client's own on cn as internal does,
// but pipelined: all of them are sent before the first reply is awaited,
// so that n re-joins cost one round trip, not n. It returns their
// results in order; a command refused as rate_limited is run again
// alone, by internal, once the others are in.
func (c *Client) internalAll(ctx context.Context, cn *conn, cmds []protocol.Command) []result {
	calls := make([]*call, 0, len(cmds))
	var err error
	for _, cmd := range cmds {
		var ca *call
		if ca, err = c.register(cmd, false, cn); err != nil {
			break // stopped: so is every later command
		}
		calls = append(calls, ca)
	}
	out := c.awaitAll(ctx, cn, calls)
	for len(out) < len(cmds) {
		out = append(out, result{err: err})
	}
	return out
}

// awaitAll waits for the replies of internal calls already sent on cn, as
// internalAll does, and returns their results in order; a call refused as
// rate_limited is run again alone, by internal, once the others are in.
func (c *Client) awaitAll(ctx context.Context, cn *conn, calls []*call) []result {
	out := make([]result, len(calls))
	for i, ca := range calls {
		out[i] = c.awaitInternal(ctx, cn, ca)
	}
	for i, ca := range calls {
		if protocol.CodeOf(out[i].err) == protocol.CodeRateLimited {
			cmd := ca.cmd
			cmd.ID = "" // register gives it a new one
			out[i].ev, out[i].err = c.internal(ctx, cn, cmd)
		}
	}
	return out
}

// awaitInternal waits for the reply to ca, a command of the client's own
// on cn: it fails when cn ends, ctx ends, or no reply comes in syncWait.
func (c *Client) awaitInternal(ctx context.Context, cn *conn, ca *call) result {
	t := time.NewTimer(syncWait)
	defer t.Stop()
	select {
	case r := <-ca.reply:
		return r
	case <-cn.dead:
		return result{err: ErrConnectionLost}
	case <-ctx.Done():
		return result{err: ctx.Err()}
	case <-t.C:
		return result{err: fmt.Errorf("no reply to %s in %v", ca.cmd.Op, syncWait)}
	}
}

// Ping makes an application-level round trip to the server.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.do(ctx, protocol.Command{Op: protocol.OpPing}, true)
	return err
}

// Rooms lists the rooms the client can see, asking for as many pages as
// the server makes of them.
func (c *Client) Rooms(ctx context.Context) ([]protocol.RoomInfo, error) {
	return c.SearchRooms(ctx, "", false)
}

// SearchRooms lists the rooms the client can see whose name or topic
// contains query, ignoring case (every room for ""), archived rooms too
// when archived is set, asking for as many pages as the server makes.
func (c *Client) SearchRooms(ctx context.Context, query string, archived bool) ([]protocol.RoomInfo, error) {
	var out []protocol.RoomInfo
	after := ""
	for {
		// The server answers in pages (protocol.MaxRoomsPage); a page
		// with more set continues after its last room.
		ev, err := c.do(ctx, protocol.Command{Op: protocol.OpRooms, Room: after, Query: query, Archived: archived}, true)
		if err != nil {
			return nil, err
		}
		out = append(out, ev.Rooms...)
		if !ev.More || len(ev.Rooms) == 0 {
			return out, nil
		}
		after = ev.Rooms[len(ev.Rooms)-1].Name
	}
}

// Create creates a public room with a topic (which may be empty). Create
// does not join the room. If the connection drops before the reply, Create
// returns ErrConnectionLost and the room may exist.
func (c *Client) Create(ctx context.Context, room, topic string) (protocol.RoomInfo, error) {
	ev, err := c.do(ctx, protocol.Command{Op: protocol.OpCreate, Room: room, Topic: topic}, false)
	if err != nil {
		return protocol.RoomInfo{}, err
	}
	if ev.Info == nil {
		return protocol.RoomInfo{}, errors.New("client: server's create reply has no info")
	}
	return *ev.Info, nil
}

// CreatePrivate creates an invite-only room: only its owner (the caller,
// who must have an account), the users they Invite and administrators may
// see and join it. Otherwise it is as Create.
func (c *Client) CreatePrivate(ctx context.Context, room, topic string) (protocol.RoomInfo, error) {
	ev, err := c.do(ctx, protocol.Command{Op: protocol.OpCreate, Room: room, Topic: topic, Private: true}, false)
	if err != nil {
		return protocol.RoomInfo{}, err
	}
	if ev.Info == nil {
		return protocol.RoomInfo{}, errors.New("client: server's create reply has no info")
	}
	return *ev.Info, nil
}

// Join joins room and returns its description and who is in it now. From
// then on the client delivers the room's messages after info.LastSeq as
// MessageEvents, and re-joins the room after every reconnect, until Leave.
// Joining a room twice is harmless. In a public room info.Owner and
// info.Staff name its owner and moderators, and info.Staff the server's
// administrators, as far as the server's node knows them (the server
// still decides every moderation).
func (c *Client) Join(ctx context.Context, room string) (info protocol.RoomInfo, members []string, err error) {
	info, members, _, err = c.JoinRoster(ctx, room)
	return info, members, err
}

// JoinRoster is Join that also returns the room's roster: in a private
// room or DM, everyone with a role there, online or not, with their role
// (at most protocol.MaxRoster); nil in a public room, whose owner,
// moderators and the server's administrators are info.Staff.
func (c *Client) JoinRoster(ctx context.Context, room string) (info protocol.RoomInfo, members []string, roster []protocol.Member, err error) {
	ev, err := c.do(ctx, protocol.Command{Op: protocol.OpJoin, Room: room}, true)
	if err != nil {
		return protocol.RoomInfo{}, nil, nil, err
	}
	if ev.Info == nil {
		return protocol.RoomInfo{}, nil, nil, errors.New("client: server's join reply has no info")
	}
	return *ev.Info, ev.Members, ev.Roster, nil
}

// DM opens the direct-message room of the client's account and user,
// creating it if needed (the other user is told with an invited event), and
// returns its description; Join it to receive its messages. Only accounts
// may open DMs: a guest gets a forbidden error. A repeat is harmless.
func (c *Client) DM(ctx context.Context, user string) (protocol.RoomInfo, error) {
	ev, err := c.do(ctx, protocol.Command{Op: protocol.OpDM, User: user}, true)
	if err != nil {
		return protocol.RoomInfo{}, err
	}
	if ev.Info == nil {
		return protocol.RoomInfo{}, errors.New("client: server's dm reply has no info")
	}
	return *ev.Info, nil
}

// Block blocks the account user (docs/protocol.md, "Blocking"): it can no
// longer open or write to a DM with this account. Every connection of the
// account, this one included, then gets a [BlockedEvent].
// Blocking an account blocked already succeeds and changes nothing.
func (c *Client) Block(ctx context.Context, user string) error {
	_, err := c.do(ctx, protocol.Command{Op: protocol.OpBlock, User: user}, true)
	return err
}

// Unblock lifts this account's block of user; every connection of the
// account gets an [UnblockedEvent] if there was one.
func (c *Client) Unblock(ctx context.Context, user string) error {
	_, err := c.do(ctx, protocol.Command{Op: protocol.OpUnblock, User: user}, true)
	return err
}

// Blocks returns the accounts this account blocks, sorted (nil when none).
func (c *Client) Blocks(ctx context.Context) ([]string, error) {
	ev, err := c.do(ctx, protocol.Command{Op: protocol.OpBlocks}, true)
	if err != nil {
		return nil, err
	}
	return ev.Blocks, nil
}

// Leave leaves room: no more of its events are delivered and it is not
// re-joined after a reconnect.
func (c *Client) Leave(ctx context.Context, room string) error {
	_, err := c.do(ctx, protocol.Command{Op: protocol.OpLeave, Room: room}, true)
	return err
}

// HistoryBefore returns up to limit stored messages of room with seq <
// before, the newest of them, in ascending seq order; before <= 0 means up
// to the newest message. more reports whether older messages exist. limit
// 0 means the server's default page size (protocol.DefaultHistoryLimit);
// the largest is protocol.MaxHistoryLimit.
func (c *Client) HistoryBefore(ctx context.Context, room string, before int64, limit int) (msgs []protocol.Message, more bool, err error) {
	cmd := protocol.Command{Op: protocol.OpHistory, Room: room, Limit: limit}
	if before > 0 {
		cmd.Before = &before
	}
	ev, err := c.do(ctx, cmd, true)
	return ev.Messages, ev.More, err
}

// HistoryAfter returns up to limit stored messages of room with seq >
// after, the oldest of them, in ascending seq order; after 0 means from the
// first message. more reports whether newer messages exist. limit is as
// for HistoryBefore.
func (c *Client) HistoryAfter(ctx context.Context, room string, after int64, limit int) (msgs []protocol.Message, more bool, err error) {
	cmd := protocol.Command{Op: protocol.OpHistory, Room: room, After: &after, Limit: limit}
	ev, err := c.do(ctx, cmd, true)
	return ev.Messages, ev.More, err
}

// Typing tells the members of a joined room that the user is typing. It is
// not sent again after a reconnect: if the connection drops before the
// reply, Typing returns ErrConnectionLost.
func (c *Client) Typing(ctx context.Context, room string) error {
	_, err := c.do(ctx, protocol.Command{Op: protocol.OpTyping, Room: room}, false)
	return err
}
