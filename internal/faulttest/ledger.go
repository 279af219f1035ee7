package faulttest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// Outcome is what became of one send, as its sender knows it.
type Outcome int

const (
	// Acked: the server acknowledged the send with a sequence number. The
	// message must be in history and reach every live member of its room.
	Acked Outcome = iota + 1
	// Refused: the server answered with an error code. The message may or
	// may not be stored (a commit whose reply was lost); it is never owed
	// to anyone, but it must not be stored twice.
	Refused
	// Unknown: no answer before the send's deadline (or the client
	// stopped). Like Refused, it is owed to no one.
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case Acked:
		return "acked"
	case Refused:
		return "refused"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Send is one message sent, and its outcome.
type Send struct {
	From    string // the sending member's name
	Room    string
	Body    string // unique within a Ledger
	Outcome Outcome
	Seq     int64         // Acked: the acknowledged sequence number
	Code    protocol.Code // Refused: the error code
	Err     error         // Refused or Unknown: what the client returned
	Start   time.Time     // when Send was called
	End     time.Time     // when it returned
}

// Ledger records every send of a scenario with its outcome. It is safe for
// concurrent use.
type Ledger struct {
	mu    sync.Mutex // guards the fields below
	sends []Send
	next  int
}

// Send sends a message with a body unique in the ledger from m to room,
// waits up to timeout for the outcome, records it and returns it.
func (l *Ledger) Send(m *Member, room string, timeout time.Duration) Send {
	l.mu.Lock()
	l.next++
	body := fmt.Sprintf("%s#%d", m.Name, l.next)
	l.mu.Unlock()

	s := Send{From: m.Name, Room: room, Body: body, Start: time.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	msg, err := m.C.Send(ctx, room, body)
	cancel()
	s.End = time.Now()
	var perr *protocol.Error
	switch {
	case err == nil:
		s.Outcome, s.Seq = Acked, msg.Seq
	case errors.As(err, &perr):
		s.Outcome, s.Code, s.Err = Refused, perr.Code, err
	default:
		s.Outcome, s.Err = Unknown, err
	}
	l.mu.Lock()
	l.sends = append(l.sends, s)
	l.mu.Unlock()
	return s
}

// Load sends from m to room at rate messages per second until ctx ends,
// each send on its own goroutine (at most 64 at once, as a client's
// pipeline would be), and returns once every send has an outcome.
func (l *Ledger) Load(ctx context.Context, m *Member, room string, rate float64, timeout time.Duration) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			l.Send(m, room, timeout)
		})
	}
}

// Sends returns a copy of every send recorded so far.
func (l *Ledger) Sends() []Send {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.sends)
}

// Count returns how many sends had outcome o.
func (l *Ledger) Count(o Outcome) int {
	n := 0
	for _, s := range l.Sends() {
		if s.Outcome == o {
			n++
		}
	}
	return n
}

// Summary says how many sends had each outcome, with the refusal codes
// and the first unknown errors, for the test log.
func (l *Ledger) Summary() string {
	counts := map[Outcome]int{}
	codes := map[protocol.Code]int{}
	var unknown []string
	for _, s := range l.Sends() {
		counts[s.Outcome]++
		switch s.Outcome {
		case Refused:
			codes[s.Code]++
		case Unknown:
			if len(unknown) < 3 {
				unknown = append(unknown, s.Err.Error())
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d sends: %d acked, %d refused", counts[Acked]+counts[Refused]+counts[Unknown], counts[Acked], counts[Refused])
	if len(codes) > 0 {
		var parts []string
		for _, c := range slices.Sorted(maps.Keys(codes)) {
			parts = append(parts, fmt.Sprintf("%s %d", c, codes[c]))
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, ", %d unknown", counts[Unknown])
	if len(unknown) > 0 {
		fmt.Fprintf(&b, " (e.g. %s)", strings.Join(unknown, "; "))
	}
	return b.String()
}

// sendsInRoom returns the acked sends of room by body.
func ackedByBody(sends []Send, room string) map[string]Send {
	out := map[string]Send{}
	for _, s := range sends {
		if s.Room == room && s.Outcome == Acked {
			out[s.Body] = s
		}
	}
	return out
}

// drain reads c's events until the channel closes; for clients that are
// only used to read history.
func drain(c *client.Client) {
	for range c.Events() {
	}
}
