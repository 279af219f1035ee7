package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// framePool holds read buffers: a client borrows one only while it reads
// and handles a frame, so an idle client holds none.
var framePool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// reply is a target's answer to a setup command.
type reply struct {
	id     string
	ok     bool
	code   string // the error's code, when !ok
	reason string
}

// client is one benchmark connection. After setup its socket has exactly
// one reader (the read goroutine); writes (its publisher's, and the read
// goroutine's answers to application-level pings) take wmu; close frames go
// through WriteControl, which gorilla allows beside them.
type client struct {
	idx  int
	room int             // index into the run's layout.rooms; immutable
	node *node           // the node it dialled; immutable
	ws   *websocket.Conn // immutable after dial
	b    *bench

	replies chan reply    // setup replies, read by call
	done    chan struct{} // closed when the read goroutine returns
	closing atomic.Bool   // we are closing: a close now is not the server's
	wmu     sync.Mutex    // guards writes of data frames

	// Counters read by the progress line and the result.
	frames       atomic.Int64 // frames read
	received     atomic.Int64 // the run's messages received
	lastDelivery atomic.Int64 // Unix nanoseconds of the latest of them

	// Owned by the read goroutine.
	ready   bool      // hubbub: the join reply arrived, baseline is known
	lastSeq int64     // hubbub: highest room seq seen, starting at the join's last_seq
	pending [][]byte  // hubbub: message events read before the join reply
	order   []pubLast // peers: the last slot seen from each publisher
}

// pubLast is the last slot a receiver saw from one publisher.
type pubLast struct{ pub, last int }

// dial opens client idx: the upgrade, then the target's setup. On success
// the read goroutine runs until close.
func (b *bench) dial(ctx context.Context, idx int) (*client, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.SetupTimeout)
	defer cancel()
	nd := b.nodes[b.layout.nodeOf[idx]]
	ws, resp, err := b.peer.dialer().DialContext(ctx, nd.url, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: %w (HTTP %s)", err, resp.Status)
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	c := &client{idx: idx, room: b.layout.roomOf[idx], node: nd, ws: ws, b: b, replies: make(chan reply, 4), done: make(chan struct{})}
	go c.readLoop()
	if err := b.peer.setup(ctx, c); err != nil {
		c.closing.Store(true)
		ws.Close()
		<-c.done
		return nil, err
	}
	return c, nil
}

// roomName is the name of c's room.
func (c *client) roomName() string { return c.b.layout.rooms[c.room] }

// creator reports whether c creates its room.
func (c *client) creator() bool { return c.b.layout.creator[c.idx] }

// call writes data and waits for the reply with id. Only setup uses it.
func (c *client) call(ctx context.Context, op, id string, data []byte) (reply, error) {
	if err := c.write(data); err != nil {
		return reply{}, fmt.Errorf("%s: %w", op, err)
	}
	for {
		select {
		case r := <-c.replies:
			if r.id == id {
				return r, nil
			}
		case <-c.done:
			return reply{}, fmt.Errorf("%s: connection closed before the reply", op)
		case <-ctx.Done():
			return reply{}, fmt.Errorf("%s: no reply: %w", op, ctx.Err())
		}
	}
}

// answered hands a setup reply to call; the read goroutine calls it.
func (c *client) answered(r reply) {
	select {
	case c.replies <- r:
	default: // nobody asked; setup sends one command at a time
	}
}

// write sends one text frame.
func (c *client) write(data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, data)
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
		c.b.peer.frame(c, buf.Bytes(), time.Now())
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

// deliver records the delivery to c, read at now, of the run's message
// whose body is body. A body that is not the run's counts as foreign.
func (c *client) deliver(body []byte, now time.Time) {
	b := c.b
	at, slot, ours := parseBody(b.runID, body)
	if !ours || slot >= len(b.slots) {
		b.foreign.Add(1)
		return
	}
	c.record(at, slot, now)
}

// record counts the delivery of message slot, published at at (Unix
// nanoseconds), to c at now.
func (c *client) record(at int64, slot int, now time.Time) {
	c.b.slots[slot].received.Add(1)
	c.received.Add(1)
	d := now.Sub(time.Unix(0, at))
	c.b.latency.record(d)
	c.node.received.Add(1)
	c.node.latency.record(d)
	c.lastDelivery.Store(now.UnixNano())
}

// deliverInOrder is deliver for targets without sequence numbers: it
// checks the order of each publisher's messages instead. Publisher p sends
// the slots p, p+P, p+2P, ... one after another on one connection, so a
// receiver must see them in that order: a slot at or below the last seen
// from p counts as a duplicate (or a reordering) and is not delivered
// again; slots skipped count as gaps.
func (c *client) deliverInOrder(body []byte, now time.Time) {
	b := c.b
	at, slot, ours := parseBody(b.runID, body)
	if !ours || slot >= len(b.slots) {
		b.foreign.Add(1)
		return
	}
	np := len(b.layout.publishers)
	p := slot % np
	i := 0
	for i < len(c.order) && c.order[i].pub != p {
		i++
	}
	if i == len(c.order) {
		c.order = append(c.order, pubLast{pub: p, last: p - np})
	}
	last := c.order[i].last
	switch {
	case slot <= last:
		b.duplicates.Add(1)
		return
	case slot > last+np:
		b.gaps.Add(int64((slot-last)/np - 1))
	}
	c.order[i].last = slot
	c.record(at, slot, now)
}
