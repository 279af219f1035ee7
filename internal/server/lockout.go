package server

import (
	"time"
)

// Login throttling slows the guesser, not the owner. A failed password
// counts against three keys:
//
//   - the account and the address together (LoginFreeFails free, then
//     waits of 1 s, 2 s, 4 s … up to LoginBackoffMax);
//   - the address (LoginIPFails per LoginIPWindow, whatever the account);
//   - the account from everywhere (LoginAccountFails free, then the same
//     doubling waits), which binds only addresses that have failed on this
//     account themselves.
//
// So five wrong passwords for carol from anywhere never make carol's
// correct password wait at an address with no failures on carol, while a
// guesser is slowed at its own addresses, and a guesser spread over many
// addresses is slowed at all of them once the account has many failures.

// loginWait returns how long an attempt on account name from ip must wait;
// 0 means it may try now.
func (s *Server) loginWait(name, ip string, now time.Time) time.Duration {
	l := s.limits
	wait := max(l.loginIP.Check(ip, now), l.loginPair.Check(loginPairKey(name, ip), now))
	if l.loginPair.Failing(loginPairKey(name, ip), now) {
		wait = max(wait, l.loginUser.Check(name, now))
	}
	return wait
}

// loginFailed records a wrong password for name from ip.
func (s *Server) loginFailed(name, ip string, now time.Time) {
	s.limits.loginPair.Fail(loginPairKey(name, ip), now)
	s.limits.loginUser.Fail(name, now)
	s.limits.loginIP.Fail(ip, now)
}

// loginSucceeded forgets the failures of name at ip. The account-wide
// count is left to expire: one good login must not clear a distributed
// guesser's record.
func (s *Server) loginSucceeded(name, ip string) {
	s.limits.loginPair.Succeed(loginPairKey(name, ip))
}

// loginPairKey keys the account-and-address count. NUL cannot occur in an
// account name or an IP address.
func loginPairKey(name, ip string) string { return name + "\x00" + ip }
