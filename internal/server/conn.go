package server

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/protocol"
)

// handler is what runs on a connection: the chat session of /ws, or the
// echo of /echo. Its methods are called from the connection's read loop,
// one at a time, except closed, which runs once after both loops ended.
type handler interface {
	text(c *conn, data []byte)
	binary(c *conn, data []byte)
	closed(c *conn)
}

// outMsg is one queued data message.
type outMsg struct {
	binary bool
	alone  bool   // a message of its own, never coalesced with others (echo)
	reply  bool   // a reply to this connection's command: written before queued events
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

// conn is one WebSocket connection with exactly one reader and one writer.
//
// The read loop (serve's goroutine) owns every read and the read deadline.
// The write loop owns every write: data, pongs, pings and the close frame.
// Other goroutines talk to the writer only through the queue below.
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

	mu         sync.Mutex // guards the fields below
	queue      []outMsg
	queueBytes int
	pongs      [][]byte // ping payloads to answer, in order; at most maxPendingPongs
	closing    bool     // a close is decided; nothing more is queued
	closeCode  int
	closeText  string
	closeSent  bool // gorilla already wrote the close frame
	dropQueue  bool // close without flushing what is queued (slow consumer)

	wake     chan struct{} // capacity 1: "look at the queue"
	readDone chan struct{} // closed when the read loop returns
}

// maxPendingPongs bounds the pongs queued for the write loop.
const maxPendingPongs = 16

func newConn(srv *Server, ws *websocket.Conn, h handler) *conn {
	c := &conn{
		ws:       ws,
		srv:      srv,
		id:       srv.connID.Add(1),
		h:        h,
		wake:     make(chan struct{}, 1),
		readDone: make(chan struct{}),
	}
	c.log = srv.log.With("conn", c.id)
	return c
}

// serve runs the connection until it is closed: the write loop on a new
// goroutine, the read loop on this one. It returns when both have ended.
func (c *conn) serve() {
	writeDone := make(chan struct{})
	go func() {
		defer close(writeDone)
		c.writeLoop()
	}()
	c.readLoop()
	close(c.readDone)
	<-writeDone
	c.h.closed(c)
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// enqueue queues a data message for the write loop. It reports false when
// the connection is closing or has just been closed as a slow consumer
// because its queue overflowed. It never blocks.
func (c *conn) enqueue(m outMsg) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return false
	}
	cfg := &c.srv.cfg
	if len(c.queue) >= cfg.SendQueueLen || c.queueBytes+len(m.data) > cfg.SendQueueBytes {
		c.closeLocked(protocol.CloseSlowConsumer, "slow consumer: send queue full; reconnect and resume")
		c.dropQueue = true
		c.srv.metrics.slowConsumers.Inc()
		c.log.Info("slow consumer closed", "queued", len(c.queue), "bytes", c.queueBytes)
		return false
	}
	c.queue = append(c.queue, m)
	c.queueBytes += len(m.data)
	c.signal()
	return true
}

// Deliver implements hub.Member: a broadcast payload, shared read-only.
func (c *conn) Deliver(payload []byte) {
	if c.enqueue(outMsg{data: payload}) {
		c.srv.metrics.deliveries.Inc()
	}
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
	c.closeCode = code
	c.closeText = text
	c.signal()
}

// readLoop reads frames until an error, the peer's close, or a close
// decided by this side. It owns the read deadline: every frame received
// (pongs included) extends it by PingInterval+PongTimeout.
func (c *conn) readLoop() {
	cfg := &c.srv.cfg
	idle := cfg.PingInterval + cfg.PongTimeout
	c.ws.SetReadLimit(cfg.ReadLimit)
	c.ws.SetReadDeadline(time.Now().Add(idle))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(idle))
	})
	// gorilla's default ping and close handlers write from the read
	// goroutine; ours hand the reply to the write loop instead.
	c.ws.SetPingHandler(func(payload string) error {
		c.mu.Lock()
		if !c.closing {
			if len(c.pongs) >= maxPendingPongs {
				// A peer that pings faster than it reads: answer only the
				// most recent pings (RFC 6455 §5.5.3), so memory stays bounded.
				c.pongs = slices.Delete(c.pongs, 0, 1)
			}
			c.pongs = append(c.pongs, []byte(payload))
			c.signal()
		}
		c.mu.Unlock()
		return c.ws.SetReadDeadline(time.Now().Add(idle))
	})
	c.ws.SetCloseHandler(func(code int, text string) error {
		c.close(code, "") // echo the peer's code (1005 becomes an empty close frame)
		return nil
	})
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			c.readFailed(err)
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(idle))
		c.mu.Lock()
		closing := c.closing
		c.mu.Unlock()
		if closing {
			continue // drain until the peer's close frame or the grace ends
		}
		switch typ {
		case websocket.TextMessage:
			if !utf8.Valid(data) {
				c.close(protocol.CloseInvalidUTF8, "text frame is not valid UTF-8")
				continue
			}
			c.h.text(c, data)
		case websocket.BinaryMessage:
			c.h.binary(c, data)
		}
	}
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
		// the write loop must still try.
		c.close(protocol.CloseTooBig, "")
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.srv.metrics.timeouts.Inc()
			c.log.Debug("peer silent; dropped")
		}
		// Framing errors: gorilla already wrote 1002. Network errors: the
		// socket is gone. Either way there is no close frame left to send.
		c.mu.Lock()
		c.closeLocked(protocol.CloseProtocolError, "")
		c.closeSent = true
		c.mu.Unlock()
	}
}

// writeLoop owns every write on the socket. It wakes for queued data,
// pongs or a close, and on its ping ticker. Queued text messages are
// coalesced, '\n'-separated, into as few frames as MaxFrameBatch allows,
// each written with one system call.
func (c *conn) writeLoop() {
	cfg := &c.srv.cfg
	ping := time.NewTicker(cfg.PingInterval)
	defer ping.Stop()
	defer c.ws.Close()
	readDone := c.readDone
	for {
		select {
		case <-c.wake:
		case <-readDone:
			readDone = nil // the read side ended: flush what is decided, then stop
			c.close(websocket.CloseAbnormalClosure, "")
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(cfg.WriteTimeout)); err != nil {
				return
			}
			continue
		}

		c.mu.Lock()
		pongs := c.pongs
		c.pongs = nil
		queue := c.queue
		c.queue = nil
		c.queueBytes = 0
		closing, code, text := c.closing, c.closeCode, c.closeText
		closeSent, drop := c.closeSent, c.dropQueue
		c.mu.Unlock()

		deadline := time.Now().Add(cfg.WriteTimeout)
		for _, p := range pongs {
			if err := c.ws.WriteControl(websocket.PongMessage, p, deadline); err != nil {
				return
			}
		}
		if !drop && len(queue) > 0 {
			if err := c.writeQueue(repliesFirst(queue), deadline); err != nil {
				return
			}
		}
		if !closing {
			continue
		}
		if !closeSent && code != websocket.CloseAbnormalClosure {
			payload := websocket.FormatCloseMessage(code, text)
			_ = c.ws.WriteControl(websocket.CloseMessage, payload, deadline)
		}
		// Wait for the peer's close frame (read loop ends), at most CloseGrace.
		if readDone != nil {
			t := time.NewTimer(cfg.CloseGrace)
			select {
			case <-readDone:
			case <-t.C:
			}
			t.Stop()
		}
		return
	}
}

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
