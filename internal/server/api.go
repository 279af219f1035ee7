package server

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hubbub-chat/hubbub/internal/auth"
	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// The account API: JSON over HTTP, described in docs/protocol.md.
//
//	POST /api/register  {"username","password","bearer"}
//	POST /api/login     {"username","password","bearer"}
//	POST /api/logout
//	POST /api/password  {"old","new"}
//	POST /api/account/delete  {"password"}  (deleteaccount.go)
//	GET  /api/session

type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Bearer   bool   `json:"bearer,omitempty"` // return the token in the body instead of a cookie
}

type sessionReply struct {
	Self     *protocol.Identity `json:"self,omitempty"`
	Token    string             `json:"token,omitempty"`
	Guests   *bool              `json:"guests,omitempty"`
	Accounts *bool              `json:"accounts,omitempty"`
	// OriginRefused, on GET /api/session with an X-Hubbub-Origin header
	// that the server would refuse, says so in a sentence for the user.
	OriginRefused string `json:"origin_refused,omitempty"`
}

type apiError struct {
	Code   protocol.Code `json:"code"`
	Reason string        `json:"reason"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// apiFail maps err to an HTTP status and a stable code, once, here.
func (s *Server) apiFail(w http.ResponseWriter, err error) {
	var pe *protocol.Error
	if !errors.As(err, &pe) {
		switch {
		case errors.Is(err, auth.ErrBusy):
			w.Header().Set("Retry-After", "1")
			pe = protocol.Errorf(protocol.CodeUnavailable, "the server is busy; try again in a moment")
		case storeOutage(err):
			s.storeWarn.Add("account_api", "err", err)
			w.Header().Set("Retry-After", "2")
			pe = protocol.Errorf(protocol.CodeUnavailable, "the store is unavailable; try again in a moment")
		default:
			s.log.Error("account api", "err", err)
			pe = protocol.Errorf(protocol.CodeInternal, "internal error")
		}
	}
	status := map[protocol.Code]int{
		protocol.CodeBadJSON:        http.StatusBadRequest,
		protocol.CodeInvalidValue:   http.StatusBadRequest,
		protocol.CodeTooLong:        http.StatusBadRequest,
		protocol.CodeBadCredentials: http.StatusUnauthorized,
		protocol.CodeUnauthorized:   http.StatusUnauthorized,
		protocol.CodeGuestsDisabled: http.StatusUnauthorized,
		protocol.CodeForbidden:      http.StatusForbidden,
		protocol.CodeNameTaken:      http.StatusConflict,
		protocol.CodeRateLimited:    http.StatusTooManyRequests,
		protocol.CodeLimitReached:   http.StatusTooManyRequests,
		protocol.CodeUnavailable:    http.StatusServiceUnavailable,
		protocol.CodeNoSuchFile:     http.StatusNotFound,
		protocol.CodeBanned:         http.StatusForbidden,
	}[pe.Code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	writeJSON(w, status, apiError{Code: pe.Code, Reason: pe.Reason})
}

// apiGuard applies to every POST of the account API: accounts must be
// enabled, and the request must pass postGuard.
func (s *Server) apiGuard(w http.ResponseWriter, r *http.Request) bool {
	if s.cfg.Accounts == nil {
		writeJSON(w, http.StatusNotFound, apiError{Code: protocol.CodeForbidden, Reason: "accounts are not enabled on this server"})
		return false
	}
	return s.postGuard(w, r)
}

// postGuard applies to every POST the server takes (the account API and
// the inspector's watch): JSON only (a form post from another site cannot
// forge it), and browsers must pass the Origin policy. It has answered the
// request (415 or 403) when it returns false.
func (s *Server) postGuard(w http.ResponseWriter, r *http.Request) bool {
	if !s.checkOrigin(r) {
		writeJSON(w, http.StatusForbidden, apiError{Code: protocol.CodeForbidden, Reason: s.originRefusedReason(r.Header.Get("Origin"), r)})
		return false
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Method == http.MethodPost && mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, apiError{Code: protocol.CodeBadJSON, Reason: "send application/json"})
		return false
	}
	return true
}

// readCredentials guards a POST and reads its credentials; the user name
// comes back lower-cased. It has answered the request when ok is false.
func (s *Server) readCredentials(w http.ResponseWriter, r *http.Request) (c credentials, name string, ok bool) {
	if !s.apiGuard(w, r) {
		return c, "", false
	}
	if err := decodeBody(r.Body, &c); err != nil {
		s.apiFail(w, err)
		return c, "", false
	}
	return c, strings.ToLower(c.Username), true
}

func (s *Server) serveRegister(w http.ResponseWriter, r *http.Request) {
	c, name, ok := s.readCredentials(w, r)
	if !ok {
		return
	}
	if err := protocol.CheckUsername(name); err != nil {
		s.apiFail(w, err)
		return
	}
	if err := protocol.CheckPassword(c.Password); err != nil {
		s.apiFail(w, err)
		return
	}
	if ok, retry := s.limits.register.Allow(s.clientIP(r), time.Now()); !ok {
		s.tooMany(w, retry)
		return
	}
	hash, err := s.hasher.HashPassword(r.Context(), c.Password)
	if err != nil {
		s.apiFail(w, err)
		return
	}
	err = s.cfg.Accounts.CreateUser(r.Context(), chat.User{Name: name, PasswordHash: hash, CreatedAt: time.Now()})
	if errors.Is(err, chat.ErrUserExists) {
		s.apiFail(w, protocol.Errorf(protocol.CodeNameTaken, "that user name is taken"))
		return
	}
	if err != nil {
		s.apiFail(w, err)
		return
	}
	s.log.Info("account registered", "user", name)
	s.startSession(w, r, chat.User{Name: name}, c.Bearer, http.StatusCreated)
}

// allowPasswordCheck applies Config.LoginIPRate to a login or password
// change from ip, right password or wrong: each costs an argon2id hash,
// and the failure limits never see a client that logs in to its own
// account in a loop. It has answered 429 when it returns false.
func (s *Server) allowPasswordCheck(w http.ResponseWriter, ip string) bool {
	if ok, retry := s.limits.passwordIP.Allow(ip, time.Now()); !ok {
		s.tooMany(w, retry)
		return false
	}
	return true
}

func (s *Server) tooMany(w http.ResponseWriter, retry time.Duration) {
	secs := int(retry.Round(time.Second) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	s.apiFail(w, protocol.Errorf(protocol.CodeRateLimited, "too many attempts; try again in %d s", max(secs, 1)))
}

func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	c, name, ok := s.readCredentials(w, r)
	if !ok {
		return
	}
	ip := s.clientIP(r)
	if retry := s.loginWait(name, ip, time.Now()); retry > 0 {
		s.tooMany(w, retry)
		return
	}
	if !s.allowPasswordCheck(w, ip) {
		return
	}
	fail := func(known bool) {
		s.loginFailed(name, ip, time.Now())
		if known {
			s.log.Info("login failed", "user", name, "ip", ip)
		} else {
			// Not the name as typed: a password typed into the name field
			// (the name of no account) would be written to the log.
			s.log.Info("login failed: no such account", "ip", ip)
		}
		s.apiFail(w, protocol.Errorf(protocol.CodeBadCredentials, "wrong user name or password"))
	}
	u, err := s.cfg.Accounts.User(r.Context(), name)
	if errors.Is(err, chat.ErrNoSuchUser) || protocol.CheckUsername(name) != nil {
		// The same work as a real check, so timing does not tell.
		if err := s.hasher.DummyVerify(r.Context(), c.Password); err != nil {
			s.apiFail(w, err)
			return
		}
		fail(false)
		return
	}
	if err != nil {
		s.apiFail(w, err)
		return
	}
	ok, err = s.hasher.VerifyPassword(r.Context(), u.PasswordHash, c.Password)
	if err != nil {
		s.apiFail(w, err)
		return
	}
	if !ok {
		fail(true)
		return
	}
	if u.Disabled {
		s.apiFail(w, protocol.Errorf(protocol.CodeForbidden, "this account is disabled"))
		return
	}
	s.loginSucceeded(name, ip)
	if s.hasher.NeedsRehash(u.PasswordHash) {
		if h, err := s.hasher.HashPassword(r.Context(), c.Password); err == nil {
			u.PasswordHash = h
			s.cfg.Accounts.UpdateUser(r.Context(), u)
		}
	}
	s.startSession(w, r, u, c.Bearer, http.StatusOK)
}

// confirmPassword checks that password is a's, for a request that asks
// for it again (changing the password, deleting the account), under the
// login's guards: the backoff of the account and the address
// (loginWait), the address's budget of password checks, and a failure
// counted as a failed login. When it returns false it has answered the
// request: 429, or 401 bad_credentials with wrong as the reason.
func (s *Server) confirmPassword(w http.ResponseWriter, r *http.Request, a *authInfo, password, wrong string) bool {
	ip := s.clientIP(r)
	if retry := s.loginWait(a.user.Name, ip, time.Now()); retry > 0 {
		s.tooMany(w, retry)
		return false
	}
	if !s.allowPasswordCheck(w, ip) {
		return false
	}
	ok, err := s.hasher.VerifyPassword(r.Context(), a.user.PasswordHash, password)
	if err != nil {
		s.apiFail(w, err)
		return false
	}
	if !ok {
		s.loginFailed(a.user.Name, ip, time.Now())
		s.apiFail(w, protocol.Errorf(protocol.CodeBadCredentials, "%s", wrong))
		return false
	}
	return true
}

// startSession creates a session for u and hands its token to the client:
// in an HttpOnly cookie for browsers, in the body for bearer clients.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u chat.User, bearer bool, status int) {
	tok, hash := auth.NewToken()
	now := time.Now()
	sess := chat.Session{TokenHash: hash, User: u.Name, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(s.cfg.SessionMax)}
	if err := s.cfg.Accounts.CreateSession(r.Context(), sess); err != nil {
		s.apiFail(w, err)
		return
	}
	// Past SessionsPerUser, the least recently used sessions end, and
	// their sockets with them. A failure here leaves one session too many
	// until the next login: not worth refusing this one.
	ended, err := s.cfg.Accounts.TrimUserSessions(r.Context(), u.Name, s.cfg.SessionsPerUser)
	if err != nil {
		s.log.Warn("trim sessions", "user", u.Name, "err", err)
	}
	for _, h := range ended {
		s.sessions.end(h, "too many sessions for this account; this one was used least recently")
	}
	reply := sessionReply{Self: &protocol.Identity{Name: u.Name, Admin: u.Admin}}
	if bearer {
		reply.Token = tok
	} else {
		http.SetCookie(w, &http.Cookie{
			Name:     sessionCookie,
			Value:    tok,
			Path:     "/",
			Expires:  sess.ExpiresAt,
			HttpOnly: true,
			Secure:   s.secureCookies(r),
			SameSite: http.SameSiteLaxMode,
		})
	}
	writeJSON(w, status, reply)
}

func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	if !s.apiGuard(w, r) {
		return
	}
	a, err := s.authenticate(r.Context(), r)
	if a != nil {
		if err := s.cfg.Accounts.DeleteSession(r.Context(), a.tokenHash); err != nil {
			s.apiFail(w, err)
			return
		}
		s.sessions.end(a.tokenHash, "logged out")
	} else if err != nil && !errors.Is(err, errUnauthorized) {
		s.apiFail(w, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) servePassword(w http.ResponseWriter, r *http.Request) {
	if !s.apiGuard(w, r) {
		return
	}
	var body struct {
		Old string `json:"old"`
		New string `json:"new"`
	}
	if err := decodeBody(r.Body, &body); err != nil {
		s.apiFail(w, err)
		return
	}
	a, err := s.authenticate(r.Context(), r)
	if err != nil || a == nil {
		s.apiFail(w, errUnauthorized)
		return
	}
	if err := protocol.CheckPassword(body.New); err != nil {
		s.apiFail(w, err)
		return
	}
	if !s.confirmPassword(w, r, a, body.Old, "the old password is wrong") {
		return
	}
	hash, err := s.hasher.HashPassword(r.Context(), body.New)
	if err != nil {
		s.apiFail(w, err)
		return
	}
	u := a.user
	u.PasswordHash = hash
	if err := s.cfg.Accounts.UpdateUser(r.Context(), u); err != nil {
		s.apiFail(w, err)
		return
	}
	ended, err := s.cfg.Accounts.DeleteUserSessions(r.Context(), u.Name, a.tokenHash)
	if err != nil {
		s.apiFail(w, err)
		return
	}
	for _, h := range ended {
		s.sessions.end(h, "password changed")
	}
	s.log.Info("password changed", "user", u.Name, "sessions_ended", len(ended))
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) serveSession(w http.ResponseWriter, r *http.Request) {
	guests, accounts := !s.cfg.NoGuests, s.cfg.Accounts != nil
	reply := sessionReply{Guests: &guests, Accounts: &accounts}
	a, err := s.authenticate(r.Context(), r)
	if err != nil && !errors.Is(err, errUnauthorized) {
		s.apiFail(w, err)
		return
	}
	if a != nil {
		reply.Self = &protocol.Identity{Name: a.user.Name, Admin: a.user.Admin}
	}
	if o := r.Header.Get("X-Hubbub-Origin"); o != "" && !s.originAllowed(o, r) {
		reply.OriginRefused = s.originRefusedReason(o, r)
	}
	writeJSON(w, http.StatusOK, reply)
}
