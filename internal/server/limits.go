package server

import (
	"time"

	"github.com/hubbub-chat/hubbub/internal/ratelimit"
)

// limits are the server-wide abuse limits; per-connection buckets live in
// each session. All are safe for concurrent use.
type limits struct {
	handshakes  *ratelimit.Keyed   // per client IP
	register    *ratelimit.Keyed   // account registrations per client IP
	roomCreates *ratelimit.Keyed   // per account; per guest identity and per guest address
	loginPair   *ratelimit.Backoff // failed logins per account and client IP
	loginUser   *ratelimit.Backoff // failed logins per account, from all IPs (binds only IPs that failed on it)
	loginIP     *ratelimit.Backoff // failed logins per client IP
	passwordIP  *ratelimit.Keyed   // password checks (argon2id hashes), right or wrong, per client IP
	connsUser   *ratelimit.Counter // open sockets per account
	connsIP     *ratelimit.Counter // open sockets per client IP
	uploads     *ratelimit.Keyed   // uploads started per account or guest identity, and per guest address
	guestBytes  *ratelimit.Keyed   // bytes of the uploads guests start, per guest address
}

func newLimits(cfg *Config) *limits {
	perWindow := func(n int, window time.Duration) float64 { return float64(n) / window.Seconds() }
	return &limits{
		handshakes:  ratelimit.NewKeyed(ratelimit.Limit{Rate: cfg.HandshakeRate, Burst: cfg.HandshakeBurst}, 0),
		register:    ratelimit.NewKeyed(ratelimit.Limit{Rate: perWindow(10, time.Hour), Burst: 10}, 0),
		roomCreates: ratelimit.NewKeyed(ratelimit.Limit{Rate: perWindow(cfg.RoomCreates, cfg.RoomCreateWindow), Burst: cfg.RoomCreates}, 0),
		loginPair:   ratelimit.NewBackoff(ratelimit.BackoffConfig{FreeFailures: cfg.LoginFreeFails, Base: time.Second, Max: cfg.LoginBackoffMax}),
		loginUser:   ratelimit.NewBackoff(ratelimit.BackoffConfig{FreeFailures: cfg.LoginAccountFails, Base: time.Second, Max: cfg.LoginBackoffMax}),
		// Per IP: LoginIPFails failures are free, then each further one
		// waits out the window.
		loginIP:    ratelimit.NewBackoff(ratelimit.BackoffConfig{FreeFailures: cfg.LoginIPFails, Base: cfg.LoginIPWindow, Max: cfg.LoginIPWindow}),
		passwordIP: ratelimit.NewKeyed(ratelimit.Limit{Rate: cfg.LoginIPRate / 60, Burst: max(1, int(cfg.LoginIPRate))}, 0),
		connsUser:  &ratelimit.Counter{},
		connsIP:    &ratelimit.Counter{},
		uploads:    ratelimit.NewKeyed(ratelimit.Limit{Rate: cfg.UploadRate, Burst: cfg.UploadBurst}, 0),
		guestBytes: ratelimit.NewKeyed(ratelimit.Limit{Rate: min(1e9, perWindow(int(cfg.UploadQuota), 24*time.Hour)), Burst: int(cfg.UploadQuota)}, 0),
	}
}
