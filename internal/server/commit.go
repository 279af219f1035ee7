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
	at   time.Time                              // when the send arrived, for hubbub_ack_seconds
	done func(res chat.AppendResult, err error) // runs on the committer goroutine; must not block
	// published, if set, runs on the committer goroutine after the new
	// entry was handed to the hub (not for a duplicate or a refused
	// entry); must not block.
	published func(m chat.Message)
}

// committer groups sends into store transactions. One goroutine takes
// whatever sends are waiting (up to CommitBatch), commits them together,
// acknowledges each send, and only then hands the new messages to the hub.
// While one transaction runs, the next batch gathers, so under load a
// transaction carries many messages and the cost of its fsync is shared.
//
// The order is the contract: commit, then ack, then publish. An ack never
// waits for a delivery or for the broker (the hub fans out and publishes
// on goroutines of its own), and nothing is published that was not
// committed. Because one goroutine hands messages to the hub in commit
// order, the messages of a room reach the hub in sequence order.
type committer struct {
	srv  *Server
	in   chan pendingSend
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

func newCommitter(s *Server) *committer {
	c := &committer{
		srv:  s,
		in:   make(chan pendingSend, s.cfg.CommitBatch),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	go c.run()
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

// stop commits what was submitted before and ends the goroutine.
func (c *committer) stop() {
	c.once.Do(func() { close(c.quit) })
	<-c.done
}

func (c *committer) run() {
	defer close(c.done)
	batch := make([]pendingSend, 0, c.srv.cfg.CommitBatch)
	for {
		batch = batch[:0]
		select {
		case p := <-c.in:
			batch = append(batch, p)
		case <-c.quit:
			// Drain: everything submitted before stop is committed.
			for {
				select {
				case p := <-c.in:
					c.commit([]pendingSend{p})
				default:
					return
				}
			}
		}
	gather:
		for len(batch) < cap(batch) {
			select {
			case p := <-c.in:
				batch = append(batch, p)
			default:
				break gather
			}
		}
		c.commit(batch)
	}
}

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
	if err != nil {
		for _, p := range batch {
			p.done(chat.AppendResult{}, err)
			s.data.ackSeconds.Observe(time.Since(p.at).Seconds())
		}
		return
	}
	// Acknowledge first: the sender's ack does not wait for anyone's delivery.
	for i, p := range batch {
		p.done(results[i], nil)
		s.data.ackSeconds.Observe(time.Since(p.at).Seconds())
	}
	for i, r := range results {
		switch {
		case r.Err != nil:
		case r.Duplicate:
			s.metrics.duplicates.Inc()
		default:
			s.metrics.committed.Inc()
			c.publish(r.Message)
			if f := batch[i].published; f != nil {
				f(r.Message)
			}
		}
	}
}

// publish encodes the message event once and hands the bytes to the hub,
// which delivers them to this node's members and to the broker. A broker
// failure loses only the news to other nodes, never the message: they
// heal from the store (see heal.go).
func (c *committer) publish(m chat.Message) {
	payload, err := encodeMessage(m)
	if err != nil {
		c.srv.log.Error("encode message event", "room", m.Room, "err", err)
		return
	}
	c.srv.hub.Message(m.Room, m.Seq, payload)
}

// encodeMessage is the message event every member receives.
func encodeMessage(m chat.Message) ([]byte, error) {
	pm := wireMessage(m)
	return protocol.EncodeEvent(&protocol.Event{Type: protocol.TypeMessage, Message: &pm})
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
