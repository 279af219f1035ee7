package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/version"
)

// errHelp ends ParseFlags when nothing more is to be done (-h, --version):
// main exits with status 0.
var errHelp = errors.New("help requested")

// Main is the hubbubd program: ParseFlags, then Run until ctx ends. Tests
// start it in-process the same way.
type Main struct {
	Addr            string
	DataDir         string
	StoreURL        string // empty: SQLite under DataDir; postgres://… for several nodes
	BrokerURL       string // empty: in-process; redis://… or nats://… for several nodes
	AllowedOrigins  stringList
	AllowedHosts    stringList
	TrustedProxies  stringList
	TLSCert, TLSKey string
	LogLevel        string
	DebugAddr       string // empty: no profiler; else net/http/pprof listens here
	MetricsAddr     string // empty: /metrics on the chat's listener; else only here
	ShutdownTimeout time.Duration
	// ReadHeaderTimeout and MaxHeaderBytes bound a handshake, so a slow
	// client cannot hold a connection open before its upgrade.
	ReadHeaderTimeout time.Duration
	MaxHeaderBytes    int
	Server            server.Config // the tunable limits; Store and Broker are set by Run

	Stdout, Stderr io.Writer
	// Ready, if not nil, receives the listening address once serving.
	Ready chan<- string
}

// NewMain returns a Main with the embedded defaults.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr}
}

type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*s = append(*s, p)
		}
	}
	return nil
}

// ParseFlags reads args, then fills every flag not given on the command
// line from its HUBBUB_* environment variable (looked up with getenv).
func (m *Main) ParseFlags(args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("hubbubd", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	cfg := &m.Server
	fs.StringVar(&m.Addr, "addr", "127.0.0.1:8080", "listen `address` (host:port)")
	fs.StringVar(&m.DataDir, "data", "hubbub-data", "`directory` of the SQLite database (hubbub.db)")
	fs.StringVar(&m.StoreURL, "store", "", "shared store `URL` (postgres://…) for several nodes; empty: SQLite under --data")
	fs.StringVar(&m.BrokerURL, "broker", "", "shared broker `URL` (redis://… or nats://…) for several nodes; empty: in-process")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "the `URL` users open (scheme://host[:port]) when a reverse proxy is in front: its origin is allowed, and https makes cookies Secure and sends HSTS")
	fs.DurationVar(&cfg.ModerationCheck, "moderation-check", 2*time.Second, "longest a node trusts its cached copy of bans, mutes, room rows, and the roles and administrators shown in public rooms, changed on other nodes")
	fs.IntVar(&cfg.LoginAccountFails, "login-account-fails", 50, "failed logins of one account, from all IPs, before the IPs that failed on it back off too")
	fs.Var(&m.TrustedProxies, "trusted-proxy", "reverse proxy `address` or CIDR whose X-Forwarded-For is believed for per-address limits and guest bans; repeat or comma-separate")
	fs.Var(&m.AllowedHosts, "allowed-host", "host `name` the server answers to (against DNS rebinding), besides IP addresses, localhost, the machine's name and the --public-url's; repeat or comma-separate; when given, every request must name one")
	fs.Var(&m.AllowedOrigins, "allowed-origin", "browser `origin` allowed besides the server's own host, as scheme://host[:port]; repeat or comma-separate")
	fs.StringVar(&m.TLSCert, "tls-cert", "", "TLS certificate `file` (PEM); with --tls-key serves https and wss")
	fs.StringVar(&m.TLSKey, "tls-key", "", "TLS private key `file` (PEM)")
	fs.StringVar(&m.LogLevel, "log-level", "info", "log `level`: debug, info, warn, error")
	fs.StringVar(&m.DebugAddr, "debug-addr", "", "serve Go's profiler (/debug/pprof/) on this private `address`; empty: off")
	fs.StringVar(&m.MetricsAddr, "metrics-addr", "", "serve the Prometheus metrics (/metrics) on this private `address` only, and not on --addr; may be the --debug-addr; empty: on --addr")
	fs.DurationVar(&m.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "the longest a shutdown (SIGTERM) may take, drain included; then remaining sockets are cut")
	fs.DurationVar(&cfg.DrainGrace, "drain-grace", 5*time.Second, "after SIGTERM, how long /readyz answers 503 while the node keeps serving, before sockets close")
	fs.DurationVar(&cfg.DrainWindow, "drain-window", 5*time.Second, "after the drain grace, the time over which sockets are closed with 1012, in random order")
	fs.Int64Var(&cfg.ReadLimit, "read-limit", 64<<10, "largest client frame in `bytes`; larger closes with 1009")
	fs.DurationVar(&cfg.PingInterval, "ping-interval", 25*time.Second, "how often the server pings each socket")
	fs.DurationVar(&cfg.PongTimeout, "pong-timeout", 10*time.Second, "how long past the ping interval a silent peer is kept")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", 10*time.Second, "the most one socket write may block (at least 0.9× that)")
	fs.DurationVar(&cfg.IdentifyTimeout, "identify-timeout", 30*time.Second, "time a new socket has to send hello")
	fs.IntVar(&cfg.UnsentLimit, "socket-unsent", 64<<10, "bytes a socket's kernel buffer may hold unsent before writes wait (TCP_NOTSENT_LOWAT), so that a stalled reader's backlog stays in its send queue, where --send-queue-age finds it")
	fs.BoolVar(&cfg.QueueWrites, "queue-writes", false, "write every frame from the socket's write loop, never straight from the goroutine that has it (for measuring; see docs/benchmarks.md)")
	fs.IntVar(&cfg.CommitBatch, "commit-batch", 4096, "most messages committed in one transaction (one fsync); more carries more messages per second over a slow disk")
	fs.DurationVar(&cfg.CommitInterval, "commit-interval", 0, "while sends keep coming in small batches (2 to 15), the least time between the starts of two commits, so that more messages share one transaction and fsync: less CPU at moderate rates, more latency (e.g. 2ms; see docs/operations.md); 0: commit at once")
	fs.IntVar(&cfg.SendQueueLen, "send-queue", 8192, "events queued per socket before it is closed as a slow consumer (4000)")
	fs.IntVar(&cfg.SendQueueBytes, "send-queue-bytes", 8<<20, "bytes queued per socket before it is closed as a slow consumer (4000)")
	fs.DurationVar(&cfg.SendQueueAge, "send-queue-age", 10*time.Second, "how long the oldest queued event may wait before its socket is closed as a slow consumer (4000)")
	fs.IntVar(&cfg.RecentRoomBytes, "recent-room-bytes", 1<<20, "bytes of its latest messages a room keeps in memory, so that a client resuming after them is answered without reading the store; negative: none")
	fs.IntVar(&cfg.RecentBytes, "recent-bytes", 16<<20, "bytes of latest messages all rooms together keep in memory (--recent-room-bytes); negative: none")
	fs.DurationVar(&cfg.DeliveryLagLimit, "delivery-lag-limit", time.Minute, "how far behind its commits a room's delivery on this node may run before every member there is closed as a slow consumer (4000) to resume from history")
	fs.BoolFunc("guests", "allow guests (display name, no account): true or false (default true)", func(v string) error {
		switch v {
		case "true", "1":
			cfg.NoGuests = false
		case "false", "0":
			cfg.NoGuests = true
		default:
			return fmt.Errorf("want true or false")
		}
		return nil
	})
	fs.BoolVar(&cfg.Trace, "trace", false, "log every WebSocket frame, decoded as the inspector shows it (payloads redacted unless --inspect-payloads)")
	fs.BoolVar(&cfg.InspectPayloads, "inspect-payloads", false, "show other users' payloads to administrators in the inspector and in --trace (default: redacted)")
	fs.IntVar(&cfg.PresenceLimit, "presence-limit", 1000, "rooms with more users online than this announce no joins and leaves, and list only the first 100 members")
	fs.DurationVar(&cfg.GuestRoomTTL, "guest-room-ttl", 24*time.Hour, "delete a room made by a guest once nobody has been in it, on any node, and nobody has written in it for this long (0: never)")
	fs.DurationVar(&cfg.HealInterval, "heal-interval", 2*time.Second, "how often rooms are compared with the store to deliver what the broker lost (bounds cross-node delay while the broker is down)")
	fs.DurationVar(&cfg.SessionIdle, "session-idle", 7*24*time.Hour, "a session unused this long ends")
	fs.DurationVar(&cfg.SessionMax, "session-max", 30*24*time.Hour, "a session ends this long after login")
	fs.Float64Var(&cfg.MsgRate, "msg-rate", 10, "messages per second per socket (token bucket; refusal: rate_limited)")
	fs.IntVar(&cfg.MsgBurst, "msg-burst", 30, "message burst per socket")
	fs.Float64Var(&cfg.CmdRate, "cmd-rate", 50, "commands per second per socket")
	fs.IntVar(&cfg.CmdBurst, "cmd-burst", 100, "command burst per socket")
	fs.IntVar(&cfg.RoomCreates, "room-creates", 10, "rooms a user may create per hour")
	fs.IntVar(&cfg.ConnsPerUser, "conns-per-user", 16, "sockets per account (refusal: HTTP 429 limit_reached)")
	fs.IntVar(&cfg.SessionsPerUser, "sessions-per-user", 100, "sessions (logins) kept per account; a login past it ends the least recently used")
	fs.IntVar(&cfg.ConnsPerIP, "conns-per-ip", 20000, "sockets per client IP, sized for users behind one NAT (refusal: HTTP 429 limit_reached)")
	fs.Float64Var(&cfg.HandshakeRate, "handshake-rate", 500, "WebSocket handshakes per second per IP (refusal: HTTP 429 with Retry-After)")
	fs.IntVar(&cfg.HandshakeBurst, "handshake-burst", 1000, "handshake burst per IP")
	fs.Float64Var(&cfg.NodeHandshakeRate, "node-handshake-rate", 0, "node-wide WebSocket handshakes per second; 0: 250 per core (refusal: HTTP 503 with Retry-After, or close 1013 \"retry after Ns\" for browsers)")
	fs.IntVar(&cfg.NodeHandshakeBurst, "node-handshake-burst", 0, "node-wide handshake burst; 0: one second of --node-handshake-rate")
	fs.IntVar(&cfg.NodeHandshakesInProgress, "node-handshakes-in-progress", 0, "node-wide admissions under way at once, each from its upgrade to its first join (at most 5 s); 0: 32 per core")
	fs.Int64Var(&cfg.FileMaxBytes, "file-max-bytes", 10<<20, "largest file a user may upload, in bytes (refusal: file_too_large)")
	fs.Int64Var(&cfg.UploadQuota, "upload-quota", 100<<20, "bytes an account, or the guests of one address, may upload per 24 hours (refusal: limit_reached)")
	cfg.UploadRate = 10.0 / 60
	fs.Func("upload-rate", "uploads an account, a guest or the guests of one address may start per minute (default 10; refusal: rate_limited)", func(v string) error {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("want a positive number of uploads per minute")
		}
		cfg.UploadRate = n / 60
		return nil
	})
	fs.IntVar(&cfg.UploadBurst, "upload-burst", 10, "uploads a user may start at once")
	fs.IntVar(&cfg.UploadsPerConn, "uploads-per-conn", 4, "uploads open at once on one socket (refusal: limit_reached)")
	fs.DurationVar(&cfg.UploadExpiry, "upload-expiry", 24*time.Hour, "uploads no message carries (unfinished, or never sent) untouched this long are deleted")
	fs.IntVar(&cfg.LoginFreeFails, "login-free-fails", 5, "failed logins per account and IP before backoff starts")
	fs.IntVar(&cfg.LoginIPFails, "login-ip-fails", 30, "failed logins per IP per 10 minutes")
	fs.Float64Var(&cfg.LoginIPRate, "login-ip-rate", 60, "password checks (logins and password changes, right or wrong) per IP per minute, with a burst of as many (refusal: HTTP 429 rate_limited)")
	fs.DurationVar(&m.ReadHeaderTimeout, "read-header-timeout", 10*time.Second, "time a client has to send its request headers")
	fs.IntVar(&m.MaxHeaderBytes, "max-header-bytes", 16<<10, "largest request header block in bytes")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: hubbubd [flags]\n\nhubbubd is the hubbub chat server. Every flag can also be set with an\nenvironment variable: HUBBUB_ and the flag name in upper case with '_' for '-'\n(for example HUBBUB_ADDR=0.0.0.0:8080). A flag on the command line wins.\n\nAccounts are managed with `hubbubd user` (see `hubbubd user -h`); create the\nfirst administrator with `hubbubd user add --admin NAME`.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return err
	}
	if *showVersion {
		fmt.Fprintln(m.Stdout, version.String("hubbubd"))
		return errHelp // nothing more to do: main exits 0
	}
	if fs.NArg() > 0 {
		if fs.Arg(0) == "user" {
			// hubbubd --data X user list: the user command takes its
			// flags after its name.
			return fmt.Errorf("unexpected argument %q: give the user command first, its flags after it (hubbubd user --data DIR list)", fs.Arg(0))
		}
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || envErr != nil {
			return
		}
		name := "HUBBUB_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%s: %w", name, err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	if (m.TLSCert == "") != (m.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if m.BrokerURL != "" && m.BrokerURL != "memory" && (m.StoreURL == "" || m.StoreURL == "sqlite") {
		// Nodes that share a broker but each keep a SQLite database of
		// their own number the same rooms' messages each on its own.
		return errors.New("--broker needs --store postgres://…: the nodes that share a broker must share the store (is HUBBUB_STORE set?)")
	}
	return nil
}

// Run opens the store, serves until ctx ends, then shuts down gracefully
// within ShutdownTimeout: /readyz turns 503 at once while the node serves
// on for the drain grace, sockets are closed with 1012 spread over the drain
// window, the committer drains, and the store and broker are closed last.
func (m *Main) Run(ctx context.Context) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(m.LogLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))

	store, storeName, err := openStore(ctx, m.StoreURL, m.DataDir)
	if err != nil {
		return err
	}
	defer store.Close()
	broker, brokerName, err := openBroker(ctx, m.BrokerURL, log)
	if err != nil {
		return err
	}
	defer broker.Close()
	if storeName == "postgres" && brokerName == "memory" {
		// Right for a single node on PostgreSQL; a trap for several.
		log.Warn("the store is shared but the broker is in-process: other nodes' messages reach this node's clients only through the store's catch-up (--heal-interval), late; give every node of a cluster the same --broker")
	}

	cfg := m.Server
	cfg.Store, cfg.Broker, cfg.Logger = store, broker, log
	cfg.Accounts, cfg.Access, cfg.Reads, cfg.Search, cfg.Files, cfg.Blocks = store, store, store, store, store, store
	if storeName == "postgres" {
		// Several nodes share the store: guest names are leased in it.
		// With SQLite there is one node, and its own registry suffices
		// without a write per guest hello.
		cfg.Names = store
	}
	if cfg.GuestRoomTTL == 0 {
		cfg.GuestRoomTTL = -1 // --guest-room-ttl 0: keep guests' rooms
	}
	cfg.AllowedOrigins = m.AllowedOrigins
	cfg.AllowedHosts = m.AllowedHosts
	cfg.TrustedProxies = m.TrustedProxies
	cfg.PrivateMetrics = m.MetricsAddr != ""
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}

	if m.DebugAddr != "" {
		var metrics http.Handler
		what := "profiler"
		if m.MetricsAddr == m.DebugAddr {
			metrics, what = srv.MetricsHandler(), "profiler and metrics"
		}
		stop, err := servePrivate(what, m.DebugAddr, privateMux(true, metrics), srv.Hosts(), log)
		if err != nil {
			srv.Close()
			return fmt.Errorf("--debug-addr: %w", err)
		}
		defer stop()
	}
	if m.MetricsAddr != "" && m.MetricsAddr != m.DebugAddr {
		stop, err := servePrivate("metrics", m.MetricsAddr, privateMux(false, srv.MetricsHandler()), srv.Hosts(), log)
		if err != nil {
			srv.Close()
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		defer stop()
	}
	ln, err := listen(ctx, m.Addr)
	if err != nil {
		srv.Close() // nothing was served: no drain to wait for
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: m.ReadHeaderTimeout,
		MaxHeaderBytes:    m.MaxHeaderBytes,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if m.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(m.TLSCert, m.TLSKey)
		if err != nil {
			ln.Close()
			srv.Close()
			return fmt.Errorf("tls: %w", err)
		}
		// HTTP/1.1 only: the WebSocket upgrade of RFC 6455 needs it.
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
		scheme = "https"
	}
	addr := ln.Addr().String()
	fmt.Fprintf(m.Stdout, "hubbubd: serving on %s://%s (store: %s, broker: %s)\n", scheme, addr, storeName, brokerName)
	log.Info("serving", "addr", addr, "tls", scheme == "https", "store", storeName, "broker", brokerName)
	if m.Ready != nil {
		m.Ready <- addr
	}

	errc := make(chan error, 1)
	go func() {
		if scheme == "https" {
			errc <- hs.ServeTLS(ln, "", "")
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		srv.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), m.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("websocket shutdown incomplete", "err", err)
	}
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("http shutdown incomplete", "err", err)
	}
	<-errc
	log.Info("stopped")
	return nil
}

// listen listens on addr for the server. Its connections have no TCP
// keep-alive: a WebSocket's heartbeats find a dead peer sooner (--ping-interval,
// --pong-timeout), an idle HTTP connection ends at the server's IdleTimeout,
// and no other response waits idle on its client, so the probes would
// only cost four setsockopt(2) calls on every accepted connection.
func listen(ctx context.Context, addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1}
	return lc.Listen(ctx, "tcp", addr)
}
