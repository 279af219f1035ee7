package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/protocol"
)

// dialer is shared by every client: small buffers, and write buffers
// borrowed per write, so that the generator stays cheaper per connection
// than the server it measures. No proxy: the target is a test server.
var dialer = websocket.Dialer{
	Subprotocols:     []string{protocol.Subprotocol},
	HandshakeTimeout: 10 * time.Second,
	ReadBufferSize:   4096,
	WriteBufferSize:  1024,
	WriteBufferPool:  &sync.Pool{},
}

// framePool holds read buffers: a client borrows one only while it reads
// and handles a frame, so an idle client holds none.
var framePool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// client is one benchmark connection. After setup its socket has exactly
// one reader (the read goroutine) and at most one writer (its publisher,
// if it is one); close frames go through WriteControl, which gorilla allows
// beside them.
type client struct {
	idx int
	ws  *websocket.Conn // immutable after dial
	b   *bench

	replies chan protocol.Event // setup replies (ids h, c, j), read by setup
	done    chan struct{}       // closed when the read goroutine returns
	closing atomic.Bool         // we are closing: a close now is not the server's

	// Counters read by the progress line and the result.
	frames       atomic.Int64 // frames read
	received     atomic.Int64 // the run's messages received
	lastDelivery atomic.Int64 // Unix nanoseconds of the latest of them

	// Owned by the read goroutine.
	ready   bool     // the join reply arrived: baseline is known
	lastSeq int64    // highest room seq seen, starting at the join's last_seq
	pending [][]byte // message events read before the join reply
}

// dial opens client idx: the upgrade, hello, create (client 0 only) and
// join. On success the read goroutine runs until close.
func (b *bench) dial(ctx context.Context, idx int) (*client, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.SetupTimeout)
	defer cancel()
	ws, resp, err := dialer.DialContext(ctx, b.cfg.URL, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: %w (HTTP %s)", err, resp.Status)
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	if ws.Subprotocol() != protocol.Subprotocol {
		ws.Close()
		return nil, fmt.Errorf("dial: server chose subprotocol %q, want %q", ws.Subprotocol(), protocol.Subprotocol)
	}
	ws.SetReadLimit(protocol.MaxServerFrameBytes)
	c := &client{idx: idx, ws: ws, b: b, replies: make(chan protocol.Event, 4), done: make(chan struct{})}
	go c.readLoop()

	fail := func(err error) (*client, error) {
		c.closing.Store(true)
		ws.Close()
		<-c.done
		return nil, err
	}
	name := b.runID + "-" + strconv.Itoa(idx)
	if b.cfg.SharedName {
		name = b.runID
	}
	if ev, err := c.call(ctx, protocol.Command{ID: "h", Op: protocol.OpHello, Name: name}); err != nil {
		return fail(err)
	} else if ev.Type != protocol.TypeOK {
		return fail(fmt.Errorf("hello: %s: %s", ev.Code, ev.Reason))
	}
	if idx == 0 {
		ev, err := c.call(ctx, protocol.Command{ID: "c", Op: protocol.OpCreate, Room: b.cfg.Room, Topic: "hubbub-bench"})
		if err != nil {
			return fail(err)
		}
		if ev.Type != protocol.TypeOK && ev.Code != protocol.CodeRoomExists {
			return fail(fmt.Errorf("create %s: %s: %s", b.cfg.Room, ev.Code, ev.Reason))
		}
	}
	if ev, err := c.call(ctx, protocol.Command{ID: "j", Op: protocol.OpJoin, Room: b.cfg.Room}); err != nil {
		return fail(err)
	} else if ev.Type != protocol.TypeOK {
		return fail(fmt.Errorf("join %s: %s: %s", b.cfg.Room, ev.Code, ev.Reason))
	}
	return c, nil
}

// call writes cmd and waits for the reply with its id. Only setup uses it,
// before any publisher writes.
func (c *client) call(ctx context.Context, cmd protocol.Command) (protocol.Event, error) {
	if err := c.write(&cmd); err != nil {
		return protocol.Event{}, fmt.Errorf("%s: %w", cmd.Op, err)
	}
	for {
		select {
		case ev := <-c.replies:
			if ev.ID == cmd.ID {
				return ev, nil
			}
		case <-c.done:
			return protocol.Event{}, fmt.Errorf("%s: connection closed before the reply", cmd.Op)
		case <-ctx.Done():
			return protocol.Event{}, fmt.Errorf("%s: no reply: %w", cmd.Op, ctx.Err())
		}
	}
}

func (c *client) write(cmd *protocol.Command) error {
	data, err := protocol.EncodeCommand(cmd)
	if err != nil {
		return err
	}
	c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, data)
}

// publish sends the run's message number slot, with a unique client
// message id, stamped with the time of the write.
func (c *client) publish(slot int) error {
	b := c.b
	tag := strconv.Itoa(slot)
	return c.write(&protocol.Command{
		ID:   "s" + tag,
		Op:   protocol.OpSend,
		Room: b.cfg.Room,
		Body: messageBody(b.runID, time.Now(), slot),
		CMID: b.runID + "-" + tag,
	})
}

// close sends a normal close frame and lets the read goroutine end; it
// does not wait.
func (c *client) close() {
	c.closing.Store(true)
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
}

// readLoop reads frames until the connection ends and records how it ended
// unless this side was closing it.
func (c *client) readLoop() {
	defer close(c.done)
	defer c.ws.Close()
	for {
		_, r, err := c.ws.NextReader()
		if err != nil {
			c.ended(err)
			return
		}
		buf := framePool.Get().(*bytes.Buffer)
		_, err = buf.ReadFrom(r)
		if err != nil {
			buf.Reset()
			framePool.Put(buf)
			c.ended(err)
			return
		}
		c.frames.Add(1)
		now := time.Now()
		_ = protocol.SplitFrame(buf.Bytes(), func(obj []byte) error {
			c.handle(obj, now)
			return nil
		})
		buf.Reset()
		if buf.Cap() <= 1<<20 {
			framePool.Put(buf)
		}
	}
}

func (c *client) ended(err error) {
	if c.closing.Load() {
		return
	}
	code := websocket.CloseAbnormalClosure // no close frame: the socket just ended
	if ce, ok := errors.AsType[*websocket.CloseError](err); ok {
		code = ce.Code
	}
	c.b.closedBy(code)
}

// handle processes one event object, read at now.
func (c *client) handle(obj []byte, now time.Time) {
	b := c.b
	if room, seq, body, ok := scanMessage(obj); ok {
		if !c.ready {
			c.pending = append(c.pending, bytes.Clone(obj))
			return
		}
		c.message(room, seq, body, now)
		return
	}
	if isPresence(obj) {
		b.presence.Add(1)
		return
	}
	ev, err := protocol.DecodeEvent(obj)
	if err != nil {
		b.undecodable.Add(1)
		return
	}
	switch ev.Type {
	case protocol.TypeMessage:
		if ev.Message == nil {
			b.undecodable.Add(1)
			return
		}
		if !c.ready {
			c.pending = append(c.pending, bytes.Clone(obj))
			return
		}
		c.message([]byte(ev.Message.Room), ev.Message.Seq, []byte(ev.Message.Body), now)
	case protocol.TypeOK, protocol.TypeError:
		if len(ev.ID) > 0 && ev.ID[0] == 's' {
			b.ack(&ev, now)
			return
		}
		if ev.ID == "j" && ev.Type == protocol.TypeOK && ev.Info != nil {
			c.joined(ev.Info.LastSeq, now)
		}
		select {
		case c.replies <- ev:
		default: // nobody asked; setup sends one command at a time
		}
	default:
		b.otherEvents.Add(1)
	}
}

// joined sets the sequence baseline from the join reply and replays the
// message events that arrived before it: those at or below the baseline
// were committed before the join and are not news.
func (c *client) joined(lastSeq int64, now time.Time) {
	c.ready, c.lastSeq = true, lastSeq
	pending := c.pending
	c.pending = nil
	for _, obj := range pending {
		if room, seq, body, ok := scanMessage(obj); ok {
			if seq > lastSeq {
				c.message(room, seq, body, now)
			}
			continue
		}
		if ev, err := protocol.DecodeEvent(obj); err == nil && ev.Message != nil && ev.Message.Seq > lastSeq {
			c.message([]byte(ev.Message.Room), ev.Message.Seq, []byte(ev.Message.Body), now)
		}
	}
}

// message checks the room's sequence and records a delivery of the run.
func (c *client) message(room []byte, seq int64, body []byte, now time.Time) {
	b := c.b
	if string(room) != b.cfg.Room {
		return
	}
	switch {
	case seq <= c.lastSeq:
		b.duplicates.Add(1)
		return
	case seq > c.lastSeq+1:
		b.gaps.Add(seq - c.lastSeq - 1)
	}
	c.lastSeq = seq
	at, slot, ours := parseBody(b.runID, body)
	if !ours || slot >= len(b.slots) {
		b.foreign.Add(1)
		return
	}
	b.slots[slot].received.Add(1)
	c.received.Add(1)
	b.latency.record(now.Sub(time.Unix(0, at)))
	c.lastDelivery.Store(now.UnixNano())
}

// ack records the server's reply to a send.
func (b *bench) ack(ev *protocol.Event, now time.Time) {
	if ev.Type == protocol.TypeError {
		b.sendErr(string(ev.Code))
		return
	}
	b.acked.Add(1)
	if ev.Message == nil {
		return
	}
	if at, slot, ok := parseBody(b.runID, []byte(ev.Message.Body)); ok && slot < len(b.slots) {
		b.slots[slot].acked.Store(true)
		b.ackLatency.record(now.Sub(time.Unix(0, at)))
	}
}
