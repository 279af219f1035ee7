// Command crowd runs many hubbub clients (package client, with its default
// reconnect behaviour) in one room for the fault suite's reconnect storm.
// It runs as a process of its own, built without the race detector, so
// that thousands of clients cost the test what they would cost a user's
// machine, not what they cost under -race.
//
// It connects -n guests named -prefix0, -prefix1, … to -url, -parallel at
// a time, each joining -room (created if missing), and prints
//
//	ready OK FAILED [first error]
//
// Then it answers commands read from stdin, one per line, each with one
// line of JSON on stdout:
//
//	status   {"connected":N,"live":N}
//	report   {"clients":[{"name":…,"from":…,"seqs":[[a,b],…],…}]}
//
// A client is connected when its newest state is Connected (or it never
// lost its connection) and live until it stopped by itself. seqs are the
// sequence numbers it delivered in the room, as closed ranges; breaches
// are its deliveries of a seq not above the one before, or of a body it
// had delivered already. At end of input, or on "quit", it closes every
// client and exits 0.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

func main() {
	url := flag.String("url", "", "the WebSocket URL the clients dial")
	n := flag.Int("n", 1000, "how many clients")
	room := flag.String("room", "lobby", "the room every client joins")
	prefix := flag.String("prefix", "c", "guest names are this prefix and a number")
	parallel := flag.Int("parallel", 32, "clients connecting at once during setup")
	flag.Parse()
	if *url == "" || *n <= 0 {
		fmt.Fprintln(os.Stderr, "crowd: -url and a positive -n are required")
		os.Exit(2)
	}
	os.Exit(run(*url, *n, *room, *prefix, *parallel, os.Stdin, os.Stdout))
}

// member is one client and what it delivered. Guarded by mu, except c.
type member struct {
	name string
	c    *client.Client
	done chan struct{}

	mu        sync.Mutex
	from      int64
	last      int64
	ranges    [][2]int64
	bodies    map[string]bool
	breaches  []string
	connected bool
	live      bool
	drops     int
	dials     int
	causes    map[string]int
}

func run(url string, n int, room, prefix string, parallel int, in io.Reader, out io.Writer) int {
	members := make([]*member, n)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		failed  int
		firstEr error
		next    = make(chan int)
	)
	for range parallel {
		wg.Go(func() {
			for i := range next {
				m, err := connect(url, prefix+strconv.Itoa(i), room)
				if err != nil {
					mu.Lock()
					failed++
					if firstEr == nil {
						firstEr = err
					}
					mu.Unlock()
					continue
				}
				members[i] = m
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	msg := ""
	if firstEr != nil {
		msg = " " + firstEr.Error()
	}
	fmt.Fprintf(out, "ready %d %d%s\n", n-failed, failed, msg)

	var ok []*member
	for _, m := range members {
		if m != nil {
			ok = append(ok, m)
		}
	}
	defer closeAll(ok)
	enc := json.NewEncoder(out)
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		switch sc.Text() {
		case "status":
			var s struct{ Connected, Live int }
			for _, m := range ok {
				m.mu.Lock()
				if m.connected {
					s.Connected++
				}
				if m.live {
					s.Live++
				}
				m.mu.Unlock()
			}
			enc.Encode(map[string]int{"connected": s.Connected, "live": s.Live})
		case "report":
			enc.Encode(report(ok))
		case "quit":
			return 0
		default:
			fmt.Fprintf(out, "{\"error\":%q}\n", "unknown command "+sc.Text())
		}
	}
	return 0
}

func connect(url, name, room string) (*member, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, url, client.Options{Name: name, EventBuffer: 64})
	if err != nil {
		return nil, err
	}
	m := &member{name: name, c: c, done: make(chan struct{}), bodies: map[string]bool{},
		connected: true, live: true, causes: map[string]int{}}
	go m.read()
	info, _, err := c.Join(ctx, room)
	if protocol.CodeOf(err) == protocol.CodeNoSuchRoom {
		if _, cerr := c.Create(ctx, room, ""); cerr != nil && protocol.CodeOf(cerr) != protocol.CodeRoomExists {
			err = cerr
		} else {
			info, _, err = c.Join(ctx, room)
		}
	}
	if err != nil {
		c.Close()
		<-m.done
		return nil, fmt.Errorf("%s: join %s: %w", name, room, err)
	}
	m.mu.Lock()
	m.from = info.LastSeq
	m.mu.Unlock()
	return m, nil
}

func (m *member) read() {
	defer close(m.done)
	for ev := range m.c.Events() {
		m.mu.Lock()
		switch ev := ev.(type) {
		case client.MessageEvent:
			s := ev.Message.Seq
			if s <= m.last {
				m.breach(fmt.Sprintf("seq %d after %d", s, m.last))
			}
			if m.bodies[ev.Message.Body] {
				m.breach(fmt.Sprintf("body %q twice", ev.Message.Body))
			}
			m.bodies[ev.Message.Body] = true
			m.last = max(m.last, s)
			if k := len(m.ranges); k > 0 && m.ranges[k-1][1] == s-1 {
				m.ranges[k-1][1] = s
			} else {
				m.ranges = append(m.ranges, [2]int64{s, s})
			}
		case client.StateEvent:
			switch ev.State {
			case client.Connected:
				m.connected = true
			case client.Reconnecting:
				m.connected = false
				if ev.Attempt == 1 {
					m.drops++
				} else {
					m.causes[cause(ev.Err)]++
				}
				m.dials++
			case client.Closed:
				m.connected, m.live = false, false
			}
		}
		m.mu.Unlock()
	}
}

// breach records a breach of the pass rule; m.mu is held.
func (m *member) breach(s string) {
	if len(m.breaches) < 3 {
		m.breaches = append(m.breaches, s)
	}
}

// cause names why a reconnect dial failed.
func cause(err error) string {
	if he, ok := errors.AsType[*client.HandshakeError](err); ok {
		return fmt.Sprintf("HTTP %d", he.StatusCode)
	}
	if ce, ok := errors.AsType[*websocket.CloseError](err); ok {
		return fmt.Sprintf("close %d", ce.Code)
	}
	if pe, ok := errors.AsType[*protocol.Error](err); ok {
		return "hello " + string(pe.Code)
	}
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "EOF"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	}
	return "other"
}

// Client is one client's line of a report.
type Client struct {
	Name      string         `json:"name"`
	From      int64          `json:"from"`
	Seqs      [][2]int64     `json:"seqs"`
	Breaches  []string       `json:"breaches,omitempty"`
	Connected bool           `json:"connected"`
	Live      bool           `json:"live"`
	Drops     int            `json:"drops"`
	Dials     int            `json:"dials"`
	Causes    map[string]int `json:"causes,omitempty"`
}

func report(ms []*member) map[string][]Client {
	out := make([]Client, 0, len(ms))
	for _, m := range ms {
		m.mu.Lock()
		out = append(out, Client{
			Name: m.name, From: m.from, Seqs: slices.Clone(m.ranges), Breaches: slices.Clone(m.breaches),
			Connected: m.connected, Live: m.live, Drops: m.drops, Dials: m.dials, Causes: maps.Clone(m.causes),
		})
		m.mu.Unlock()
	}
	return map[string][]Client{"clients": out}
}

func closeAll(ms []*member) {
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Go(func() {
			m.c.Close()
			<-m.done
		})
	}
	wg.Wait()
}
