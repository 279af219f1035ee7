package server

import (
	"context"
	"errors"
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
//   - no other guest identity online on this node may hold a name with the
//     same names.Key: name_taken. The same guest (same identity, another
//     tab) may.
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
	if err := ss.checkAccountName(name); err != nil {
		if protocol.CodeOf(err) == protocol.CodeNameTaken {
			ss.srv.limits.loginIP.Fail(ss.ip, time.Now())
		}
		return err
	}
	if !ss.srv.guests.claim(key, guestRecord{key: ss.guestID, display: name, ip: ss.ip, at: time.Now()}) {
		return protocol.Errorf(protocol.CodeNameTaken, "someone online is called %s already; pick another name", name)
	}
	ss.nameKey = key
	return nil
}

// releaseGuestName gives up the name claimGuestName held, if any.
func (ss *session) releaseGuestName() {
	if ss.nameKey != "" {
		ss.srv.guests.release(ss.nameKey, ss.guestID, time.Now())
		ss.nameKey = ""
	}
}

// checkAccountName refuses a guest name that is an account's name in any
// of its names.Forms.
func (ss *session) checkAccountName(name string) error {
	if ss.srv.cfg.Accounts == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, cand := range names.Forms(name) {
		if protocol.CheckUsername(cand) != nil {
			continue
		}
		_, err := ss.srv.cfg.Accounts.User(ctx, cand)
		switch {
		case err == nil:
			return protocol.Errorf(protocol.CodeNameTaken, "%s is an account's name; pick another or log in", name)
		case !errors.Is(err, chat.ErrNoSuchUser):
			return err
		}
	}
	return nil
}
