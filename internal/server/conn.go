package server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/internal/inspect"
	"github.com/hubbub-chat/hubbub/internal/wsframe"
	"github.com/hubbub-chat/hubbub/protocol"
)

// handler is what runs on a connection: the chat session of /ws, or the
// echo of /echo. Its methods are called for the connection's read loop,
// one at a time and in order (see conn.handle), except closed, which runs
// once after both loops ended. The read loop may run on a different
// goroutine from one message to the next (park.go), never on two at once.
//
// binary gets the message as gorilla's reader, to stream it: what the
// handler leaves unread is skipped, and a read error (the read limit, a
// dead socket) it may ignore, because the read loop's next read returns
// the same error and handles it.
type handler interface {
	text(c *conn, data []byte)
	binary(c *conn, r io.Reader)
	closed(c *conn)
}

// peerCloser is a handler that lets go of what others may want at once
// when the peer sends its close frame, before the close is answered, so
// that a client which reconnects as soon as its close was answered finds
// it free. It runs on the read loop, before closed.
type peerCloser interface {
	peerClosing(c *conn)
}

// outMsg is one queued data message.
type outMsg struct {
	binary bool
	alone  bool   // a message of its own, never coalesced with others (echo)
	reply  bool   // a reply to this connection's command: written before queued events
	held   bool   // the ack of a committed entry: queued, never written through alone (writeThroughLocked), to share a frame with its event
	data   []byte // shared between connections: read-only
}

// repliesFirst reorders queue, stably, so that replies come before the
// broadcast events queued with them: under load an ack need not wait
// behind a backlog of other people's messages. Events keep their order,
// and so do replies.
func repliesFirst(queue []outMsg) []outMsg {
	n := 0
	for _, m := range queue {
		if m.reply {
			n++
		}
	}
	if n == 0 || n == len(queue) {
		return queue
	}
	out := make([]outMsg, 0, len(queue))
	for _, m := range queue {
		if m.reply {
			out = append(out, m)
		}
	}
	for _, m := range queue {
		if !m.reply {
			out = append(out, m)
		}
	}
	return out
}

// conn is one WebSocket connection with exactly one reader and at most
// one writer.
//
// The read loop owns every read and the read deadline. It runs on serve's
// goroutine, and when the connection has parked (park.go) on the one the
// poller starts when bytes arrive: never on two at once.
// The write loop owns every write while it is busy, and always every
// pong, ping and close frame; an event or a command's reply for an idle
// socket may be written through by the goroutine that has it, under mu
// (see below). Other
// goroutines talk to the writer only through the fields under mu.
//
// The write loop runs only while there is something to write: kick starts
// it when work arrives and none is running (writing, under mu, makes sure
// there is never more than one) or rings its wake channel, and it returns
// when it has found nothing to do for writerLinger. An idle connection
// therefore holds no write goroutine and no timer: pings come from the
// server's pinger, which sets pingDue and kicks the writer. Parked, it
// holds no read goroutine either.
//
// Most messages never reach the write loop: when the socket is the
// connection's to take (no write loop busy with it, nothing queued or due
// before the message), the goroutine that has the message writes it
// through, under mu, with one write that never blocks (writeThroughLocked).
// Only what the socket does not take at once goes to the write loop. The
// rule of one writer holds: a write through happens under mu while the
// write loop is idle, and the write loop writes only what it took under mu
// (wbusy), the rest of a frame written through first.
//
// One exception is gorilla's: when it detects a framing error or an
// oversized frame while reading, it writes that close frame (1002, 1009)
// itself with WriteControl, which is safe to call concurrently with the
// write loop. The write loop then skips its own close frame (after 1009
// it tries anyway and gorilla refuses it; see readFailed).
type conn struct {
	ws  *websocket.Conn // immutable after newConn
	srv *Server
	id  uint64
	log *slog.Logger
	h   handler

	// Every connection keeps this struct for its whole life, idle or not:
	// the bools sit together, and what only a close or a waiter needs
	// (written's channel, readDone) is made when first needed.
	mu          sync.Mutex // guards the fields below
	queue       []outMsg
	queueBytes  int
	queuedSince time.Time     // when the oldest message in queue was queued
	pongs       [][]byte      // ping payloads to answer, in order; at most maxPendingPongs
	wake        chan struct{} // the running write loop's doorbell (capacity 1); nil when none runs
	written     waitList      // on mu: broadcast when flushing ends and when ended is set
	closeText   string
	closeCode   int32
	partial     []byte // the rest of a frame written through (writeThroughLocked), for the write loop to write first
	pingDue     bool   // the pinger asked for a ping
	writing     bool   // a write loop is running, or the connection has ended
	wbusy       bool   // the write loop is writing what it took (the socket is its own until it is done)
	holding     bool   // queue holds a room's runs handed over with more to come, no write loop kicked for them (DeliverBatch)
	flushing    bool   // the write loop is writing messages it took from queue, or a partial frame
	ended       bool   // the write loop has closed the socket; nothing more is written
	closing     bool   // a close is decided; nothing more is queued
	closeSent   bool   // gorilla already wrote the close frame
	drain       bool   // the read side failed with the peer's input unread: drain it before closing (lingerDrain)
	dropQueue   bool   // close without writing the queued events, only the replies (slow consumer)
	readOver    bool   // the read side has ended (readEnded)
	pipelined   bool   // the read loop has more commands buffered: replies wait for the last (see pipeline); set only by the read loop
	heldOnly    bool   // queue holds only replies held back for the end of a pipelined burst: their wait is the server's, not the peer's, so SendQueueAge does not count it

	// readDone is closed when the read side has ended; made by the first
	// goroutine to wait for that (readDoneLocked), nil until then.
	readDone chan struct{}

	pingSlot int // the pinger's slot; guarded by pinger.mu

	onEnd func() // run last, after closed (Server.run's bookkeeping); may be nil

	// Parking (park.go). br, raw and tap are set by newConn (parkable),
	// before c is shared, and are nil when the connection cannot park.
	br        *bufio.Reader   // the reader gorilla reads through; read loop's
	raw       syscall.RawConn // the socket's descriptor, for the poller and writeThroughLocked
	tap       *inspect.Tap    // what observes the socket, for writeThroughLocked
	rstate    atomic.Int32    // readActive or readParked
	lastHeard atomic.Int64    // UnixNano of the last frame read
	// msgStart is the UnixNano at which the message being read began, 0
	// between messages; owned by the read loop. Until that message ends,
	// control frames extend the read deadline no further than msgStart
	// plus the idle limit (heard).
	msgStart int64
}

// maxPendingPongs bounds the pongs queued for the write loop.
const maxPendingPongs = 16

func newConn(srv *Server, ws *websocket.Conn, h handler) *conn {
	c := &conn{
		ws:  ws,
		srv: srv,
		id:  srv.connID.Add(1),
		h:   h,
	}
	c.written.L = &c.mu
	c.log = connLogger(srv.log, c.id, "")
	// Before anyone else can reach c: br, raw and tap are read without
	// c.mu from then on.
	c.parkable()
	return c
}

// serve runs the connection until it is closed: the read loop on this
// goroutine, the write loop whenever there is something to write. It
// returns when both have ended, after closed and onEnd, or when the read
// loop has parked: then a goroutine of the poller's goes on later.
func (c *conn) serve() {
	c.setHandlers()
	c.heard()
	c.readOn(false)
}

// readOn runs the read loop, on the goroutine that started or woke it,
// until the connection parks or its read side ends. resumed says the
// connection was parked: bytes, or an error, wait in the socket.
func (c *conn) readOn(resumed bool) {
	mayPark := true
	if resumed {
		// Read them in, under the deadline a blocked read would have had.
		// An error is met again by the read that follows, which handles it;
		// parking now would only be woken again by the same error.
		c.ws.SetReadDeadline(time.Unix(0, c.lastHeard.Load()).Add(c.idleLimit()))
		if _, err := c.br.Peek(1); err != nil {
			mayPark = false
		}
	}
	if c.readLoop(mayPark) {
		return
	}
	c.readEnded()
	// The read side ended: flush what is decided, then stop. When no close
	// was decided, the peer is gone without one and none is sent.
	c.close(websocket.CloseAbnormalClosure, "")
	c.waitEnded()
	c.h.closed(c)
	if c.raw != nil {
		c.srv.poller.forget(c)
	}
	if c.onEnd != nil {
		c.onEnd()
	}
}

// kickLocked starts the write loop unless one is running or the
// connection has ended. c.mu must be held.
func (c *conn) kickLocked() {
	c.holding = false
	if c.writing {
		select {
		case c.wake <- struct{}{}:
		default:
		}
		return
	}
	c.writing = true
	c.wake = make(chan struct{}, 1)
	go c.writeLoop(c.wake)
}

// writerLinger is how long a write loop with nothing to write waits for
// more before it ends. A connection that gets an event at least this often
// keeps its write loop (starting one per event costs more CPU than waking
// one); an idle connection has none.
const writerLinger = time.Second

// enqueue queues a data message for the write loop. It reports false when
// the connection is closing or has just been closed as a slow consumer
// because its queue is full or its oldest message has waited longer than
// SendQueueAge. It never blocks.
func (c *conn) enqueue(m outMsg) bool {
	return c.enqueueAt(m, time.Now())
}

// enqueueAt is enqueue at time now, read by the caller.
func (c *conn) enqueueAt(m outMsg, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.admitLocked(1, len(m.data), now) {
		return false
	}
	if !m.binary && !m.alone && !m.held && !(m.reply && c.pipelined) && c.writeThroughLocked([][]byte{m.data}, len(m.data)) {
		return true
	}
	c.queue = append(c.queue, m)
	c.queueBytes += len(m.data)
	if m.reply && !m.held && c.pipelined && !m.binary && !m.alone {
		if len(c.queue) == 1 {
			c.heldOnly = true
		}
		return true // the read loop sends it with the last reply of the burst (pipeline)
	}
	c.heldOnly = false
	c.kickLocked()
	return true
}

// admitLocked reports whether n more messages of size bytes in all may be
// queued at time now; if the queue would be too long or too big, or its
// oldest message has waited too long, it closes c as a slow consumer
// instead. It records now as the queue's start when the queue is empty.
// c.mu must be held.
func (c *conn) admitLocked(n, size int, now time.Time) bool {
	if c.closing {
		return false
	}
	cfg := &c.srv.cfg
	switch {
	case len(c.queue)+n > cfg.SendQueueLen || c.queueBytes+size > cfg.SendQueueBytes:
		c.slowLocked(slowBySize, now)
		return false
	case len(c.queue) > 0 && !c.heldOnly && now.Sub(c.queuedSince) > cfg.SendQueueAge:
		c.slowLocked(slowByAge, now)
		return false
	}
	if len(c.queue) == 0 || c.heldOnly {
		// The age of a queue counts from when it held something the peer
		// is owed: replies held back for a burst's end are not (a command
		// waiting for a slow store holds the earlier ones back).
		c.queuedSince = now
	}
	return true
}

// Reasons for a slow-consumer close, the label of its metric.
const (
	slowBySize = "size" // the queue reached SendQueueLen or SendQueueBytes
	slowByAge  = "age"  // the oldest queued message waited past SendQueueAge
	slowByLag  = "lag"  // the room's deliveries on this node ran SendQueueAge behind (hub.Laggard)
)

// slowReasons are the close reasons of a slow-consumer close, by the
// reason it was closed for: what the client's log or a developer sees.
var slowReasons = map[string]string{
	slowBySize: "slow consumer: send queue full; reconnect and resume",
	slowByAge:  "slow consumer: events waited too long; reconnect and resume",
	slowByLag:  "slow consumer: the server fell behind on a room; reconnect and resume",
}

// slowLocked closes c as a slow consumer, dropping the queued events: the
// client resumes from history when it reconnects. Queued replies (acks,
// errors) are still written before the close frame, so that a client
// which fell behind on a busy room need not resend what was committed.
// c.mu must be held.
func (c *conn) slowLocked(reason string, now time.Time) {
	c.closeLocked(protocol.CloseSlowConsumer, slowReasons[reason])
	c.dropQueue = true
	c.srv.metrics.slowConsumers.WithLabelValues(reason).Inc()
	age := now.Sub(c.queuedSince)
	c.srv.slowWarn.Add(reason)
	c.log.Debug("slow consumer closed", "reason", reason, "queued", len(c.queue), "bytes", c.queueBytes, "age", age)
}

// Lagging implements hub.Laggard: an event of one of c's rooms reached
// the hub's delivery more than SendQueueAge after it was handed over (the
// node is behind on that room, whatever c's own queue holds). c is closed
// as a slow consumer, as if its own queue were that old, and resumes from
// history when it reconnects.
func (c *conn) Lagging() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closing {
		c.slowLocked(slowByLag, time.Now())
	}
}

// Deliver implements hub.Member: a broadcast payload, shared read-only.
func (c *conn) Deliver(payload []byte) {
	if c.enqueue(outMsg{data: payload}) {
		c.srv.metrics.deliveries.Inc()
	}
}

// DeliverBatch implements hub.BatchMember: a run of a room's broadcast
// payloads, shared read-only, written through to an idle socket or queued
// together with one lock and one wake-up of the writer, at the time the
// hub read once for the room.
//
// When more of the room's events follow (more: the hub cut a backlog into
// runs of RunLimit), the run is held: queued without waking the write
// loop. The room's last run (more false, perhaps with no payloads) ends
// the hold, and the runs held are written through together with it as one
// frame when the socket is idle and they fit in MaxFrameBatch, or else
// left to the write loop, which sends them in as few frames. Either way a
// backlog costs a frame per backlog, not per run, and no goroutine wakes
// for the runs before the last. Anything else queued or kicked meanwhile
// (a reply, a ping) ends the hold too.
//
// It is all or nothing: a run that does not fit closes c as a slow
// consumer, as queuing its payloads one by one would have.
func (c *conn) DeliverBatch(payloads [][]byte, now time.Time, more bool) {
	size := 0
	for _, p := range payloads {
		size += len(p)
	}
	c.mu.Lock()
	ok := c.admitLocked(len(payloads), size, now)
	switch {
	case !ok:
	case more:
		c.queueEventsLocked(payloads, size)
		c.holding = true
	case c.holding:
		c.queueEventsLocked(payloads, size)
		c.holding = false
		if len(c.queue) > 0 && !c.writeQueueThroughLocked() {
			c.kickLocked()
		}
	case len(payloads) == 0:
		// Nothing to send and no hold to end (Hub.Leave, or a run whose
		// events were all stale).
	case !c.writeThroughLocked(payloads, size):
		c.queueEventsLocked(payloads, size)
		c.kickLocked()
	}
	c.mu.Unlock()
	if ok {
		c.srv.metrics.deliveries.Add(float64(len(payloads)))
	}
}

// queueEventsLocked queues payloads, broadcast events of size bytes in
// all, for the write loop. c.mu must be held.
func (c *conn) queueEventsLocked(payloads [][]byte, size int) {
	for _, p := range payloads {
		c.queue = append(c.queue, outMsg{data: p})
	}
	c.queueBytes += size
	c.heldOnly = false
}

// ping asks the write loop for a ping; the pinger calls it.
func (c *conn) ping() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	c.pingDue = true
	c.kickLocked()
}

// close asks the write loop to send a close frame with code and text, after
// what is already queued, and then end the connection. Only the first
// close counts.
func (c *conn) close(code int, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(code, text)
}

func (c *conn) closeLocked(code int, text string) {
	if c.closing {
		return
	}
	c.closing = true
	c.closeCode = int32(code)
	c.closeText = text
	c.kickLocked()
}

// waitWritten blocks until every message queued before the call has been
// written (or dropped), or the connection has ended. /echo calls it after
// each echo, so that it reads no faster than it writes and an echo already
// accepted reaches the peer before a later protocol error ends the
// connection.
func (c *conn) waitWritten() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for (len(c.queue) > 0 || c.flushing || c.partial != nil) && !c.ended {
		c.written.Wait()
	}
}

// waitEnded waits until the write loop has closed the socket (end).
func (c *conn) waitEnded() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for !c.ended {
		c.written.Wait()
	}
}

// setHandlers sets the read limit and gorilla's control frame handlers.
// Every frame received (pongs included) extends the read deadline by
// PingInterval+PongTimeout (heard), except that a message must end within
// that time of its first frame.
func (c *conn) setHandlers() {
	c.ws.SetReadLimit(c.srv.cfg.ReadLimit)
	c.ws.SetPongHandler(func(string) error {
		c.heard()
		return nil
	})
	// gorilla's default ping and close handlers write from the read
	// goroutine; ours hand the reply to the write loop instead.
	c.ws.SetPingHandler(func(payload string) error {
		c.pinged([]byte(payload))
		c.heard()
		return nil
	})
	c.ws.SetCloseHandler(func(code int, text string) error {
		if pc, ok := c.h.(peerCloser); ok {
			pc.peerClosing(c)
		}
		c.close(code, "") // echo the peer's code (1005 becomes an empty close frame)
		return nil
	})
}

// pinged queues a pong with payload for the write loop.
func (c *conn) pinged(payload []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	if len(c.pongs) >= maxPendingPongs {
		// A peer that pings faster than it reads: answer only the
		// most recent pings (RFC 6455 §5.5.3), so memory stays bounded.
		c.pongs = slices.Delete(c.pongs, 0, 1)
	}
	c.pongs = append(c.pongs, payload)
	c.kickLocked()
}

// readLoop reads frames until the connection parks (it returns true) or
// its read side ends (false): an error, the peer's close, or a close
// decided by this side. It owns the read deadline. Between messages it
// takes whole pings and pongs itself and parks when nothing is buffered
// (park.go); mayPark false skips that once.
func (c *conn) readLoop(mayPark bool) (parked bool) {
	for {
		if c.pipelined && !frameBuffered(c.br) {
			c.pipeline(false)
		}
		if mayPark && c.br != nil && !c.isClosing() {
			if op, payload, ok := controlFrame(c.br); ok {
				if op == wirePing {
					c.pinged(payload)
				}
				c.heard()
				continue
			}
			if c.tryPark() {
				return true
			}
		}
		mayPark = true
		typ, data, r, err := c.readMessage()
		if err != nil {
			c.readFailed(err)
			return false
		}
		if r == nil {
			c.msgStart = 0 // a text message is read whole
		}
		c.heard()
		if c.isClosing() || data == nil && r == nil {
			continue // drain until the peer's close frame or the grace ends
		}
		if r == nil && !c.pipelined && c.br != nil && frameBuffered(c.br) {
			c.pipeline(true)
		}
		c.handle(typ, data, r)
		if r != nil {
			// What the handler left of a binary message is read now, so
			// that the next frame starts a message (controlFrame's rule).
			if _, err := io.Copy(io.Discard, r); err != nil {
				c.readFailed(err)
				return false
			}
			c.msgStart = 0
			c.heard()
		}
	}
}

// isClosing reports whether a close is decided.
func (c *conn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// handle passes a message to the handler and waits for it, so that the
// handler runs one message at a time, in order, as if on the read loop.
//
// A connection that parks runs it on the read loop itself: that
// goroutine is let go when the connection goes idle (a reader worker,
// readers.go, that ends after a second without work), and its stack with it.
// One that cannot park runs it on a short-lived goroutine, because a
// goroutine's stack grows to the deepest call it ever made and shrinks
// only slowly, during garbage collections: a chat command goes deep (the
// store's SQLite driver), and the read loop, which lives as long as the
// connection, would keep that stack, 8 KiB or more, waiting in a read
// that needs 4. The handler's goroutine gives it back when it ends, for
// about a microsecond per message.
func (c *conn) handle(typ int, data []byte, r io.Reader) {
	run := func() {
		switch typ {
		case websocket.TextMessage:
			c.h.text(c, data)
		case websocket.BinaryMessage:
			c.h.binary(c, r)
		}
	}
	if c.raw != nil {
		run()
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		run()
	}()
	<-done
}

// readMessage reads the next message. A binary message is not read: its
// reader is returned, for the handler to stream. A text message is read
// whole, and checked for UTF-8 as its fragments arrive: at the first byte
// that cannot be part of valid UTF-8, readMessage asks for close 1007 at
// once, without waiting for the rest of the message, and returns a nil
// message (the next call skips what is left of it). data is never nil for
// a valid text message.
func (c *conn) readMessage() (typ int, data []byte, br io.Reader, err error) {
	typ, r, err := c.ws.NextReader()
	if err != nil {
		return 0, nil, nil, err
	}
	// Its first frame is in: the message has the idle limit to end
	// (heard). readLoop clears msgStart when the message has been read:
	// on return for text, once consumed for binary.
	c.msgStart = time.Now().UnixNano()
	if typ == websocket.BinaryMessage {
		return typ, nil, r, nil
	}
	var v wsframe.UTF8 // fails at the first byte no valid text can have
	text := typ == websocket.TextMessage
	data = make([]byte, 0, 512)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		n, err := r.Read(data[len(data):cap(data)])
		if text && !v.Write(data[len(data):len(data)+n]) {
			c.close(protocol.CloseInvalidUTF8, "text frame is not valid UTF-8")
			return typ, nil, nil, nil
		}
		data = data[:len(data)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, nil, nil, err
		}
	}
	if text && !v.Complete() {
		c.close(protocol.CloseInvalidUTF8, "text frame is not valid UTF-8")
		return typ, nil, nil, nil
	}
	return typ, data, nil, nil
}

// readFailed decides the close after a read error.
func (c *conn) readFailed(err error) {
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce):
		// The peer's close frame; the close handler queued the echo.
	case errors.Is(err, websocket.ErrReadLimit):
		// Usually gorilla has written 1009 itself, and the write loop's
		// close frame then fails harmlessly with ErrCloseSent. It has not
		// for a 64-bit length with the top bit set (RFC 6455 §5.2), so
		// the write loop must still try. The message is left unread.
		c.mu.Lock()
		c.closeLocked(protocol.CloseTooBig, "")
		c.drain = true
		c.mu.Unlock()
	default:
		var ne net.Error
		isNet := errors.As(err, &ne)
		if isNet && ne.Timeout() {
			c.srv.metrics.timeouts.Inc()
			c.log.Debug("peer silent; dropped")
		}
		// Framing errors: gorilla already wrote 1002, and what follows the
		// bad frame is left unread. Network errors (and the peer's end of
		// stream): the socket is gone. Either way there is no close frame
		// left to send.
		c.mu.Lock()
		c.closeLocked(protocol.CloseProtocolError, "")
		c.closeSent = true
		c.drain = !isNet && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF)
		c.mu.Unlock()
	}
}

// writeLoop owns every write on the socket while it is busy (wbusy). It takes what
// is pending (pongs, a ping, queued messages, a close), writes it, and
// looks again; it returns when nothing has been pending for writerLinger,
// or after the close. wake is its doorbell, rung by kickLocked.
// Queued text messages are coalesced, '\n'-separated, into as few frames
// as MaxFrameBatch allows, each written with one system call.
//
// What it costs per delivery is most of the server's CPU in a large room
// (one write per event at 20–100 messages/s; docs/benchmarks.md, "Round 4:
// fan-out"), so the loop keeps its per-wake-up work small:
//
//   - Waiting is a plain receive on wake. The linger is a timer that rings
//     the same doorbell once per writerLinger, not a timer reset and a
//     select per wake-up; when it rings, the loop ends if it has written
//     nothing for writerLinger, or sleeps again for the rest of it.
//   - The clock is read once per batch taken, never when idle.
//   - One deadline serves many writes: it is renewed (to WriteTimeout from
//     now) only when more than a tenth of WriteTimeout has passed since it
//     was set, so a write may block between 0.9×WriteTimeout and
//     WriteTimeout; the tapped conn skips setting a deadline already set
//     (inspect.Conn.SetWriteDeadline), which saves the poller's timer
//     update per write.
//   - The queue's slice goes back to enqueue once written, instead of
//     enqueue growing a new one for every batch.
func (c *conn) writeLoop(wake chan struct{}) {
	cfg := &c.srv.cfg
	var rang atomic.Bool // the linger timer rang since the loop last looked
	linger := time.AfterFunc(writerLinger, func() {
		rang.Store(true)
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	defer linger.Stop()
	var (
		last     time.Time // when the loop last took something to write
		deadline time.Time // of the writes; see the doc comment
		spare    []outMsg  // the previous batch's slice, emptied, for enqueue
	)
	renew := cfg.WriteTimeout - cfg.WriteTimeout/10
	for {
		c.mu.Lock()
		if c.queue == nil && spare != nil {
			c.queue, spare = spare, nil
		}
		if len(c.pongs) == 0 && !c.pingDue && len(c.queue) == 0 && !c.closing && c.partial == nil {
			if rang.Swap(false) {
				idle := time.Since(last)
				if idle >= writerLinger {
					c.writing, c.wake = false, nil
					c.mu.Unlock()
					return
				}
				linger.Reset(writerLinger - idle)
			}
			c.mu.Unlock()
			<-wake
			continue
		}
		now := time.Now()
		last = now
		pongs, ping := c.pongs, c.pingDue
		c.pongs, c.pingDue = nil, false
		queue, since := c.queue, c.queuedSince
		if c.heldOnly {
			since = now
		}
		c.queue, c.queueBytes, c.heldOnly = nil, 0, false
		if len(queue) > 0 && !c.closing && now.Sub(since) > cfg.SendQueueAge {
			c.slowLocked(slowByAge, now)
		}
		closing, code, text := c.closing, int(c.closeCode), c.closeText
		closeSent := c.closeSent
		if c.dropQueue {
			queue = onlyReplies(queue)
		}
		partial := c.partial
		c.partial = nil
		c.wbusy = true
		c.flushing = len(queue) > 0 || partial != nil
		c.mu.Unlock()

		if deadline.Sub(now) < renew {
			deadline = now.Add(cfg.WriteTimeout)
		}
		if partial != nil {
			// The rest of a frame written through: before anything else,
			// or the frames would interleave.
			nc := c.ws.NetConn()
			nc.SetWriteDeadline(deadline)
			if _, err := nc.Write(partial); err != nil {
				c.end()
				return
			}
		}
		for _, p := range pongs {
			if err := c.ws.WriteControl(websocket.PongMessage, p, deadline); err != nil {
				c.end()
				return
			}
		}
		if ping && !closing {
			if err := c.ws.WriteControl(websocket.PingMessage, nil, deadline); err != nil {
				c.end()
				return
			}
		}
		var err error
		if len(queue) > 0 {
			c.srv.metrics.queueAge.Observe(now.Sub(since).Seconds())
			err = c.writeQueue(repliesFirst(queue), deadline)
		}
		c.mu.Lock()
		c.wbusy, c.flushing = false, false
		c.written.Broadcast()
		c.mu.Unlock()
		if err != nil {
			c.end()
			return
		}
		if len(queue) > 0 && cap(queue) <= maxSpareQueue {
			clear(queue) // the payloads are not ours to keep
			spare = queue[:0]
		}
		if !closing {
			continue
		}
		if !closeSent && code != websocket.CloseAbnormalClosure {
			payload := websocket.FormatCloseMessage(code, text)
			_ = c.ws.WriteControl(websocket.CloseMessage, payload, deadline)
		}
		// Wait for the peer's close frame (read loop ends), at most CloseGrace.
		c.mu.Lock()
		readDone := c.readDoneLocked()
		c.mu.Unlock()
		start := time.Now()
		t := time.NewTimer(cfg.CloseGrace)
		select {
		case <-readDone:
		case <-t.C:
		}
		t.Stop()
		c.mu.Lock()
		drain := c.drain
		c.mu.Unlock()
		if drain {
			c.lingerDrain(cfg.CloseGrace - time.Since(start))
		}
		c.end()
		return
	}
}

// drainExtra is how many bytes past the read limit lingerDrain reads at
// most: the rest of a frame over the limit, and the peer's close frame.
const drainExtra = 1 << 20

// lingerDrain is how a connection failed on input it did not read (an
// oversized message, a framing error) closes without losing its close
// frame: it half-closes the socket (FIN after the close frame) and reads
// and discards what the peer still sends, up to the read limit and for at
// most grace, until the peer closes its side. Closing the socket with the
// peer's bytes unread would make the kernel send a reset, and a reset can
// make the peer's kernel drop the close frame before the peer reads it: a
// browser then reports 1006 instead of 1009 or 1002. The read loop has
// ended, so nothing else reads the socket.
func (c *conn) lingerDrain(grace time.Duration) {
	if grace <= 0 {
		return
	}
	nc := c.ws.NetConn()
	hc, ok := nc.(interface{ CloseWrite() error })
	if !ok || hc.CloseWrite() != nil {
		return
	}
	nc.SetReadDeadline(time.Now().Add(grace))
	io.Copy(io.Discard, io.LimitReader(nc, c.srv.cfg.ReadLimit+drainExtra))
}

// readEnded records that the read side has ended, for the write loop
// waiting for it (readDoneLocked).
func (c *conn) readEnded() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readOver = true
	if c.readDone != nil {
		close(c.readDone)
	}
}

// readDoneLocked returns a channel that is closed when the read side has
// ended (readEnded). c.mu must be held.
func (c *conn) readDoneLocked() <-chan struct{} {
	if c.readOver {
		return closedChan
	}
	if c.readDone == nil {
		c.readDone = make(chan struct{})
	}
	return c.readDone
}

// closedChan is a closed channel.
var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// waitList is sync.Cond's Wait and Broadcast in 16 bytes instead of 56,
// for a condition that a connection rarely waits for: its channel is made
// by the first Wait after a Broadcast, and an idle connection has none.
// Like sync.Cond's, a Wait may return without the condition having
// changed; callers wait in a loop.
type waitList struct {
	L  *sync.Mutex   // held by the callers of Wait and Broadcast
	ch chan struct{} // closed by Broadcast; nil when nobody waits
}

// Wait unlocks L, waits for the next Broadcast, and locks L again.
func (w *waitList) Wait() {
	if w.ch == nil {
		w.ch = make(chan struct{})
	}
	ch := w.ch
	w.L.Unlock()
	<-ch
	w.L.Lock()
}

// Broadcast wakes every goroutine waiting in Wait. L must be held.
func (w *waitList) Broadcast() {
	if w.ch != nil {
		close(w.ch)
		w.ch = nil
	}
}

// onlyReplies filters queue, in place and in order, to its replies.
func onlyReplies(queue []outMsg) []outMsg {
	out := queue[:0]
	for _, m := range queue {
		if m.reply {
			out = append(out, m)
		}
	}
	clear(queue[len(out):]) // the payloads are not ours to keep
	return out
}

// maxSpareQueue bounds the queue slice a write loop keeps for reuse: a
// rare long backlog's slice is left to the garbage collector.
const maxSpareQueue = 64

// end closes the socket, which also ends the read loop, and marks the
// connection so that nothing more is queued or written. writing stays
// true: no write loop starts again.
func (c *conn) end() {
	c.ws.Close()
	c.mu.Lock()
	c.closing = true
	c.ended = true
	c.flushing = false
	c.queue, c.queueBytes, c.pongs, c.partial = nil, 0, nil, nil
	c.written.Broadcast()
	c.mu.Unlock()
	c.wakeReader() // a parked read loop must find the closed socket and end
}

// cut closes the socket at once, without a close frame; the read loop,
// parked or not, finds it closed and ends the connection.
func (c *conn) cut() {
	c.ws.NetConn().Close()
	c.wakeReader()
}

// writeThroughLocked writes payloads, text events joined by newlines into
// one frame as writeQueue coalesces them, straight to the socket from the
// calling goroutine (a hub shard's, delivering a room's events), when the
// socket is the connection's to take: no write loop busy with it, nothing
// queued, no pong or ping due, no close decided, no rest of an earlier
// frame waiting. It reports whether it took payloads; false leaves them to
// the caller to queue.
//
// Replies to commands are written through by the read loop that handled
// the command, except the replies of a pipelined burst, which wait for its
// end (conn.pipeline), and the ack of a committed entry (outMsg.held),
// which is queued: it is followed at once by its message's event to the same
// connection (a sender is a member of its room), and the write loop sends
// the two in one frame when the event comes before the loop has written
// the ack, where writing the ack through would always cost a system call
// of its own (100 senders at 20,000 messages/s: 1.0 frames per send with
// acks queued, 1.5 with acks written through).
//
// The write never blocks, so a slow peer never holds up the caller: it is
// one write(2) on the non-blocking socket. When the socket takes only part
// of the frame, the rest goes to the write loop, which writes it before
// anything else; when it takes nothing (its buffer is full) or fails,
// payloads are queued as usual and the write loop meets the full buffer,
// or the error, itself. A connection whose socket has no descriptor (TLS,
// a test's pipe) always queues, and so does every connection when
// Config.QueueWrites is set.
//
// This is what makes a delivery cheap at light load: no goroutine wakes,
// and nothing is copied twice. The cost moves to the caller, one write(2)
// per member, which is the cost the write loops paid. c.mu must be held.
//
// One writer bypasses mu: gorilla writes the close frame of a framing
// error from the read loop itself (see conn). If that happens while the
// rest of a frame written through waits, the connection is being closed
// for a protocol error anyway, and its last frame may be cut.
func (c *conn) writeThroughLocked(payloads [][]byte, size int) bool {
	if len(c.queue) > 0 || !c.socketFreeLocked() {
		return false
	}
	if len(payloads) == 0 {
		return true // nothing to write
	}
	return c.writeFrameThroughLocked(len(payloads), size, func(frame []byte) []byte {
		for i, p := range payloads {
			if i > 0 {
				frame = append(frame, '\n')
			}
			frame = append(frame, p...)
		}
		return frame
	})
}

// socketFreeLocked reports whether a goroutine other than the write loop
// may write to the socket now (see writeThroughLocked), whatever is
// queued. c.mu must be held.
func (c *conn) socketFreeLocked() bool {
	return c.raw != nil && !c.srv.cfg.QueueWrites && !c.wbusy && !c.closing && c.partial == nil &&
		len(c.pongs) == 0 && !c.pingDue
}

// writeQueueThroughLocked writes every queued message through as one frame
// (the runs DeliverBatch held, the replies to pipelined commands), replies
// first, and empties the queue, when the socket is free, the queue holds
// only text messages that may share a frame, and they fit in
// MaxFrameBatch. It reports whether it did; false leaves the queue to the
// write loop. c.mu must be held.
func (c *conn) writeQueueThroughLocked() bool {
	if !c.socketFreeLocked() {
		return false
	}
	size := 0
	for _, m := range c.queue {
		if m.binary || m.alone {
			return false
		}
		size += len(m.data)
	}
	c.queue = repliesFirst(c.queue)
	ok := c.writeFrameThroughLocked(len(c.queue), size, func(frame []byte) []byte {
		for i, m := range c.queue {
			if i > 0 {
				frame = append(frame, '\n')
			}
			frame = append(frame, m.data...)
		}
		return frame
	})
	if !ok {
		return false
	}
	clear(c.queue) // the payloads are not ours to keep
	c.queue = c.queue[:0]
	if cap(c.queue) > maxSpareQueue {
		c.queue = nil
	}
	c.queueBytes = 0
	return true
}

// writeFrameThroughLocked writes count text events of size bytes in all,
// which fill appends joined by newlines, as one frame with one
// non-blocking write (see writeThroughLocked). It reports false, having
// written nothing, when the frame would exceed MaxFrameBatch (more than
// one event) or the socket takes none of it. c.mu must be held, and
// socketFreeLocked must hold.
func (c *conn) writeFrameThroughLocked(count, size int, fill func(frame []byte) []byte) bool {
	n := size + count - 1 // the newlines between them
	if count > 1 && n > c.srv.cfg.MaxFrameBatch {
		return false // the write loop splits it into frames
	}
	w := throughPool.Get().(*throughWrite)
	defer func() {
		w.n, w.err = 0, nil
		if cap(w.frame) <= 4*c.srv.cfg.MaxFrameBatch { // don't keep a rare huge buffer
			throughPool.Put(w)
		}
	}()
	frame := fill(wsframe.AppendHeader(slices.Grow(w.frame[:0], maxHeaderSize+n), textHeader, n))
	w.frame = frame
	// Control, not Write: Write would take the descriptor's write lock and
	// rearm the poller for a wait that never comes. The write lock is not
	// needed: c.mu and wbusy keep every other writer away.
	if err := c.raw.Control(w.write); err != nil || w.err != nil || w.n <= 0 {
		return false
	}
	c.tap.Observe(inspect.Out, frame[:w.n])
	c.srv.metrics.frames.Inc()
	c.srv.metrics.writesThrough.Inc()
	if w.n < len(frame) {
		c.partial = bytes.Clone(frame[w.n:])
		c.kickLocked()
	}
	return true
}

// throughWrite is writeThroughLocked's frame buffer and the function it
// hands the descriptor to, made once and pooled: a closure made per write
// would cost three allocations (itself and the two results it sets).
type throughWrite struct {
	frame []byte
	n     int   // bytes written
	err   error // of the write
	write func(fd uintptr)
}

var throughPool = sync.Pool{New: func() any {
	w := new(throughWrite)
	w.write = func(fd uintptr) { w.n, w.err = syscall.Write(int(fd), w.frame) }
	return w
}}

// textHeader is the header of a final, unmasked text frame: every frame
// the server writes through (§5.1: a server does not mask).
var textHeader = wsframe.Header{Fin: true, Opcode: wsframe.OpText}

// maxHeaderSize is the largest unmasked frame header: 2 bytes and an
// 8-byte length (§5.2).
const maxHeaderSize = 10

// writeQueue writes queued messages: runs of text messages coalesce into
// frames of at most MaxFrameBatch bytes; binary messages and those marked
// alone go as messages of their own.
func (c *conn) writeQueue(queue []outMsg, deadline time.Time) error {
	limit := c.srv.cfg.MaxFrameBatch
	buf := framePool.Get().(*bytes.Buffer)
	defer func() {
		buf.Reset()
		if buf.Cap() <= 4*limit { // don't keep a rare huge buffer
			framePool.Put(buf)
		}
	}()
	flush := func() error {
		if buf.Len() == 0 {
			return nil
		}
		c.ws.SetWriteDeadline(deadline)
		err := c.ws.WriteMessage(websocket.TextMessage, buf.Bytes())
		c.srv.metrics.frames.Inc()
		buf.Reset()
		return err
	}
	for i, m := range queue {
		if m.binary || m.alone {
			if err := flush(); err != nil {
				return err
			}
			typ := websocket.TextMessage
			if m.binary {
				typ = websocket.BinaryMessage
			}
			c.ws.SetWriteDeadline(deadline)
			err := c.ws.WriteMessage(typ, m.data)
			c.srv.metrics.frames.Inc()
			if err != nil {
				return err
			}
			continue
		}
		if buf.Len() > 0 && buf.Len()+1+len(m.data) > limit {
			if err := flush(); err != nil {
				return err
			}
		}
		if buf.Len() == 0 && (i == len(queue)-1 || queue[i+1].binary || queue[i+1].alone || len(m.data) >= limit) {
			// A lone message: write it without copying.
			c.ws.SetWriteDeadline(deadline)
			err := c.ws.WriteMessage(websocket.TextMessage, m.data)
			c.srv.metrics.frames.Inc()
			if err != nil {
				return err
			}
			continue
		}
		if buf.Len() > 0 {
			buf.WriteByte('\n')
		}
		buf.Write(m.data)
	}
	return flush()
}

// framePool holds coalescing buffers, so an idle connection keeps none.
var framePool = sync.Pool{New: func() any { return new(bytes.Buffer) }}
