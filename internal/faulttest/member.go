package faulttest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// Member is one real Go client (package client) in some rooms, with a
// record of every event it delivered. It reads its events on a goroutine
// of its own from Connect until the client is closed (at the test's
// cleanup at the latest), so it never makes the server see a slow
// consumer.
type Member struct {
	Name string
	C    *client.Client

	done chan struct{} // closed when the events channel is closed

	mu     sync.Mutex // guards the fields below
	rooms  map[string]*memberRoom
	states []stateAt
	errs   []string // ErrorEvents and the Closed cause
	closed bool     // the client stopped
}

// memberRoom is what a member received in one room.
type memberRoom struct {
	from   int64            // the room's last seq when the first join returned; messages after it are owed
	joined bool             // from is set
	last   int64            // newest seq delivered
	bodies map[string]int64 // body → seq of every message delivered
	order  []string         // violations of the pass rule, as sentences
	count  int
}

type stateAt struct {
	at time.Time
	ev client.StateEvent
}

// Options for Connect. The zero value uses the client's defaults: a test
// of the client's real behaviour should not tune it.
type MemberOptions struct {
	// Client is passed to client.Dial; Name is set from Connect's name and
	// EventBuffer defaults to 4096 so that state events are not dropped.
	Client client.Options
}

// Connect dials url as guest name, joins rooms (creating any that does not
// exist) and starts recording. It fails the test if any of that fails.
func Connect(t testing.TB, url, name string, rooms ...string) *Member {
	t.Helper()
	m, err := Dial(t, url, name, MemberOptions{})
	if err != nil {
		t.Fatalf("member %s: %v", name, err)
	}
	for _, r := range rooms {
		if err := m.Join(t.Context(), r); err != nil {
			t.Fatalf("member %s: %v", name, err)
		}
	}
	return m
}

// Dial dials url as guest name and starts recording; it joins nothing.
// The client is closed at the end of the test.
func Dial(t testing.TB, url, name string, opts MemberOptions) (*Member, error) {
	t.Helper()
	co := opts.Client
	co.Name = name
	if co.EventBuffer == 0 {
		co.EventBuffer = 4096
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, url, co)
	if err != nil {
		return nil, err
	}
	m := &Member{Name: name, C: c, done: make(chan struct{}), rooms: map[string]*memberRoom{}}
	go m.read()
	t.Cleanup(func() {
		c.Close()
		<-m.done
	})
	return m, nil
}

// Join joins room, creating it first if it does not exist, and records
// where the member's share of it starts.
func (m *Member) Join(ctx context.Context, room string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	info, _, err := m.C.Join(ctx, room)
	if protocol.CodeOf(err) == protocol.CodeNoSuchRoom {
		if _, cerr := m.C.Create(ctx, room, ""); cerr != nil && protocol.CodeOf(cerr) != protocol.CodeRoomExists {
			return fmt.Errorf("create %s: %w", room, cerr)
		}
		info, _, err = m.C.Join(ctx, room)
	}
	if err != nil {
		return fmt.Errorf("join %s: %w", room, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.room(room)
	if !r.joined {
		r.from, r.joined = info.LastSeq, true
	}
	return nil
}

// room returns the record of room; m.mu is held.
func (m *Member) room(name string) *memberRoom {
	r := m.rooms[name]
	if r == nil {
		r = &memberRoom{bodies: map[string]int64{}}
		m.rooms[name] = r
	}
	return r
}

func (m *Member) read() {
	defer close(m.done)
	for ev := range m.C.Events() {
		m.mu.Lock()
		switch ev := ev.(type) {
		case client.MessageEvent:
			msg := ev.Message
			r := m.room(msg.Room)
			r.count++
			if msg.Seq <= r.last {
				r.order = append(r.order, fmt.Sprintf("seq %d delivered after seq %d", msg.Seq, r.last))
			}
			if prev, dup := r.bodies[msg.Body]; dup {
				r.order = append(r.order, fmt.Sprintf("message %q delivered twice (seq %d and %d)", msg.Body, prev, msg.Seq))
			}
			r.bodies[msg.Body] = msg.Seq
			r.last = max(r.last, msg.Seq)
		case client.StateEvent:
			m.states = append(m.states, stateAt{time.Now(), ev})
			if ev.State == client.Closed {
				m.closed = true
				if ev.Err != nil {
					m.errs = append(m.errs, "client stopped: "+ev.Err.Error())
				}
			}
		case client.ErrorEvent:
			m.errs = append(m.errs, fmt.Sprintf("error event (room %q): %v", ev.Room, ev.Err))
		}
		m.mu.Unlock()
	}
}

// Has reports whether the member received the message body in room.
func (m *Member) Has(room, body string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rooms[room]
	if r == nil {
		return false
	}
	_, ok := r.bodies[body]
	return ok
}

// Received returns how many messages the member received in room.
func (m *Member) Received(room string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.rooms[room]; r != nil {
		return r.count
	}
	return 0
}

// Live reports whether the client still runs (it did not stop by itself).
func (m *Member) Live() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.closed
}

// Drop is one end of a connection of the member.
type Drop struct {
	At        time.Time
	Err       error // why the connection ended
	CloseCode int   // the close code the server sent, 0 if none
	Back      time.Duration
	Dials     int     // dial attempts until the member was connected again; 0 if it never was
	DialErrs  []error // why each failed dial failed
}

// Drops returns every connection loss of the member, with the close code
// and how long it took to be connected again.
func (m *Member) Drops() []Drop {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Drop
	for i, s := range m.states {
		if s.ev.State != client.Reconnecting || s.ev.Attempt != 1 {
			continue
		}
		d := Drop{At: s.at, Err: s.ev.Err}
		if ce, ok := errors.AsType[*websocket.CloseError](s.ev.Err); ok {
			d.CloseCode = ce.Code
		}
		for _, next := range m.states[i+1:] {
			if next.ev.State == client.Reconnecting && next.ev.Attempt > 1 {
				d.Dials = next.ev.Attempt
				d.DialErrs = append(d.DialErrs, next.ev.Err)
			}
			if next.ev.State == client.Connected {
				d.Back = next.at.Sub(s.at)
				d.Dials = max(d.Dials, 1)
				break
			}
			if next.ev.State != client.Reconnecting || next.ev.Attempt == 1 {
				break
			}
		}
		out = append(out, d)
	}
	return out
}

// Connected reports whether the member's newest state is Connected, or it
// never lost its connection.
func (m *Member) Connected() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.states) - 1; i >= 0; i-- {
		switch m.states[i].ev.State {
		case client.Connected:
			return true
		case client.Reconnecting, client.Closed:
			return false
		}
	}
	return !m.closed
}

// problems returns the member's violations of the pass rule in room, and
// the errors it reported.
func (m *Member) problems(room string) (order []string, errs []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.rooms[room]; r != nil {
		order = append(order, r.order...)
	}
	return order, append(errs, m.errs...)
}

// from returns the room's last seq at the member's first join, and whether
// it joined.
func (m *Member) from(room string) (int64, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rooms[room]
	if r == nil || !r.joined {
		return 0, false
	}
	return r.from, true
}
