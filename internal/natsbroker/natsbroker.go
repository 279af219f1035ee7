// Package natsbroker is a chat.Broker over core NATS publish/subscribe (not
// JetStream), for several hubbubd nodes that form one chat.
//
// A topic maps to the subject Config.Prefix + the base64url encoding of the
// topic, so topic names with spaces, dots, '*', '>' or any Unicode are
// safe. Each Subscribe is one NATS subscription on the broker's single
// connection; nats.go calls its handler sequentially, and the broker guards
// it so that nothing is delivered once cancel returned.
//
// Delivery is at most once. Core NATS keeps nothing: a payload published
// while a node is disconnected (nats.go reconnects by itself, forever) or
// not subscribed is lost for that node, and a subscriber that falls more
// than nats.go's pending limits behind loses payloads (a slow-consumer
// error, logged). hubbub clients heal such gaps from the store's history.
package natsbroker

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

var (
	_ chat.Broker      = (*Broker)(nil)
	_ chat.GapNotifier = (*Broker)(nil)
)

// Defaults of Config.
const (
	DefaultPrefix           = "hubbub.topic."
	DefaultSubscribeTimeout = 5 * time.Second
	closeWait               = 5 * time.Second // how long Close waits for nats.go to finish
)

// Config configures a Broker. The zero value is ready to use.
type Config struct {
	// Prefix is put before the encoded topic to form a subject; it must
	// be valid at the start of a NATS subject (tokens of letters, digits,
	// '-' and '_', each followed by '.'). Nodes that form one chat use the
	// same prefix. Default DefaultPrefix.
	Prefix string

	// SubscribeTimeout bounds how long Subscribe waits for the server to
	// confirm a subscription (a flush round trip). Default
	// DefaultSubscribeTimeout.
	SubscribeTimeout time.Duration

	// Name is the connection name the server shows. Default "hubbubd".
	Name string

	// Logger receives what has no caller to return to: slow-consumer
	// drops, disconnects and reconnects. Default slog.Default().
	Logger *slog.Logger
}

// Broker is a chat.Broker over one NATS connection. The zero value is not
// usable; call Open. It is safe for concurrent use.
//
// Payloads published through one connection are forwarded by the server
// in the order it received them, and Publish writes to the connection in
// call order, so payloads that one goroutine publishes to one topic reach
// every subscriber in publish order; no Flush is needed for that. Publish
// returns once the payload is buffered, before the server has it.
type Broker struct {
	// Immutable after Open.
	nc         *nats.Conn
	prefix     string
	subTimeout time.Duration
	connClosed chan struct{} // closed by nats.go's closed handler
	closeOnce  sync.Once

	mu     sync.Mutex // guards subs, closed
	subs   map[*subscription]struct{}
	closed bool

	gaps atomic.Pointer[func()] // NotifyGaps's f
}

// subscription is one Subscribe call: one NATS subscription.
type subscription struct {
	deliver func([]byte) // immutable
	ns      *nats.Subscription

	// mu is held while deliver runs; it guards cancelled. nats.go calls
	// handle from one goroutine per subscription, and may still be in
	// it, or about to enter it, when Unsubscribe returns.
	mu        sync.Mutex
	cancelled bool
}

// Open connects to the NATS server(s) at url (nats://host:4222, several
// separated by commas; credentials in the URL) and returns a broker that
// owns the connection. The first connection must succeed; later
// disconnects are retried by nats.go without end.
func Open(ctx context.Context, url string, cfg Config) (*Broker, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.SubscribeTimeout <= 0 {
		cfg.SubscribeTimeout = DefaultSubscribeTimeout
	}
	if cfg.Name == "" {
		cfg.Name = "hubbubd"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	b := &Broker{
		prefix:     cfg.Prefix,
		subTimeout: cfg.SubscribeTimeout,
		connClosed: make(chan struct{}),
		subs:       make(map[*subscription]struct{}),
	}
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.MaxReconnects(-1),
		// No reconnect buffer: while disconnected, Publish fails at
		// once instead of holding payloads that would arrive as one burst
		// after the outage. hubbubd heals rooms from the store instead.
		nats.ReconnectBufSize(-1),
		nats.ClosedHandler(func(*nats.Conn) { close(b.connClosed) }),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				b.gap() // the client dropped messages of the subscription
			}
			if s != nil {
				log.Warn("natsbroker: subscription error", "subject", s.Subject, "err", err)
				return
			}
			log.Warn("natsbroker: error", "err", err)
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("natsbroker: disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("natsbroker: reconnected", "server", nc.ConnectedUrlRedacted())
			b.gap() // what was published while it was away is lost
		}),
	}
	if deadline, ok := ctx.Deadline(); ok {
		opts = append(opts, nats.Timeout(time.Until(deadline)))
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("natsbroker: %w", err)
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return nil, fmt.Errorf("natsbroker: connect: %w", err)
	}
	b.nc = nc
	return b, nil
}

// NotifyGaps registers f, called after the connection to the NATS server
// was lost and made again, and when nats.go dropped messages of a
// subscription that fell behind (a slow consumer); see
// [chat.GapNotifier]. It runs on nats.go's callback goroutine.
func (b *Broker) NotifyGaps(f func()) { b.gaps.Store(&f) }

func (b *Broker) gap() {
	if f := b.gaps.Load(); f != nil {
		(*f)()
	}
}

// subject maps a topic to its NATS subject.
func (b *Broker) subject(topic string) (string, error) {
	if topic == "" {
		return "", errors.New("natsbroker: empty topic")
	}
	return b.prefix + base64.RawURLEncoding.EncodeToString([]byte(topic)), nil
}

// Publish hands payload to the connection and returns; nats.go sends it
// soon after, in call order. A nil error does not mean the server or anyone
// received it: while reconnecting, nats.go buffers a limited amount. It
// returns chat.ErrClosed after Close.
func (b *Broker) Publish(ctx context.Context, topic string, payload []byte) error {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return chat.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	subject, err := b.subject(topic)
	if err != nil {
		return err
	}
	if err := b.nc.Publish(subject, payload); err != nil {
		if errors.Is(err, nats.ErrConnectionClosed) {
			return chat.ErrClosed
		}
		return fmt.Errorf("natsbroker: publish %q: %w", topic, err)
	}
	return nil
}

// PublishBatch hands every publication to the connection, in order, then
// flushes once and waits for the server's answer (at most until ctx's
// deadline, or Config.SubscribeTimeout without one), so a nil error means
// the NATS server had them all. While disconnected it fails at once (nats.go
// buffers nothing: see Open); the nodes heal from the store.
func (b *Broker) PublishBatch(ctx context.Context, batch []chat.Publication) error {
	for _, p := range batch {
		if err := b.Publish(ctx, p.Topic, p.Payload); err != nil {
			return err
		}
	}
	if len(batch) == 0 {
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.subTimeout)
		defer cancel()
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		if errors.Is(err, nats.ErrConnectionClosed) {
			return chat.ErrClosed
		}
		return fmt.Errorf("natsbroker: flush %d: %w", len(batch), err)
	}
	return nil
}

// Subscribe registers deliver for topic with a NATS subscription of its own
// and returns after a flush round trip, so the server has the subscription
// and a payload published afterwards, from any node, reaches deliver
// (barring a lost connection). It fails if the round trip takes longer
// than Config.SubscribeTimeout, and with chat.ErrClosed after Close.
//
// deliver runs on a goroutine nats.go keeps for the subscription; it must
// not block and must not call cancel.
func (b *Broker) Subscribe(topic string, deliver func([]byte)) (cancel func(), err error) {
	subject, err := b.subject(topic)
	if err != nil {
		return nil, err
	}
	s := &subscription{deliver: deliver}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, chat.ErrClosed
	}
	s.ns, err = b.nc.Subscribe(subject, s.handle)
	if err == nil {
		b.subs[s] = struct{}{}
	}
	b.mu.Unlock()
	if err != nil {
		if errors.Is(err, nats.ErrConnectionClosed) {
			return nil, chat.ErrClosed
		}
		return nil, fmt.Errorf("natsbroker: subscribe %q: %w", topic, err)
	}

	var once sync.Once
	cancel = func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, s)
			b.mu.Unlock()
			s.stop()
		})
	}
	if err := b.nc.FlushTimeout(b.subTimeout); err != nil {
		cancel()
		if errors.Is(err, nats.ErrConnectionClosed) {
			return nil, chat.ErrClosed
		}
		return nil, fmt.Errorf("natsbroker: subscribe %q: %w", topic, err)
	}
	return cancel, nil
}

// handle is the nats.go message handler of s.
func (s *subscription) handle(m *nats.Msg) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.cancelled {
		s.deliver(m.Data)
	}
}

// stop unsubscribes s. When it returns, deliver is not running and will
// not be called again.
func (s *subscription) stop() {
	// An error means the subscription or the connection is already gone;
	// either way the server sends nothing more for it.
	_ = s.ns.Unsubscribe()
	s.mu.Lock() // waits for a delivery in progress
	s.cancelled = true
	s.mu.Unlock()
}

// Close ends every subscription and closes the connection, after sending
// what Publish buffered. It waits (up to a few seconds) for nats.go to
// report the connection closed. Publish and Subscribe return
// chat.ErrClosed afterwards. Calling Close again does nothing.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		subs := b.subs
		b.subs = nil
		b.mu.Unlock()
		for s := range subs {
			s.stop()
		}
		b.nc.Close()
		select {
		case <-b.connClosed:
		case <-time.After(closeWait):
		}
	})
	return nil
}
