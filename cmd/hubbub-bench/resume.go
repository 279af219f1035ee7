package main

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/protocol"
)

// Resuming after a slow-consumer close, hubbub only (Config.Resume).
//
// A client the server closes with 4000 does what docs/protocol.md's "On
// reconnect" tells a client to do, from its read goroutine, one reply at
// a time: it dials again with its guest cookie, says hello with the same
// name, joins its room, and pages through history after the last seq it
// received (historyPage at a time) until history reaches the join's
// last_seq; live messages that arrive meanwhile are held (seqLog) and
// recorded after it, in order, the seam's second copies dropped. If the
// new connection is closed as a slow consumer too, the catch-up goes on
// from a newer one. Its publisher, if it is one, waits for the join and
// goes on; the read goroutine first resends, with their cmids, the sends
// that an earlier connection never acknowledged, so that every message
// ends acknowledged once.
//
// What a resume costs shows in the result: deliveries recovered from
// history count as received, their latency measured from the publish like
// any other, and the time from the close to caught up is reported apart.

const (
	guestCookie       = "hubbub_guest" // the server's guest identity cookie
	historyPage       = protocol.MaxHistoryLimit
	maxResumeAttempts = 20 // failed reconnections in a row before a client gives up
)

// resumeState is a client's progress through a resume. Owned by the read
// goroutine.
type resumeState struct {
	active    bool      // hello, join or the catch-up of a resumed connection is under way
	dropped   bool      // this side dropped the connection to try again: its end is not the server's
	since     time.Time // when the first close of this resume was read
	failures  int       // failed attempts in a row, for the backoff
	nextUnack int       // the client's first slot as a publisher that may lack its ack
}

// resumes reports whether the run's clients resume after a slow-consumer
// close.
func (b *bench) resumes() bool { return b.cfg.Resume && b.cfg.Target == targetHubbub }

// resumable records how the connection ended and reports whether to open
// another: after a slow-consumer close or a connection that ended without
// a close frame, or after a failed attempt of a resume under way. A client whose first setup has not finished does not
// resume: dial is still waiting for its replies, and fails.
func (c *client) resumable(err error) bool {
	code, server := c.ended(err)
	rs := &c.resume
	c.connMu.Lock()
	set := c.set
	c.connMu.Unlock()
	switch {
	case !c.b.resumes() || c.closing.Load() || !set:
		return false
	case code == protocol.CloseSlowConsumer || code == websocket.CloseAbnormalClosure:
		// 1006, no close frame: the socket ended under the client, as
		// when a server that closed a stalled reader gave up waiting for
		// its answer and reset the connection before the 4000 was read.
		// The Go client library resumes after any drop; so does this.
		if !rs.active {
			rs.since = time.Now()
		}
		rs.failures = 0 // closed again while catching up: go on at once
		return true
	case rs.active:
		if server {
			c.b.resumeErr("close " + strconv.Itoa(code))
		}
		rs.failures++
		return true
	}
	return false
}

// reconnect opens the next connection and says hello on it; the read
// goroutine then reads it, and resumeReply carries it through. It waits
// out a backoff after failed attempts and reports false when the client
// gives up, is closing, or ctx ended.
func (c *client) reconnect(ctx context.Context) bool {
	b, rs := c.b, &c.resume
	rs.active, rs.dropped = true, false
	for {
		if rs.failures >= maxResumeAttempts {
			b.resumeFailed.Add(1)
			return false
		}
		if wait := resumeWait(rs.failures, b.cfg.ResumeJitter); wait > 0 {
			if sleepUntil(ctx, time.Now().Add(wait)) != nil {
				return false
			}
		}
		if c.closing.Load() || ctx.Err() != nil {
			return false
		}
		ws, err := c.redial(ctx)
		if err != nil {
			b.resumeErr("dial")
			rs.failures++
			continue
		}
		c.setConn(func() { c.ws, c.gen, c.up = ws, c.gen+1, false })
		if c.closing.Load() { // close may have written to the old one
			ws.Close()
			return false
		}
		c.resumes.Add(1)
		b.resumeCount.Add(1)
		c.ready, c.pending = false, nil
		data, _ := protocol.EncodeCommand(&protocol.Command{ID: "h", Op: protocol.OpHello, Name: c.name()})
		if err := c.write(data); err != nil {
			b.resumeErr("write")
			rs.failures++
			ws.Close()
			continue
		}
		return true
	}
}

// resumeWait is how long a client waits before its next dial of a
// resume: after failures failed attempts in a row, an exponential backoff
// (50 ms doubled per failure, at most 2 s, plus up to half of it again);
// before the first, a full jitter below jitter (none when jitter is 0).
func resumeWait(failures int, jitter time.Duration) time.Duration {
	if failures > 0 {
		wait := min(2*time.Second, 50*time.Millisecond<<failures)
		return wait + rand.N(wait/2)
	}
	if jitter > 0 {
		return rand.N(jitter)
	}
	return 0
}

// redial upgrades a new connection to c's node as the same guest.
func (c *client) redial(ctx context.Context) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.b.cfg.SetupTimeout)
	defer cancel()
	h := c.b.header()
	if c.guest != nil {
		h.Set("Cookie", c.guest.Name+"="+c.guest.Value)
	}
	ws, _, err := c.b.dialer().DialContext(ctx, c.node.url, h)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(protocol.MaxServerFrameBytes)
	return ws, nil
}

// resumeReply carries a resumed connection on by one reply: hello, then
// join, then history pages until caught up. A refusal drops the
// connection and tries again after a backoff.
func (c *client) resumeReply(ev *protocol.Event, now time.Time) {
	b, rs := c.b, &c.resume
	if ev.Type == protocol.TypeError {
		b.resumeErr(ev.ID + " " + string(ev.Code))
		rs.dropped = true
		c.conn().Close() // the read fails; readLoop tries again
		return
	}
	switch ev.ID {
	case "h":
		c.command(&protocol.Command{ID: "j", Op: protocol.OpJoin, Room: c.roomName()})
	case "j":
		var last int64
		if ev.Info != nil {
			last = ev.Info.LastSeq
		}
		c.ready = true
		catching := c.seq.rejoin(last)
		c.replayPending(last, now)
		c.resendUnacked()
		c.setConn(func() { c.up = true })
		if catching {
			c.fetch()
		} else {
			c.caughtUp(now)
		}
	case "H":
		room := c.roomName()
		for i := range ev.Messages {
			m := &ev.Messages[i]
			if m.Room != room {
				continue
			}
			switch v, gaps := c.seq.history(m.Seq); v {
			case deliverMsg:
				b.gaps.Add(gaps)
				if c.deliver([]byte(m.Body), now) {
					b.recovered.Add(1)
				}
			case overlapMsg:
				b.overlaps.Add(1)
			}
		}
		if c.seq.caughtUp() || !ev.More || len(ev.Messages) == 0 {
			c.caughtUp(now)
		} else {
			c.fetch()
		}
	}
}

// fetch asks for the page of history after the last seq received.
func (c *client) fetch() {
	after := c.seq.last
	c.command(&protocol.Command{ID: "H", Op: protocol.OpHistory, Room: c.roomName(), After: &after, Limit: historyPage})
}

// command writes cmd; a failed write fails the read next, which tries
// again.
func (c *client) command(cmd *protocol.Command) {
	data, err := protocol.EncodeCommand(cmd)
	if err == nil {
		err = c.write(data)
	}
	if err != nil {
		c.b.resumeErr("write")
	}
}

// caughtUp ends a resume: the held live messages are recorded after
// history's, and the time since the close is reported.
func (c *client) caughtUp(now time.Time) {
	b, rs := c.b, &c.resume
	gaps, overlaps := c.seq.release(func(m heldMsg) {
		if m.slot >= 0 {
			c.record(m.at, m.slot, now)
		}
	})
	b.gaps.Add(gaps)
	b.overlaps.Add(overlaps)
	b.resumeTime.record(now.Sub(rs.since))
	rs.active, rs.failures, rs.since = false, 0, time.Time{}
}

// resendUnacked resends, with the same cmid and body, c's sends that have
// been written but not acknowledged: the earlier connection's acks are
// lost with it. A message already committed gets its first ack again; one
// that was not is stored now. It runs before the new connection is up, so
// the resends go before the publisher's next sends.
func (c *client) resendUnacked() {
	b, rs := c.b, &c.resume
	pubs := b.layout.publishers
	p := -1
	for i, idx := range pubs {
		if idx == c.idx {
			p = i
			break
		}
	}
	if p < 0 {
		return
	}
	if rs.nextUnack < p {
		rs.nextUnack = p
	}
	moved := false
	for n := rs.nextUnack; n < len(b.slots); n += len(pubs) {
		s := &b.slots[n]
		at := s.sentAt.Load()
		if at == 0 {
			break // not sent yet, nor any after it
		}
		if s.acked.Load() {
			if !moved {
				rs.nextUnack = n + len(pubs)
			}
			continue
		}
		moved = true
		data, err := hubbubSend(c, n, time.Unix(0, at))
		if err == nil {
			err = c.write(data)
		}
		if err != nil {
			return // the read fails next; the next connection resends
		}
		b.resent.Add(1)
	}
}

// replayPending hands the message events read before the join reply to
// message: those at or below the join's last_seq were committed before
// the join and are not news to its live stream.
func (c *client) replayPending(lastSeq int64, now time.Time) {
	pending := c.pending
	c.pending = nil
	for _, obj := range pending {
		if room, seq, body, ok := scanMessage(obj); ok {
			if seq > lastSeq {
				c.message(room, seq, body, now)
			}
			continue
		}
		if ev, err := protocol.DecodeEvent(obj); err == nil && ev.Message != nil && ev.Message.Seq > lastSeq {
			c.message([]byte(ev.Message.Room), ev.Message.Seq, []byte(ev.Message.Body), now)
		}
	}
}
