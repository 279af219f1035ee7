package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/protocol"
)

// Defaults of the reconnect backoff.
const (
	DefaultBackoffBase = 250 * time.Millisecond
	DefaultBackoffMax  = 30 * time.Second
)

// backoff computes reconnect delays: exponential with full jitter.
type backoff struct {
	base time.Duration // the first ceiling, > 0
	max  time.Duration // the largest ceiling, >= base

	// randN returns a uniform random number in [0, n). nil means
	// math/rand/v2's Int64N. Tests replace it.
	randN func(n int64) int64
}

// retryJitter is the most a wait the server asked for is lengthened by, at
// random. The server spreads the waits it hands out over a storm itself
// (whole seconds, in order); the jitter fills in each second.
const retryJitter = time.Second

// delay returns how long to wait before dial attempt number attempt (1 for
// the first dial after a drop): a uniform random duration in
// [0, min(max, base·2^(attempt-1))]. When cause says the server asked
// clients to wait (close 1001, 1012 or 1013, HTTP 429 or 503), base is added, so
// the wait is at least base; the result never exceeds max. When cause
// names the wait itself (Retry-After on a refused handshake, or a 1013
// close whose reason is "retry after Ns"), the delay is that wait plus a
// uniform random jitter of up to retryJitter, even past max.
func (b backoff) delay(attempt int, cause error) time.Duration {
	randN := b.randN
	if randN == nil {
		randN = rand.Int64N
	}
	if wait := serverWait(cause); wait > 0 {
		return wait + time.Duration(randN(int64(retryJitter)+1))
	}
	ceil := b.base
	for i := 1; i < attempt && ceil < b.max; i++ {
		ceil *= 2
	}
	ceil = min(ceil, b.max)
	d := time.Duration(randN(int64(ceil) + 1))
	if asksToWait(cause) {
		d = min(b.base+d, b.max)
	}
	return d
}

// redial calls dial until it succeeds, waiting b.delay before each call.
// The attempt count starts at 1 on every call of redial, so the backoff
// starts over after each good connection. notify is told about every wait
// before it starts. redial gives up when ctx ends or when dial fails with
// an error that retrying cannot fix (see permanent).
func redial[T any](ctx context.Context, b backoff, cause error, dial func(context.Context) (T, error), notify func(attempt int, next time.Time, cause error)) (T, error) {
	var zero T
	for attempt := 1; ; attempt++ {
		d := b.delay(attempt, cause)
		notify(attempt, time.Now().Add(d), cause)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return zero, ctx.Err()
		case <-t.C:
		}
		v, err := dial(ctx)
		if err == nil {
			return v, nil
		}
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
		if permanent(err) {
			return zero, err
		}
		cause = err
	}
}

// asksToWait reports whether err says the server wants clients to come back
// later rather than at once.
func asksToWait(err error) bool {
	if ce, ok := errors.AsType[*websocket.CloseError](err); ok {
		return ce.Code == protocol.CloseGoingAway || ce.Code == protocol.CloseServiceRestart || ce.Code == protocol.CloseTryAgainLater
	}
	if he, ok := errors.AsType[*HandshakeError](err); ok {
		return he.StatusCode == 429 || he.StatusCode == 503
	}
	return false
}

// serverWait returns the wait err names, if the server named one: the
// Retry-After of a refused handshake, or the "retry after Ns" reason of a
// 1013 close (protocol.RetryAfterReason). 0 otherwise.
func serverWait(err error) time.Duration {
	if he, ok := errors.AsType[*HandshakeError](err); ok {
		return he.RetryAfter
	}
	if ce, ok := errors.AsType[*websocket.CloseError](err); ok && ce.Code == protocol.CloseTryAgainLater {
		if d, ok := protocol.ParseRetryAfter(ce.Text); ok {
			return d
		}
	}
	return 0
}

// permanent reports whether err ends the client instead of a reconnect:
// the server closed with 1008 (policy: auth ended, abuse), refused the
// handshake with 401 or 403, or refused hello for a reason a retry with the
// same options cannot fix.
func permanent(err error) bool {
	if ce, ok := errors.AsType[*websocket.CloseError](err); ok {
		return ce.Code == protocol.ClosePolicy
	}
	if he, ok := errors.AsType[*HandshakeError](err); ok {
		return he.StatusCode == 401 || he.StatusCode == 403
	}
	if he, ok := errors.AsType[*helloError](err); ok {
		switch he.err.Code {
		case protocol.CodeInternal, protocol.CodeUnavailable, protocol.CodeRateLimited,
			protocol.CodeLimitReached, protocol.CodeTooManyInFlight:
			return false
		}
		return true
	}
	return false
}
