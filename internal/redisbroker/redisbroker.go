// Package redisbroker is a chat.Broker over Redis pub/sub, for several
// hubbubd nodes that form one chat.
//
// Every Publish is one PUBLISH on the channel Config.Prefix + the base64url
// encoding of the topic, so topic names with spaces or any Unicode are safe.
// Each Broker holds one pub/sub connection for all its topics: a topic is
// SUBSCRIBEd when it gains its first local subscriber and UNSUBSCRIBEd when
// it loses its last, and one goroutine reads the connection and hands each
// payload to the topic's subscribers.
//
// Delivery is at most once. Redis pub/sub keeps nothing: a payload
// published while a node's pub/sub connection is down (go-redis reconnects
// and resubscribes by itself) or while the node is not subscribed is lost
// for that node. hubbub clients heal such gaps from the store's history.
package redisbroker

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/ratelimit"
)

var (
	_ chat.Broker      = (*Broker)(nil)
	_ chat.GapNotifier = (*Broker)(nil)
)

// Defaults of Config.
const (
	DefaultPrefix           = "hubbub:"
	DefaultSubscribeTimeout = 5 * time.Second
)

// Config configures a Broker. The zero value is ready to use.
type Config struct {
	// Prefix is put before the encoded topic to form a channel name.
	// Nodes that form one chat use the same prefix. Default DefaultPrefix.
	Prefix string

	// SubscribeTimeout bounds how long Subscribe waits for Redis to
	// confirm a new channel. Default DefaultSubscribeTimeout.
	SubscribeTimeout time.Duration

	// Logger receives errors that have no caller to return to (a failed
	// UNSUBSCRIBE in cancel). Default slog.Default().
	Logger *slog.Logger
}

// Broker is a chat.Broker over Redis pub/sub. The zero value is not usable;
// call Open or New. It is safe for concurrent use.
//
// Payloads that one goroutine publishes to one topic reach every subscriber
// in publish order: Publish returns only after Redis executed the PUBLISH,
// and Redis forwards the payloads of one channel to a subscriber
// connection in execution order. Payloads from different publishers or
// different nodes are interleaved in the order Redis executed them.
type Broker struct {
	// Immutable after New.
	client      *redis.Client
	ownsClient  bool
	prefix      string
	subTimeout  time.Duration
	log         *slog.Logger
	unsubWarn   *ratelimit.Log // failed UNSUBSCRIBEs: one per room and retry while Redis is down
	ps          *redis.PubSub
	readerDone  chan struct{} // closed when readLoop returns
	closing     chan struct{} // closed by Close
	closeOnce   sync.Once
	closeResult error

	// cmdMu serialises SUBSCRIBE and UNSUBSCRIBE with the changes of
	// topics that cause them, so that the commands of one channel reach
	// Redis in the order the topic was created and removed. Lock order:
	// cmdMu, then mu, then topic.mu.
	cmdMu sync.Mutex

	mu     sync.Mutex        // guards topics, closed; never held during I/O
	topics map[string]*topic // by channel name; only topics with subscribers
	closed bool

	gaps atomic.Pointer[func()] // NotifyGaps's f
}

// topic is one Redis channel with local subscribers.
type topic struct {
	channel string // immutable

	// ready is closed when Redis confirmed the SUBSCRIBE (or the broker
	// closed). Guarded by Broker.mu: confirmed, and closing ready.
	ready     chan struct{}
	confirmed bool

	// mu guards subs and is held while a payload is handed to them, so
	// calls of one subscription never overlap and cancel waits for a
	// delivery in progress.
	mu   sync.Mutex
	subs map[*subscription]struct{}
}

type subscription struct {
	deliver func([]byte)
}

// Open connects to the Redis server at url (redis://[user:pass@]host:port/db,
// or rediss:// for TLS), checks it answers, and returns a broker that owns
// the client: Close closes it.
func Open(ctx context.Context, url string, cfg Config) (*Broker, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redisbroker: %w", err)
	}
	client := redis.NewClient(opt)
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("redisbroker: ping %s: %w", opt.Addr, err)
	}
	b := New(client, cfg)
	b.ownsClient = true
	return b, nil
}

// New returns a broker that publishes with client and opens one pub/sub
// connection of its own, lazily. Close does not close client.
func New(client *redis.Client, cfg Config) *Broker {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.SubscribeTimeout <= 0 {
		cfg.SubscribeTimeout = DefaultSubscribeTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &Broker{
		client:     client,
		prefix:     cfg.Prefix,
		subTimeout: cfg.SubscribeTimeout,
		log:        cfg.Logger,
		unsubWarn:  ratelimit.NewLog(cfg.Logger, "redisbroker: unsubscribe failed", 10*time.Second),
		ps:         client.Subscribe(context.Background()),
		readerDone: make(chan struct{}),
		closing:    make(chan struct{}),
		topics:     make(map[string]*topic),
	}
	msgs := b.ps.ChannelWithSubscriptions()
	go b.readLoop(msgs)
	return b
}

// channelName maps a topic to its Redis channel.
func (b *Broker) channelName(topic string) string {
	return b.prefix + base64.RawURLEncoding.EncodeToString([]byte(topic))
}

// Publish sends payload with one PUBLISH and returns when Redis executed it.
// A nil error does not mean anyone received it. It returns chat.ErrClosed
// after Close.
func (b *Broker) Publish(ctx context.Context, topic string, payload []byte) error {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return chat.ErrClosed
	}
	if err := b.client.Publish(ctx, b.channelName(topic), payload).Err(); err != nil {
		if errors.Is(err, redis.ErrClosed) {
			return chat.ErrClosed
		}
		return fmt.Errorf("redisbroker: publish %q: %w", topic, err)
	}
	return nil
}

// PublishBatch sends every publication in one pipeline: one round trip
// for the whole batch. Redis executes the PUBLISHes in batch order.
func (b *Broker) PublishBatch(ctx context.Context, batch []chat.Publication) error {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return chat.ErrClosed
	}
	if len(batch) == 0 {
		return nil
	}
	pipe := b.client.Pipeline()
	for _, p := range batch {
		pipe.Publish(ctx, b.channelName(p.Topic), p.Payload)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		if errors.Is(err, redis.ErrClosed) {
			return chat.ErrClosed
		}
		return fmt.Errorf("redisbroker: publish %d: %w", len(batch), err)
	}
	return nil
}

// Subscribe registers deliver for topic. When topic has no other local
// subscriber, it SUBSCRIBEs the channel and returns only after Redis
// confirmed it, so that a payload published afterwards, on any node,
// reaches deliver (barring a lost connection). It fails if Redis does not
// confirm within Config.SubscribeTimeout, and with chat.ErrClosed after
// Close.
//
// deliver runs on the broker's reader goroutine: it must not block and must
// not call cancel; a slow deliver delays every topic of the broker.
func (b *Broker) Subscribe(topicName string, deliver func([]byte)) (cancel func(), err error) {
	channel := b.channelName(topicName)
	s := &subscription{deliver: deliver}

	b.cmdMu.Lock()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.cmdMu.Unlock()
		return nil, chat.ErrClosed
	}
	t := b.topics[channel]
	created := t == nil
	if created {
		t = &topic{channel: channel, ready: make(chan struct{}), subs: make(map[*subscription]struct{})}
		b.topics[channel] = t
	}
	t.mu.Lock()
	t.subs[s] = struct{}{}
	t.mu.Unlock()
	b.mu.Unlock()

	ctx, stop := context.WithTimeout(context.Background(), b.subTimeout)
	defer stop()
	if created {
		err = b.ps.Subscribe(ctx, channel)
	}
	b.cmdMu.Unlock()

	if err == nil {
		select {
		case <-t.ready:
		case <-b.closing:
			err = chat.ErrClosed
		case <-ctx.Done():
			err = errors.New("no confirmation from redis")
		}
	}
	var once sync.Once
	cancel = func() { once.Do(func() { b.unsubscribe(t, s) }) }
	if err != nil {
		cancel()
		if errors.Is(err, chat.ErrClosed) || errors.Is(err, redis.ErrClosed) {
			return nil, chat.ErrClosed
		}
		return nil, fmt.Errorf("redisbroker: subscribe %q: %w", topicName, err)
	}
	return cancel, nil
}

// unsubscribe removes s from t, and UNSUBSCRIBEs the channel when s was its
// last subscriber. When it returns, s.deliver is not running and will not
// be called again.
func (b *Broker) unsubscribe(t *topic, s *subscription) {
	b.cmdMu.Lock()
	defer b.cmdMu.Unlock()
	b.mu.Lock()
	t.mu.Lock() // waits for a delivery in progress
	delete(t.subs, s)
	last := len(t.subs) == 0 && !b.closed && b.topics[t.channel] == t
	t.mu.Unlock()
	if last {
		delete(b.topics, t.channel)
	}
	b.mu.Unlock()
	if !last {
		return
	}
	ctx, stop := context.WithTimeout(context.Background(), b.subTimeout)
	defer stop()
	if err := b.ps.Unsubscribe(ctx, t.channel); err != nil && !errors.Is(err, redis.ErrClosed) {
		// go-redis forgot the channel anyway: a reconnect will not
		// resubscribe it, and stray payloads find no topic.
		// At most a line per 10 s: while Redis is down every room's
		// failed subscription (and each retry of it) ends here.
		b.unsubWarn.Add("", "channel", t.channel, "err", err)
	}
}

// readLoop is the broker's one reader: it confirms subscriptions and hands
// payloads to subscribers, in the order the pub/sub connection received
// them. It returns when Close closes the PubSub, which closes msgs.
func (b *Broker) readLoop(msgs <-chan any) {
	defer close(b.readerDone)
	for m := range msgs {
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				b.confirm(m.Channel)
			}
		case *redis.Message:
			b.dispatch(m.Channel, []byte(m.Payload))
		}
	}
}

// confirm marks channel's topic subscribed. A confirmation that answers an
// earlier SUBSCRIBE of the same channel (one whose topic was dropped
// before it was confirmed) may confirm a newer topic a little early; the
// price is at most a lost payload. A confirmation of a topic already
// confirmed is go-redis subscribing it again after it lost the pub/sub
// connection and made a new one: what was published meanwhile is lost,
// which NotifyGaps reports. (Rarely it is the answer to the topic's own
// SUBSCRIBE after such an earlier answer confirmed it: a gap reported for
// nothing, which costs the server a refill of its caches and a heal
// round.)
func (b *Broker) confirm(channel string) {
	b.mu.Lock()
	t := b.topics[channel]
	again := t != nil && t.confirmed
	if t != nil && !t.confirmed {
		t.confirmed = true
		close(t.ready)
	}
	b.mu.Unlock()
	if again {
		b.gap()
	}
}

// NotifyGaps registers f, called after the pub/sub connection was lost
// and made again (once per channel subscribed again); see
// [chat.GapNotifier]. It runs on the broker's reader goroutine.
func (b *Broker) NotifyGaps(f func()) { b.gaps.Store(&f) }

func (b *Broker) gap() {
	if f := b.gaps.Load(); f != nil {
		(*f)()
	}
}

func (b *Broker) dispatch(channel string, payload []byte) {
	b.mu.Lock()
	t := b.topics[channel]
	b.mu.Unlock()
	if t == nil {
		return // unsubscribed meanwhile
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for s := range t.subs {
		s.deliver(payload)
	}
}

// Close ends every subscription, closes the pub/sub connection, waits for
// the reader goroutine and, if Open created the client, closes it.
// Publish and Subscribe return chat.ErrClosed afterwards. Calling Close
// again returns the first result.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		topics := b.topics
		b.topics = make(map[string]*topic)
		b.mu.Unlock()
		close(b.closing)
		for _, t := range topics {
			t.mu.Lock() // waits for a delivery in progress
			clear(t.subs)
			t.mu.Unlock()
		}
		err := b.ps.Close()
		<-b.readerDone
		if b.ownsClient {
			if cerr := b.client.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			b.closeResult = fmt.Errorf("redisbroker: close: %w", err)
		}
	})
	return b.closeResult
}
