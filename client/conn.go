package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/internal/cork"
	"github.com/hubbub-chat/hubbub/protocol"
)

// Timing of one connection.
const (
	writeWait  = 10 * time.Second // longest a frame write may take
	pongWait   = 60 * time.Second // longest silence from the server before the connection counts as dead
	pingPeriod = 25 * time.Second // how often the writer pings the server; < pongWait
	helloWait  = 10 * time.Second // longest the hello round trip may take
	closeGrace = time.Second      // how long Close waits for the server's close frame
	syncWait   = 30 * time.Second // longest a re-join or history round trip of a resume may take
)

// HandshakeError reports that the server answered the WebSocket handshake
// with an HTTP status instead of switching protocols: 400 when the
// subprotocol is missing, 401 or 403 when the token is refused, 503 when it
// is overloaded.
type HandshakeError struct {
	StatusCode int
	// RetryAfter is the wait the server asked for in its Retry-After
	// header (whole seconds), 0 if none.
	RetryAfter time.Duration
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("websocket handshake refused: HTTP %d", e.StatusCode)
}

// parseRetryAfter reads a Retry-After header given in seconds (1 to 3600);
// anything else, an HTTP date included, counts as none.
func parseRetryAfter(v string) time.Duration {
	secs, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || secs < 1 || secs > 3600 {
		return 0
	}
	return time.Duration(secs) * time.Second
}

// helloError is the server's refusal of hello. It unwraps to the
// *protocol.Error, so protocol.CodeOf reads its code.
type helloError struct {
	err *protocol.Error
}

func (e *helloError) Error() string { return "hello refused: " + e.err.Error() }
func (e *helloError) Unwrap() error { return e.err }

// wsURL turns what a user typed into the URL of the server's WebSocket
// endpoint: ws:// and wss:// URLs are used as given (with /ws added when
// the path is empty), http:// and https:// base URLs get the ws scheme and
// /ws appended to their path.
func wsURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("bad server URL: %w", err)
	}
	if u.Host == "" {
		return "", fmt.Errorf("bad server URL %q: no host", raw)
	}
	switch u.Scheme {
	case "ws", "wss":
		if u.Path == "" || u.Path == "/" {
			u.Path = "/ws"
		}
	case "http", "https":
		u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
		if !strings.HasSuffix(u.Path, "/ws") {
			u.Path = strings.TrimSuffix(u.Path, "/") + "/ws"
		}
	default:
		return "", fmt.Errorf("bad server URL %q: scheme must be ws, wss, http or https", raw)
	}
	u.RawPath = ""
	u.Fragment = ""
	return u.String(), nil
}

// conn is one WebSocket connection and the state its two goroutines share.
type conn struct {
	// Immutable after connect.
	ws    *websocket.Conn
	gen   uint64            // 1 for the first connection of a Client, then 2, 3, ...
	self  protocol.Identity // from the hello reply
	early [][]byte          // event objects that followed the hello reply in its frame
	// rejoins are the re-joins sent together with hello (dialWS), pending
	// on this connection, in the order of their rooms; nil if none were.
	rejoins []*call

	wake       chan struct{} // capacity 1: the writer has work
	dead       chan struct{} // closed by fail: the connection is finished
	readerDone chan struct{} // closed when readLoop returns
	failOnce   sync.Once
	err        error // why the connection ended; written once before dead is closed

	mu        sync.Mutex // guards the fields below
	queue     []outFrame // frames for the writer, in order: commands and upload chunks
	pongs     []string   // pong payloads the writer owes the server
	closeCode int        // the close frame the writer sends when the connection ends; 0: none
}

func newConn(ws *websocket.Conn, gen uint64, self protocol.Identity, early [][]byte) *conn {
	return &conn{
		ws:         ws,
		gen:        gen,
		self:       self,
		early:      early,
		wake:       make(chan struct{}, 1),
		dead:       make(chan struct{}),
		readerDone: make(chan struct{}),
	}
}

// outFrame is one message for the writer: a command (text) or an upload
// chunk (binary).
type outFrame struct {
	binary bool
	data   []byte
}

// enqueue hands a command frame to the writer. It never blocks.
func (cn *conn) enqueue(frame []byte) {
	cn.push(outFrame{data: frame})
}

// enqueueBinary hands a binary message (an upload chunk) to the writer,
// behind every frame queued before it. It never blocks: the caller bounds
// how much it queues (uploads wait for the server's answers).
func (cn *conn) enqueueBinary(msg []byte) {
	cn.push(outFrame{binary: true, data: msg})
}

func (cn *conn) push(f outFrame) {
	cn.mu.Lock()
	cn.queue = append(cn.queue, f)
	cn.mu.Unlock()
	cn.poke()
}

func (cn *conn) poke() {
	select {
	case cn.wake <- struct{}{}:
	default:
	}
}

// fail ends the connection with err (the first call wins). The writer then
// closes the socket.
func (cn *conn) fail(err error) {
	cn.failOnce.Do(func() {
		cn.err = err
		close(cn.dead)
	})
}

// closeWith ends the connection cleanly: the writer sends a close frame
// with code, waits briefly for the server's, and closes the socket.
func (cn *conn) closeWith(code int, err error) {
	cn.mu.Lock()
	if cn.closeCode == 0 {
		cn.closeCode = code
	}
	cn.mu.Unlock()
	cn.fail(err)
}

// isDead reports whether the connection has ended.
func (cn *conn) isDead() bool {
	select {
	case <-cn.dead:
		return true
	default:
		return false
	}
}

// dialWS opens a WebSocket to the server and says hello, and re-joins
// rejoin, the rooms the client had joined, with joins sent right behind
// hello, without waiting for its reply (the server runs a connection's
// commands in order): a reconnect costs one round trip, not two. The
// joins are pending on the returned connection (conn.rejoins), whose
// replies the read loop hands to them. The returned connection is ready
// for readLoop and writeLoop.
func (c *Client) dialWS(ctx context.Context, name string, rejoin []string) (*conn, error) {
	// Hello and the joins behind it go out in one write (cork): the
	// server reads them with one system call and answers them in one
	// frame. The dialer is copied, so that the connection's writes, and
	// none of the client's HTTP requests (files.go), go through a Conn.
	d := c.dialer
	var cc *cork.Conn
	d.NetDialContext = cork.Dial(baseDial(&c.dialer), func(k *cork.Conn) { cc = k })
	d.NetDial = nil
	ws, resp, err := d.DialContext(ctx, c.url, c.header.Clone())
	if err != nil {
		if resp != nil && errors.Is(err, websocket.ErrBadHandshake) {
			return nil, &HandshakeError{StatusCode: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"))}
		}
		return nil, err
	}
	if got := ws.Subprotocol(); got != protocol.Subprotocol {
		ws.Close()
		return nil, fmt.Errorf("server chose subprotocol %q, want %q", got, protocol.Subprotocol)
	}
	ws.SetReadLimit(protocol.MaxServerFrameBytes)
	joins, err := c.prepareJoins(rejoin)
	if err != nil {
		ws.Close()
		return nil, err
	}
	frames := make([][]byte, len(joins))
	for i, ca := range joins {
		frames[i] = ca.frame
	}
	self, early, err := hello(ctx, ws, cc, name, frames)
	if err != nil {
		ws.Close()
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		ws.Close()
		return nil, c.stopErr
	}
	c.gen++
	c.self = self
	cn := newConn(ws, c.gen, self, early)
	if joins != nil {
		// Pending before the read loop starts, which hands them their
		// replies (some may be among early already).
		for _, ca := range joins {
			ca.conn, ca.sentGen = cn, cn.gen
			c.pending[ca.cmd.ID] = ca
		}
		cn.rejoins = joins
	}
	return cn, nil
}

// prepareJoins makes the calls of a join of each of rooms, with their ids
// and frames, for dialWS to send with hello; they are not pending yet.
// It returns nil for no rooms.
func (c *Client) prepareJoins(rooms []string) ([]*call, error) {
	if len(rooms) == 0 {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	calls := make([]*call, len(rooms))
	for i, room := range rooms {
		c.nextID++
		cmd := protocol.Command{ID: strconv.FormatUint(c.nextID, 10), Op: protocol.OpJoin, Room: room}
		frame, err := protocol.EncodeCommand(&cmd)
		if err != nil {
			return nil, err
		}
		calls[i] = &call{seq: c.nextID, cmd: cmd, frame: frame, reply: make(chan result, 1)}
	}
	return calls, nil
}

// helloID is the command id of hello; it is sent before any other command.
const helloID = "hello"

// hello identifies the connection and returns who it speaks as, and the
// event objects that followed the reply in its frame (the server may
// coalesce its next events with the reply). The frames of then, commands
// to run once hello has succeeded, go out right behind it, in the same
// write when cc, the connection under ws, is not nil. It reads and writes
// ws itself: the connection's goroutines do not run yet.
func hello(ctx context.Context, ws *websocket.Conn, cc *cork.Conn, name string, then [][]byte) (self protocol.Identity, early [][]byte, err error) {
	deadline := time.Now().Add(helloWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ws.SetWriteDeadline(deadline)
	ws.SetReadDeadline(deadline)
	// Cancelling ctx moves the deadlines to now, which ends a blocked read.
	stop := context.AfterFunc(ctx, func() { ws.NetConn().SetDeadline(time.Now()) })
	defer stop()

	frame, err := protocol.EncodeCommand(&protocol.Command{ID: helloID, Op: protocol.OpHello, Name: name})
	if err != nil {
		return self, nil, err
	}
	if cc != nil && len(then) > 0 {
		cc.Cork()
		defer cc.Drop() // after Uncork, nothing is held
	}
	if err := ws.WriteMessage(websocket.TextMessage, frame); err != nil {
		return self, nil, ctxOr(ctx, fmt.Errorf("send hello: %w", err))
	}
	for _, f := range then {
		if err := ws.WriteMessage(websocket.TextMessage, f); err != nil {
			return self, nil, ctxOr(ctx, fmt.Errorf("send the commands after hello: %w", err))
		}
	}
	if cc != nil {
		if err := cc.Uncork(); err != nil {
			return self, nil, ctxOr(ctx, fmt.Errorf("send hello: %w", err))
		}
	}
	for {
		typ, data, err := ws.ReadMessage()
		if err != nil {
			return self, nil, ctxOr(ctx, fmt.Errorf("wait for hello reply: %w", err))
		}
		if typ != websocket.TextMessage {
			continue
		}
		var (
			reply protocol.Event
			found bool
		)
		err = protocol.SplitFrame(data, func(obj []byte) error {
			if found {
				early = append(early, obj)
				return nil
			}
			ev, err := protocol.DecodeEvent(obj)
			if err != nil {
				return fmt.Errorf("server sent malformed event: %w", err)
			}
			if ev.ID == helloID && (ev.Type == protocol.TypeOK || ev.Type == protocol.TypeError) {
				reply, found = ev, true
			}
			return nil
		})
		if err != nil {
			return self, nil, err
		}
		if !found {
			continue
		}
		if reply.Type == protocol.TypeError {
			return self, nil, &helloError{err: &protocol.Error{Code: reply.Code, Reason: reply.Reason}}
		}
		if reply.Self == nil {
			return self, nil, errors.New("server's hello reply has no self")
		}
		if !stop() {
			return self, nil, ctx.Err()
		}
		ws.SetWriteDeadline(time.Time{})
		ws.SetReadDeadline(time.Time{})
		return *reply.Self, early, nil
	}
}

// ctxOr returns ctx's error if ctx has ended (it explains err), else err.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// readLoop is the connection's only reader. It reads frames until the
// connection fails, handing every event to c.handle, which may block on a
// full events buffer.
func (c *Client) readLoop(ctx context.Context, cn *conn) {
	defer close(cn.readerDone)
	ws := cn.ws
	extend := func() { ws.SetReadDeadline(time.Now().Add(pongWait)) }
	ws.SetPongHandler(func(string) error { extend(); return nil })
	ws.SetPingHandler(func(data string) error {
		extend()
		cn.mu.Lock()
		cn.pongs = append(cn.pongs, data)
		cn.mu.Unlock()
		cn.poke()
		return nil
	})
	ws.SetCloseHandler(func(code int, _ string) error {
		// Answer the server's close frame from the writer, which owns
		// every write. Codes that must not be sent become 1000.
		if code == websocket.CloseNoStatusReceived || code == websocket.CloseAbnormalClosure || code == websocket.CloseTLSHandshake {
			code = protocol.CloseNormal
		}
		cn.mu.Lock()
		if cn.closeCode == 0 {
			cn.closeCode = code
		}
		cn.mu.Unlock()
		return nil
	})
	for _, obj := range cn.early {
		if err := c.handle(ctx, cn, obj); err != nil {
			cn.fail(err)
			return
		}
	}
	for {
		extend()
		typ, data, err := ws.ReadMessage()
		if err != nil {
			cn.fail(err)
			return
		}
		if typ != websocket.TextMessage {
			c.log.Warn("server sent a binary frame; ignored", "conn", cn.gen, "bytes", len(data))
			continue
		}
		err = protocol.SplitFrame(data, func(obj []byte) error { return c.handle(ctx, cn, obj) })
		if err != nil { // only when ctx ended during a delivery
			cn.fail(err)
			return
		}
	}
}

// writeLoop is the connection's only writer: commands, upload chunks,
// pongs, pings and the close frame. It closes the socket when the connection ends.
func (c *Client) writeLoop(cn *conn) {
	ws := cn.ws
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	for {
		select {
		case <-cn.dead:
			c.closeSocket(cn)
			return
		case <-ping.C:
			if err := ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				cn.fail(fmt.Errorf("write ping: %w", err))
			}
		case <-cn.wake:
			cn.mu.Lock()
			queue, pongs := cn.queue, cn.pongs
			cn.queue, cn.pongs = nil, nil
			cn.mu.Unlock()
			if err := writeAll(ws, pongs, queue); err != nil {
				cn.fail(err)
			}
		}
	}
}

func writeAll(ws *websocket.Conn, pongs []string, queue []outFrame) error {
	for _, p := range pongs {
		if err := ws.WriteControl(websocket.PongMessage, []byte(p), time.Now().Add(writeWait)); err != nil {
			return fmt.Errorf("write pong: %w", err)
		}
	}
	for _, f := range queue {
		ws.SetWriteDeadline(time.Now().Add(writeWait))
		typ, what := websocket.TextMessage, "command"
		if f.binary {
			typ, what = websocket.BinaryMessage, "upload chunk"
		}
		if err := ws.WriteMessage(typ, f.data); err != nil {
			return fmt.Errorf("write %s: %w", what, err)
		}
	}
	return nil
}

// closeSocket sends the close frame the connection owes, if any, and
// closes the socket. After a close frame of its own it waits up to
// closeGrace for the server's answer, so that the server sees a clean close.
func (c *Client) closeSocket(cn *conn) {
	cn.mu.Lock()
	code := cn.closeCode
	cn.mu.Unlock()
	if code != 0 {
		err := cn.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(writeWait))
		if err == nil {
			t := time.NewTimer(closeGrace)
			select {
			case <-cn.readerDone:
			case <-t.C:
			}
			t.Stop()
		}
	}
	cn.ws.Close()
}

// baseDial returns the function d dials TCP with, as gorilla/websocket
// chooses it for ws:// URLs: NetDialContext, else NetDial, else nil (a
// zero net.Dialer). A wss:// URL with NetDialTLSContext set dials with
// that instead, and its connection is not corked.
func baseDial(d *websocket.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	switch {
	case d.NetDialContext != nil:
		return d.NetDialContext
	case d.NetDial != nil:
		dial := d.NetDial
		return func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) }
	}
	return nil
}
