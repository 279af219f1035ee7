package server

import (
	"net/http"
	"time"

	"github.com/hubbub-chat/hubbub/internal/rfcws"
	"github.com/hubbub-chat/hubbub/protocol"
)

// serveEchoRFC6455 is /echo/rfc6455: the same echo as /echo, served by
// the minimal WebSocket implementation in internal/rfcws (written from
// RFC 6455 on hubbub's own codec) instead of gorilla/websocket. It is there
// to be read and compared; the same per-IP handshake and connection limits
// and the same Origin policy apply, and the same frame limit bounds each
// message.
//
// Its connections are not in s.conns: Shutdown closes them with 1001 when
// it closes s.quit, after the chat connections, and waits for them in
// s.bg.
func (s *Server) serveEchoRFC6455(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if !s.echoAllowed(w, r) {
		return
	}
	ip := s.clientIP(r)
	if ok, retry := s.limits.handshakes.Allow(ip, time.Now()); !ok {
		s.tooMany(w, retry)
		return
	}
	if !s.limits.connsIP.Acquire(ip, s.cfg.ConnsPerIP) {
		s.apiFail(w, protocol.Errorf(protocol.CodeLimitReached, "too many connections from your address"))
		return
	}
	release := func() { s.limits.connsIP.Release(ip) }
	c, err := rfcws.Upgrade(w, r, rfcws.Options{
		MaxMessage:   s.cfg.ReadLimit,
		CheckOrigin:  s.checkOrigin,
		ReadTimeout:  s.cfg.PingInterval + s.cfg.PongTimeout,
		WriteTimeout: s.cfg.WriteTimeout,
		CloseGrace:   s.cfg.CloseGrace,
	})
	if err != nil {
		// Upgrade has answered the HTTP error (400, 403, 426).
		s.metrics.upgradeRefused.Inc()
		s.log.Debug("upgrade refused", "err", err, "origin", r.Header.Get("Origin"))
		release()
		return
	}
	// Under s.mu, as Shutdown sets draining under s.mu before it waits
	// for s.bg: a connection either is counted in s.bg before that wait,
	// or sees draining and goes away.
	s.mu.Lock()
	draining := s.draining.Load()
	if !draining {
		s.bg.Go(func() {
			defer release()
			c.Echo(s.quit)
		})
	}
	s.mu.Unlock()
	if draining {
		// On this goroutine: bounded by WriteTimeout and CloseGrace.
		c.CloseHandshake(protocol.CloseGoingAway, "shutting down")
		release()
	}
}
