package server

import (
	"context"
	"sync"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// slowCommit is the commit time past which a warning is logged: a store
// that slow delays every ack of the node.
const slowCommit = time.Second

// pendingSend is one send waiting for its commit.
type pendingSend struct {
	msg  chat.NewMessage
	file *protocol.File                         // the file msg.FileID names, described for the event
	at   time.Time                              // when the send arrived, for hubbub_ack_seconds
	done func(res chat.AppendResult, err error) // runs on the committer's acking goroutine; must not block
	// published, if set, runs on the acking goroutine after the new
	// entry was handed to the hub (not for a duplicate or a refused
	// entry); must not block.
	published func(m chat.Message)
}

// committer groups sends into store transactions. Two goroutines make a
// pipeline. The first takes whatever sends are waiting (up to
// CommitBatch), commits them together and hands the batch on; the second
// acknowledges each send of a committed batch and only then hands the new
// messages to the hub. While one transaction runs, the next batch
// gathers, so under load a transaction carries many messages and the cost
// of its fsync is shared; and while the acks and events of one batch are
// encoded, the next batch is already being committed, so the store's
// single writer spends its turn on the store alone.
//
// The order is the contract: commit, then ack, then publish. An ack never
// waits for a delivery or for the broker (the hub fans out and publishes
// on goroutines of its own), nor for the next commit, and nothing is
// published that was not committed. Because one goroutine commits and one
// goroutine hands messages to the hub, both in batch order, the messages
// of a room reach the hub in sequence order.
type committer struct {
	srv  *Server
	in   chan pendingSend
	out  chan committed     // committed batches, in commit order, for the acking goroutine
	free chan []pendingSend // batch buffers the acking goroutine is done with
	quit chan struct{}
	done chan struct{}
	once sync.Once

	// run's: when the last batch began its commit, and how many sends
	// it carried (see gather).
	lastStart time.Time
	lastSize  int
}

// committed is a batch whose transaction ended: results[i] answers
// batch[i], or err is the transaction's error.
type committed struct {
	batch   []pendingSend
	results []chat.AppendResult
	err     error
}

// commitSmall is the batch size below which the commit itself (its
// WAL frames, its fsync) costs more than the messages it carries, and
// below which gather waits for more (CommitInterval).
const commitSmall = 16

// commitBuffers is how many batches the pipeline holds: one gathering or
// in its transaction, one being acknowledged, one waiting between them.
// When the acking goroutine falls behind, the committer waits for a
// buffer, and sends wait in its queue (backpressure, as before).
const commitBuffers = 3

func newCommitter(s *Server) *committer {
	c := &committer{
		srv:  s,
		in:   make(chan pendingSend, s.cfg.CommitBatch),
		out:  make(chan committed, commitBuffers),
		free: make(chan []pendingSend, commitBuffers),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range commitBuffers {
		// They grow to the batches they carry and keep that size.
		c.free <- make([]pendingSend, 0, min(64, s.cfg.CommitBatch))
	}
	go c.run()
	go c.ack()
	return c
}

// submit queues p; it blocks while the committer is busy and its queue is
// full, which pauses the submitting connection's reads (backpressure).
// It reports false after stop.
func (c *committer) submit(p pendingSend) bool {
	select {
	case c.in <- p:
		return true
	case <-c.quit:
		return false
	}
}

// stop commits and acknowledges what was submitted before, and ends both
// goroutines.
func (c *committer) stop() {
	c.once.Do(func() { close(c.quit) })
	<-c.done
}

// run is the committing goroutine.
func (c *committer) run() {
	defer close(c.out)
	for {
		var first pendingSend
		select {
		case first = <-c.in:
		case <-c.quit:
			// Drain: everything submitted before stop is committed.
			for len(c.in) > 0 {
				c.commit(c.gather(<-c.in))
			}
			return
		}
		c.commit(c.gather(first))
	}
}

// gather returns a batch of first and the sends waiting after it, up to
// CommitBatch, in a buffer the acking goroutine gave back.
//
// With a CommitInterval (off by default), while sends keep coming in
// small batches it also waits for more, until the interval has passed
// since the last batch began its commit (a group commit's delay).
// Without it, a store whose commit is quick commits every send or two
// alone as they trickle in: at 2,000 sends/s from 100 clients into
// SQLite, 1,000 commits/s, each paying its WAL writes and fsync for one
// or two messages. With 2 ms, a quarter less server CPU there, but the
// delivery p99 of many small rooms rose by half (docs/benchmarks.md,
// round 14), hence off by default.
//
// It waits only when the last batch carried more than one send, as
// PostgreSQL's commit_delay waits only with commit_siblings, so one
// client sending and waiting for each ack is never held back; only when
// that batch was smaller than commitSmall, so a larger closed loop of
// such clients is not slowed either; and never after a quiet spell (the
// last commit began longer ago than the interval).
func (c *committer) gather(first pendingSend) []pendingSend {
	batch := append(<-c.free, first)
	var linger <-chan time.Time
	if wait := c.srv.cfg.CommitInterval - time.Since(c.lastStart); wait > 0 && c.lastSize > 1 && c.lastSize < commitSmall {
		t := time.NewTimer(wait)
		defer t.Stop()
		linger = t.C
	}
	for len(batch) < c.srv.cfg.CommitBatch {
		select {
		case p := <-c.in:
			batch = append(batch, p)
			continue
		default:
		}
		if linger == nil {
			break
		}
		select {
		case p := <-c.in:
			batch = append(batch, p)
		case <-linger:
			linger = nil
		}
	}
	c.lastStart, c.lastSize = time.Now(), len(batch)
	return batch
}

// commit stores batch in one transaction and hands it to the acking
// goroutine.
func (c *committer) commit(batch []pendingSend) {
	s := c.srv
	msgs := make([]chat.NewMessage, len(batch))
	for i, p := range batch {
		msgs[i] = p.msg
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	results, err := s.cfg.Store.Append(ctx, msgs)
	took := time.Since(start)
	s.metrics.commitSeconds.Observe(took.Seconds())
	s.metrics.commitBatch.Observe(float64(len(batch)))
	switch {
	case err != nil:
		s.commitWarn.Add("failed", "messages", len(batch), "err", err)
	case took > slowCommit:
		s.commitWarn.Add("slow", "messages", len(batch), "took", took)
	}
	c.out <- committed{batch: batch, results: results, err: err}
}

// ack is the acking goroutine: for each committed batch, in order, it
// acknowledges every send and then publishes the new messages. It ends
// when run has ended and every batch is acknowledged.
func (c *committer) ack() {
	defer close(c.done)
	s := c.srv
	for b := range c.out {
		if b.err != nil {
			for _, p := range b.batch {
				p.done(chat.AppendResult{}, b.err)
				s.data.ackSeconds.Observe(time.Since(p.at).Seconds())
			}
		} else {
			// Acknowledge first: the sender's ack does not wait for
			// anyone's delivery.
			for i, p := range b.batch {
				p.done(b.results[i], nil)
				s.data.ackSeconds.Observe(time.Since(p.at).Seconds())
			}
			for i, r := range b.results {
				switch {
				case r.Err != nil:
				case r.Duplicate:
					s.metrics.duplicates.Inc()
				default:
					s.metrics.committed.Inc()
					c.publish(r.Message, b.batch[i].file)
					if f := b.batch[i].published; f != nil {
						f(r.Message)
					}
				}
			}
		}
		clear(b.batch) // let go of the callbacks and bodies
		c.free <- b.batch[:0]
	}
}

// publish encodes the message event once and hands the bytes to the hub,
// which delivers them to this node's members and to the broker. A broker
// failure loses only the news to other nodes, never the message: they
// heal from the store (see heal.go).
func (c *committer) publish(m chat.Message, file *protocol.File) {
	pm := wireMessage(m)
	pm.File = file
	payload, err := protocol.EncodeEvent(&protocol.Event{Type: protocol.TypeMessage, Message: &pm})
	if err != nil {
		c.srv.log.Error("encode message event", "room", m.Room, "err", err)
		return
	}
	c.srv.hub.Message(m.Room, m.Seq, payload, m.Kind == "")
}

// wireMessage converts a stored entry to its protocol form, with the
// state of a plain message when the store gave it.
func wireMessage(m chat.Message) protocol.Message {
	pm := protocol.Message{
		Room:    m.Room,
		Seq:     m.Seq,
		Kind:    m.Kind,
		From:    m.Author,
		Guest:   m.Guest,
		Body:    m.Body,
		CMID:    m.CMID,
		TS:      m.Time.UnixMilli(),
		Target:  m.Target,
		User:    m.User,
		ReplyTo: m.ReplyTo,
		Deleted: m.Deleted,
		V:       m.V,
	}
	if m.UserKey != "" {
		pm.UserTag = guestTag(m.Room, m.Seq, m.UserKey)
	}
	if !m.Until.IsZero() {
		pm.Until = m.Until.UnixMilli()
	}
	if !m.Edited.IsZero() {
		pm.Edited = m.Edited.UnixMilli()
	}
	for _, r := range m.Reactions {
		pm.Reactions = append(pm.Reactions, protocol.Reaction{Emoji: r.Emoji, Users: r.Users})
	}
	return pm
}
