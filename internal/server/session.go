package server

import (
	"context"
	"errors"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/hub"
	"github.com/hubbub-chat/hubbub/internal/ratelimit"
	"github.com/hubbub-chat/hubbub/protocol"
)

// serveChat authenticates a /ws request, applies the connection limits,
// upgrades it and runs a chat session on it. Every refusal happens before
// the upgrade, as an HTTP status with a JSON {"code","reason"} body.
func (s *Server) serveChat(w http.ResponseWriter, r *http.Request) {
	if !s.checkOrigin(r) {
		s.refuseOrigin(w, r)
		return
	}
	admitted := s.admitHandshake(w, r, protocol.Subprotocol)
	if admitted == nil {
		return
	}
	ip := s.clientIP(r)
	a, err := s.authenticate(r.Context(), r)
	if err != nil {
		admitted()
		s.apiFail(w, err)
		return
	}
	if a == nil && s.cfg.NoGuests {
		admitted()
		s.apiFail(w, protocol.Errorf(protocol.CodeGuestsDisabled, "this server does not allow guests; log in"))
		return
	}
	if !s.limits.connsIP.Acquire(ip, s.cfg.ConnsPerIP) {
		admitted()
		s.admission.refused.WithLabelValues("ip_conns").Inc()
		s.apiFail(w, protocol.Errorf(protocol.CodeLimitReached, "too many connections from your address"))
		return
	}
	release := func() { s.limits.connsIP.Release(ip) }
	if a != nil {
		if !s.limits.connsUser.Acquire(a.user.Name, s.cfg.ConnsPerUser) {
			release()
			admitted()
			s.admission.refused.WithLabelValues("user_conns").Inc()
			s.apiFail(w, protocol.Errorf(protocol.CodeLimitReached, "too many connections for this account"))
			return
		}
		release = func() {
			s.limits.connsIP.Release(ip)
			s.limits.connsUser.Release(a.user.Name)
		}
	}
	var guestID string
	var extra http.Header
	if a == nil {
		var setCookie string
		if guestID, setCookie = s.guestIdentity(r); setCookie != "" {
			extra = http.Header{"Set-Cookie": {setCookie}}
		}
	}
	ws := s.upgrade(w, r, protocol.Subprotocol, extra)
	if ws == nil {
		release()
		admitted()
		return
	}
	sess := &session{
		srv:      s,
		admitted: admitted,
		auth:     a,
		ip:       ip,
		guestID:  guestID,
		cmds:     *ratelimit.NewBucket(ratelimit.Limit{Rate: s.cfg.CmdRate, Burst: s.cfg.CmdBurst}),
	}
	c := newConn(s, ws, sess)
	sess.identifyTimer = time.AfterFunc(s.cfg.IdentifyTimeout, func() {
		c.close(protocol.CloseIdentifyTimeout, "no hello in time")
	})
	done := release
	if a != nil {
		s.sessions.add(a.tokenHash, c)
		done = func() {
			s.sessions.remove(a.tokenHash, c)
			release()
		}
	}
	s.run(c, done)
}

// session is the chat protocol on one connection. Its fields are owned by
// the read loop (every handler method runs there), except where noted.
//
// What a connection may never use is made when it is first needed (the
// maps, the message bucket, the in-flight tokens), and what hello and the
// first join end is let go then (the identify timer, the admission), so
// that an idle connection keeps little: see BenchmarkIdleConnHeap.
type session struct {
	srv           *Server
	auth          *authInfo          // nil for a guest; immutable
	ip            string             // client address; immutable
	guestID       string             // a guest's identity (see guests.go), "" for an account; immutable
	nameKey       string             // a guest's names.Key, held in the guest registry after hello
	self          *protocol.Identity // nil until hello
	identifyTimer *time.Timer        // closes a connection that says no hello in time; nil after hello
	admitted      func()             // gives the admission slot back (admission.go); safe to call again
	bad           int                // invalid commands in a row
	cmds          ratelimit.Bucket   // per-connection rate of commands
	msgs          *ratelimit.Bucket  // per-connection rate of sends; nil until the first
	user          *userTopic         // subscription to the user's own events, after hello

	mu       sync.Mutex       // guards joined and what its values hold, and readSent
	joined   joinedRooms      // rooms this connection joined
	readSent map[string]int64 // room → the furthest read position this session set (read.go)

	inflight chan struct{} // one token per unacknowledged send; nil until the first

	// toldOut holds, per room, the kicked or banned notice that a kick or
	// ban entry of the room gave this connection (userTopic.entryOut), so
	// that the event of that action, if it comes as well, is not shown
	// twice. Guarded by mu; nil until the first.
	toldOut map[string]outNotice
	// lateOut holds, per room, the last kick or ban entry about the
	// session's user that arrived while the connection was not in the
	// room (userTopic.entryOut): a join in flight then asks the store
	// whether the user may still enter. Guarded by mu; nil until the
	// first.
	lateOut map[string]lateOut

	uploads map[string]*openUpload // uploads open on this connection, by id (files.go); nil until the first
	demoted atomic.Bool            // the account stopped being an administrator after the handshake (sessions.demote)
	chunk   []byte                 // the buffer of binary messages, made at the first
}

type joinedRoom struct {
	name       string    // the room's; immutable
	lastTyping time.Time // owned by the read loop
	muted      bool      // guarded by session.mu
	mutedUntil time.Time // guarded by session.mu; zero with muted: until lifted
	// created is the CreatedAt (Unix milliseconds) of the room the join
	// admitted the session to, and checked when (monoNow) the join had
	// read it; both 0 until then. Guarded by session.mu. Heal compares
	// created with the store's to find a room deleted and made again
	// under its name, whose news this node lost (dropStale).
	created, checked int64
	// since is the room's last sequence as the join's reply gave it, set
	// with checked. Guarded by session.mu. A kick or ban entry at or
	// before it was in the room before the session joined: it does not
	// take the session out (userTopic.entryOut).
	since int64
	// out is the kick or ban of the session's user from the room that
	// arrived (as the room's entry or as the user's event) while the join
	// was in flight, checked still 0: the join ends in an error instead
	// of its reply, and takes the connection out of the room. Guarded by
	// session.mu.
	out *outNotice
}

func (ss *session) text(c *conn, data []byte) {
	cmd, err := protocol.Decode(data)
	if err != nil {
		ss.srv.metrics.badCommands.Inc()
		ss.bad++
		ss.replyErr(c, cmd.ID, err)
		if ss.bad >= ss.srv.cfg.MaxBadCommands {
			c.close(protocol.ClosePolicy, "too many invalid commands")
		}
		return
	}
	ss.bad = 0
	if !ss.cmds.Allow(time.Now()) {
		ss.replyErr(c, cmd.ID, protocol.Errorf(protocol.CodeRateLimited, "too many commands; slow down"))
		return
	}
	if err := ss.dispatch(c, &cmd); err != nil {
		ss.replyErr(c, cmd.ID, err)
	}
}

// closed runs after both loops ended: leave every room.
func (ss *session) closed(c *conn) {
	if ss.identifyTimer != nil {
		ss.identifyTimer.Stop()
	}
	ss.admitted()
	ss.mu.Lock()
	rooms := ss.joined.names()
	ss.joined = joinedRooms{}
	ss.mu.Unlock()
	for _, name := range rooms {
		ss.leaveHub(name, c)
	}
	if ss.user != nil {
		ss.srv.hub.RemoveUser(ss.user.key, ss.user)
		ss.srv.dir.remove(ss.user)
	}
	ss.releaseGuestName()
}

// peerClosing frees the guest's name when the client closes: a guest who
// says goodbye and comes back at once under the same name, as a new
// identity (a script run twice), must not find it taken by itself.
func (ss *session) peerClosing(c *conn) { ss.releaseGuestName() }

func (ss *session) reply(c *conn, ev *protocol.Event) {
	ss.queueReply(c, ev, false)
}

// queueReply encodes ev and queues it as a reply; held keeps it from being
// written through to an idle socket (see outMsg.held).
func (ss *session) queueReply(c *conn, ev *protocol.Event, held bool) {
	b, err := protocol.EncodeEvent(ev)
	if err != nil {
		c.log.Error("encode reply", "err", err)
		c.close(protocol.CloseInternal, "internal error")
		return
	}
	c.enqueue(outMsg{data: b, reply: true, held: held})
}

// replyAck queues the ack of a committed entry, never written through on
// its own: the entry's own event follows at once, and the two go out in
// one frame (by the write loop, or written through together).
func (ss *session) replyAck(c *conn, id string, ev protocol.Event) {
	if id == "" {
		return
	}
	ev.Type = protocol.TypeOK
	ev.ID = id
	ss.queueReply(c, &ev, true)
}

func (ss *session) replyOK(c *conn, id string, ev protocol.Event) {
	if id == "" {
		return
	}
	ev.Type = protocol.TypeOK
	ev.ID = id
	ss.reply(c, &ev)
}

// replyErr maps err to its stable code once, here. Internal detail goes to
// the log, never to the client.
func (ss *session) replyErr(c *conn, id string, err error) {
	ss.reply(c, ss.errEvent(c, id, err))
}

// errEvent is the error event replyErr sends.
func (ss *session) errEvent(c *conn, id string, err error) *protocol.Event {
	var pe *protocol.Error
	switch {
	case errors.As(err, &pe):
	case errors.Is(err, chat.ErrNoSuchRoom):
		pe = protocol.Errorf(protocol.CodeNoSuchRoom, "no such room")
	case errors.Is(err, chat.ErrRoomExists):
		pe = protocol.Errorf(protocol.CodeRoomExists, "a room with that name exists")
	case errors.Is(err, chat.ErrNoSuchMessage):
		pe = protocol.Errorf(protocol.CodeNoSuchMessage, "no such message in this room, or it was deleted")
	case errors.Is(err, chat.ErrNotAuthor):
		pe = protocol.Errorf(protocol.CodeForbidden, "that message is someone else's")
	case errors.Is(err, chat.ErrTooManyReactions):
		pe = protocol.Errorf(protocol.CodeLimitReached, "a message holds at most %d different reactions", protocol.MaxReactionsPerMessage)
	case errors.Is(err, chat.ErrClosed), errors.Is(err, errStopping):
		pe = protocol.Errorf(protocol.CodeUnavailable, "the server is shutting down; retry after reconnecting")
	case storeOutage(err):
		c.srv.storeWarn.Add("", "err", err) // one line every few seconds, not one per command
		pe = protocol.Errorf(protocol.CodeUnavailable, "the store is unavailable; retry in a moment")
	default:
		c.log.Error("command failed", "err", err)
		pe = protocol.Errorf(protocol.CodeInternal, "internal error; the command may be retried")
	}
	return &protocol.Event{Type: protocol.TypeError, ID: id, Code: pe.Code, Reason: pe.Reason}
}

var errStopping = errors.New("server stopping")

// noAdmission is session.admitted once the admission has ended: its
// release, which the session would keep for nothing, can be let go.
func noAdmission() {}

func (ss *session) dispatch(c *conn, cmd *protocol.Command) error {
	if cmd.Op == protocol.OpPing {
		ss.replyOK(c, cmd.ID, protocol.Event{})
		return nil
	}
	if cmd.Op == protocol.OpHello {
		return ss.hello(c, cmd)
	}
	if ss.self == nil {
		return protocol.Errorf(protocol.CodeNotIdentified, "send hello first")
	}
	// Most commands are answered from caches: no timer unless one
	// reaches the store.
	ctx, cancel := lazyTimeout(10 * time.Second)
	defer cancel()
	switch cmd.Op {
	case protocol.OpRooms:
		return ss.rooms(ctx, c, cmd)
	case protocol.OpCreate:
		return ss.create(ctx, c, cmd)
	case protocol.OpJoin:
		return ss.join(ctx, c, cmd)
	case protocol.OpLeave:
		return ss.leave(c, cmd)
	case protocol.OpSend:
		return ss.send(c, cmd)
	case protocol.OpHistory:
		return ss.history(ctx, c, cmd)
	case protocol.OpEdit:
		return ss.edit(c, cmd)
	case protocol.OpDelete:
		return ss.deleteMessage(ctx, c, cmd)
	case protocol.OpReact:
		return ss.react(c, cmd)
	case protocol.OpTyping:
		return ss.typing(ctx, c, cmd)
	case protocol.OpDM:
		return ss.dm(ctx, c, cmd)
	case protocol.OpBlock, protocol.OpUnblock:
		return ss.blockOp(ctx, c, cmd)
	case protocol.OpBlocks:
		return ss.blockList(ctx, c, cmd)
	case protocol.OpInvite:
		return ss.invite(ctx, c, cmd)
	case protocol.OpKick, protocol.OpBan:
		return ss.kickOrBan(ctx, c, cmd)
	case protocol.OpUnban:
		return ss.unban(ctx, c, cmd)
	case protocol.OpMute, protocol.OpUnmute:
		return ss.mute(ctx, c, cmd)
	case protocol.OpTopic:
		return ss.topic(ctx, c, cmd)
	case protocol.OpPromote, protocol.OpDemote:
		return ss.promote(ctx, c, cmd)
	case protocol.OpRefuseGuests, protocol.OpAllowGuests:
		return ss.roomGuests(ctx, c, cmd)
	case protocol.OpRead:
		return ss.read(ctx, c, cmd)
	case protocol.OpSearch:
		return ss.search(ctx, c, cmd)
	case protocol.OpUpload:
		return ss.upload(ctx, c, cmd)

	// Room lifecycle.
	case protocol.OpArchiveRoom, protocol.OpUnarchiveRoom, protocol.OpDeleteRoom:
		return ss.lifecycle(ctx, c, cmd)
	}
	return protocol.Errorf(protocol.CodeUnknownOp, "unknown op %q", cmd.Op)
}

func (ss *session) hello(c *conn, cmd *protocol.Command) error {
	if ss.self != nil {
		return protocol.Errorf(protocol.CodeAlreadyIdentified, "hello was already sent")
	}
	if ss.auth != nil {
		if cmd.Name != "" {
			return protocol.Errorf(protocol.CodeInvalidValue, "a signed-in connection speaks as its account; send hello without a name")
		}
		ss.self = &protocol.Identity{Name: ss.auth.user.Name, Admin: ss.auth.user.Admin}
	} else {
		if cmd.Name == "" {
			return protocol.Errorf(protocol.CodeMissingField, "guests need a name")
		}
		if err := ss.claimGuestName(cmd.Name); err != nil {
			return err
		}
		ss.self = &protocol.Identity{Name: cmd.Name, Guest: true}
	}
	ss.identifyTimer.Stop()
	ss.identifyTimer = nil
	c.log = connLogger(ss.srv.log, c.id, ss.self.Name)
	c.inspectUser(ss.self.Name)
	// The user's own events (invitations, moderation) reach this
	// connection whichever rooms it is in. Registering costs no broker
	// call: every node hears every user's events on one topic. The key is
	// the account name or the guest's identity (guests.go), never a
	// guest's display name: a guest called dave is not the account dave.
	ss.user = &userTopic{ss: ss, c: c, name: ss.self.Name, key: ss.userKey()}
	ss.srv.hub.AddUser(ss.user.key, ss.user)
	ss.srv.dir.add(ss.user)
	ss.replyOK(c, cmd.ID, protocol.Event{Self: ss.self})
	return nil
}

// admin reports whether the connection acts as a server administrator:
// its account was one at the handshake and has not been demoted since.
func (ss *session) admin() bool { return ss.self != nil && ss.self.Admin && !ss.demoted.Load() }

func (ss *session) roomInfo(r chat.Room, role string) protocol.RoomInfo {
	info := protocol.RoomInfo{
		Name:     r.Name,
		Topic:    r.Topic,
		Private:  r.Private,
		LastSeq:  r.LastSeq,
		Online:   ss.srv.hub.Online(r.Name),
		Role:     role,
		Archived: r.Archived,
	}
	if a, b, ok := protocol.DMPeers(r.Name); ok {
		info.Peer = a
		if a == ss.self.Name {
			info.Peer = b
		}
	}
	return info
}

// access is the authorisation of every room operation: the room exists,
// the caller is not banned from it, and a private room (or DM) is only for
// users with a role in it (and, except DMs, server administrators). It
// returns the room and the caller's role.
//
// The room row comes from the node's room cache (roomcache.go): its
// LastSeq may be older than the room's.
func (ss *session) access(ctx context.Context, name string) (chat.Room, string, error) {
	return ss.accessAs(ctx, name, false)
}

// accessShown is access for a reply that only shows the caller's role
// (join): in a public room the role comes from the node's role cache
// (rolecache.go), which shows a change made on another node within
// Config.ModerationCheck. What the role allows is always decided by
// access.
func (ss *session) accessShown(ctx context.Context, name string) (chat.Room, string, error) {
	return ss.accessAs(ctx, name, true)
}

func (ss *session) accessAs(ctx context.Context, name string, shown bool) (chat.Room, string, error) {
	r, role, _, err := ss.accessAt(ctx, name, shown)
	return r, role, err
}

// accessAt is accessAs, with the sequence of the room that its decision
// is as of: a kick or ban of the caller that it did not see has its entry
// after that sequence (see joingap.go). The ban's answer is as of its
// cached snapshot's sequence (checkBanAt); a private room's role is read
// from the store, after the row, so it is as of the row's LastSeq. -1 if
// unknown, math.MaxInt64 without Config.Access.
func (ss *session) accessAt(ctx context.Context, name string, shown bool) (chat.Room, string, int64, error) {
	now := time.Now()
	r, err := ss.srv.roomRows.get(ctx, ss.srv.cfg.Store, name, now)
	if err != nil {
		return r, "", -1, err
	}
	acc := ss.srv.cfg.Access
	if acc == nil {
		return r, "", math.MaxInt64, nil
	}
	decided := int64(math.MaxInt64)
	role := ""
	if !ss.self.Guest {
		// Whether a room is private never changes, so a cached row
		// tells it.
		if shown && !r.Private {
			role, err = ss.srv.roles.role(ctx, acc, name, ss.self.Name, now)
		} else {
			role, err = acc.Role(ctx, name, ss.self.Name)
		}
		if err != nil {
			return r, "", -1, err
		}
		if r.Private {
			decided = r.LastSeq
		}
	}
	if r.Private && role == "" {
		_, _, dm := protocol.DMPeers(name)
		if dm || !ss.admin() {
			// A hidden room answers exactly like a missing one, so
			// that nobody can probe which private rooms and DMs exist.
			return chat.Room{}, "", -1, chat.ErrNoSuchRoom
		}
	}
	seq, err := ss.checkBanAt(ctx, name)
	if err != nil {
		return r, "", -1, err
	}
	return r, role, min(decided, seq), nil
}

func untilText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return " until " + t.UTC().Format(time.RFC3339)
}

func (ss *session) rooms(ctx context.Context, c *conn, cmd *protocol.Command) error {
	var (
		rooms []chat.Room
		err   error
	)
	acc := ss.srv.cfg.Access
	if acc != nil {
		user := ""
		if !ss.self.Guest {
			user = ss.self.Name
		}
		rooms, err = acc.VisibleRooms(ctx, user)
	} else {
		rooms, err = ss.srv.cfg.Store.Rooms(ctx)
	}
	if err != nil {
		return err
	}
	rooms = filterRooms(rooms, cmd.Query, cmd.Archived)
	rooms, more := roomsPage(rooms, cmd.Room)
	read, err := ss.readPositions(ctx)
	if err != nil {
		return err
	}
	infos := make([]protocol.RoomInfo, 0, len(rooms))
	for _, r := range rooms {
		role := ""
		if acc != nil && !ss.self.Guest {
			if r.Private {
				role, err = acc.Role(ctx, r.Name, ss.self.Name)
			} else {
				role, err = ss.srv.roles.role(ctx, acc, r.Name, ss.self.Name, time.Now())
			}
			if err != nil {
				return err
			}
		}
		info := ss.roomInfo(r, role)
		info.ReadSeq = read[r.Name]
		infos = append(infos, info)
	}
	ss.replyOK(c, cmd.ID, protocol.Event{Rooms: infos, More: more})
	return nil
}

func (ss *session) create(ctx context.Context, c *conn, cmd *protocol.Command) error {
	if _, _, dm := protocol.DMPeers(cmd.Room); dm {
		return protocol.Errorf(protocol.CodeInvalidValue, "direct-message rooms are opened with dm")
	}
	if cmd.Private && (ss.self.Guest || ss.srv.cfg.Access == nil) {
		return protocol.Errorf(protocol.CodeForbidden, "only signed-in users can create private rooms")
	}
	if err := ss.allowCreate(); err != nil {
		return err
	}
	r := chat.Room{Name: cmd.Room, Topic: cmd.Topic, Private: cmd.Private, Owner: ss.self.Name, GuestOwner: ss.self.Guest}
	if err := ss.srv.cfg.Store.CreateRoom(ctx, r); err != nil {
		return err
	}
	role := ""
	if acc := ss.srv.cfg.Access; acc != nil && !ss.self.Guest {
		if err := ss.setRole(ctx, cmd.Room, ss.self.Name, protocol.RoleOwner); err != nil {
			return err
		}
		role = protocol.RoleOwner
	}
	r, err := ss.srv.cfg.Store.Room(ctx, cmd.Room)
	if err != nil {
		return err
	}
	info := ss.roomInfo(r, role)
	ss.replyOK(c, cmd.ID, protocol.Event{Room: r.Name, Info: &info})
	if !r.Private {
		// Everyone's directory learns of it now, not at its next poll.
		di := dirInfo(r)
		ss.srv.publishDirectory(ctx, &protocol.Event{Type: protocol.TypeDirectory, Change: protocol.ChangeCreated, Room: r.Name, By: ss.self.Name, Info: &di}, nil)
	}
	return nil
}

// join subscribes the connection before it reads the room's last sequence,
// so every message committed after the reply's last_seq arrives live.
func (ss *session) join(ctx context.Context, c *conn, cmd *protocol.Command) error {
	start := monoNow()
	r, role, decided, err := ss.accessAt(ctx, cmd.Room, true)
	if err == nil && decided < 0 {
		// Decided on cached sanctions of unknown age (read where this
		// node knew nothing of the room's sequence): decide again on
		// ones read now, whose age joinPoint can tell.
		ss.srv.sanctions.forgetRoom(cmd.Room)
		r, role, decided, err = ss.accessAt(ctx, cmd.Room, true)
	}
	if err != nil {
		return err
	}
	jr := &joinedRoom{name: cmd.Room}
	if acc := ss.srv.cfg.Access; acc != nil {
		m, muted, err := ss.sanctioned(ctx, cmd.Room, chat.Mute)
		if err != nil {
			return err
		}
		jr.muted, jr.mutedUntil = muted, m.Until
	}
	// Once in ss.joined, jr belongs to ss.mu (moderation events change it).
	mutedNow, mutedUntil := jr.muted, jr.mutedUntil
	ss.mu.Lock()
	cur, already := ss.joined.get(cmd.Room)
	stale := already && cur.created != 0 && cur.created != r.CreatedAt.UnixMilli()
	if !already {
		ss.joined.add(jr)
		delete(ss.toldOut, cmd.Room)
	}
	ss.mu.Unlock()
	if stale {
		// The session is in an earlier room of that name, deleted without
		// news of it reaching this node (see dropStale): out of it first,
		// then into this one as any first join, from its last_seq.
		ss.forceLeave(c, cmd.Room)
		ss.mu.Lock()
		_, already = ss.joined.get(cmd.Room)
		if !already {
			ss.joined.add(jr)
		}
		ss.mu.Unlock()
	}
	var p hub.Presence
	if already {
		p = hub.Presence{Online: ss.srv.hub.Online(cmd.Room), Members: ss.srv.hub.Members(cmd.Room, ss.srv.cfg.PresenceLimit)}
	} else {
		// The seam: Join returns once this node will hear of every
		// message committed from now on; only then is the room's last
		// sequence read, so every message after the reply's last_seq
		// reaches the connection (older ones it may get too, and skips).
		p, err = ss.srv.hub.Join(ctx, cmd.Room, c, ss.self.Name)
		if err != nil {
			ss.mu.Lock()
			ss.joined.remove(cmd.Room)
			ss.mu.Unlock()
			return err
		}
	}
	// The reply's last_seq must be read after Join. The hub's head is
	// such a reading when the room was already served here (every
	// message after it reaches the connection), and the cached row goes
	// with it only if nothing was delivered since it was fetched; else
	// the store is asked, as the first joiner of a room always does.
	// That read also brings the kick and ban entries that this node may
	// never have delivered and the access decision may predate
	// (joingap.go); one of this user's is gap.
	var gap *outNotice
	r, role, gap, err = ss.joinPoint(ctx, r, role, decided, already)
	if err != nil {
		if !already {
			ss.forceLeave(c, cmd.Room) // deleted in between, or not for us
		}
		return err
	}
	ss.mu.Lock()
	var out, late *outNotice
	if lo, ok := ss.lateOut[cmd.Room]; ok {
		// A kick or ban of the user arrived while this connection was
		// not in the room; if after the join began, the access decided
		// above may predate it (entryOut).
		delete(ss.lateOut, cmd.Room)
		if lo.at >= start && !already {
			late = &lo.n
		}
	}
	if cur, ok := ss.joined.get(cmd.Room); ok {
		if out = cur.out; out != nil {
			// Kicked or banned while joining: told already; out now.
			ss.joined.remove(cmd.Room)
		} else {
			cur.created, cur.checked = r.CreatedAt.UnixMilli(), monoNow()
			if !already {
				cur.since = r.LastSeq
			}
		}
	}
	ss.mu.Unlock()
	if late == nil {
		late = gap
	}
	if out == nil && late != nil && ss.user != nil && !ss.stillAllowed(ctx, cmd.Room) {
		out = late
		ss.mu.Lock()
		if ss.joined.remove(cmd.Room) {
			ss.user.toldOut(cmd.Room, *late, false)
		} else {
			ss.mu.Unlock()
		}
	}
	if out != nil {
		ss.leaveHub(cmd.Room, c)
		if out.typ == protocol.TypeBanned {
			return protocol.Errorf(protocol.CodeBanned, "you are banned from %s%s", cmd.Room, untilText(timeOfMillis(out.until)))
		}
		return protocol.Errorf(protocol.CodeKicked, "you were removed from %s as you joined it", cmd.Room)
	}
	ss.markJoined(ctx, r)
	ss.srv.hub.Seen(r.Name, r.LastSeq)
	info := ss.roomInfo(r, role)
	info.Online = p.Online
	if _, _, dm := protocol.DMPeers(r.Name); !dm && !r.GuestOwner {
		info.Owner = r.Owner // the clients offer no kick or ban of the owner
	}
	// Staff is for show: a store that cannot say leaves it out, and the
	// join goes on (the read position below asks the store next, and
	// fails the join if the store is down).
	info.Staff = ss.staff(ctx, r)
	if info.ReadSeq, err = ss.readPosition(ctx, r.Name); err != nil {
		return err
	}
	roster, err := ss.roster(ctx, r)
	if err != nil {
		return err
	}
	ss.replyOK(c, cmd.ID, protocol.Event{Room: r.Name, Info: &info, Members: p.Members, Roster: roster})
	ss.admitted() // the first join ends an admission: a reconnect is back
	ss.admitted = noAdmission
	if mutedNow && !already {
		// Tell a user who joins while muted, so the client can say so
		// before they type.
		ev := &protocol.Event{Type: protocol.TypeMuted, Room: r.Name, User: ss.self.Name}
		if !mutedUntil.IsZero() {
			ev.Until = mutedUntil.UnixMilli()
		}
		ss.reply(c, ev)
	}
	return nil
}

// roster lists who belongs to a private room or DM, online or not: every
// user with a role in it, by name, at most protocol.MaxRoster. Public
// rooms have none: anyone may join them.
func (ss *session) roster(ctx context.Context, r chat.Room) ([]protocol.Member, error) {
	acc := ss.srv.cfg.Access
	if !r.Private || acc == nil {
		return nil, nil
	}
	members, err := acc.Members(ctx, r.Name)
	if err != nil {
		return nil, err
	}
	out := make([]protocol.Member, 0, min(len(members), protocol.MaxRoster))
	for _, m := range members[:min(len(members), protocol.MaxRoster)] {
		out = append(out, protocol.Member{Name: m.User, Role: m.Role})
	}
	return out, nil
}

// staff lists a public room's owner and moderators, and the server's
// administrators, for its join reply (RoomInfo.Staff; withAdmins says how
// they merge). The room's come from the node's role cache, which an
// account's join has just asked for the joiner's role: it reads nothing
// more (a guest's join reads the room's roles at most once per ttl); the
// administrators from the node's admin cache, read at most once per ttl
// whoever joins. Private rooms and DMs have none: their roster names
// everyone. A store that cannot say leaves out what it could not say
// (logged at debug). It authorises nothing.
func (ss *session) staff(ctx context.Context, r chat.Room) []protocol.Member {
	if r.Private {
		return nil
	}
	now := time.Now()
	var staff []protocol.Member
	if acc := ss.srv.cfg.Access; acc != nil {
		var err error
		if staff, err = ss.srv.roles.staff(ctx, acc, r.Name, now); err != nil {
			ss.srv.log.Debug("join without the room's staff", "room", r.Name, "err", err)
		}
	}
	if accts := ss.srv.cfg.Accounts; accts != nil {
		admins, err := ss.srv.admins.names(ctx, accts, now)
		if err != nil {
			ss.srv.log.Debug("join without the server's administrators", "room", r.Name, "err", err)
		}
		staff = withAdmins(staff, admins)
	}
	return staff
}

func (ss *session) leave(c *conn, cmd *protocol.Command) error {
	if !ss.forceLeave(c, cmd.Room) {
		return protocol.Errorf(protocol.CodeNotJoined, "you are not in room %s", cmd.Room)
	}
	ss.replyOK(c, cmd.ID, protocol.Event{Room: cmd.Room})
	return nil
}

// forceLeave takes the connection out of room, if it is in it. It is safe
// to call from any goroutine.
func (ss *session) forceLeave(c *conn, room string) bool {
	ss.mu.Lock()
	ok := ss.joined.remove(room)
	ss.mu.Unlock()
	if ok {
		ss.leaveHub(room, c)
	}
	return ok
}

// setRole gives user role in room (chat.Access.SetRole) and forgets the
// room's cached roles, so that this node shows the change at once.
func (ss *session) setRole(ctx context.Context, room, user, role string) error {
	defer ss.srv.roles.forget(room)
	return ss.srv.cfg.Access.SetRole(ctx, room, user, role)
}

func (ss *session) leaveHub(room string, c *conn) {
	ss.srv.hub.Leave(room, c) // the hub announces the leave (announcePresence)
}

// publishPresence broadcasts a typing event: news, not record. It never
// waits for the broker.
func (ss *session) publishPresence(typ, room, user string) {
	b, err := protocol.EncodeEvent(&protocol.Event{Type: typ, Room: room, User: user})
	if err != nil {
		ss.srv.log.Error("encode presence", "room", room, "type", typ, "err", err)
		return
	}
	ss.srv.hub.Event(room, b)
}

// send hands the message to the committer and returns at once; the ack is
// queued when the commit is done (see appendEntry).
func (ss *session) send(c *conn, cmd *protocol.Command) error {
	return ss.appendEntry(c, cmd.ID, chat.NewMessage{
		Room: cmd.Room, Author: ss.self.Name, Guest: ss.self.Guest, Body: cmd.Body, CMID: cmd.CMID,
		ReplyTo: cmd.ReplyTo, FileID: cmd.File,
	})
}

func (ss *session) history(ctx context.Context, c *conn, cmd *protocol.Command) error {
	if _, _, err := ss.access(ctx, cmd.Room); err != nil {
		return err
	}
	limit := cmd.Limit
	if limit == 0 {
		limit = protocol.DefaultHistoryLimit
	}
	var (
		msgs []chat.Message
		err  error
		more bool
	)
	if cmd.After != nil {
		if out, more, ok := ss.srv.recentHistory(ctx, cmd.Room, *cmd.After, limit); ok {
			ss.replyOK(c, cmd.ID, protocol.Event{Room: cmd.Room, Messages: out, More: more})
			return nil
		}
		msgs, err = ss.srv.cfg.Store.HistoryAfter(ctx, cmd.Room, *cmd.After, limit+1)
		if len(msgs) > limit {
			msgs, more = msgs[:limit], true
		}
	} else {
		before := int64(0)
		if cmd.Before != nil {
			before = *cmd.Before
		}
		msgs, err = ss.srv.cfg.Store.HistoryBefore(ctx, cmd.Room, before, limit+1)
		if len(msgs) > limit {
			msgs, more = msgs[1:], true
		}
	}
	if err != nil {
		return err
	}
	out := make([]protocol.Message, len(msgs))
	for i, m := range msgs {
		out[i] = wireMessage(m)
		out[i].File = ss.srv.storedFile(ctx, m.FileID)
	}
	ss.replyOK(c, cmd.ID, protocol.Event{Room: cmd.Room, Messages: out, More: more})
	return nil
}

// typing broadcasts a typing event, at most one per second per room and
// connection; more frequent ones are acknowledged and dropped.
func (ss *session) typing(ctx context.Context, c *conn, cmd *protocol.Command) error {
	ss.mu.Lock()
	jr, ok := ss.joined.get(cmd.Room)
	ss.mu.Unlock()
	if !ok {
		return protocol.Errorf(protocol.CodeNotJoined, "join room %s first", cmd.Room)
	}
	if err := ss.checkWritable(ctx, cmd.Room); err != nil {
		return err
	}
	if now := time.Now(); now.Sub(jr.lastTyping) >= time.Second {
		jr.lastTyping = now
		ss.publishPresence(protocol.TypeTyping, cmd.Room, ss.self.Name)
	}
	ss.replyOK(c, cmd.ID, protocol.Event{Room: cmd.Room})
	return nil
}
