package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

// Config configures Run. Every zero field takes the default noted beside it.
type Config struct {
	URL        string        // default ws://127.0.0.1:8080/ws
	Clients    int           // connections, all in Room; default 100
	Publishers int           // clients that also publish; default 10, at most Clients
	Rate       float64       // messages per second, all publishers together; default 100
	Duration   time.Duration // how long publishers publish; default 10s
	Room       string        // default "bench"; created when missing
	Ramp       float64       // connections started per second; default 1000
	// ServerPID is the server's process id, for its RSS and CPU time
	// (Linux /proc). 0 means they are not measured.
	ServerPID int
	// SharedName makes every client say hello with the same guest name,
	// so the room holds one user: joins then cost no presence fan-out,
	// which isolates the fan-out of messages. Default: a name per client.
	SharedName bool

	Workers      int           // connection setups at once; default 64
	SetupTimeout time.Duration // upgrade, hello and join of one client; default 30s
	Settle       time.Duration // silence after connecting that counts as idle; default 1s
	// Drain is how long to wait, after the last send, with no ack and no
	// delivery arriving before giving up on the missing ones; default 10s.
	Drain    time.Duration
	Progress io.Writer // receives a line per second; nil: none
}

func (c *Config) setDefaults() {
	if c.URL == "" {
		c.URL = "ws://127.0.0.1:8080/ws"
	}
	if c.Clients == 0 {
		c.Clients = 100
	}
	if c.Publishers == 0 {
		c.Publishers = min(10, c.Clients)
	}
	if c.Rate == 0 {
		c.Rate = 100
	}
	if c.Duration == 0 {
		c.Duration = 10 * time.Second
	}
	if c.Room == "" {
		c.Room = "bench"
	}
	if c.Ramp == 0 {
		c.Ramp = 1000
	}
	if c.Workers == 0 {
		c.Workers = 64
	}
	if c.SetupTimeout == 0 {
		c.SetupTimeout = 30 * time.Second
	}
	if c.Settle == 0 {
		c.Settle = time.Second
	}
	if c.Drain == 0 {
		c.Drain = 10 * time.Second
	}
}

// messages is the number of messages a run publishes.
func (c *Config) messages() int { return int(c.Rate*c.Duration.Seconds() + 0.5) }

func (c *Config) validate() error {
	var errs []error
	if c.Clients < 1 {
		errs = append(errs, errors.New("clients must be at least 1"))
	}
	if c.Publishers < 1 || c.Publishers > c.Clients {
		errs = append(errs, fmt.Errorf("publishers must be between 1 and the number of clients (%d)", c.Clients))
	}
	if !(c.Rate > 0) || math.IsInf(c.Rate, 0) {
		errs = append(errs, errors.New("rate must be positive"))
	}
	if c.Duration < 0 {
		errs = append(errs, errors.New("duration must not be negative"))
	} else if c.messages() > 10_000_000 {
		errs = append(errs, errors.New("rate × duration is over 10 million messages"))
	}
	if !(c.Ramp > 0) {
		errs = append(errs, errors.New("ramp must be positive"))
	}
	if err := protocol.CheckRoomName(c.Room); err != nil {
		errs = append(errs, fmt.Errorf("room: %w", err))
	}
	if !strings.HasPrefix(c.URL, "ws://") && !strings.HasPrefix(c.URL, "wss://") {
		errs = append(errs, fmt.Errorf("url %q: want ws:// or wss://", c.URL))
	}
	return errors.Join(errs...)
}
