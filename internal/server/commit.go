package server

import (
	"context"
	"sync"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// pendingSend is one send waiting for its commit.
type pendingSend struct {
	msg  chat.NewMessage
	done func(res chat.AppendResult, err error) // runs on the committer goroutine; must not block
}

// committer groups sends into store transactions. One goroutine takes
// whatever sends are waiting (up to CommitBatch), commits them together,
// publishes each new message, and only then acknowledges each send. While
// one transaction runs, the next batch gathers, so under load a
// transaction carries many messages and the cost of its fsync is shared.
//
// Because one goroutine commits and publishes in order, the messages of a
// room are published in sequence order from this node.
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
	s.metrics.commitSeconds.Observe(time.Since(start).Seconds())
	s.metrics.commitBatch.Observe(float64(len(batch)))
	if err != nil {
		s.log.Error("commit failed", "messages", len(batch), "err", err)
		for _, p := range batch {
			p.done(chat.AppendResult{}, err)
		}
		return
	}
	for i, p := range batch {
		r := results[i]
		switch {
		case r.Err != nil:
		case r.Duplicate:
			s.metrics.duplicates.Inc()
		default:
			s.metrics.committed.Inc()
			c.publish(ctx, r.Message)
		}
		p.done(r, nil)
	}
}

// publish encodes the message event once and hands the bytes to the broker.
// A broker failure loses only the live news, never the message: clients
// heal the gap from history.
func (c *committer) publish(ctx context.Context, m chat.Message) {
	pm := wireMessage(m)
	payload, err := protocol.EncodeEvent(&protocol.Event{Type: protocol.TypeMessage, Message: &pm})
	if err != nil {
		c.srv.log.Error("encode message event", "room", m.Room, "err", err)
		return
	}
	if err := c.srv.cfg.Broker.Publish(ctx, m.Room, payload); err != nil {
		c.srv.log.Warn("publish failed; clients will heal from history", "room", m.Room, "seq", m.Seq, "err", err)
	}
}

// wireMessage converts a stored message to its protocol form.
func wireMessage(m chat.Message) protocol.Message {
	return protocol.Message{
		Room:  m.Room,
		Seq:   m.Seq,
		From:  m.Author,
		Guest: m.Guest,
		Body:  m.Body,
		CMID:  m.CMID,
		TS:    m.Time.UnixMilli(),
	}
}
