// Command hubbub-bench is hubbub's load generator. By default (--workload
// fanout) it opens -n clients in one room through the real protocol
// (upgrade with the hubbub.v1 subprotocol, hello as a guest, join), has
// --publishers of them publish at --rate messages per second in total for
// --duration, and reports deliveries per second, loss, sequence gaps and
// duplicates, latency percentiles, and the server's memory and CPU (with
// --server-pid). The other workloads are storm (connections/s and server
// CPU per connection), idle (server RSS per idle connection), rooms (many
// rooms of --room-min to --room-max members) and durable (acknowledged
// messages/s into the store); see workload.go.
//
// --url may list several nodes of one chat, comma separated, and
// --publisher-url put every publisher on one node while the others spread
// over --url: with the fanout workload that measures cross-node delivery,
// reported per node; see nodes.go.
//
// --target loads a peer instead of hubbub, for the side-by-side table of
// docs/benchmarks.md: gorilla-chat (gorilla/websocket's examples/chat) or
// centrifugo (Centrifugo's JSON protocol); see peer.go. `hubbub-bench
// compare` starts each server in turn, runs the workloads against each,
// alternating, and prints the medians as that table; see compare.go. With
// --postgres it runs hubbubd a second time, on PostgreSQL (a new database
// per run; see pgdb.go), as a column of its own.
//
// It speaks the protocols directly with gorilla/websocket rather than
// through the client package: it is cheaper per connection, and it must
// not depend on what it measures.
//
// Every client receives every message, its own included, so a run is
// expected to deliver acked × n messages. On hubbub, --resume (the
// default) has a client that the server closes as a slow consumer (close
// 4000) reconnect, join again and fetch what it missed from history, as
// docs/protocol.md tells clients to, so that it still receives every
// message exactly once; see resume.go. The exit status is 1 when some
// deliveries were lost (with --resume=false, or on the peers: lost without
// any slow-consumer close), when receivers saw a sequence gap or a
// duplicate, when a client gave up resuming, or when not every client
// connected; 2 for bad flags.
//
// Run the server and the generator as separate processes: one process may
// hold only so many open files, and both must be measured apart.
//
//	go build -o /tmp/hubbubd ./cmd/hubbubd && /tmp/hubbubd --data "$(mktemp -d)" --addr 127.0.0.1:18090 &
//	go run ./cmd/hubbub-bench --url ws://127.0.0.1:18090/ws -n 1000 --server-pid $!
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "compare" {
		return runCompare(ctx, args[1:], stdout, stderr)
	}
	cfg, opts, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "hubbub-bench:", err)
		return 2
	}
	cfg.Progress = stderr
	if opts.cpuProfile != "" {
		stopProfile, err := startCPUProfile(opts.cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "hubbub-bench:", err)
			return 1
		}
		defer stopProfile()
	}
	asJSON := opts.json
	res, runErr := Run(ctx, cfg)
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(res)
	} else {
		printResult(stdout, &res)
	}
	if runErr != nil {
		fmt.Fprintln(stderr, "hubbub-bench:", runErr)
		return 1
	}
	if err := res.Check(); err != nil {
		fmt.Fprintln(stderr, "hubbub-bench: FAIL:", err)
		return 1
	}
	return 0
}

// options are the flags that shape the program's output rather than the
// run.
type options struct {
	json       bool   // print the result as JSON
	cpuProfile string // write the generator's CPU profile here
}

func parseFlags(args []string, stderr io.Writer) (Config, options, error) {
	var cfg Config
	var opts options
	fs := flag.NewFlagSet("hubbub-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Target, "target", targetHubbub, "the server's protocol: "+strings.Join(targetNames, ", "))
	fs.StringVar(&cfg.Workload, "workload", workloadFanout, "what to do: "+strings.Join(workloadNames, ", "))
	fs.StringVar(&cfg.URL, "url", "ws://127.0.0.1:8080/ws", "the server's WebSocket `URL` (gorilla-chat: …/ws; centrifugo: …/connection/websocket); several nodes comma separated: client i dials the (i mod count)-th")
	fs.StringVar(&cfg.PublisherURL, "publisher-url", "", "the node the publishers dial (`URL`); the other clients spread over --url (fanout with --publisher-url A --url B,C: cross-node delivery)")
	fs.IntVar(&cfg.Clients, "n", 100, "number of clients")
	fs.IntVar(&cfg.Publishers, "publishers", 10, "fanout: clients that also publish (rooms: the first member of each room; durable: every client)")
	fs.Float64Var(&cfg.Rate, "rate", 100, "messages per second, all publishers together")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to publish")
	fs.StringVar(&cfg.Room, "room", "bench", "the `room` (Centrifugo: channel); created when missing; rooms and durable add -r<i>")
	fs.IntVar(&cfg.RoomMin, "room-min", 10, "rooms: fewest members of a room")
	fs.IntVar(&cfg.RoomMax, "room-max", 50, "rooms: most members of a room")
	fs.DurationVar(&cfg.Hold, "hold", 30*time.Second, "idle: how long the connections stay idle, heartbeats running, before the server's RSS is read")
	fs.Float64Var(&cfg.Ramp, "ramp", 0, "connections started per second (0: 1000, storm: unlimited)")
	fs.IntVar(&cfg.Workers, "workers", 64, "connection setups at once (the storm's W)")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "the server's process id, to measure its RSS and CPU time (Linux /proc; with several nodes, of that one process)")
	fs.DurationVar(&cfg.Drain, "drain", 10*time.Second, "how long to wait after the last send for acks and deliveries")
	fs.BoolVar(&cfg.SharedName, "shared-name", false, "all clients speak as one user (on hubbub, an account the run registers; the server's --conns-per-user must allow -n sockets): no presence fan-out on join")
	fs.DurationVar(&cfg.ResumeJitter, "resume-jitter", 250*time.Millisecond, "hubbub: a client closed as a slow consumer waits a random time up to this before it reconnects, as the Go client library does; 0: at once")
	fs.DurationVar(&cfg.Stall, "stall", 0, "fanout: every other client stops reading for this long once, after its first delivery (with a small --rcvbuf, a slow consumer the server closes: a resume storm); 0: none")
	fs.IntVar(&cfg.RcvBuf, "rcvbuf", 0, "the clients' socket receive buffer in bytes (SO_RCVBUF); 0: the system's, which grows to megabytes")
	fs.BoolVar(&cfg.Resume, "resume", true, "hubbub: a client closed as a slow consumer (4000) reconnects, joins again and fetches what it missed from history; false: it stays gone and what it missed counts as loss")
	fs.BoolVar(&opts.json, "json", false, "print the result as JSON")
	fs.StringVar(&opts.cpuProfile, "cpuprofile", "", "write the generator's own CPU profile to `file` (go tool pprof), to see what the load costs on the client side")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: hubbub-bench [flags]\n       hubbub-bench compare [flags]   (see hubbub-bench compare -h)\n\nhubbub-bench loads a server (--target) with -n clients and a --workload:\nfanout (one room, --publishers of them publishing --rate messages per second\nin total), storm, idle, rooms or durable, and reports deliveries, loss,\nlatency, acks, and the server's memory and CPU. Progress goes to stderr,\nthe result to stdout.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, opts, err
	}
	if fs.NArg() > 0 {
		return cfg, opts, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	// Zero means "default" to Config; on the command line it is an error.
	if cfg.Clients < 1 || cfg.Publishers < 1 || cfg.Rate <= 0 || cfg.Duration <= 0 || cfg.Drain <= 0 || cfg.Workers < 1 || cfg.Hold <= 0 {
		return cfg, opts, errors.New("-n, --publishers, --rate, --duration, --drain, --workers and --hold must be positive")
	}
	if _, ok := peers[cfg.Target]; !ok {
		return cfg, opts, fmt.Errorf("--target %q: want one of %s", cfg.Target, strings.Join(targetNames, ", "))
	}
	if !workloads[cfg.Workload] {
		return cfg, opts, fmt.Errorf("--workload %q: want one of %s", cfg.Workload, strings.Join(workloadNames, ", "))
	}
	if why := unsupported(cfg.Target, cfg.Workload); why != "" {
		return cfg, opts, fmt.Errorf("--workload %s on --target %s: %s", cfg.Workload, cfg.Target, why)
	}
	if cfg.Ramp < 0 {
		return cfg, opts, errors.New("--ramp must not be negative")
	}
	if err := checkURLs("--url", cfg.URL); err != nil {
		return cfg, opts, err
	}
	if cfg.PublisherURL != "" {
		if err := checkURLs("--publisher-url", cfg.PublisherURL); err != nil {
			return cfg, opts, err
		}
		if len(splitURLs(cfg.PublisherURL)) != 1 {
			return cfg, opts, fmt.Errorf("--publisher-url %q: want one URL", cfg.PublisherURL)
		}
		if !publishes(cfg.Workload) {
			return cfg, opts, fmt.Errorf("--publisher-url: the %s workload has no publishers", cfg.Workload)
		}
	}
	if cfg.Publishers > cfg.Clients && cfg.Workload == workloadFanout {
		return cfg, opts, fmt.Errorf("--publishers %d is more than -n %d", cfg.Publishers, cfg.Clients)
	}
	return cfg, opts, nil
}

// startCPUProfile starts the generator's CPU profile into path and
// returns what stops it and closes the file.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func printResult(w io.Writer, r *Result) {
	fmt.Fprintf(w, "hubbub-bench: %s %s at %s, room %s (%d rooms)\n", r.Target, r.Workload, r.URL, r.Room, r.Rooms)
	fmt.Fprintf(w, "  clients        %d connected of %d in %.1fs, %.0f/s (%d failed)", r.Connected, r.Clients, r.ConnectSeconds, r.ConnectsPerSec, r.ConnectErrors)
	if r.FirstConnectError != "" {
		fmt.Fprintf(w, "; first error: %s", r.FirstConnectError)
	}
	fmt.Fprintln(w)
	if r.ServerCPUPerConnUs > 0 {
		fmt.Fprintf(w, "  connecting     server CPU %.2f s, %.0f µs per connection\n", r.ConnectServerCPU, r.ServerCPUPerConnUs)
	}
	if r.Held > 0 {
		fmt.Fprintf(w, "  idle           held %.0f s\n", r.Held)
	}
	if r.Publishers == 0 {
		printMemory(w, r)
		printCloses(w, r)
		return
	}
	fmt.Fprintf(w, "  publishing     %d publishers, %.0f msgs/s for %.0fs: sent %d, acked %d", r.Publishers, r.Rate, r.Duration, r.Sent, r.Acked)
	if len(r.SendErrors) > 0 {
		fmt.Fprintf(w, ", errors %v", r.SendErrors)
	}
	if r.AckedPerSec > 0 {
		fmt.Fprintf(w, ", %.0f acked/s", r.AckedPerSec)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  deliveries     %d received of %d expected (loss %d), %.0f/s (offered %.0f/s), drained %v",
		r.Received, r.Expected, r.Loss, r.DeliveriesPerSec, r.OfferedPerSec, r.Drained)
	if r.ReceivedUnacked > 0 {
		fmt.Fprintf(w, "; %d more of messages not acked yet", r.ReceivedUnacked)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  order          %d seq gaps, %d duplicates, %d foreign messages, %d presence events\n", r.Gaps, r.Duplicates, r.Foreign, r.Presence)
	fmt.Fprintf(w, "  latency        p50 %.1f ms, p99 %.1f ms, max %.1f ms (ack p50 %.1f ms, p99 %.1f ms)\n", r.LatencyP50, r.LatencyP99, r.LatencyMax, r.AckP50, r.AckP99)
	printResumes(w, r)
	printNodes(w, r)
	printMemory(w, r)
	fmt.Fprintf(w, "  CPU            in the %.1f s of publishing and draining: server %.1f s (%.2f µs per delivery), generator %.1f s, interrupts %.1f s, other processes %.1f s (machine %.1f s)\n",
		r.Window, r.ServerCPU, r.ServerCPUPerDeliveryUs, r.BenchCPU, r.IRQCPU, r.OtherCPU, r.MachineCPU)
	printCloses(w, r)
}

// printResumes prints what the resumes after slow-consumer closes did,
// when there were any.
func printResumes(w io.Writer, r *Result) {
	if !r.Resume || r.Resumes == 0 {
		return
	}
	fmt.Fprintf(w, "  resumes        %d clients resumed, %d connections (at most %d by one client), %d deliveries recovered from history, %d seam copies dropped, %d sends resent; close to caught up p50 %.0f ms, max %.0f ms",
		r.ResumedClients, r.Resumes, r.ResumesMax, r.Recovered, r.Overlaps, r.Resent, r.ResumeP50, r.ResumeMax)
	if r.ResumeFailures > 0 {
		fmt.Fprintf(w, "; %d clients gave up", r.ResumeFailures)
	}
	if len(r.ResumeErrors) > 0 {
		fmt.Fprintf(w, "; failed attempts %v", r.ResumeErrors)
	}
	fmt.Fprintln(w)
}

// printNodes prints a line per node when the run dialled several.
func printNodes(w io.Writer, r *Result) {
	if len(r.Nodes) < 2 {
		return
	}
	for _, n := range r.Nodes {
		fmt.Fprintf(w, "  node           %s: %d of %d clients connected (%d publishers), received %d, latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
			n.URL, n.Connected, n.Clients, n.Publishers, n.Received, n.LatencyP50, n.LatencyP99, n.LatencyMax)
	}
}

func printMemory(w io.Writer, r *Result) {
	if r.RSSBefore > 0 {
		fmt.Fprintf(w, "  server RSS     %d KiB before, %d KiB idle with %d clients (%.1f KiB per connection)",
			r.RSSBefore, r.RSSIdle, r.Connected, r.RSSPerConn)
		if r.RSSEnd > 0 {
			fmt.Fprintf(w, ", %d KiB at the end", r.RSSEnd)
		}
		fmt.Fprintln(w)
	}
	if r.GoroutinesPerConn > 0 {
		fmt.Fprintf(w, "  server Go      per connection: %.1f KiB heap in use, %.1f KiB stacks, %.2f goroutines\n",
			r.HeapPerConn, r.StackPerConn, r.GoroutinesPerConn)
	}
}

func printCloses(w io.Writer, r *Result) {
	if len(r.CloseCodes) > 0 {
		fmt.Fprint(w, "  closed by server")
		for _, c := range slices.Sorted(maps.Keys(r.CloseCodes)) {
			fmt.Fprintf(w, " %d×%d", r.CloseCodes[c], c)
		}
		fmt.Fprintln(w)
	}
}
