// Package server is hubbubd's HTTP and WebSocket front: the routes, the
// upgrade with its Origin and subprotocol policy, one read loop per
// connection and one write loop while it has something to write, pings
// from one timer per server, the chat session behind /ws, the echo behind
// /echo, group commit of messages, and graceful shutdown.
//
// A Server is an http.Handler. It does not listen by itself: hubbubd (or a
// test) serves it with an http.Server, and calls Shutdown before closing
// that server, because http.Server.Shutdown neither closes nor waits for
// hijacked connections such as WebSockets.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hubbub-chat/hubbub/internal/auth"
	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/hub"
	"github.com/hubbub-chat/hubbub/internal/ratelimit"
	"github.com/hubbub-chat/hubbub/protocol"
)

// readBufferSize is the read buffer of a connection, held for its life.
// It must hold a control frame (125 bytes + header), and gorilla uses a
// reader it is handed only if it holds more than 256 bytes (see
// tapWriter.Hijack); 288 is the next size class of Go's allocator.
const readBufferSize = 288

// warnEvery is the least time between two warnings of one kind (slow
// consumers, commits, refused origins); each line counts what it held back.
const warnEvery = 10 * time.Second

// Server serves hubbub over HTTP. Create it with New; it is safe for
// concurrent use.
type Server struct {
	cfg      Config // immutable after New
	log      *slog.Logger
	hub      *hub.Hub
	commit   *committer
	mux      *http.ServeMux
	upgrader websocket.Upgrader
	metrics  *metrics
	presence presenceBatch // join and leave events on their way out
	data     *dataMetrics
	pinger   *pinger
	slowWarn *ratelimit.Log // slow-consumer closes
	// commitWarn: commits that failed or took longer than slowCommit.
	commitWarn *ratelimit.Log
	// storeWarn: commands refused because the store is unavailable.
	storeWarn   *ratelimit.Log
	thumbWarn   *ratelimit.Log  // images kept without a thumbnail (thumb.go)
	origins     map[string]bool // normalised AllowedOrigins and PublicURL
	public      string          // normalised PublicURL, "" if none
	refusedWarn *ratelimit.Log  // refused origins
	hosts       *HostPolicy     // the Host names served (host.go)
	hostWarn    *ratelimit.Log  // refused Host names
	proxies     []netip.Prefix  // parsed TrustedProxies

	hasher    *auth.Hasher
	thumbs    chan struct{} // a token per image being decoded for a thumbnail (thumb.go)
	limits    *limits
	admission *admission    // the node-wide handshake budget
	sessions  sessions      // live sockets per session
	sanctions sanctionCache // authoritative moderation state, cached (modcheck.go)
	roomRows  roomCache     // room rows, cached (roomcache.go)
	roles     roleCache     // roles in public rooms, as shown, cached (rolecache.go)
	admins    adminCache    // the server's administrators, as shown, cached (admincache.go)
	blocks    blockCache    // blocks asked about by DM entries, cached (blocks.go)
	guests    guestRegistry // guests' display names on this node (guests.go)
	dir       directory     // identified connections, for directory events (lifecycle.go)
	marked    sync.Map      // room name → time.Time: guest rooms markJoined marked this round

	inspectKeys sync.Map // inspect challenge → *tappedConn; see inspect.go

	connID   atomic.Uint64
	draining atomic.Bool    // lame duck: /readyz answers 503 (drain.go)
	closing  atomic.Bool    // past the drain grace: upgrades are refused (drain.go)
	quit     chan struct{}  // closed by Shutdown: stops the sweeper
	healNow  chan struct{}  // a heal round now, not at the next tick (brokerGap); buffered 1
	purgeNow chan struct{}  // a purge of deleted messages' files now (filesDeleted); buffered 1
	gapWarn  *ratelimit.Log // the broker may have lost news
	quitOnce sync.Once
	bg       sync.WaitGroup // background goroutines: the sweeper, moderation handlers
	// cancelDir ends the directory subscription; immutable after New.
	cancelDir func()

	mu    sync.Mutex // guards conns
	conns map[*conn]struct{}
	wg    sync.WaitGroup // one per running connection

	poller  parker   // wakes parked connections (park.go); nil where there is no epoll
	readers *readers // runs the read loops the poller wakes (readers.go)
}

// New returns a Server for cfg. It starts the committer, the hub and the
// healer, which Shutdown stops.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Broker == nil {
		return nil, errors.New("server: Config.Store and Config.Broker are required")
	}
	cfg.setDefaults()
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		conns:    make(map[*conn]struct{}),
		origins:  make(map[string]bool),
		metrics:  newMetrics(),
		pinger:   newPinger(cfg.PingInterval),
		poller:   newPoller(cfg.Logger),
		readers:  newReaders(readerLinger),
		quit:     make(chan struct{}),
		healNow:  make(chan struct{}, 1),
		purgeNow: make(chan struct{}, 1),
		thumbs:   make(chan struct{}, thumbConcurrency),
	}
	s.refusedWarn = ratelimit.NewLog(s.log, "origin refused; if a proxy is in front, set the public URL to the address users open", warnEvery)
	s.slowWarn = ratelimit.NewLog(s.log, "closing slow consumers: send queue full or too old; they will resume", warnEvery)
	s.commitWarn = ratelimit.NewLog(s.log, "commits failing or slow: sends are refused or acknowledged late", warnEvery)
	s.thumbWarn = ratelimit.NewLog(s.log, "images kept without a thumbnail: no turn to decode them came in time", warnEvery)
	s.storeWarn = ratelimit.NewLog(s.log, "commands failing: the store is unavailable; clients are told to retry", warnEvery)
	s.gapWarn = ratelimit.NewLog(s.log, "the broker may have lost news (reconnected, or dropped what it could not deliver in time): caches dropped, rooms healed from the store", warnEvery)
	h, err := hub.New(hub.Config{
		Broker:     cfg.Broker,
		Logger:     cfg.Logger,
		MemberList: cfg.PresenceLimit,
		// A room whose deliveries run this late is behind on this node:
		// its members are closed as slow consumers (conn.Lagging).
		LagLimit: cfg.DeliveryLagLimit,
		// A backlog reaches a connection in runs (conn.DeliverBatch) that
		// a short send queue must still be able to take whole.
		RunLimit:   max(1, min(64, cfg.SendQueueLen/4)),
		OnPresence: s.announcePresence,
		// Rooms keep their latest plain messages for history
		// (Server.recentHistory); an entry that acts on a message
		// (edit, delete, reaction) starts a room's run afresh.
		RecentRoomBytes: cfg.RecentRoomBytes,
		RecentBytes:     cfg.RecentBytes,
		Keep:            plainMessageEvent,
		// A kick or ban entry takes its target out of the room here
		// though the event of it is lost (moderation.go).
		Delivered: s.entryDelivered,
	})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.hub = h
	s.data = newDataMetrics(s.metrics.reg, h)
	registerStoreMetrics(s.metrics.reg, cfg.Store)
	s.sanctions.ttl = cfg.ModerationCheck
	s.sanctions.seqOf = s.knownSeq
	s.roomRows.ttl = cfg.ModerationCheck
	s.roles.ttl = cfg.ModerationCheck
	s.admins.ttl = cfg.ModerationCheck
	s.blocks.ttl = cfg.ModerationCheck
	s.hasher = auth.NewHasher(cfg.HashConcurrency)
	s.limits = newLimits(&s.cfg)
	s.admission = newAdmission(&s.cfg, s.metrics.reg)
	if cfg.PublicURL != "" {
		n, err := normalizeOrigin(cfg.PublicURL)
		if err != nil {
			return nil, fmt.Errorf("server: public URL %q: %w", cfg.PublicURL, err)
		}
		s.public = n
		s.origins[n] = true
	}
	hosts, err := NewHostPolicy(cfg.AllowedHosts, cfg.PublicURL)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("server: %w", err)
	}
	s.hosts = hosts
	s.hostWarn = ratelimit.NewLog(s.log, "request for a host name this server does not answer to (DNS rebinding?); if it is the server's own, add it with --allowed-host", warnEvery)
	for _, p := range cfg.TrustedProxies {
		n, err := parseProxy(p)
		if err != nil {
			return nil, fmt.Errorf("server: trusted proxy %q: %w", p, err)
		}
		s.proxies = append(s.proxies, n)
	}
	for _, o := range cfg.AllowedOrigins {
		n, err := normalizeOrigin(o)
		if err != nil {
			h.Close()
			return nil, fmt.Errorf("server: allowed origin %q: %w", o, err)
		}
		s.origins[n] = true
	}
	s.upgrader = websocket.Upgrader{
		// 0: gorilla reads through the bufio.Reader Hijack returns, which
		// tapWriter.Hijack makes small (readBufferSize instead of the 4 KiB
		// one net/http had) and keeps, so that the connection can tell
		// whether gorilla has bytes buffered before it parks (park.go).
		// Chat commands fit; a larger payload is read straight into the
		// message (bufio reads past its buffer).
		ReadBufferSize:  0,
		WriteBufferSize: 4096,
		// Write buffers are borrowed for a write and returned, so an idle
		// connection holds none.
		WriteBufferPool:   &sync.Pool{},
		CheckOrigin:       s.checkOrigin,
		EnableCompression: false, // gorilla's read limit counts compressed bytes
	}
	s.commit = newCommitter(s)
	cancelDir, err := cfg.Broker.Subscribe(directoryTopic, s.fromDirectory)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("server: subscribe to the directory: %w", err)
	}
	s.cancelDir = cancelDir
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /ws", s.serveChat)
	s.mux.HandleFunc("GET /echo", s.serveEcho)
	s.mux.HandleFunc("GET /echo/rfc6455", s.serveEchoRFC6455)
	s.mux.HandleFunc("GET /healthz", s.serveHealthz)
	s.mux.HandleFunc("GET /readyz", s.serveReadyz)
	if !cfg.PrivateMetrics {
		s.mux.Handle("GET /metrics", s.MetricsHandler())
	}
	s.mux.HandleFunc("POST /api/register", s.serveRegister)
	s.mux.HandleFunc("POST /api/login", s.serveLogin)
	s.mux.HandleFunc("POST /api/logout", s.serveLogout)
	s.mux.HandleFunc("POST /api/password", s.servePassword)
	s.mux.HandleFunc("POST /api/account/delete", s.serveDeleteAccount)
	s.mux.HandleFunc("GET /api/session", s.serveSession)
	s.mux.HandleFunc("GET /files/{id}/{name}", s.serveFile)
	s.mux.HandleFunc("GET /thumbs/{id}", s.serveFile)
	s.mux.HandleFunc("GET /api/inspect/conns", s.serveInspectConns)
	s.mux.HandleFunc("POST /api/inspect/watch", s.serveInspectWatch)
	if cfg.Accounts != nil {
		s.bg.Go(func() { s.sweep(s.quit) })
		s.bg.Go(func() { s.purgeSessionsEvery(s.quit) })
	}
	s.bg.Go(func() { s.heal(s.quit) })
	if g, ok := cfg.Broker.(chat.GapNotifier); ok {
		g.NotifyGaps(s.brokerGap)
	}
	if cfg.Files != nil {
		s.bg.Go(func() { s.tendFiles(s.quit) })
	}
	if cfg.GuestRoomTTL > 0 {
		s.bg.Go(func() { s.sweepRooms(s.quit) })
	}
	if cfg.Names != nil {
		s.bg.Go(func() { s.renewNames(s.quit) })
	}
	if ends := sanctionEnds(cfg.Access); len(ends) > 0 {
		s.bg.Go(func() { endSanctionsEvery(s.quit, s.cfg.ModerationCheck, ends, s.announceSanctionEnd, s.log) })
	}
	s.mux.Handle("/", cfg.Web)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !hostExempt(r.URL.Path) && !s.hosts.Allowed(r) {
		s.hostWarn.Add("", "host", hostOnly(r.Host), "path", r.URL.Path)
		refuseHost(w, r)
		return
	}
	if s.hsts(r) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
	}
	if r.Body != nil && r.Body != http.NoBody {
		s.limitBody(w, r)
	}
	s.mux.ServeHTTP(w, r)
}

// limitBody gives r's body Config.BodyTimeout to arrive. net/http's
// header timeout ends with the headers, and hubbubd sets no ReadTimeout
// (it would outlive the hijack of a WebSocket): without this, a client
// that sends headers and then its body slowly, or never, holds the
// connection, its goroutine and buffers for ever, on any endpoint (net/http
// reads an unread body to its end before it answers). Once the body has
// been read to its end the deadline is lifted, so that a response that
// streams (the inspector's feed) is not cut by it.
func (s *Server) limitBody(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(s.cfg.BodyTimeout)) != nil {
		return
	}
	r.Body = &timedBody{ReadCloser: r.Body, rc: rc}
}

// timedBody lifts the read deadline limitBody set once the body has been
// read to its end.
type timedBody struct {
	io.ReadCloser
	rc *http.ResponseController
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && b.rc != nil {
		b.rc.SetReadDeadline(time.Time{})
		b.rc = nil
	}
	return n, err
}

// Hosts returns the server's Host policy (Config.AllowedHosts), for other
// listeners of the process to apply too.
func (s *Server) Hosts() *HostPolicy { return s.hosts }

// MetricsHandler serves the server's metrics in Prometheus's text format,
// what GET /metrics answers unless Config.PrivateMetrics is set.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
}

// Registry returns the Prometheus registry holding the server's metrics.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

func (s *Server) serveHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// readyzPingTimeout bounds the store ping of /readyz: a store that does
// not answer within it is unready (503), as one that refuses is. Probes
// time out after about a second (HAProxy's check with inter 1s, a
// Kubernetes probe's default timeoutSeconds).
const readyzPingTimeout = time.Second

func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.draining.Load() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyzPingTimeout)
	defer cancel()
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.log.Warn("readyz: store unreachable", "err", err)
		http.Error(w, "store unreachable", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

// upgrade performs the WebSocket handshake and registers the connection.
// It writes the HTTP error itself and returns nil when it refuses.
// extra, if not nil, adds headers to the 101 response (a guest's cookie).
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, subprotocol string, extra http.Header) *websocket.Conn {
	if s.closing.Load() {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return nil
	}
	var h http.Header
	if subprotocol != "" {
		if !slices.Contains(websocket.Subprotocols(r), subprotocol) {
			if websocket.IsWebSocketUpgrade(r) && !s.checkOrigin(r) {
				s.refuseOrigin(w, r)
				return nil
			}
			http.Error(w, "missing subprotocol "+subprotocol, http.StatusBadRequest)
			return nil
		}
		h = http.Header{"Sec-WebSocket-Protocol": {subprotocol}}
	}
	if extra != nil {
		if h == nil {
			h = http.Header{}
		}
		for k, v := range extra {
			h[k] = v
		}
	}
	ws, err := s.upgrader.Upgrade(tapWriter{w, r, s}, r, h) // tapped: see inspect.go
	if err != nil {
		// gorilla has written the HTTP error (400, 403, ...).
		s.metrics.upgradeRefused.Inc()
		s.log.Debug("upgrade refused", "err", err, "origin", r.Header.Get("Origin"))
		return nil
	}
	return ws
}

// run registers c, serves it, and unregisters it. It runs on the
// handler's goroutine, which net/http has handed over to the socket.
//
// The connection runs on a goroutine of its own, and the handler returns:
// that lets net/http free the buffers of the connection it hijacked, which
// the handler's goroutine would otherwise keep alive for the socket's whole
// life (about 10 KiB each). done, if not nil, runs after the connection ends.
func (s *Server) run(c *conn, done func()) {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(protocol.CloseServiceRestart, "server restarting"), deadlineIn(s.cfg.WriteTimeout))
		awaitCloseReply(c.ws, s.cfg.ReadLimit)
		c.ws.Close()
		if done != nil {
			done()
		}
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.pinger.add(c)
	s.metrics.conns.Inc()
	s.startTrace(c)
	c.onEnd = func() {
		if done != nil {
			done()
		}
		s.pinger.remove(c)
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.metrics.conns.Dec()
		s.wg.Done()
	}
	go c.serve()
}
