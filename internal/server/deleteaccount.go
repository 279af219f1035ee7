package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// AccountDeletedReason is the reason of the 1008 close frame that ends the
// sockets of an account deleted through this node (POST
// /api/account/delete). Other nodes, and deletion with hubbubd user
// delete, close them at their next session check with "session ended",
// as for any session that is gone from the store.
const AccountDeletedReason = "account deleted"

// serveDeleteAccount is POST /api/account/delete {"password"}: the
// signed-in user deletes their own account. The password is checked as
// /api/password checks the old one, under the same backoff; a wrong one
// counts as a failed login. It answers 204 and clears the cookie.
func (s *Server) serveDeleteAccount(w http.ResponseWriter, r *http.Request) {
	if !s.apiGuard(w, r) {
		return
	}
	var body struct {
		Password string `json:"password"`
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
	name := a.user.Name
	if !s.confirmPassword(w, r, a, body.Password, "the password is wrong") {
		return
	}
	if _, err := s.deleteAccount(r.Context(), name); errors.Is(err, chat.ErrNoSuchUser) {
		s.apiFail(w, errUnauthorized) // deleted meanwhile, by another request
		return
	} else if err != nil {
		s.apiFail(w, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secureCookies(r), SameSite: http.SameSiteLaxMode})
	w.WriteHeader(http.StatusNoContent)
}

// deleteAccount deletes the account name from the store
// (chat.Accounts.DeleteUser), closes the sockets of its sessions on this
// node with 1008 and AccountDeletedReason (other nodes close theirs at
// their next session check, the session being gone), and announces each
// room's new owner as promote would: a role entry in the room, from the
// deleted account, and a role event to the new owner. Its sockets leave
// their rooms as they close, which the rooms see as ordinary leave events.
func (s *Server) deleteAccount(ctx context.Context, name string) (chat.UserDeletion, error) {
	d, err := s.cfg.Accounts.DeleteUser(ctx, name)
	if err != nil {
		return d, err
	}
	for _, h := range d.Sessions {
		s.sessions.end(h, AccountDeletedReason)
	}
	for _, room := range d.Rooms {
		s.roles.forget(room)
	}
	s.admins.forget() // it may have been one
	for _, h := range d.Owners {
		s.announceOwner(name, h)
	}
	s.log.Info("account deleted", "user", name, "sessions_ended", len(d.Sessions), "rooms", len(d.Rooms), "owners", len(d.Owners))
	return d, nil
}

// announceOwner records that h.Owner owns h.Room now that from, its
// owner, was deleted: a role entry from from, and a role event to
// h.Owner's connections once it is committed. A failed commit is logged:
// the role itself is already in the store.
func (s *Server) announceOwner(from string, h chat.OwnerHandoff) {
	ev := &protocol.Event{Type: protocol.TypeRole, Room: h.Room, User: h.Owner, Role: protocol.RoleOwner, By: from}
	b, err := protocol.EncodeEvent(ev)
	if err != nil {
		s.log.Error("encode role", "room", h.Room, "err", err)
		return
	}
	p := pendingSend{
		msg: chat.NewMessage{Room: h.Room, Kind: chat.KindRole, Author: from, User: h.Owner, Body: protocol.RoleOwner},
		at:  time.Now(),
		done: func(res chat.AppendResult, err error) {
			if err == nil {
				err = res.Err
			}
			if err != nil {
				s.log.Warn("new owner's role entry", "room", h.Room, "user", h.Owner, "err", err)
			}
			s.hub.UserEvent(h.Owner, h.Room, b)
		},
	}
	if !s.commit.submit(p) {
		s.hub.UserEvent(h.Owner, h.Room, b)
	}
}
