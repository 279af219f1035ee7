package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hubbub-chat/hubbub/internal/auth"
	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// sessionCookie is the browser's session cookie: HttpOnly, SameSite=Lax,
// Secure over TLS or when Config.PublicURL is https. Its value is the
// bearer token.
const sessionCookie = "hubbub_session"

// authInfo is who an authenticated request speaks as.
type authInfo struct {
	user      chat.User
	tokenHash string
	expires   time.Time // absolute expiry
}

var errUnauthorized = protocol.Errorf(protocol.CodeUnauthorized, "no valid session; log in again")

// requestToken returns the request's token: the Authorization bearer token
// or, failing that, the session cookie. Tokens never come from the URL.
func requestToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(tok)
		}
		return "\x00invalid" // an Authorization header we don't understand is never a guest
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// authenticate resolves the request's credentials. It returns (nil, nil)
// for a request without any (a guest) and errUnauthorized for a forged,
// expired or revoked token or a disabled account.
func (s *Server) authenticate(ctx context.Context, r *http.Request) (*authInfo, error) {
	tok := requestToken(r)
	if tok == "" || s.cfg.Accounts == nil {
		return nil, nil
	}
	if !auth.ValidToken(tok) {
		return nil, errUnauthorized
	}
	hash := auth.HashToken(tok)
	// The session and its user in one read: every account's handshake
	// needs both (a storm of account sockets spent a fifth of the
	// server's CPU on two reads).
	sess, u, err := s.cfg.Accounts.SessionUser(ctx, hash)
	if errors.Is(err, chat.ErrNoSuchSession) {
		return nil, errUnauthorized
	}
	if err != nil && !errors.Is(err, chat.ErrNoSuchUser) {
		return nil, err
	}
	now := time.Now()
	if !s.sessionLive(sess, now) {
		s.cfg.Accounts.DeleteSession(ctx, hash)
		return nil, errUnauthorized
	}
	if err != nil || u.Disabled { // ErrNoSuchUser
		return nil, errUnauthorized
	}
	if now.Sub(sess.LastSeen) > time.Minute {
		s.cfg.Accounts.TouchSession(ctx, hash, now)
	}
	return &authInfo{user: u, tokenHash: hash, expires: sess.ExpiresAt}, nil
}

func (s *Server) sessionLive(sess chat.Session, now time.Time) bool {
	return now.Before(sess.ExpiresAt) && now.Sub(sess.LastSeen) < s.cfg.SessionIdle
}

// sessions tracks the live sockets of each session, so that logging out
// closes them at once and the sweeper can re-validate them.
type sessions struct {
	mu    sync.Mutex // guards conns
	conns map[string]map[*conn]struct{}
}

func (ss *sessions) add(hash string, c *conn) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.conns == nil {
		ss.conns = make(map[string]map[*conn]struct{})
	}
	m := ss.conns[hash]
	if m == nil {
		m = make(map[*conn]struct{})
		ss.conns[hash] = m
	}
	m[c] = struct{}{}
}

func (ss *sessions) remove(hash string, c *conn) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if m := ss.conns[hash]; m != nil {
		delete(m, c)
		if len(m) == 0 {
			delete(ss.conns, hash)
		}
	}
}

// end closes every socket of the session hash with 1008.
func (ss *sessions) end(hash, why string) {
	ss.mu.Lock()
	conns := make([]*conn, 0, len(ss.conns[hash]))
	for c := range ss.conns[hash] {
		conns = append(conns, c)
	}
	ss.mu.Unlock()
	for _, c := range conns {
		c.close(protocol.ClosePolicy, why)
	}
}

func (ss *sessions) hashes() []string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	out := make([]string, 0, len(ss.conns))
	for h := range ss.conns {
		out = append(out, h)
	}
	return out
}

// sweep runs until quit closes: every SessionCheck it re-validates the
// session of every live socket, so an expiry, a logout on another node, a
// password change or a disabled account ends the sockets within seconds.
func (s *Server) sweep(quit <-chan struct{}) {
	t := time.NewTicker(s.cfg.SessionCheck)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		for _, hash := range s.sessions.hashes() {
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.SessionCheck)
			why, demoted := s.sessionEnded(ctx, hash)
			cancel()
			if why != "" {
				s.sessions.end(hash, why)
			} else if demoted {
				for _, c := range s.sessions.demote(hash) {
					s.leaveUnlisted(c)
				}
			}
		}
	}
}

// purgeSessionsEvery runs purgeSessions at start (the rows left while the
// server was down) and every SessionPurge until quit is closed: on a
// goroutine of its own, so that a long purge never holds up sweep's
// checks of live sessions (a logout must still close sockets in seconds).
func (s *Server) purgeSessionsEvery(quit <-chan struct{}) {
	t := time.NewTicker(s.cfg.SessionPurge)
	defer t.Stop()
	for {
		s.purgeSessions()
		select {
		case <-quit:
			return
		case <-t.C:
		}
	}
}

// purgeSessions removes the sessions that have ended by the clock from
// the store: they are refused at every use anyway (sessionLive), but
// their rows would otherwise stay for good. Every node does it; the
// deletes are idempotent.
func (s *Server) purgeSessions() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	now := time.Now()
	n, err := s.cfg.Accounts.DeleteEndedSessions(ctx, now, now.Add(-s.cfg.SessionIdle))
	if err != nil {
		s.storeWarn.Add("session_purge", "err", err)
		return
	}
	if n > 0 {
		s.log.Info("ended sessions removed", "count", n)
	}
}

// sessionEnded returns why the session hash is no longer valid, or "";
// demoted reports that its account is no longer a server administrator.
// A store error keeps the session: an outage must not log everyone out.
func (s *Server) sessionEnded(ctx context.Context, hash string) (why string, demoted bool) {
	sess, u, err := s.cfg.Accounts.SessionUser(ctx, hash)
	if errors.Is(err, chat.ErrNoSuchSession) {
		return "session ended", false
	}
	if err != nil && !errors.Is(err, chat.ErrNoSuchUser) {
		return "", false
	}
	now := time.Now()
	if now.After(sess.ExpiresAt) {
		return "session expired", false
	}
	if err != nil || u.Disabled { // ErrNoSuchUser
		return "account disabled", false
	}
	// A live socket is activity: keep the idle expiry moving.
	if now.Sub(sess.LastSeen) > time.Minute {
		s.cfg.Accounts.TouchSession(ctx, hash, now)
	}
	return "", !u.Admin
}

// demote takes server administration away from every socket of the
// session hash (hubbubd user unadmin): the sockets stay up, as the
// account's, with the rights of an ordinary user from now on. Being made
// an administrator takes a new connection. It returns the sockets it
// demoted now (not those demoted before).
func (ss *sessions) demote(hash string) []*conn {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var out []*conn
	for c := range ss.conns[hash] {
		// Only a socket that was an administrator's at its handshake
		// has anything to lose.
		if sess, ok := c.h.(*session); ok && sess.auth != nil && sess.auth.user.Admin && !sess.demoted.Swap(true) {
			out = append(out, c)
		}
	}
	return out
}

// leaveUnlisted takes a demoted administrator's socket out of the
// private rooms it could enter only as an administrator (it has no role
// there), with a kicked event for each, as a kick would.
func (s *Server) leaveUnlisted(c *conn) {
	ss := c.h.(*session)
	acc := s.cfg.Access
	if acc == nil || ss.auth == nil {
		return
	}
	name := ss.auth.user.Name
	ss.mu.Lock()
	rooms := ss.joined.names()
	ss.mu.Unlock()
	for _, room := range rooms {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.SessionCheck)
		r, err := s.roomRows.get(ctx, s.cfg.Store, room, time.Now())
		role := ""
		if err == nil && r.Private {
			role, err = acc.Role(ctx, room, name)
		}
		cancel()
		if err != nil || !r.Private || role != "" {
			continue
		}
		if !ss.forceLeave(c, room) {
			continue
		}
		b, err := protocol.EncodeEvent(&protocol.Event{Type: protocol.TypeKicked, Room: room, User: name, Reason: "no longer a server administrator"})
		if err == nil {
			c.enqueue(outMsg{data: b})
		}
	}
}
