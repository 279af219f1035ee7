package server

import (
	"io"
	"net/http"

	"github.com/hubbub-chat/hubbub/protocol"
)

// serveEcho upgrades an /echo request: every message comes back as it
// came, text or binary, through the same connection code as /ws (limits,
// UTF-8 check, ping/pong, close handshake). No subprotocol is needed. It is
// the smallest WebSocket server in hubbub, and what an RFC 6455 conformance
// suite can be pointed at. The handshake budget and the per-IP handshake
// and connection limits of /ws apply here too: it needs no account, so it
// must not be a way around them; and on a server without guests
// (Config.NoGuests) it needs a session, like /ws.
func (s *Server) serveEcho(w http.ResponseWriter, r *http.Request) {
	if !s.echoAllowed(w, r) {
		return
	}
	admitted := s.admitHandshake(w, r, "")
	if admitted == nil {
		return
	}
	defer admitted() // an echo is admitted once upgraded
	ip := s.clientIP(r)
	if !s.limits.connsIP.Acquire(ip, s.cfg.ConnsPerIP) {
		s.admission.refused.WithLabelValues("ip_conns").Inc()
		s.apiFail(w, protocol.Errorf(protocol.CodeLimitReached, "too many connections from your address"))
		return
	}
	release := func() { s.limits.connsIP.Release(ip) }
	ws := s.upgrade(w, r, "", nil)
	if ws == nil {
		release()
		return
	}
	s.run(newConn(s, ws, echo{}), release)
}

type echo struct{}

// Each message is echoed as its own message: coalescing, right for chat
// events, would change the boundaries of what the peer sent. The read loop
// waits until the echo is written before it reads on: an echo reads no
// faster than its peer takes the echoes, and a message accepted before a
// protocol error is echoed before the connection fails (RFC 6455 §7.1.7
// allows failing at once, but what was already received was valid).
func (echo) text(c *conn, data []byte) {
	c.enqueue(outMsg{alone: true, data: data})
	c.waitWritten()
}

func (echo) binary(c *conn, r io.Reader) {
	// The read limit bounds the message; a read error is the read loop's.
	data, err := io.ReadAll(r)
	if err != nil {
		return
	}
	c.enqueue(outMsg{binary: true, data: data})
	c.waitWritten()
}

func (echo) closed(*conn) {}

// echoAllowed applies to both echo endpoints what /ws applies before its
// upgrade: the Origin policy (refusals logged and counted), and, on a
// server without guests, a valid session. It has answered the request
// when it returns false.
func (s *Server) echoAllowed(w http.ResponseWriter, r *http.Request) bool {
	if !s.checkOrigin(r) {
		s.refuseOrigin(w, r)
		return false
	}
	if s.cfg.NoGuests {
		a, err := s.authenticate(r.Context(), r)
		if err == nil && a == nil {
			err = protocol.Errorf(protocol.CodeGuestsDisabled, "this server does not allow guests; log in")
		}
		if err != nil {
			s.apiFail(w, err)
			return false
		}
	}
	return true
}
