// Package membroker is the in-process chat.Broker: the default for a single
// hubbubd node. A payload published to a room is handed, synchronously and
// in publish order, to every subscriber of that room in this process.
package membroker

import (
	"context"
	"sync"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

var _ chat.Broker = (*Broker)(nil)

// Broker is an in-process chat.Broker. The zero value is not usable; call
// New. It is safe for concurrent use.
type Broker struct {
	mu     sync.Mutex // guards rooms, closed
	rooms  map[string]*room
	closed bool
}

// room serialises delivery: mu is held while a payload is handed to every
// subscriber, so calls of one subscription never overlap and cancel waits
// for a delivery in progress.
type room struct {
	mu   sync.Mutex // guards subs; held during delivery
	subs map[*sub]struct{}
}

type sub struct {
	deliver func([]byte)
}

// New returns an empty broker.
func New() *Broker {
	return &Broker{rooms: make(map[string]*room)}
}

// Publish hands payload to every current subscriber of room before it
// returns. It never fails except after Close.
func (b *Broker) Publish(ctx context.Context, roomName string, payload []byte) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return chat.ErrClosed
	}
	r := b.rooms[roomName]
	b.mu.Unlock()
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for s := range r.subs {
		s.deliver(payload)
	}
	return nil
}

// PublishBatch publishes each publication in order, as Publish does.
func (b *Broker) PublishBatch(ctx context.Context, batch []chat.Publication) error {
	for _, p := range batch {
		if err := b.Publish(ctx, p.Topic, p.Payload); err != nil {
			return err
		}
	}
	return nil
}

// Subscribe registers deliver for room. deliver runs on the publisher's
// goroutine and must not call cancel or Publish for the same room.
func (b *Broker) Subscribe(roomName string, deliver func([]byte)) (cancel func(), err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, chat.ErrClosed
	}
	r := b.rooms[roomName]
	if r == nil {
		r = &room{subs: make(map[*sub]struct{})}
		b.rooms[roomName] = r
	}
	s := &sub{deliver: deliver}
	r.mu.Lock()
	r.subs[s] = struct{}{}
	r.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			r.mu.Lock()
			delete(r.subs, s)
			empty := len(r.subs) == 0
			r.mu.Unlock()
			if empty && b.rooms[roomName] == r {
				delete(b.rooms, roomName)
			}
		})
	}, nil
}

// Close ends every subscription. Publish and Subscribe fail afterwards.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	for name, r := range b.rooms {
		r.mu.Lock()
		clear(r.subs)
		r.mu.Unlock()
		delete(b.rooms, name)
	}
	return nil
}
