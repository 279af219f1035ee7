package protocol

import (
	"strconv"
	"strings"
	"time"
)

// retryAfterPrefix starts the reason of a close frame (1013) that says when
// to come back: "retry after 7s", optionally followed by "; " and text.
const retryAfterPrefix = "retry after "

// RetryAfterReason returns the close reason a server sends with 1013 try
// again later to ask the client to wait d before reconnecting: "retry after
// Ns", N being d rounded up to whole seconds, at least 1. Browsers cannot read
// the Retry-After header of a refused handshake, so a server that wants a
// browser to wait upgrades and closes with this reason instead.
func RetryAfterReason(d time.Duration) string {
	secs := max(1, int64((d+time.Second-1)/time.Second))
	return retryAfterPrefix + strconv.FormatInt(secs, 10) + "s"
}

// ParseRetryAfter reads the wait a close reason asks for (see
// RetryAfterReason). It reports false for any other reason, and for a wait
// of 0 or more than an hour.
func ParseRetryAfter(reason string) (time.Duration, bool) {
	rest, ok := strings.CutPrefix(reason, retryAfterPrefix)
	if !ok {
		return 0, false
	}
	num, tail, ok := strings.Cut(rest, "s")
	if !ok || (tail != "" && !strings.HasPrefix(tail, ";")) || num == "" || len(num) > 4 {
		return 0, false
	}
	secs, err := strconv.Atoi(num)
	if err != nil || secs < 1 || secs > 3600 || strconv.Itoa(secs) != num {
		return 0, false
	}
	return time.Duration(secs) * time.Second, true
}
