package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/internal/cork"
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

// client is one benchmark client: one connection, or on hubbub with
// resume a succession of them, one at a time (see resume.go). Each
// connection has exactly one reader (the read goroutine, which also opens
// the next one); writes of data frames (setup's commands, its publisher's
// sends, the read goroutine's resume commands and answers to
// application-level pings) take wmu one at a time; close frames go through
// WriteControl, which gorilla allows beside them.
type client struct {
	idx  int
	room int   // index into the run's layout.rooms; immutable
	node *node // the node it dialled; immutable
	b    *bench
	// guest is hubbub's guest cookie from the first upgrade, sent again
	// when the client resumes: the same guest, so its name is its own
	// even before the server has let the old connection go. Immutable
	// after dial; nil when the server set none.
	guest *http.Cookie

	replies chan reply    // setup replies, read by call
	done    chan struct{} // closed when the read goroutine returns
	closing atomic.Bool   // we are closing: a close now is not the server's
	wmu     sync.Mutex    // held across each data-frame write

	connMu  sync.Mutex      // guards the fields below
	ws      *websocket.Conn // the current connection; replaced only by the read goroutine
	gen     int             // connections opened so far: 1 after dial
	up      bool            // connection gen has joined the room: sends may go
	set     bool            // the first connection's setup succeeded: the client may resume
	gone    bool            // the read goroutine has ended: no connection will follow
	changed chan struct{}   // closed, and replaced, whenever a field above changes

	// Counters read by the progress line and the result.
	frames       atomic.Int64 // frames read
	received     atomic.Int64 // the run's messages received
	lastDelivery atomic.Int64 // Unix nanoseconds of the latest of them
	resumes      atomic.Int64 // connections opened after a slow-consumer close

	// Owned by the read goroutine.
	ready   bool      // hubbub: the join reply arrived, baseline is known
	seq     seqLog    // hubbub: the room's sequence as received, across connections
	pending [][]byte  // hubbub: message events read before the join reply
	order   []pubLast // peers: the last slot seen from each publisher
	resume  resumeState
	stalled bool // Config.stall is done
}

// pubLast is the last slot a receiver saw from one publisher.
type pubLast struct{ pub, last int }

// dial opens client idx: the upgrade, then the target's setup. On success
// the read goroutine runs until close; ctx bounds the setup, and the read
// goroutine's reconnections until it ends.
func (b *bench) dial(ctx context.Context, idx int) (*client, error) {
	setupCtx, cancel := context.WithTimeout(ctx, b.cfg.SetupTimeout)
	defer cancel()
	nd := b.nodes[b.layout.nodeOf[idx]]
	ws, resp, err := b.dialer().DialContext(setupCtx, nd.url, b.header())
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: %w (HTTP %s)", err, resp.Status)
		}
		return nil, fmt.Errorf("dial: %w", err)
	}
	c := &client{
		idx: idx, room: b.layout.roomOf[idx], node: nd, b: b,
		replies: make(chan reply, 4), done: make(chan struct{}),
		ws: ws, gen: 1, changed: make(chan struct{}),
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == guestCookie {
			c.guest = ck
		}
	}
	go c.readLoop(ctx)
	if err := b.peer.setup(setupCtx, c); err != nil {
		c.closing.Store(true)
		ws.Close()
		<-c.done
		return nil, err
	}
	c.setConn(func() { c.up, c.set = true, true })
	return c, nil
}

// header is the handshake's header: the shared account's token, if any.
func (b *bench) header() http.Header {
	h := http.Header{}
	if b.token != "" {
		h.Set("Authorization", "Bearer "+b.token)
	}
	return h
}

// dialer returns the target's dialer, with Config.RcvBuf applied.
func (b *bench) dialer() *websocket.Dialer {
	d := b.peer.dialer()
	if b.cfg.RcvBuf <= 0 {
		return d
	}
	d = &websocket.Dialer{
		Subprotocols: d.Subprotocols, HandshakeTimeout: d.HandshakeTimeout,
		ReadBufferSize: d.ReadBufferSize, WriteBufferSize: d.WriteBufferSize, WriteBufferPool: d.WriteBufferPool,
	}
	d.NetDialContext = dialCork(b.cfg.RcvBuf)
	return d
}

// dialCork returns a NetDialContext for the dialers: a TCP connection,
// with a receive buffer of rcvbuf bytes unless 0, that writeAll can cork.
func dialCork(rcvbuf int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return cork.Dial(func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if tc, ok := conn.(*net.TCPConn); ok && rcvbuf > 0 {
			if err := tc.SetReadBuffer(rcvbuf); err != nil {
				conn.Close()
				return nil, err
			}
		}
		return conn, nil
	}, nil)
}

// conn returns the current connection.
func (c *client) conn() *websocket.Conn {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	return c.ws
}

// setConn changes the connection's state with f, under connMu, and wakes
// whoever waits for a change.
func (c *client) setConn(f func()) {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	f()
	close(c.changed)
	c.changed = make(chan struct{})
}

// errNotUp is send's answer when connection gen is gone or not joined.
var errNotUp = errors.New("connection not up")

// waitUp waits until a connection numbered minGen or later has joined,
// and returns its number. It fails when the client is gone or ctx ends.
func (c *client) waitUp(ctx context.Context, minGen int) (int, error) {
	for {
		c.connMu.Lock()
		gen, up, gone, changed := c.gen, c.up, c.gone, c.changed
		c.connMu.Unlock()
		switch {
		case gone:
			return 0, errors.New("client gone")
		case up && gen >= minGen:
			return gen, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
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
	return c.await(ctx, op, id)
}

// await waits for the reply with id to the command op, written before;
// the replies to commands written before it are dropped. Only setup uses
// it.
func (c *client) await(ctx context.Context, op, id string) (reply, error) {
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

// write sends one text frame on the current connection.
func (c *client) write(data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return writeText(c.conn(), data)
}

// writeAll sends one text frame per element of frames on the current
// connection, in one write (a cork.Conn, as the dialers make): a client
// that has its setup commands at hand sends them in one segment, as the
// Go client library sends hello and its joins. It returns the index of
// the frame that failed with the error.
func (c *client) writeAll(frames [][]byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ws := c.conn()
	cc, _ := ws.NetConn().(*cork.Conn)
	if cc != nil {
		cc.Cork()
	}
	for i, data := range frames {
		if err := writeText(ws, data); err != nil {
			if cc != nil {
				cc.Drop()
			}
			return i, err
		}
	}
	if cc != nil {
		if err := cc.Uncork(); err != nil {
			return len(frames) - 1, err
		}
	}
	return 0, nil
}

// send sends one text frame on connection gen if it is still the current
// one and has joined, else returns errNotUp. Publishers send through it,
// so that nothing they send reaches a resumed connection before its join.
func (c *client) send(gen int, data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.connMu.Lock()
	ws, ok := c.ws, c.gen == gen && c.up
	c.connMu.Unlock()
	if !ok {
		return errNotUp
	}
	return writeText(ws, data)
}

func writeText(ws *websocket.Conn, data []byte) error {
	ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return ws.WriteMessage(websocket.TextMessage, data)
}

// close sends a normal close frame and lets the read goroutine end; it
// does not wait. A resume under way opens no further connection.
func (c *client) close() {
	c.closing.Store(true)
	_ = c.conn().WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
}

// readLoop reads frames until the connection ends and records how it ended
// unless this side was closing it. A client the server closes as a slow
// consumer resumes on a new connection when the run resumes (resume.go);
// the loop then reads that one.
func (c *client) readLoop(ctx context.Context) {
	defer close(c.done)
	defer c.setConn(func() { c.up, c.gone = false, true })
	for {
		ws := c.conn()
		err := c.readFrames(ws)
		ws.Close()
		c.setConn(func() { c.up = false })
		if !c.resumable(err) || !c.reconnect(ctx) {
			return
		}
	}
}

// readFrames reads and handles the frames of ws until it fails.
func (c *client) readFrames(ws *websocket.Conn) error {
	for {
		_, r, err := ws.NextReader()
		if err != nil {
			return err
		}
		buf := framePool.Get().(*bytes.Buffer)
		_, err = buf.ReadFrom(r)
		if err != nil {
			buf.Reset()
			framePool.Put(buf)
			return err
		}
		c.frames.Add(1)
		c.b.peer.frame(c, buf.Bytes(), time.Now())
		if d := c.b.cfg.Stall; d > 0 && !c.stalled && c.idx%2 == 1 && c.received.Load() > 0 {
			c.stalled = true
			time.Sleep(d)
		}
		buf.Reset()
		if buf.Cap() <= 1<<20 {
			framePool.Put(buf)
		}
	}
}

// ended records how the server ended the connection, unless this side
// was closing it, and returns the close code (1006 without a close frame)
// and whether it was the server's doing.
func (c *client) ended(err error) (code int, server bool) {
	if c.closing.Load() || c.resume.dropped {
		return 0, false
	}
	code = websocket.CloseAbnormalClosure // no close frame: the socket just ended
	if ce, ok := errors.AsType[*websocket.CloseError](err); ok {
		code = ce.Code
	}
	c.b.closedBy(code)
	return code, true
}

// deliver records the delivery to c, read at now, of the run's message
// whose body is body, and reports whether it was the run's. A body that is
// not the run's counts as foreign.
func (c *client) deliver(body []byte, now time.Time) bool {
	b := c.b
	at, slot, ours := parseBody(b.runID, body)
	if !ours || slot >= len(b.slots) {
		b.foreign.Add(1)
		return false
	}
	c.record(at, slot, now)
	return true
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
