package server

import (
	"context"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/names"
	"github.com/hubbub-chat/hubbub/protocol"
)

// claimGuestName checks a guest's display name and holds it for this
// connection:
//
//   - it must pass names.Check (no invisible or default-ignorable
//     characters, something visible): invalid_value;
//   - it must not look like an account's name, as names.Forms spells it
//     ("Аlice" in Cyrillic, "ＡＬＩＣＥ" and "aIice" are alice): name_taken;
//   - no other guest identity online on this node, nor (with Config.Names)
//     on any other node, may hold a name with the same names.Key:
//     name_taken. The same guest (same identity, another tab) may.
//
// A name_taken answer because of an account counts as a failed login of
// the client's address (Config.LoginIPFails per LoginIPWindow), and a
// hello from an address over that limit gets rate_limited: hello is not a
// way around the login endpoint's protection against enumerating
// accounts.
func (ss *session) claimGuestName(name string) error {
	if err := names.Check(name); err != nil {
		return protocol.Errorf(protocol.CodeInvalidValue, "pick a name with visible letters, digits or signs only")
	}
	if retry := ss.srv.limits.loginIP.Check(ss.ip, time.Now()); retry > 0 {
		return protocol.Errorf(protocol.CodeRateLimited, "too many names tried; try again in %s", retry.Round(time.Second))
	}
	key := names.Key(name)
	if names.Sigiled(key) {
		return protocol.Errorf(protocol.CodeInvalidValue, "a guest's name may not start with @, ~, & or # (signs that clients show before names)")
	}
	if err := ss.checkAccountName(name); err != nil {
		if protocol.CodeOf(err) == protocol.CodeNameTaken {
			ss.srv.limits.loginIP.Fail(ss.ip, time.Now())
		}
		return err
	}
	first, ok := ss.srv.guests.claim(key, guestRecord{key: ss.guestID, display: name, ip: ss.ip, at: time.Now()})
	if !ok {
		return protocol.Errorf(protocol.CodeNameTaken, "someone online is called %s already; pick another name", name)
	}
	if first {
		if err := ss.srv.leaseName(key, ss.guestID); err != nil {
			ss.srv.guests.release(key, ss.guestID, time.Now())
			return err
		}
	}
	ss.nameKey = key
	return nil
}

// Names across nodes. With Config.Names, a guest's name is also held by a
// lease in the shared store, taken when the first connection of its guest
// on this node claims it, renewed every nameRenew by renewNames while any
// connection here holds it, and released when the last one lets go. A
// node that dies stops renewing: its guests' names are free nameLease
// after its last renewal.
const (
	nameLease = 30 * time.Second
	nameRenew = 10 * time.Second
)

// leaseName takes the lease of key for holder, or returns name_taken if
// another guest holds it on another node.
func (s *Server) leaseName(key, holder string) error {
	if s.cfg.Names == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := time.Now()
	taken, err := s.cfg.Names.ClaimNames(ctx, []chat.NameClaim{{Key: key, Holder: holder}}, now, now.Add(nameLease))
	if err != nil {
		return err
	}
	if len(taken) > 0 {
		return protocol.Errorf(protocol.CodeNameTaken, "someone online is called that already; pick another name")
	}
	return nil
}

// renewNames renews the leases of the names held on this node every
// nameRenew until quit is closed.
func (s *Server) renewNames(quit <-chan struct{}) {
	t := time.NewTicker(nameRenew)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		claims := s.guests.held()
		if len(claims) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), nameRenew)
		now := time.Now()
		taken, err := s.cfg.Names.ClaimNames(ctx, claims, now, now.Add(nameLease))
		cancel()
		if err != nil {
			s.log.Warn("renewing guest name leases failed", "names", len(claims), "err", err)
			continue
		}
		if len(taken) > 0 {
			// Our lease ran out (the store was unreachable for longer
			// than nameLease) and another node's guest took the name.
			s.log.Warn("guest names taken on another node while their leases had lapsed", "names", len(taken))
		}
	}
}

// unleaseName releases the lease of key, in the background: the
// connection that let go of it is ending and need not wait.
func (s *Server) unleaseName(key, holder string) {
	if s.cfg.Names == nil {
		return
	}
	s.bg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.cfg.Names.ReleaseName(ctx, key, holder); err != nil {
			s.log.Warn("releasing a guest name lease failed; it ends by itself", "err", err)
		}
	})
}

// releaseGuestName gives up the name claimGuestName held, if any.
func (ss *session) releaseGuestName() {
	if ss.nameKey != "" {
		if ss.srv.guests.release(ss.nameKey, ss.guestID, time.Now()) {
			ss.srv.unleaseName(ss.nameKey, ss.guestID)
		}
		ss.nameKey = ""
	}
}

// checkAccountName refuses a guest name that is an account's name in any
// of its names.Forms.
func (ss *session) checkAccountName(name string) error {
	if ss.srv.cfg.Accounts == nil {
		return nil
	}
	var cands []string
	for _, cand := range names.Forms(name) {
		if protocol.CheckUsername(cand) == nil {
			cands = append(cands, cand)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	taken, err := ss.srv.cfg.Accounts.AnyUser(ctx, cands)
	switch {
	case err != nil:
		return err
	case taken:
		return protocol.Errorf(protocol.CodeNameTaken, "%s is an account's name; pick another or log in", name)
	}
	return nil
}
