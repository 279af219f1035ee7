package client

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

// SendError is the error of a Send or SendWithID that did not get its
// acknowledgement. CMID is the message's client message id: retrying with
// SendWithID and this CMID can never store the message twice, because the
// server answers a known cmid with the first acknowledgement instead of
// storing it again. Err says why (a *protocol.Error, ctx's error, ErrClosed).
type SendError struct {
	CMID string
	Err  error
}

func (e *SendError) Error() string { return "send " + e.CMID + ": " + e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// Send sends a message to a joined room and returns it as stored, with its
// sequence number, once the server has committed it. It gives the message
// a fresh client message id (see NewCMID) and is otherwise SendWithID.
func (c *Client) Send(ctx context.Context, room, body string) (protocol.Message, error) {
	return c.SendWithID(ctx, room, NewCMID(), body)
}

// SendWithID sends a message with the client message id cmid (see
// protocol.CheckCMID; NewCMID makes one) and returns it as stored once the
// server has committed it.
//
// A message is stored at most once per cmid, however often it is sent.
// SendWithID keeps cmid across every retry it makes itself:
//   - if the connection drops before the acknowledgement, the same command
//     is sent again after the reconnect;
//   - if the server refuses it as unavailable (its store is down or it is
//     restarting: the message may have been committed and only the reply
//     lost), it is sent again after a backoff (BackoffBase doubling up to
//     BackoffMax, with full jitter), until ctx ends.
//
// Any other refusal (not_joined, muted, rate_limited, internal, ...) is
// returned at once. Every error is a *SendError carrying cmid: an
// application that retries later, after ctx ended or after restarting,
// passes the same cmid (and room and body) to SendWithID, and the message
// is still stored once. If ctx ends first, the error wraps ctx's error and
// the message may or may not have been stored (if it was, it arrives as a
// MessageEvent like any other).
func (c *Client) SendWithID(ctx context.Context, room, cmid, body string) (protocol.Message, error) {
	if cmid == "" {
		return protocol.Message{}, &SendError{CMID: cmid, Err: errors.New("client: SendWithID needs a cmid")}
	}
	return c.send(ctx, protocol.Command{Op: protocol.OpSend, Room: room, Body: body, CMID: cmid})
}

// send runs SendWithID's loop for cmd, a send with its cmid.
func (c *Client) send(ctx context.Context, cmd protocol.Command) (protocol.Message, error) {
	cmid := cmd.CMID
	var refused error // the last unavailable refusal
	for attempt := 1; ; attempt++ {
		ev, err := c.do(ctx, cmd, true)
		if err == nil {
			if ev.Message == nil {
				return protocol.Message{}, &SendError{CMID: cmid, Err: errors.New("client: server's send reply has no message")}
			}
			return *ev.Message, nil
		}
		if refused != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return protocol.Message{}, &SendError{CMID: cmid, Err: fmt.Errorf("%w (the server last answered: %w)", err, refused)}
		}
		if protocol.CodeOf(err) != protocol.CodeUnavailable {
			return protocol.Message{}, &SendError{CMID: cmid, Err: err}
		}
		refused = err
		d := c.bo.delay(attempt, nil)
		c.log.Debug("send refused as unavailable; retrying", "cmid", cmid, "attempt", attempt, "in", d)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return protocol.Message{}, &SendError{CMID: cmid, Err: fmt.Errorf("%w (the server last answered: %w)", ctx.Err(), err)}
		}
	}
}

// NewCMID returns a fresh client message id: 22 characters of
// A-Za-z0-9-_ that sort in the order they were made. The first eight
// encode the time in milliseconds, the other fourteen 80 random bits, in
// a base64 alphabet in ASCII order (cmidEncoding). An application that
// keeps its unsent messages (an outbox) stores it with each, so that a
// resend after a restart uses it again.
//
// Time first, because the server keeps every cmid in an index by room,
// author and cmid to find resends: ids that grow go in at the end of the
// author's part of it, where random ones go to a different page of the
// index each, which costs the store more as history grows (the SQLite
// store's BenchmarkAppendCMID). Other members of the room see a message's
// cmid, and so the time its author's device wrote it.
func NewCMID() string { return newCMID(time.Now()) }

// cmidEncoding is base64 with its 64 characters in ASCII order, so that
// the encodings of two byte strings compare as the strings do.
var cmidEncoding = base64.NewEncoding("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz").WithPadding(base64.NoPadding)

// newCMID is NewCMID at time now: 48 bits of Unix milliseconds, then 80
// random bits.
func newCMID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (8 * (5 - i)))
	}
	rand.Read(b[6:])
	return cmidEncoding.EncodeToString(b[:])
}
