// Command hubbub-storm measures a reconnect storm: how long the clients of
// a node that restarts take to be back and resumed, through the real Go
// client library (its backoff, its Retry-After handling, its resume).
//
// It starts hubbubd (--hubbubd, a built binary) on --addr with a fresh
// SQLite directory, connects -n clients from this one address (as users
// behind one NAT) into one room, and has one more client publish --rate
// messages per second throughout. Then it kills the node (--stop kill:
// SIGKILL, every socket drops at once; term: SIGTERM, the node drains) and
// starts a fresh one on the same address and data. It reports:
//
//   - back: when the last client had a connection again (Connected);
//   - resumed: when the last client had delivered the first message
//     acknowledged by the new node, and so every message before it;
//
// both counted from the moment the old node was stopped; how many
// handshakes the new node turned away; and whether every client delivered
// every acknowledged message exactly once, in order. The exit status is 1
// when one did not, or when not all were back within --timeout.
//
// Without --hubbubd it manages no node: it connects to --url (a load
// balancer in front of several nodes, say), publishes for --duration while
// you restart nodes behind it, and checks the same delivery promise,
// reporting how many reconnects the clients made.
//
// Run it as its own process, apart from other load: it holds -n+1
// sockets, hubbubd as many again.
//
//	go build -o /tmp/hubbubd ./cmd/hubbubd
//	go run ./cmd/hubbub-storm --hubbubd /tmp/hubbubd -n 10000
//	go run ./cmd/hubbub-storm --url ws://127.0.0.1:8000/ws -n 300 --duration 60s
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags set.
type config struct {
	hubbubd    string
	url        string
	duration   time.Duration
	addr       string
	data       string
	n          int
	rate       float64
	workers    int
	stop       string
	timeout    time.Duration
	serverArgs []string
}

// result is what a run measured; it is printed as JSON.
type result struct {
	Clients         int     `json:"clients"`
	Stop            string  `json:"stop"`
	FillSeconds     float64 `json:"fill_seconds"`    // connecting and joining every client the first time
	RestartSeconds  float64 `json:"restart_seconds"` // from stopping the old node to the new one serving
	Reconnects      int     `json:"reconnects"`      // Connected events after each client's first
	BackSeconds     float64 `json:"back_seconds"`    // from stopping the old node to the last client connected again
	ResumedSeconds  float64 `json:"resumed_seconds"` // ... to the last client having every message up to the new node's first ack
	Refused         float64 `json:"handshakes_refused"`
	Acked           int     `json:"acked"`            // messages acknowledged to the publisher
	Refusals        int     `json:"send_refusals"`    // sends that ended in an error (not acknowledged)
	Incomplete      int     `json:"incomplete"`       // clients that did not deliver every acked message
	OrderViolations int     `json:"order_violations"` // deliveries out of sequence (gap or repeat) at any client
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg config
	fs := flag.NewFlagSet("hubbub-storm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.hubbubd, "hubbubd", "", "hubbubd `binary` to run and restart; without it, --url is used as is")
	fs.StringVar(&cfg.url, "url", "", "WebSocket URL of a running deployment (without --hubbubd)")
	fs.DurationVar(&cfg.duration, "duration", time.Minute, "with --url: how long to publish before checking")
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:18380", "address the node listens on")
	fs.StringVar(&cfg.data, "data", "", "data `directory` for the node (default: a new temporary one)")
	fs.IntVar(&cfg.n, "n", 1000, "clients")
	fs.Float64Var(&cfg.rate, "rate", 2, "messages per second the publisher sends throughout")
	fs.IntVar(&cfg.workers, "workers", 32, "clients connecting at once during the first fill")
	fs.StringVar(&cfg.stop, "stop", "kill", "how the old node stops: kill (SIGKILL) or term (SIGTERM: drain)")
	fs.DurationVar(&cfg.timeout, "timeout", 2*time.Minute, "longest wait for the clients to be back and resumed")
	var extra string
	fs.StringVar(&extra, "server-args", "", "extra hubbubd flags, space-separated")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if (cfg.hubbubd == "") == (cfg.url == "") || (cfg.stop != "kill" && cfg.stop != "term") || cfg.n < 1 || cfg.rate <= 0 {
		fmt.Fprintln(stderr, "hubbub-storm: need one of --hubbubd and --url, -n ≥ 1, --rate > 0 and --stop kill|term")
		return 2
	}
	cfg.serverArgs = strings.Fields(extra)
	if cfg.data == "" {
		dir, err := os.MkdirTemp("", "hubbub-storm-")
		if err != nil {
			fmt.Fprintln(stderr, "hubbub-storm:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		cfg.data = dir
	}
	res, err := storm(ctx, cfg, stderr)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.Encode(res)
	if err != nil {
		fmt.Fprintln(stderr, "hubbub-storm:", err)
		return 1
	}
	return 0
}

// node is a running hubbubd.
type node struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

var servingLine = regexp.MustCompile(`^hubbubd: serving on `)

func startNode(cfg config, stderr io.Writer) (*node, error) {
	args := append([]string{"--addr", cfg.addr, "--data", cfg.data, "--log-level", "warn"}, cfg.serverArgs...)
	cmd := exec.Command(cfg.hubbubd, args...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	n := &node{cmd: cmd, exited: make(chan struct{})}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := sc.Scan() && servingLine.MatchString(sc.Text())
		ready <- ok
		io.Copy(io.Discard, out)
		cmd.Wait()
		close(n.exited)
	}()
	select {
	case ok := <-ready:
		if !ok {
			n.kill()
			return nil, errors.New("hubbubd did not say it serves")
		}
	case <-time.After(30 * time.Second):
		n.kill()
		return nil, errors.New("hubbubd did not start within 30s")
	}
	return n, nil
}

func (n *node) kill() {
	n.cmd.Process.Kill()
	<-n.exited
}

// member is one measured client and what it delivered.
type member struct {
	c *client.Client

	mu        sync.Mutex // guards the fields below
	last      int64      // newest seq delivered
	bad       int        // deliveries out of sequence
	connected time.Time  // the newest Connected
	connects  int        // Connected events, the first connection's included
	changed   chan struct{}
}

// watch consumes m's events until the channel closes.
func (m *member) watch(room string) {
	for ev := range m.c.Events() {
		m.mu.Lock()
		switch ev := ev.(type) {
		case client.MessageEvent:
			if ev.Message.Room == room {
				if m.last != 0 && ev.Message.Seq != m.last+1 {
					m.bad++
				}
				m.last = ev.Message.Seq
			}
		case client.StateEvent:
			if ev.State == client.Connected {
				m.connected = time.Now()
				m.connects++
			}
		}
		close(m.changed)
		m.changed = make(chan struct{})
		m.mu.Unlock()
	}
}

// dialRetry dials like an application would for its first connection:
// again after the server's Retry-After (plus up to 1s jitter), or a short
// backoff.
func dialRetry(ctx context.Context, url, name string) (*client.Client, error) {
	for attempt := 0; ; attempt++ {
		c, err := client.Dial(ctx, url, client.Options{Name: name})
		if err == nil {
			return c, nil
		}
		wait := time.Duration(math.Min(float64(time.Second)*math.Pow(2, float64(min(attempt, 5))), float64(30*time.Second)) * rand.Float64())
		if he, ok := errors.AsType[*client.HandshakeError](err); ok && he.RetryAfter > 0 {
			wait = he.RetryAfter + time.Duration(rand.Float64()*float64(time.Second))
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
	}
}

func storm(ctx context.Context, cfg config, progress io.Writer) (res result, err error) {
	res.Clients, res.Stop = cfg.n, cfg.stop
	const room = "storm"
	url := cfg.url
	var nd *node
	if cfg.hubbubd != "" {
		url = "ws://" + cfg.addr + "/ws"
		nd, err = startNode(cfg, progress)
		if err != nil {
			return res, err
		}
		defer func() { nd.kill() }()
	}

	pub, err := dialRetry(ctx, url, "publisher")
	if err != nil {
		return res, err
	}
	defer pub.Close()
	go func() {
		for range pub.Events() {
		}
	}()
	if _, err := pub.Create(ctx, room, "reconnect storm"); err != nil && protocol.CodeOf(err) != protocol.CodeRoomExists {
		return res, err
	}
	if _, _, err := pub.Join(ctx, room); err != nil {
		return res, err
	}

	// Fill: every client connects and joins.
	fillStart := time.Now()
	members := make([]*member, cfg.n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var fillErr error
	var fillMu sync.Mutex
	for range cfg.workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.n || ctx.Err() != nil {
					return
				}
				c, err := dialRetry(ctx, url, fmt.Sprint("u", i))
				if err == nil {
					_, _, err = c.Join(ctx, room)
				}
				if err != nil {
					fillMu.Lock()
					fillErr = fmt.Errorf("client %d: %w", i, err)
					fillMu.Unlock()
					return
				}
				m := &member{c: c, changed: make(chan struct{})}
				members[i] = m
				go m.watch(room)
				if (i+1)%1000 == 0 {
					fmt.Fprintf(progress, "hubbub-storm: %d clients in, %v\n", i+1, time.Since(fillStart).Round(time.Millisecond))
				}
			}
		})
	}
	wg.Wait()
	defer func() {
		for _, m := range members {
			if m != nil {
				m.c.Close()
			}
		}
	}()
	if fillErr != nil {
		return res, fillErr
	}
	res.FillSeconds = time.Since(fillStart).Seconds()

	// The publisher sends throughout; acked records what was acknowledged.
	var (
		ackMu    sync.Mutex
		acked    []protocol.Message
		refusals int
	)
	pubCtx, stopPub := context.WithCancel(ctx)
	var pubWG sync.WaitGroup
	pubWG.Go(func() {
		tick := time.NewTicker(time.Duration(float64(time.Second) / cfg.rate))
		defer tick.Stop()
		var sends sync.WaitGroup
		defer sends.Wait()
		for i := 0; ; i++ {
			select {
			case <-pubCtx.Done():
				return
			case <-tick.C:
			}
			sends.Go(func() {
				sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
				defer cancel()
				m, err := pub.Send(sctx, room, fmt.Sprint("m", i))
				ackMu.Lock()
				defer ackMu.Unlock()
				if err != nil {
					refusals++
					return
				}
				acked = append(acked, m)
			})
		}
	})
	time.Sleep(2 * time.Second)
	if nd == nil {
		fmt.Fprintf(progress, "hubbub-storm: %d clients in after %.1fs; publishing for %v\n", cfg.n, res.FillSeconds, cfg.duration)
		select {
		case <-time.After(cfg.duration):
		case <-ctx.Done():
		}
		return res, settle(&res, members, stopPub, &pubWG, &ackMu, &acked, &refusals, "")
	}

	// The storm.
	fmt.Fprintf(progress, "hubbub-storm: %d clients in after %.1fs; stopping the node (%s)\n", cfg.n, res.FillSeconds, cfg.stop)
	t0 := time.Now()
	if cfg.stop == "kill" {
		nd.kill()
	} else {
		nd.cmd.Process.Signal(syscall.SIGTERM)
		<-nd.exited
	}
	nd, err = startNode(cfg, progress)
	if err != nil {
		stopPub()
		pubWG.Wait()
		return res, err
	}
	res.RestartSeconds = time.Since(t0).Seconds()
	newNodeUp := time.Now()

	// The first message the new node acknowledges is the marker.
	var marker int64
	for marker == 0 {
		if time.Since(t0) > cfg.timeout || ctx.Err() != nil {
			stopPub()
			pubWG.Wait()
			ackMu.Lock()
			res.Acked, res.Refusals = len(acked), refusals
			ackMu.Unlock()
			return res, errors.New("the new node acknowledged no message in time")
		}
		time.Sleep(50 * time.Millisecond)
		ackMu.Lock()
		for _, m := range acked {
			if time.UnixMilli(m.TS).After(newNodeUp) && (marker == 0 || m.Seq < marker) {
				marker = m.Seq
			}
		}
		ackMu.Unlock()
	}

	deadline := t0.Add(cfg.timeout)
	var back, resumed time.Time
	for i, m := range members {
		for {
			m.mu.Lock()
			conn, last, changed := m.connected, m.last, m.changed
			m.mu.Unlock()
			if conn.After(t0) && last >= marker {
				back, resumed = later(back, conn), later(resumed, time.Now())
				break
			}
			select {
			case <-changed:
				continue
			case <-time.After(time.Until(deadline)):
			}
			stopPub()
			pubWG.Wait()
			return res, fmt.Errorf("client %d not back and resumed %v after the stop (connected %v, last seq %d, marker %d)", i, cfg.timeout, !conn.Before(t0), last, marker)
		}
	}
	res.BackSeconds = back.Sub(t0).Seconds()
	res.ResumedSeconds = resumed.Sub(t0).Seconds()
	fmt.Fprintf(progress, "hubbub-storm: all back after %.1fs, resumed after %.1fs\n", res.BackSeconds, res.ResumedSeconds)

	time.Sleep(time.Second)
	return res, settle(&res, members, stopPub, &pubWG, &ackMu, &acked, &refusals, cfg.addr)
}

// settle stops the publisher and checks that every client delivered every
// acked message, once and in order; addr, if not empty, is the node whose
// refused handshakes to count.
func settle(res *result, members []*member, stopPub func(), pubWG *sync.WaitGroup, ackMu *sync.Mutex, ackedp *[]protocol.Message, refusalsp *int, addr string) error {
	stopPub()
	pubWG.Wait()
	ackMu.Lock()
	acked, refusals := *ackedp, *refusalsp
	res.Acked, res.Refusals = len(acked), refusals
	var top int64
	for _, m := range acked {
		top = max(top, m.Seq)
	}
	ackMu.Unlock()
	final := time.Now().Add(30 * time.Second)
	for _, m := range members {
		for {
			m.mu.Lock()
			last, changed := m.last, m.changed
			m.mu.Unlock()
			if last >= top {
				break
			}
			select {
			case <-changed:
				continue
			case <-time.After(time.Until(final)):
			}
			res.Incomplete++
			break
		}
		m.mu.Lock()
		res.OrderViolations += m.bad
		res.Reconnects += max(0, m.connects-1)
		m.mu.Unlock()
	}
	if addr != "" {
		res.Refused = refusedHandshakes(addr)
	}
	if res.Incomplete > 0 || res.OrderViolations > 0 {
		return fmt.Errorf("%d clients missed acked messages, %d deliveries out of order", res.Incomplete, res.OrderViolations)
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// refusedHandshakes reads the new node's count of handshakes turned away,
// all reasons together; -1 if it cannot.
func refusedHandshakes(addr string) float64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	total := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "hubbub_handshakes_refused_total{") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			total += v
		}
	}
	return total
}
