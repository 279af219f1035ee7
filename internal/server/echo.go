package server

import "net/http"

// serveEcho upgrades an /echo request: every message comes back as it
// came, text or binary, through the same connection code as /ws (limits,
// UTF-8 check, ping/pong, close handshake). No subprotocol is needed. It is
// the smallest WebSocket server in hubbub, and what an RFC 6455 conformance
// suite can be pointed at.
func (s *Server) serveEcho(w http.ResponseWriter, r *http.Request) {
	ws := s.upgrade(w, r, "")
	if ws == nil {
		return
	}
	s.run(newConn(s, ws, echo{}), nil)
}

type echo struct{}

// Each message is echoed as its own message: coalescing, right for chat
// events, would change the boundaries of what the peer sent.
func (echo) text(c *conn, data []byte)   { c.enqueue(outMsg{alone: true, data: data}) }
func (echo) binary(c *conn, data []byte) { c.enqueue(outMsg{binary: true, data: data}) }
func (echo) closed(*conn)                {}
