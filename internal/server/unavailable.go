package server

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// storeOutage reports whether err is an outage of a backend rather than a
// bug: what the client should hear as `unavailable` (retry later, the
// server is fine) and not `internal`. It is the one place that decides.
//
// A store marks its own outages with chat.ErrUnavailable (pgstore and
// sqlitestore classify their drivers' errors). Besides that, without
// knowing any driver: a deadline that ran out (the store or broker did not
// answer in time), a network error (a refused, reset or timed-out
// connection to a database or broker), or a connection that ended mid-reply.
// Everything else, including a context cancelled by the server itself, is
// a bug or an unexpected state, and stays `internal`.
func storeOutage(err error) bool {
	if errors.Is(err, chat.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF)
}
