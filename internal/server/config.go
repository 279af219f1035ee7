package server

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
	"github.com/hubbub-chat/hubbub/web"
)

// Config configures a Server. Store and Broker are required; every other
// field has a useful zero value, noted beside it.
type Config struct {
	Store  chat.Store
	Broker chat.Broker
	Logger *slog.Logger // default: discard

	// AllowedOrigins lists browser origins ("https://chat.example.com")
	// allowed to open a WebSocket besides the request's own host. A
	// request without an Origin header (a non-browser client) is allowed.
	AllowedOrigins []string

	// Web serves everything that is not an API route. Default: the
	// embedded browser client, web.Handler().
	Web http.Handler

	ReadLimit       int64         // largest client frame in bytes; default protocol.MaxFrameBytes
	PingInterval    time.Duration // default 25s
	PongTimeout     time.Duration // default 10s: how long past PingInterval a silent peer survives
	WriteTimeout    time.Duration // default 10s: deadline of each write
	IdentifyTimeout time.Duration // default 30s: time allowed before hello
	CloseGrace      time.Duration // default 1s: wait for the peer's close frame after ours
	SendQueueLen    int           // default 1024: queued events per connection before slow-consumer close
	SendQueueBytes  int           // default 8 MiB: queued bytes per connection before slow-consumer close
	MaxInFlight     int           // default 64: unacknowledged sends per connection before reads pause
	MaxBadCommands  int           // default 16: invalid commands in a row before close 1008
	CommitBatch     int           // default 256: most messages committed in one transaction
	MaxFrameBatch   int           // default 64 KiB: most bytes coalesced into one server frame (a single larger event is sent alone)
}

func (c *Config) setDefaults() {
	if c.Web == nil {
		c.Web = web.Handler()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	setDur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	setInt := func(n *int, def int) {
		if *n <= 0 {
			*n = def
		}
	}
	if c.ReadLimit <= 0 {
		c.ReadLimit = protocol.MaxFrameBytes
	}
	setDur(&c.PingInterval, 25*time.Second)
	setDur(&c.PongTimeout, 10*time.Second)
	setDur(&c.WriteTimeout, 10*time.Second)
	setDur(&c.IdentifyTimeout, 30*time.Second)
	setDur(&c.CloseGrace, time.Second)
	setInt(&c.SendQueueLen, 1024)
	setInt(&c.SendQueueBytes, 8<<20)
	setInt(&c.MaxInFlight, 64)
	setInt(&c.MaxBadCommands, 16)
	setInt(&c.CommitBatch, 256)
	setInt(&c.MaxFrameBatch, 64<<10)
}
