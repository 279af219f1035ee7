package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/protocol"
)

// DefaultEventBuffer is the capacity of the events channel when
// Options.EventBuffer is zero.
const DefaultEventBuffer = 256

var (
	// ErrClosed is returned by operations after Close, and by operations
	// that were waiting when the client stopped. When the client stopped
	// by itself, the error also wraps the cause.
	ErrClosed = errors.New("client closed")

	// ErrConnectionLost is returned by Create, CreatePrivate, Delete,
	// React, Kick, DeleteRoom and Typing when the connection dropped after
	// the command may have been sent and before its reply: the command may
	// or may not have taken effect. Other operations are sent again after
	// the reconnect instead.
	ErrConnectionLost = errors.New("connection lost before the reply")
)

// Options configure a Client. Every field but Name (for a guest) may be
// left zero: the zero value of each is its default, noted beside it.
type Options struct {
	// Name is the guest display name sent in hello (see
	// protocol.CheckDisplayName). Guests need one: the server refuses a
	// guest hello without a name. After a reconnect the client says hello
	// with the name the server confirmed, so it stays the same author,
	// which is what makes a resent message idempotent.
	Name string

	// Token, when set, is a session token sent as "Authorization: Bearer
	// <Token>" on every handshake. The connection then speaks as the
	// token's account, and Name is ignored (hello carries no name).
	Token string

	// Header holds extra handshake headers. The client adds no Origin
	// header: non-browser clients send none.
	Header http.Header

	// BackoffBase is the first reconnect backoff ceiling (default 250ms);
	// BackoffMax the largest (default 30s). See Client for the formula.
	BackoffBase time.Duration
	BackoffMax  time.Duration

	// EventBuffer is the capacity of the Events channel (default 256).
	EventBuffer int

	// Logger receives the client's logs (default: discarded). Message
	// bodies and tokens are never logged.
	Logger *slog.Logger

	// Dialer opens the WebSockets (default: a dialer with the proxy from
	// the environment and a 10s handshake timeout). The client copies it
	// and sets its Subprotocols to hubbub.v1 and turns compression off,
	// and gives it a cookie jar of its own if it has none, so that a
	// guest stays the same guest across reconnects. Each WebSocket's
	// connection, as its NetDialContext (or NetDial, or a net.Dialer)
	// makes it, is wrapped so that hello and the re-joins behind it go
	// out in one write; a wss:// dial through NetDialTLSContext is not.
	Dialer *websocket.Dialer
}

// Client is a connection to a hubbub server that survives disconnects. See
// the package documentation for what it guarantees.
//
// All methods are safe for concurrent use by multiple goroutines. Events
// returns the same channel every time; read it from one goroutine if you
// care about the order of events.
type Client struct {
	// Immutable after Dial.
	url      string
	header   http.Header
	dialer   websocket.Dialer
	token    bool // Options.Token was set: the account, not a name, says who we are
	log      *slog.Logger
	bo       backoff
	events   chan Event
	cancel   context.CancelFunc // ends run; called by Close
	done     chan struct{}      // closed when run has returned and events is closed
	syncWake chan struct{}      // capacity 1: some room needs a history fetch

	// deliverMu serializes deliveries of room events and guards the room
	// table. It is held while a delivery blocks on a full events buffer,
	// so only readLoop, syncLoop and run take it, never a caller's
	// goroutine. Lock order: deliverMu before mu.
	deliverMu sync.Mutex
	rooms     map[string]*roomState

	mu      sync.Mutex // guards the fields below; never held while blocking
	pending map[string]*call
	nextID  uint64
	gen     uint64                // generation of the newest connection
	cur     *conn                 // the ready connection, nil while (re)connecting
	joining map[string]int        // caller Join calls in flight, per room
	ready   chan struct{}         // closed and replaced when cur is set and when the client stops
	uploads map[string]*uploadRun // uploads running, by id: they take the answers to their chunks
	self    protocol.Identity
	stopped bool
	stopErr error
}

// Dial connects to the hubbub server at rawURL, says hello and returns a
// Client that stays connected until Close.
//
// rawURL is the server's WebSocket endpoint, ws://host:port/ws or
// wss://host/ws; a ws or wss URL without a path gets /ws. An http:// or
// https:// base URL works too: the client derives the endpoint by switching
// the scheme to ws or wss and appending /ws to the path, so
// "https://chat.example.com/hub" becomes "wss://chat.example.com/hub/ws".
//
// Dial returns once the first connection is up and hello succeeded, or with
// the error that prevented it: the first dial is not retried, so a wrong URL
// or a refused name fails fast. A refused handshake is a *HandshakeError; a
// refused hello unwraps to a *protocol.Error. ctx bounds this first
// connection only; later reconnects run until Close.
func Dial(ctx context.Context, rawURL string, opts Options) (*Client, error) {
	u, err := wsURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	name := opts.Name
	if opts.Token != "" {
		name = "" // the account says who we are
	}
	if name != "" {
		if err := protocol.CheckDisplayName(name); err != nil {
			return nil, fmt.Errorf("client: %w", err)
		}
	}
	c := newClient(u, opts)
	cn, err := c.dialWS(ctx, name, nil)
	if err != nil {
		return nil, fmt.Errorf("client: dial %s: %w", u, err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go c.run(runCtx, cn)
	return c, nil
}

func newClient(u string, opts Options) *Client {
	c := &Client{
		url:      u,
		header:   opts.Header.Clone(),
		token:    opts.Token != "",
		log:      opts.Logger,
		bo:       backoff{base: opts.BackoffBase, max: opts.BackoffMax},
		events:   make(chan Event, opts.EventBuffer),
		done:     make(chan struct{}),
		syncWake: make(chan struct{}, 1),
		rooms:    make(map[string]*roomState),
		pending:  make(map[string]*call),
		joining:  make(map[string]int),
		ready:    make(chan struct{}),
		uploads:  make(map[string]*uploadRun),
	}
	if c.header == nil {
		c.header = make(http.Header)
	}
	if opts.Token != "" {
		c.header.Set("Authorization", "Bearer "+opts.Token)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.bo.base <= 0 {
		c.bo.base = DefaultBackoffBase
	}
	if c.bo.max <= 0 {
		c.bo.max = DefaultBackoffMax
	}
	c.bo.max = max(c.bo.max, c.bo.base)
	if opts.EventBuffer <= 0 {
		c.events = make(chan Event, DefaultEventBuffer)
	}
	if opts.Dialer != nil {
		c.dialer = *opts.Dialer
	} else {
		c.dialer = websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 10 * time.Second}
	}
	c.dialer.Subprotocols = []string{protocol.Subprotocol}
	c.dialer.EnableCompression = false
	if c.dialer.Jar == nil {
		// A guest's identity is the cookie the server sets on the first
		// handshake: keep it, so that a reconnect is the same guest and
		// keeps its name (another identity would get name_taken while
		// the server has not yet noticed the old socket is gone).
		c.dialer.Jar, _ = cookiejar.New(nil)
	}
	return c
}

// connect dials a new connection for a reconnect.
func (c *Client) connect(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	name := c.self.Name
	c.mu.Unlock()
	if c.token {
		name = "" // the account says who we are
	}
	return c.dialWS(ctx, name, c.joinedRooms())
}

// Events returns the channel of events. It is buffered (Options.EventBuffer,
// default 256). When the buffer is full the client's read loop waits, so
// nothing is lost; see the package documentation for what follows. It is
// closed after Close, or after the client stopped by itself, once the
// client's goroutines are gone.
func (c *Client) Events() <-chan Event {
	return c.events
}

// Self returns who the client speaks as: the identity the server confirmed
// in the newest hello.
func (c *Client) Self() protocol.Identity {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.self
}

// Close stops reconnecting, closes the connection with 1000 (normal
// closure), waits for every goroutine of the client, and closes the events
// channel. Operations in progress and later return ErrClosed. Close is
// idempotent and always returns nil.
func (c *Client) Close() error {
	c.cancel()
	<-c.done
	return nil
}

// run owns the client's life: it serves one connection at a time and
// reconnects with backoff until ctx ends or a permanent error.
func (c *Client) run(ctx context.Context, cn *conn) {
	var stopErr error
	for {
		cause := c.serve(ctx, cn)
		if ctx.Err() != nil {
			break
		}
		if permanent(cause) {
			stopErr = cause
			break
		}
		c.log.Info("connection lost", "conn", cn.gen, "err", cause)
		next, err := redial(ctx, c.bo, cause, c.connect, func(attempt int, at time.Time, err error) {
			c.log.Debug("reconnecting", "attempt", attempt, "in", time.Until(at).Round(time.Millisecond), "err", err)
			c.emitStateBy(ctx, StateEvent{State: Reconnecting, Attempt: attempt, Next: at, Err: err}, at)
		})
		if err != nil {
			if ctx.Err() == nil {
				stopErr = err
			}
			break
		}
		cn = next
	}
	c.stop(stopErr)
}

// serve runs one connection until it ends and returns why it ended. Every
// goroutine it starts has returned when it returns.
func (c *Client) serve(ctx context.Context, cn *conn) error {
	c.resetRooms()
	var wg sync.WaitGroup
	wg.Go(func() { c.readLoop(ctx, cn) })
	wg.Go(func() { c.writeLoop(cn) })
	wg.Go(func() { c.syncLoop(ctx, cn) })
	select {
	case <-cn.dead:
	case <-ctx.Done():
		cn.closeWith(protocol.CloseNormal, ErrClosed)
	}
	c.mu.Lock()
	if c.cur == cn {
		c.cur = nil
	}
	c.mu.Unlock()
	wg.Wait()
	c.connectionEnded(cn)
	return cn.err
}

// stop ends the client: it fails every pending call, reports Closed and
// closes the events channel. cause is nil after Close.
func (c *Client) stop(cause error) {
	c.cancel()
	err := ErrClosed
	if cause != nil {
		err = fmt.Errorf("%w: %w", ErrClosed, cause)
		c.log.Error("client stopped", "err", cause)
	}
	c.mu.Lock()
	c.stopped = true
	c.stopErr = err
	c.cur = nil
	c.signalReadyLocked()
	calls := c.pending
	c.pending = make(map[string]*call)
	clear(c.joining)
	c.mu.Unlock()
	for _, ca := range calls {
		ca.finish(protocol.Event{}, err)
	}
	c.emitState(StateEvent{State: Closed, Err: cause})
	close(c.events)
	close(c.done)
}

// emitState delivers a state event unless the buffer is full.
func (c *Client) emitState(ev StateEvent) {
	select {
	case c.events <- ev:
	default:
		c.log.Debug("events buffer full; state event dropped", "state", ev.State)
	}
}

// emitStateBy delivers a state event, waiting while the buffer is full
// until deadline (or ctx ends); then it drops the event.
func (c *Client) emitStateBy(ctx context.Context, ev StateEvent, deadline time.Time) {
	select {
	case c.events <- ev:
		return
	default:
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case c.events <- ev:
	case <-t.C:
		c.log.Debug("events buffer full; state event dropped", "state", ev.State)
	case <-ctx.Done():
	}
}

// emit delivers a room event, waiting while the buffer is full. It returns
// ctx's error if the client is closed first. The caller holds deliverMu.
func (c *Client) emit(ctx context.Context, ev Event) error {
	select {
	case c.events <- ev:
		return nil
	default:
	}
	select {
	case c.events <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
