package server

import (
	"log/slog"
	"math"
	"net/http"
	"runtime"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
	"github.com/hubbub-chat/hubbub/web"
)

// Config configures a Server. Store and Broker are required; every other
// field has a useful zero value, noted beside it.
type Config struct {
	Store  chat.Store
	Broker chat.Broker
	Logger *slog.Logger // default: discard

	// Accounts and Access enable accounts, sessions, private rooms, DMs
	// and moderation. Without them every connection is a guest and every
	// room is public. hubbubd passes its store for all three.
	Accounts chat.Accounts
	Access   chat.Access
	// Reads keeps accounts' read positions (the read command, read_seq in
	// rooms and join replies). Default: none; read is accepted and kept
	// nowhere, as for a guest. hubbubd passes its store.
	Reads chat.Reads
	// Blocks keeps which accounts block which (block, unblock, blocks;
	// a blocked account cannot open or write to the blocker's DM).
	// Default: none; the three commands are refused with forbidden and
	// nothing is blocked. hubbubd passes its store.
	Blocks chat.Blocks
	// Search is full-text search (the search command). Default: none;
	// search is refused with forbidden. hubbubd passes its store.
	Search chat.Searcher

	// NoGuests refuses connections without a session (default: guests
	// allowed).
	NoGuests bool

	SessionIdle  time.Duration // default 7 days: a session unused this long ends
	SessionMax   time.Duration // default 30 days: a session ends this long after login
	SessionCheck time.Duration // default 2s: how often live sockets' sessions are re-validated
	// SessionsPerUser bounds an account's sessions (default 100): a login
	// past it ends the account's least recently used sessions, and their
	// sockets close with 1008. Without it, every login of a script that
	// never logs out would add a row for good.
	SessionsPerUser int
	// SessionPurge is how often the node removes ended sessions (expired,
	// or idle past SessionIdle) from the store (default 1h).
	SessionPurge    time.Duration
	HashConcurrency int // default 4: argon2id hashes at once (19 MiB each)
	// ModerationCheck is the longest a node trusts its cached copy of
	// the store's bans and mutes (default 2s): a sanction set on another
	// node binds send, join and history here within this time, even if
	// its event never arrives. Room rows (topic, existence) are cached
	// for as long: a topic set on another node shows in join replies here
	// within this time. So are the roles a join reply or a room listing
	// shows for public rooms (rolecache.go), and the server's
	// administrators a public room's join reply shows (admincache.go);
	// what a role allows is always asked of the store, and what an
	// administrator may do follows their session's account, never this
	// list.
	ModerationCheck time.Duration

	MsgRate          float64       // default 10: messages per second per connection (token bucket)
	MsgBurst         int           // default 30
	CmdRate          float64       // default 50: commands per second per connection
	CmdBurst         int           // default 100
	RoomCreates      int           // default 10: rooms a user may create per RoomCreateWindow
	RoomCreateWindow time.Duration // default 1h
	ConnsPerUser     int           // default 16: sockets per account
	// Per-address limits are sized for shared networks: thousands of users
	// behind one corporate NAT must get back in after a restart. What
	// protects the node from a storm is the node-wide budget below.
	ConnsPerIP     int     // default 20000: sockets per client IP
	HandshakeRate  float64 // default 500: WebSocket handshakes per second per IP
	HandshakeBurst int     // default 1000
	// NodeHandshakeRate is the node-wide handshake budget (default 250 per
	// core of GOMAXPROCS: a connect, hello and join cost about 2 ms of CPU,
	// so this leaves at least half the node to the clients already in).
	// Handshakes over it are turned away with 503 and Retry-After (or, for
	// browsers, close 1013 "retry after Ns"), the waits spread so that the
	// storm comes back at this pace. See admission.go.
	NodeHandshakeRate float64
	// NodeHandshakesInProgress bounds the admissions under way: from the
	// upgrade to the session's first join (or 5 s). Default 32 per core.
	NodeHandshakesInProgress int
	NodeHandshakeBurst       int // default NodeHandshakeRate (one second's worth)
	LoginFreeFails           int // default 5: failed logins per account and IP before backoff
	// LoginAccountFails is the failures of one account, from all IPs,
	// before IPs that failed on it back off too (default 50): a guesser
	// spread over many addresses is slowed; the owner, from an address
	// without failures on the account, is never held back.
	LoginAccountFails int
	LoginBackoffMax   time.Duration // default 5 min: the longest login backoff
	LoginIPFails      int           // default 30: failed logins per IP per LoginIPWindow
	LoginIPWindow     time.Duration // default 10 min
	// LoginIPRate is the password checks (login and password change,
	// right or wrong) per client IP per minute, with a burst of as many
	// (default 60): each is an argon2id hash, and a client logging in
	// to its own account in a loop must not hold everyone's logins up.
	LoginIPRate float64

	// AllowedOrigins lists browser origins ("https://chat.example.com")
	// allowed to open a WebSocket besides the request's own host. A
	// request without an Origin header (a non-browser client) is allowed.
	AllowedOrigins []string

	// AllowedHosts lists the host names ("chat.example.com", no scheme
	// or port) the server answers to, against DNS rebinding (host.go).
	// Default: none; then a request that arrives on a loopback address
	// must name an IP address, localhost, the machine's host name or
	// PublicURL's host, and one from the network may name anything.
	// When set, every request must name one of these or one of those,
	// wherever it arrives. /healthz, /readyz and /metrics answer any name.
	AllowedHosts []string

	// TrustedProxies lists the reverse proxies (IP addresses or CIDR
	// prefixes, "127.0.0.1", "10.0.0.0/8") whose X-Forwarded-For header
	// is believed. A request from one of them is from the right-most
	// address of X-Forwarded-For that is not itself a trusted proxy, and
	// the per-address limits, login backoff and guest bans apply to that
	// address. Default: none; every request is from its TCP peer, so
	// behind a proxy every client would share the proxy's limits.
	TrustedProxies []string

	// PublicURL is the address users open, as scheme://host[:port]
	// ("https://chat.example.com"), when it differs from what the server
	// sees: behind a reverse proxy that terminates TLS or rewrites Host.
	// Its origin is allowed to open a WebSocket, and when it is https the
	// cookies carry Secure and responses carry Strict-Transport-Security.
	// Default: none; the Origin must then match the request's own scheme
	// and Host.
	PublicURL string

	// Web serves everything that is not an API route. Default: the
	// embedded browser client, web.Handler().
	Web http.Handler

	ReadLimit       int64         // largest client frame in bytes; default protocol.MaxFrameBytes
	PingInterval    time.Duration // default 25s
	PongTimeout     time.Duration // default 10s: how long past PingInterval a silent peer survives
	WriteTimeout    time.Duration // default 10s: the most one write may block (at least 0.9× that: see writeLoop)
	BodyTimeout     time.Duration // default 10s: the most an HTTP request's body may take to arrive after its headers; then the connection closes
	IdentifyTimeout time.Duration // default 30s: time allowed before hello
	CloseGrace      time.Duration // default 1s: wait for the peer's close frame after ours
	SendQueueLen    int           // default 8192: queued events per connection before slow-consumer close (SendQueueAge is what finds a slow reader; this and SendQueueBytes bound memory)
	SendQueueBytes  int           // default 8 MiB: queued bytes per connection before slow-consumer close
	// SendQueueAge closes a connection as a slow consumer when the oldest
	// message in its send queue has waited longer (default 10s, the same
	// as WriteTimeout). A client that far behind is no longer live: it
	// catches up faster by resuming from history than by reading the
	// backlog, and the backlog it holds is memory the others need.
	SendQueueAge time.Duration
	// DeliveryLagLimit closes every member of a room on this node as a
	// slow consumer (4000, reason "lag") once the room's events reach them
	// this long after their commit: the node has been behind on the room
	// for that long, whatever each connection's own queue holds. It bounds
	// how far behind, and how much backlog, an overloaded node keeps;
	// the members resume from history. Default 60s.
	DeliveryLagLimit time.Duration
	MaxInFlight      int // default 64: unacknowledged sends per connection before reads pause
	// RecentRoomBytes is the most bytes of its latest messages a room with
	// members on this node keeps in memory, as they were delivered, so
	// that history after a recent sequence (a client resuming) is answered
	// without reading the store (default 1 MiB, some 5,000 messages);
	// RecentBytes bounds all rooms together (default 16 MiB; the process
	// holds up to about twice that for them, with the garbage collector's
	// headroom). Negative: keep none. See Server.recentHistory.
	RecentRoomBytes, RecentBytes int
	MaxBadCommands               int // default 16: invalid commands in a row before close 1008
	CommitBatch                  int // default 4096: most messages committed in one transaction (one fsync)
	// CommitInterval, if positive, is the least time between the starts
	// of two commits while sends keep coming in small batches: the
	// committer waits up to that long for more sends to share a
	// transaction (and its fsync) when the last one carried 2 to 15 sends
	// (see committer.gather). It saves CPU at moderate rates and costs
	// latency there. Default 0: commit at once.
	CommitInterval time.Duration
	MaxFrameBatch  int // default 64 KiB: most bytes coalesced into one server frame (a single larger event is sent alone)
	// UnsentLimit is the most bytes a socket's kernel buffer holds unsent
	// before writes to it wait (TCP_NOTSENT_LOWAT, on Linux), so that a
	// reader that stalls is found by the send queue's bounds
	// (SendQueueLen, SendQueueBytes, SendQueueAge) and not hidden in
	// megabytes of kernel buffer. Default 64 KiB.
	UnsentLimit int
	// QueueWrites sends every data frame through the connection's write
	// loop (default off: a frame for an idle socket is written straight
	// to it by the goroutine that has it; see conn.writeThroughLocked).
	// It is there to measure the difference.
	QueueWrites bool
	// Trace logs every connection's frames, decoded as the inspector
	// shows them (default off). Payloads are redacted unless
	// InspectPayloads is set too.
	Trace bool
	// InspectPayloads shows the payloads of other users' connections to
	// administrators in the inspector and in the trace (default off:
	// redacted). A user always sees their own connection's payloads.
	InspectPayloads bool
	// PrivateMetrics leaves GET /metrics off the server's handler, for a
	// deployment that serves MetricsHandler on a listener of its own
	// (hubbubd's --metrics-addr) so that the public address does not show
	// its figures (default off: /metrics is served with the rest).
	PrivateMetrics bool
	// DrainGrace is how long Shutdown keeps serving, new connections
	// included, after /readyz turned 503, so that load balancers stop
	// sending new clients before sockets close (default 0: close at once).
	DrainGrace time.Duration
	// DrainWindow is the time over which Shutdown spreads the closes of the
	// open sockets (1012), in random order, so their reconnects do not hit
	// the other nodes at one instant (default 0: all at once).
	DrainWindow time.Duration
	// PresenceLimit bounds presence in big rooms (default 1000): a room
	// with more users online (on all nodes together) announces no joins
	// and leaves, and a join reply lists only its first 100 members.
	// Without it, filling a room of N costs N² join events.
	PresenceLimit int
	// HealInterval is how often the node compares the heads of the rooms
	// its connections are in with the store's, and delivers what the
	// broker lost (default 2s). It bounds how late a message committed on
	// another node reaches a member here while the broker is down or lost
	// it: at most HealInterval plus one store query.
	HealInterval time.Duration

	// Files, when not nil, stores uploads (docs/protocol.md, "Files"); nil
	// refuses upload with forbidden. It is usually the Store.
	Files          chat.Files
	FileMaxBytes   int64         // default 10 MiB: the largest file
	UploadQuota    int64         // default 100 MiB: bytes a user (and all guests of one address, per node) may upload per 24 h
	UploadRate     float64       // default 10 per minute: uploads a user (and all guests of one address) may start
	UploadBurst    int           // default 10
	UploadsPerConn int           // default 4: uploads open (started or resumed, not complete) on one connection
	UploadExpiry   time.Duration // default 24h: uploads no message carries (unfinished, or never sent) untouched this long are deleted
	// GuestRoomTTL is how long a room made by a guest may stay with
	// nobody in it, on any node, and no message before it is deleted
	// (default 24h; negative: never). Every node marks the rooms its
	// connections are in, in the store, every quarter of it (at most a
	// minute) and deletes the idle ones it finds.
	GuestRoomTTL time.Duration
	// Names, if set, makes guests' display names unique across every
	// node that shares it (a lease per name, renewed while the guest is
	// online; see guests.go). Without it they are unique per node.
	// hubbubd passes its store when it is PostgreSQL (shared by nodes);
	// a SQLite store serves one node, which needs no lease, and a lease
	// there would cost a disk sync per guest hello.
	Names chat.GuestNames
}

func (c *Config) setDefaults() {
	if c.Web == nil {
		c.Web = web.Handler()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	setDur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	setInt := func(n *int, def int) {
		if *n <= 0 {
			*n = def
		}
	}
	if c.ReadLimit <= 0 {
		c.ReadLimit = protocol.MaxFrameBytes
	}
	setDur(&c.PingInterval, 25*time.Second)
	setDur(&c.PongTimeout, 10*time.Second)
	setDur(&c.WriteTimeout, 10*time.Second)
	setDur(&c.BodyTimeout, 10*time.Second)
	setDur(&c.IdentifyTimeout, 30*time.Second)
	setDur(&c.CloseGrace, time.Second)
	setInt(&c.SendQueueLen, 8192)
	setInt(&c.SendQueueBytes, 8<<20)
	setDur(&c.SendQueueAge, 10*time.Second)
	setDur(&c.DeliveryLagLimit, time.Minute)
	setInt(&c.MaxInFlight, 64)
	setInt(&c.MaxBadCommands, 16)
	setInt(&c.CommitBatch, 4096)
	setInt(&c.MaxFrameBatch, 64<<10)
	setInt(&c.UnsentLimit, 64<<10)
	setInt(&c.PresenceLimit, 1000)
	setDur(&c.HealInterval, 2*time.Second)
	if c.GuestRoomTTL == 0 {
		c.GuestRoomTTL = 24 * time.Hour
	}
	setDur(&c.SessionIdle, 7*24*time.Hour)
	setDur(&c.SessionMax, 30*24*time.Hour)
	setDur(&c.SessionCheck, 2*time.Second)
	setInt(&c.SessionsPerUser, 100)
	setDur(&c.SessionPurge, time.Hour)
	setDur(&c.ModerationCheck, 2*time.Second)
	setInt(&c.HashConcurrency, 4)
	setFloat := func(f *float64, def float64) {
		if *f <= 0 {
			*f = def
		}
	}
	setFloat(&c.MsgRate, 10)
	setInt(&c.MsgBurst, 30)
	setFloat(&c.CmdRate, 50)
	setInt(&c.CmdBurst, 100)
	setInt(&c.RoomCreates, 10)
	setDur(&c.RoomCreateWindow, time.Hour)
	setInt(&c.ConnsPerUser, 16)
	setInt(&c.ConnsPerIP, 20000)
	setFloat(&c.HandshakeRate, 500)
	setInt(&c.HandshakeBurst, 1000)
	setFloat(&c.NodeHandshakeRate, 250*float64(runtime.GOMAXPROCS(0)))
	setInt(&c.NodeHandshakeBurst, int(math.Ceil(c.NodeHandshakeRate)))
	setInt(&c.NodeHandshakesInProgress, 32*runtime.GOMAXPROCS(0))
	setInt(&c.LoginFreeFails, 5)
	setInt(&c.LoginAccountFails, 50)
	setDur(&c.LoginBackoffMax, 5*time.Minute)
	setInt(&c.LoginIPFails, 30)
	setFloat(&c.LoginIPRate, 60)
	setDur(&c.LoginIPWindow, 10*time.Minute)
	if c.FileMaxBytes <= 0 {
		c.FileMaxBytes = 10 << 20
	}
	if c.UploadQuota <= 0 {
		c.UploadQuota = 100 << 20
	}
	setFloat(&c.UploadRate, 10.0/60)
	setInt(&c.UploadBurst, 10)
	setInt(&c.UploadsPerConn, 4)
	setDur(&c.UploadExpiry, 24*time.Hour)
}
