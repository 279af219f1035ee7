package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

// Config configures Run. Every zero field takes the default noted beside it.
type Config struct {
	// Target is the server's wire protocol: "hubbub" (default),
	// "gorilla-chat" or "centrifugo"; see peer.go.
	Target string
	// Workload is what the run does: "fanout" (default), "storm",
	// "idle", "rooms" or "durable"; see workload.go.
	Workload string
	// URL is the server's WebSocket URL, or several nodes' URLs comma
	// separated: client i dials the (i mod count)-th; default
	// ws://127.0.0.1:8080/ws. See nodes.go.
	URL string
	// PublisherURL, when set, is the node every publisher dials; the
	// other clients then spread over URL's list. Only for the workloads
	// that publish. Default: none, publishers spread like the others.
	PublisherURL string
	Clients      int // connections; default 100
	Publishers   int // fanout: clients that also publish; default 10, at most Clients
	// RoomMin and RoomMax bound the sizes of the rooms of the rooms
	// workload; defaults 10 and 50.
	RoomMin, RoomMax int
	// Hold is how long the idle workload keeps its connections open,
	// heartbeats running, before it reads the server's RSS; default 30s.
	Hold     time.Duration
	Rate     float64       // messages per second, all publishers together; default 100
	Duration time.Duration // how long publishers publish; default 10s
	Room     string        // default "bench"; created when missing; the rooms workload adds -r<i>
	// Ramp is the number of connections started per second; default
	// 1000, and for the storm workload +Inf (only Workers limits it).
	Ramp float64
	// ServerPID is the server's process id, for its RSS and CPU time
	// (Linux /proc). 0 means they are not measured.
	ServerPID int
	// SharedName makes every client speak as one user, so the room holds
	// one user: joins then cost no presence fan-out, which isolates the
	// fan-out of messages. Default: a guest name per client. Guests'
	// names are unique among those online, so on hubbub the run first
	// registers an account named after the run (POST /api/register on
	// the first node) and every client connects with its session token,
	// as several devices of one person do.
	SharedName bool
	// Resume has hubbub clients that the server closes as slow consumers
	// (4000) reconnect as the same guest, join again and fetch what they
	// missed from history, so that each receives every message exactly
	// once; see resume.go. The peers have no history: there it does
	// nothing. Default false; the command line's --resume defaults to true.
	Resume bool
	// ResumeJitter: a client closed with 4000 waits a uniformly random
	// time below this before it dials again, as the Go client library's
	// first reconnect does (full jitter under client.DefaultBackoffBase),
	// so that a server that closed many clients at once is not met by all
	// of them in the same instant. 0: at once. The command line's
	// --resume-jitter defaults to 250ms.
	ResumeJitter time.Duration

	Workers      int           // connection setups at once; default 64
	SetupTimeout time.Duration // upgrade, hello and join of one client; default 30s
	Settle       time.Duration // silence after connecting that counts as idle; default 1s
	// Drain is how long to wait, after the last send, with no ack and no
	// delivery arriving before giving up on the missing ones; default 10s.
	Drain    time.Duration
	Progress io.Writer // receives a line per second; nil: none

	// Stall makes every odd-numbered client stop reading for this long
	// once, on its first connection, after its first delivery of the run;
	// with a receive buffer of RcvBuf bytes (0: the system's, which grows
	// to megabytes) it is a slow consumer for sure, however fast the
	// machine: a resume storm of half the clients. 0: none.
	Stall  time.Duration
	RcvBuf int // the clients' socket receive buffer (SO_RCVBUF) in bytes; 0: the system's
}

func (c *Config) setDefaults() {
	if c.Target == "" {
		c.Target = targetHubbub
	}
	if c.Workload == "" {
		c.Workload = workloadFanout
	}
	if c.RoomMin == 0 {
		c.RoomMin = 10
	}
	if c.RoomMax == 0 {
		c.RoomMax = max(50, c.RoomMin)
	}
	if c.Hold == 0 {
		c.Hold = 30 * time.Second
	}
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
		if c.Workload == workloadStorm {
			c.Ramp = math.Inf(1)
		}
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

// messages is the number of messages a run publishes: none for the
// workloads that do not publish.
func (c *Config) messages() int {
	if !publishes(c.Workload) {
		return 0
	}
	return int(c.Rate*c.Duration.Seconds() + 0.5)
}

func (c *Config) validate() error {
	var errs []error
	if _, ok := peers[c.Target]; !ok {
		errs = append(errs, fmt.Errorf("target %q: want one of %s", c.Target, strings.Join(targetNames, ", ")))
	} else if _, ok := workloads[c.Workload]; !ok {
		errs = append(errs, fmt.Errorf("workload %q: want one of %s", c.Workload, strings.Join(workloadNames, ", ")))
	} else if why := unsupported(c.Target, c.Workload); why != "" {
		errs = append(errs, fmt.Errorf("workload %s on %s: %s", c.Workload, c.Target, why))
	}
	if c.RoomMin < 1 || c.RoomMax < c.RoomMin {
		errs = append(errs, errors.New("room sizes: want 1 ≤ min ≤ max"))
	}
	if c.Clients < 1 {
		errs = append(errs, errors.New("clients must be at least 1"))
	}
	if c.Workload == workloadFanout && (c.Publishers < 1 || c.Publishers > c.Clients) {
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
	} else if err := protocol.CheckRoomName(c.Room + "-r" + strconv.Itoa(c.Clients)); err != nil {
		errs = append(errs, fmt.Errorf("room %s: the rooms it names for the rooms and durable workloads: %w", c.Room, err))
	}
	if err := checkURLs("url", c.URL); err != nil {
		errs = append(errs, err)
	}
	if c.PublisherURL != "" {
		if len(splitURLs(c.PublisherURL)) != 1 {
			errs = append(errs, fmt.Errorf("publisher url %q: want one URL", c.PublisherURL))
		} else if err := checkURLs("publisher url", c.PublisherURL); err != nil {
			errs = append(errs, err)
		}
		if !publishes(c.Workload) {
			errs = append(errs, fmt.Errorf("publisher url: the %s workload has no publishers", c.Workload))
		}
	}
	return errors.Join(errs...)
}
