package server

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// serveChat upgrades a /ws request and runs a chat session on it.
func (s *Server) serveChat(w http.ResponseWriter, r *http.Request) {
	ws := s.upgrade(w, r, protocol.Subprotocol)
	if ws == nil {
		return
	}
	sess := &session{srv: s, joined: make(map[string]*joinedRoom), inflight: make(chan struct{}, s.cfg.MaxInFlight)}
	c := newConn(s, ws, sess)
	sess.identifyTimer = time.AfterFunc(s.cfg.IdentifyTimeout, func() {
		c.close(protocol.CloseIdentifyTimeout, "no hello in time")
	})
	s.run(c)
}

// session is the chat protocol on one connection. Its fields are owned by
// the read loop (every handler method runs there), except where noted.
type session struct {
	srv           *Server
	self          *protocol.Identity // nil until hello
	identifyTimer *time.Timer
	bad           int // invalid commands in a row

	mu     sync.Mutex             // guards joined: closed() and acks read it too
	joined map[string]*joinedRoom // rooms this connection joined

	inflight chan struct{} // one token per unacknowledged send
}

type joinedRoom struct {
	lastTyping time.Time // owned by the read loop
}

func (ss *session) binary(c *conn, _ []byte) {
	c.close(protocol.CloseUnsupportedData, "binary frames are not supported on /ws")
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
	if err := ss.dispatch(c, &cmd); err != nil {
		ss.replyErr(c, cmd.ID, err)
	}
}

// closed runs after both loops ended: leave every room.
func (ss *session) closed(c *conn) {
	ss.identifyTimer.Stop()
	ss.mu.Lock()
	rooms := make([]string, 0, len(ss.joined))
	for name := range ss.joined {
		rooms = append(rooms, name)
	}
	clear(ss.joined)
	ss.mu.Unlock()
	for _, name := range rooms {
		ss.leaveHub(name, c)
	}
}

func (ss *session) reply(c *conn, ev *protocol.Event) {
	b, err := protocol.EncodeEvent(ev)
	if err != nil {
		c.log.Error("encode reply", "err", err)
		c.close(protocol.CloseInternal, "internal error")
		return
	}
	c.enqueue(outMsg{data: b})
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
	var pe *protocol.Error
	switch {
	case errors.As(err, &pe):
	case errors.Is(err, chat.ErrNoSuchRoom):
		pe = protocol.Errorf(protocol.CodeNoSuchRoom, "no such room")
	case errors.Is(err, chat.ErrRoomExists):
		pe = protocol.Errorf(protocol.CodeRoomExists, "a room with that name exists")
	case errors.Is(err, chat.ErrClosed), errors.Is(err, errStopping):
		pe = protocol.Errorf(protocol.CodeUnavailable, "the server is shutting down; retry after reconnecting")
	default:
		c.log.Error("command failed", "err", err)
		pe = protocol.Errorf(protocol.CodeInternal, "internal error; the command may be retried")
	}
	ss.reply(c, &protocol.Event{Type: protocol.TypeError, ID: id, Code: pe.Code, Reason: pe.Reason})
}

var errStopping = errors.New("server stopping")

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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
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
	case protocol.OpTyping:
		return ss.typing(ctx, c, cmd)
	}
	return protocol.Errorf(protocol.CodeUnknownOp, "unknown op %q", cmd.Op)
}

func (ss *session) hello(c *conn, cmd *protocol.Command) error {
	if ss.self != nil {
		return protocol.Errorf(protocol.CodeAlreadyIdentified, "hello was already sent")
	}
	if cmd.Name == "" {
		return protocol.Errorf(protocol.CodeMissingField, "guests need a name")
	}
	ss.self = &protocol.Identity{Name: cmd.Name, Guest: true}
	ss.identifyTimer.Stop()
	c.log = c.log.With("user", ss.self.Name)
	ss.replyOK(c, cmd.ID, protocol.Event{Self: ss.self})
	return nil
}

func (ss *session) roomInfo(r chat.Room) protocol.RoomInfo {
	return protocol.RoomInfo{
		Name:    r.Name,
		Topic:   r.Topic,
		Private: r.Private,
		LastSeq: r.LastSeq,
		Online:  ss.srv.hub.Online(r.Name),
	}
}

func (ss *session) rooms(ctx context.Context, c *conn, cmd *protocol.Command) error {
	rooms, err := ss.srv.cfg.Store.Rooms(ctx)
	if err != nil {
		return err
	}
	infos := make([]protocol.RoomInfo, 0, len(rooms))
	for _, r := range rooms {
		infos = append(infos, ss.roomInfo(r))
	}
	ss.replyOK(c, cmd.ID, protocol.Event{Rooms: infos})
	return nil
}

func (ss *session) create(ctx context.Context, c *conn, cmd *protocol.Command) error {
	r := chat.Room{Name: cmd.Room, Topic: cmd.Topic, Private: cmd.Private, Owner: ss.self.Name}
	if err := ss.srv.cfg.Store.CreateRoom(ctx, r); err != nil {
		return err
	}
	r, err := ss.srv.cfg.Store.Room(ctx, cmd.Room)
	if err != nil {
		return err
	}
	info := ss.roomInfo(r)
	ss.replyOK(c, cmd.ID, protocol.Event{Room: r.Name, Info: &info})
	return nil
}

// join subscribes the connection before it reads the room's last sequence,
// so every message committed after the reply's last_seq arrives live.
func (ss *session) join(ctx context.Context, c *conn, cmd *protocol.Command) error {
	if _, err := ss.srv.cfg.Store.Room(ctx, cmd.Room); err != nil {
		return err
	}
	ss.mu.Lock()
	_, already := ss.joined[cmd.Room]
	if !already {
		ss.joined[cmd.Room] = &joinedRoom{}
	}
	ss.mu.Unlock()
	if !already {
		first, _, err := ss.srv.hub.Join(cmd.Room, c, ss.self.Name)
		if err != nil {
			ss.mu.Lock()
			delete(ss.joined, cmd.Room)
			ss.mu.Unlock()
			return err
		}
		if first {
			ss.publishPresence(ctx, protocol.TypeJoin, cmd.Room, ss.self.Name)
		}
	}
	r, err := ss.srv.cfg.Store.Room(ctx, cmd.Room)
	if err != nil {
		return err
	}
	info := ss.roomInfo(r)
	ss.replyOK(c, cmd.ID, protocol.Event{Room: r.Name, Info: &info, Members: ss.srv.hub.Users(cmd.Room)})
	return nil
}

func (ss *session) leave(c *conn, cmd *protocol.Command) error {
	ss.mu.Lock()
	_, ok := ss.joined[cmd.Room]
	delete(ss.joined, cmd.Room)
	ss.mu.Unlock()
	if !ok {
		return protocol.Errorf(protocol.CodeNotJoined, "you are not in room %s", cmd.Room)
	}
	ss.leaveHub(cmd.Room, c)
	ss.replyOK(c, cmd.ID, protocol.Event{Room: cmd.Room})
	return nil
}

func (ss *session) leaveHub(room string, c *conn) {
	if last, user := ss.srv.hub.Leave(room, c); last {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ss.publishPresence(ctx, protocol.TypeLeave, room, user)
	}
}

// publishPresence broadcasts a join, leave or typing event. These are news,
// not record: a lost one costs a stale presence list until the next join.
func (ss *session) publishPresence(ctx context.Context, typ, room, user string) {
	b, err := protocol.EncodeEvent(&protocol.Event{Type: typ, Room: room, User: user})
	if err == nil {
		err = ss.srv.cfg.Broker.Publish(ctx, room, b)
	}
	if err != nil {
		ss.srv.log.Warn("publish presence", "room", room, "type", typ, "err", err)
	}
}

func (ss *session) isJoined(room string) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	_, ok := ss.joined[room]
	return ok
}

// send hands the message to the committer and returns at once; the ack is
// queued when the commit is done. At most MaxInFlight sends of one
// connection wait for their commit; the next one pauses the read loop.
func (ss *session) send(c *conn, cmd *protocol.Command) error {
	if !ss.isJoined(cmd.Room) {
		return protocol.Errorf(protocol.CodeNotJoined, "join room %s before sending to it", cmd.Room)
	}
	ss.inflight <- struct{}{}
	id := cmd.ID
	ok := ss.srv.commit.submit(pendingSend{
		msg: chat.NewMessage{Room: cmd.Room, Author: ss.self.Name, Guest: ss.self.Guest, Body: cmd.Body, CMID: cmd.CMID},
		done: func(res chat.AppendResult, err error) {
			<-ss.inflight
			if err == nil {
				err = res.Err
			}
			if err != nil {
				ss.replyErr(c, id, err)
				return
			}
			m := wireMessage(res.Message)
			ss.replyOK(c, id, protocol.Event{Room: m.Room, Message: &m})
		},
	})
	if !ok {
		<-ss.inflight
		return errStopping
	}
	return nil
}

func (ss *session) history(ctx context.Context, c *conn, cmd *protocol.Command) error {
	if _, err := ss.srv.cfg.Store.Room(ctx, cmd.Room); err != nil {
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
	}
	ss.replyOK(c, cmd.ID, protocol.Event{Room: cmd.Room, Messages: out, More: more})
	return nil
}

// typing broadcasts a typing event, at most one per second per room and
// connection; more frequent ones are acknowledged and dropped.
func (ss *session) typing(ctx context.Context, c *conn, cmd *protocol.Command) error {
	ss.mu.Lock()
	jr, ok := ss.joined[cmd.Room]
	ss.mu.Unlock()
	if !ok {
		return protocol.Errorf(protocol.CodeNotJoined, "join room %s first", cmd.Room)
	}
	if now := time.Now(); now.Sub(jr.lastTyping) >= time.Second {
		jr.lastTyping = now
		ss.publishPresence(ctx, protocol.TypeTyping, cmd.Room, ss.self.Name)
	}
	ss.replyOK(c, cmd.ID, protocol.Event{Room: cmd.Room})
	return nil
}
