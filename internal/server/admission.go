package server

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hubbub-chat/hubbub/internal/ratelimit"
	"github.com/hubbub-chat/hubbub/protocol"
)

// admission is the node-wide handshake budget: at most NodeHandshakeRate
// WebSocket handshakes per second (burst NodeHandshakeBurst) are let in,
// whatever their addresses, so that a reconnect storm (every client of a
// restarted node at once) drains at a pace the node can serve instead of
// starving the clients already connected.
//
// Besides the rate, admission bounds the admissions in progress: a
// handshake holds a slot from its upgrade until its session has joined its
// first room (what a reconnecting client does first), or ended, or for
// admitHold at most. A rate cannot know how fast the node is right now
// (how busy its CPUs and its store are); the slots can: when joins slow
// down, fewer are let in, and the store's queue stays short enough that
// the joins let in finish within their deadline.
//
// A refused client is told when to come back, and the times are spread:
// admission counts the clients it has sent away and not yet expected back
// (the backlog, which drains at the budget's rate), and the k-th client in
// the backlog is told k/rate seconds. So a storm of N clients is told
// 1 s, 1 s, …, N/rate seconds, and comes back at the pace it can be
// admitted, rather than all at once again.
//
// It is safe for concurrent use.
type admission struct {
	rate     float64 // immutable after newAdmission
	slots    int     // immutable after newAdmission
	holdTime time.Duration

	mu      sync.Mutex        // guards the fields below
	busy    int               // slots held
	bucket  *ratelimit.Bucket // the budget
	backlog float64           // clients sent away and not yet due back, as of at
	at      time.Time

	refused *prometheus.CounterVec // by reason
	waiting prometheus.GaugeFunc
}

func newAdmission(cfg *Config, reg prometheus.Registerer) *admission {
	a := &admission{
		rate:     cfg.NodeHandshakeRate,
		slots:    cfg.NodeHandshakesInProgress,
		holdTime: admitHold,
		bucket:   ratelimit.NewBucket(ratelimit.Limit{Rate: cfg.NodeHandshakeRate, Burst: cfg.NodeHandshakeBurst}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hubbub_handshakes_refused_total",
			Help: "WebSocket handshakes refused before the upgrade, by reason: node_busy (the node-wide budget), ip_rate (handshakes per address), ip_conns and user_conns (sockets per address or account)."},
			[]string{"reason"}),
	}
	a.waiting = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hubbub_admission_backlog",
		Help: "Clients told to come back later by the node-wide handshake budget and not yet due back (an estimate)."},
		func() float64 {
			a.mu.Lock()
			defer a.mu.Unlock()
			return a.drainLocked(time.Now())
		})
	for _, r := range []string{"node_busy", "ip_rate", "ip_conns", "user_conns"} {
		a.refused.WithLabelValues(r) // export zeros, so that rates work from the start
	}
	reg.MustRegister(a.refused, a.waiting)
	return a
}

// admitHold is the longest an admission holds its slot: a client that
// says hello and joins nothing must not keep others out.
const admitHold = 5 * time.Second

// admit takes a handshake from the budget at now and a slot, or reports
// how long the client should wait before trying again. release gives the
// slot back; it may be called any number of times, and is called by itself
// after admitHold.
func (a *admission) admit(now time.Time) (release func(), retry time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.busy < a.slots && a.bucket.Allow(now) {
		a.busy++
		var once sync.Once
		release = func() {
			once.Do(func() {
				a.mu.Lock()
				a.busy--
				a.mu.Unlock()
			})
		}
		// Not stopped on release: it then does nothing, and stopping it
		// would need the timer inside the function the timer runs.
		time.AfterFunc(a.holdTime, release)
		return release, 0
	}
	a.backlog = a.drainLocked(now) + 1
	return nil, time.Duration(a.backlog / a.rate * float64(time.Second))
}

// drainLocked returns the backlog at now: it drains at the budget's rate.
func (a *admission) drainLocked(now time.Time) float64 {
	if now.After(a.at) {
		a.backlog = max(0, a.backlog-now.Sub(a.at).Seconds()*a.rate)
		a.at = now
	}
	return a.backlog
}

// admitHandshake applies the node-wide budget (rate and slots), then the per-address rate,
// to a WebSocket handshake request, and answers a refusal itself (see
// refuseBusy). subprotocol is the one the endpoint speaks ("" for none).
//
// The node-wide budget comes first so that requests it refuses take
// nothing from their address's bucket: behind one NAT, a storm the node
// turns away must not also use up the address's allowance for when it
// comes back.
//
// It returns nil when it refused, and otherwise the function that gives the
// admission's slot back (see admission.admit).
func (s *Server) admitHandshake(w http.ResponseWriter, r *http.Request, subprotocol string) (release func()) {
	now := time.Now()
	release, retry := s.admission.admit(now)
	if release == nil {
		s.admission.refused.WithLabelValues("node_busy").Inc()
		s.refuseBusy(w, r, subprotocol, retry)
		return nil
	}
	if ok, retry := s.limits.handshakes.Allow(s.clientIP(r), now); !ok {
		release()
		s.admission.refused.WithLabelValues("ip_rate").Inc()
		s.tooMany(w, retry)
		return nil
	}
	return release
}

// refuseBusy turns a handshake away for retry. A browser cannot read the
// status or headers of a refused WebSocket handshake, so a request with an
// Origin header is upgraded and closed at once with 1013 try again later
// and the reason "retry after Ns" (protocol.RetryAfterReason); any other
// client gets HTTP 503 with Retry-After: N and the JSON error
// `unavailable`. Either way the connection is not registered and costs no
// goroutine of its own; the browser's socket is kept, by the handler, until
// the client answers the close or refuseLinger passes (awaitCloseReply).
func (s *Server) refuseBusy(w http.ResponseWriter, r *http.Request, subprotocol string, retry time.Duration) {
	reason := protocol.RetryAfterReason(retry)
	secs := retryAfterSeconds(retry)
	if r.Header.Get("Origin") != "" && websocket.IsWebSocketUpgrade(r) && s.checkOrigin(r) {
		var h http.Header
		for _, p := range websocket.Subprotocols(r) {
			if p == subprotocol && p != "" {
				h = http.Header{"Sec-WebSocket-Protocol": {p}}
			}
		}
		ws, err := s.upgrader.Upgrade(w, r, h)
		if err != nil {
			return // gorilla wrote the HTTP error
		}
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(protocol.CloseTryAgainLater, reason), deadlineIn(s.cfg.WriteTimeout))
		awaitCloseReply(ws, s.cfg.ReadLimit)
		ws.Close()
		return
	}
	w.Header().Set("Retry-After", secs)
	s.apiFail(w, protocol.Errorf(protocol.CodeUnavailable, "the server is busy; try again in %s s", secs))
}

// refuseLinger bounds how long a refused browser's socket is kept open
// for the closing handshake (awaitCloseReply).
const refuseLinger = time.Second

// awaitCloseReply completes the closing handshake after the server's close
// frame: it reads, and drops, what the client sends until the client's
// close frame, an error, or refuseLinger. Closing the TCP connection at once
// instead would reset it if the client had already written something (a
// browser sends its hello as soon as the socket opens): the server's kernel
// answers unread data with RST, and a browser that sees the reset reports
// 1006 without the 1013 and its wait, then retries on its own short backoff.
func awaitCloseReply(ws *websocket.Conn, limit int64) {
	ws.SetReadLimit(limit)
	ws.SetReadDeadline(time.Now().Add(refuseLinger))
	for {
		if _, _, err := ws.NextReader(); err != nil {
			return
		}
	}
}

// retryAfterSeconds formats d for a Retry-After header: whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64((d+time.Second-1)/time.Second)), 10)
}
