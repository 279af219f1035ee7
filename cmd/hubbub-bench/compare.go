package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// compareConfig configures runCompare; see compareFlags for the defaults.
type compareConfig struct {
	bins     map[string]string // column → server binary; a column without one is skipped
	postgres string            // the hubbub-pg column's PostgreSQL server (a URL of a database to connect to), or ""
	runs     int
	cases    []string // which cases, by workload name
	port     int      // first port; each server start takes the next
	outDir   string   // where each run's JSON and logs go; "" for a temporary directory
	from     string   // read the runs' JSON from this directory instead of running them
	drain    time.Duration
	ramp     float64 // connections/s of the non-storm workloads
	storm    struct{ n, workers int }
	idle     struct {
		n    int
		hold time.Duration
	}
	fanout struct {
		ns         []int
		deliveries float64 // per second
		publishers int
		duration   time.Duration
	}
	rooms struct {
		n          int
		deliveries float64
		duration   time.Duration
	}
	durable struct {
		n        int
		rates    []float64
		duration time.Duration
	}
}

// The columns of compare's table: the targets, and hubbub again with
// PostgreSQL as its store (--postgres), which the generator loads as
// hubbub.
const columnHubbubPG = "hubbub-pg"

var compareColumns = []string{targetHubbub, columnHubbubPG, targetGorilla, targetCentrifugo}

// protocolOf is the generator's --target for a column.
func protocolOf(column string) string {
	if column == columnHubbubPG {
		return targetHubbub
	}
	return column
}

// benchCase is one row group of the table: a workload with its sizes.
type benchCase struct {
	name     string   // e.g. "fanout 1000"
	workload string   // the workload
	args     []string // generator flags besides --target, --url, --server-pid, --json
}

// cases expands cfg into the cases to run, in order.
func (cfg *compareConfig) benchCases() []benchCase {
	var out []benchCase
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	d := func(v time.Duration) string { return v.String() }
	common := []string{"--drain", d(cfg.drain)}
	for _, w := range cfg.cases {
		switch w {
		case workloadStorm:
			out = append(out, benchCase{
				name: fmt.Sprintf("storm %d, %d at a time", cfg.storm.n, cfg.storm.workers), workload: w,
				args: append([]string{"--workload", w, "-n", strconv.Itoa(cfg.storm.n), "--workers", strconv.Itoa(cfg.storm.workers)}, common...),
			})
		case workloadIdle:
			out = append(out, benchCase{
				name: fmt.Sprintf("idle %d for %s", cfg.idle.n, cfg.idle.hold), workload: w,
				args: append([]string{"--workload", w, "-n", strconv.Itoa(cfg.idle.n), "--hold", d(cfg.idle.hold), "--ramp", f(cfg.ramp)}, common...),
			})
		case workloadFanout:
			for _, n := range cfg.fanout.ns {
				rate := cfg.fanout.deliveries / float64(n)
				out = append(out, benchCase{
					name: fmt.Sprintf("fanout room of %d at %s deliveries/s", n, humanRate(cfg.fanout.deliveries)), workload: w,
					args: append([]string{"--workload", w, "-n", strconv.Itoa(n), "--publishers", strconv.Itoa(min(cfg.fanout.publishers, n)),
						"--rate", f(rate), "--duration", d(cfg.fanout.duration), "--ramp", f(cfg.ramp)}, common...),
				})
			}
		case workloadRooms:
			// Rooms of 10–50 hold 30 on average: deliveries/s ≈ 30 × rate.
			rate := cfg.rooms.deliveries / 30
			out = append(out, benchCase{
				name: fmt.Sprintf("rooms of 10–50, %d clients, about %s deliveries/s", cfg.rooms.n, humanRate(cfg.rooms.deliveries)), workload: w,
				args: append([]string{"--workload", w, "-n", strconv.Itoa(cfg.rooms.n), "--rate", f(rate), "--duration", d(cfg.rooms.duration), "--ramp", f(cfg.ramp)}, common...),
			})
		case workloadDurable:
			for _, rate := range cfg.durable.rates {
				out = append(out, benchCase{
					name: fmt.Sprintf("durable, %d senders at %s messages/s", cfg.durable.n, humanRate(rate)), workload: w,
					args: append([]string{"--workload", w, "-n", strconv.Itoa(cfg.durable.n), "--rate", f(rate), "--duration", d(cfg.durable.duration), "--ramp", f(cfg.ramp)}, common...),
				})
			}
		}
	}
	return out
}

func humanRate(v float64) string {
	switch {
	case v >= 1e6 && v == float64(int64(v/1e5))*1e5:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e3 && v == float64(int64(v/100))*100:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func compareFlags(args []string, stderr io.Writer) (*compareConfig, error) {
	cfg := &compareConfig{bins: map[string]string{}}
	fs := flag.NewFlagSet("hubbub-bench compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var hubbubd, gorilla, centrifugo, cases, fanoutNs, durableRates string
	fs.StringVar(&hubbubd, "hubbubd", "", "hubbubd `binary`; empty: hubbub is not run")
	fs.StringVar(&cfg.postgres, "postgres", "", "also run --hubbubd with PostgreSQL as its store, as the column hubbub-pg: each run gets a new database on the server this `URL` connects to (postgres://…), made after a CHECKPOINT and dropped after the run; empty: not run")
	fs.StringVar(&gorilla, "gorilla", "", "`binary` of gorilla/websocket v1.5.3 examples/chat (see docs/benchmarks.md); empty: not run")
	fs.StringVar(&centrifugo, "centrifugo", "", "Centrifugo v6.9.1 `binary` (see docs/benchmarks.md); empty: not run")
	fs.IntVar(&cfg.runs, "runs", 3, "runs of each case and target, alternating targets")
	fs.StringVar(&cases, "workloads", "storm,idle,fanout,rooms,durable", "the workloads to run, in order")
	fs.IntVar(&cfg.port, "port", 18300, "first TCP `port` on 127.0.0.1; each server start takes the next")
	fs.StringVar(&cfg.outDir, "out", "", "`directory` for each run's JSON result and logs (default: a new temporary one)")
	fs.StringVar(&cfg.from, "from", "", "print the table from the JSON results a compare with the same flags left in this `directory`, running nothing")
	fs.DurationVar(&cfg.drain, "drain", 5*time.Second, "the generator's --drain")
	fs.Float64Var(&cfg.ramp, "ramp", 1000, "connections started per second, except in the storm")
	fs.IntVar(&cfg.storm.n, "storm-n", 10000, "storm: clients")
	fs.IntVar(&cfg.storm.workers, "storm-workers", 100, "storm: connection setups at once")
	fs.IntVar(&cfg.idle.n, "idle-n", 10000, "idle: clients")
	fs.DurationVar(&cfg.idle.hold, "idle-hold", 30*time.Second, "idle: how long they stay idle before the RSS is read")
	fs.StringVar(&fanoutNs, "fanout-n", "1000,5000", "fanout: room sizes, comma-separated")
	fs.Float64Var(&cfg.fanout.deliveries, "fanout-deliveries", 100000, "fanout: deliveries per second offered (rate = this / room size)")
	fs.IntVar(&cfg.fanout.publishers, "fanout-publishers", 10, "fanout: publishers")
	fs.DurationVar(&cfg.fanout.duration, "fanout-duration", 10*time.Second, "fanout: how long to publish")
	fs.IntVar(&cfg.rooms.n, "rooms-n", 3000, "rooms: clients, in rooms of 10–50")
	fs.Float64Var(&cfg.rooms.deliveries, "rooms-deliveries", 30000, "rooms: deliveries per second offered, about")
	fs.DurationVar(&cfg.rooms.duration, "rooms-duration", 10*time.Second, "rooms: how long to publish")
	fs.IntVar(&cfg.durable.n, "durable-n", 100, "durable: senders, each alone in a room")
	fs.StringVar(&durableRates, "durable-rate", "20000", "durable: messages per second offered, all senders together; comma-separated for a case per rate (e.g. 2000,5000,10000,20000: where the ack p99 holds)")
	fs.DurationVar(&cfg.durable.duration, "durable-duration", 10*time.Second, "durable: how long to publish")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: hubbub-bench compare [flags]\n\ncompare starts each server given (a fresh one per run, on 127.0.0.1), runs\nhubbub-bench against it as a separate process for each workload, --runs\ntimes, alternating the targets, and prints the medians as a Markdown table\nwith ratios against the gorilla example. Progress goes to stderr.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for t, p := range map[string]string{targetHubbub: hubbubd, targetGorilla: gorilla, targetCentrifugo: centrifugo} {
		if p == "" {
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, fmt.Errorf("%s binary: %w", t, err)
		}
		cfg.bins[t] = abs
	}
	if cfg.postgres != "" {
		if hubbubd == "" {
			return nil, errors.New("--postgres runs hubbubd: give --hubbubd too")
		}
		if !strings.HasPrefix(cfg.postgres, "postgres://") && !strings.HasPrefix(cfg.postgres, "postgresql://") {
			return nil, fmt.Errorf("--postgres %q: want a postgres:// URL", cfg.postgres)
		}
		cfg.bins[columnHubbubPG] = cfg.bins[targetHubbub]
	}
	if cfg.from != "" {
		// Which columns ran shows in the files, not in binaries. The run
		// number after the column's name keeps hubbub from matching
		// hubbub-pg's files.
		for _, col := range compareColumns {
			if m, _ := filepath.Glob(filepath.Join(cfg.from, "*-"+col+"-[0-9]*.json")); len(m) > 0 {
				cfg.bins[col] = "(from " + cfg.from + ")"
			}
		}
	}
	if len(cfg.bins) == 0 {
		return nil, errors.New("no server: give at least one of --hubbubd, --gorilla, --centrifugo")
	}
	for w := range strings.SplitSeq(cases, ",") {
		w = strings.TrimSpace(w)
		if !workloads[w] {
			return nil, fmt.Errorf("--workloads: unknown workload %q", w)
		}
		cfg.cases = append(cfg.cases, w)
	}
	for s := range strings.SplitSeq(fanoutNs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--fanout-n: bad size %q", s)
		}
		cfg.fanout.ns = append(cfg.fanout.ns, n)
	}
	for s := range strings.SplitSeq(durableRates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || r <= 0 {
			return nil, fmt.Errorf("--durable-rate: bad rate %q", s)
		}
		cfg.durable.rates = append(cfg.durable.rates, r)
	}
	if cfg.runs < 1 || cfg.port < 1 || cfg.port > 65000 {
		return nil, errors.New("--runs must be positive and --port a port")
	}
	return cfg, nil
}

// runCompare is `hubbub-bench compare`; it returns the exit status: 0
// when the table was printed, 1 when no run gave a result, 2 for bad flags.
func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := compareFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "hubbub-bench compare:", err)
		return 2
	}
	if cfg.from != "" {
		results, err := loadResults(cfg)
		if err != nil {
			fmt.Fprintln(stderr, "hubbub-bench compare:", err)
			return 1
		}
		printTable(stdout, cfg, results)
		return 0
	}
	if cfg.outDir == "" {
		if cfg.outDir, err = os.MkdirTemp("", "hubbub-compare-"); err != nil {
			fmt.Fprintln(stderr, "hubbub-bench compare:", err)
			return 1
		}
	} else if err := os.MkdirAll(cfg.outDir, 0o755); err != nil {
		fmt.Fprintln(stderr, "hubbub-bench compare:", err)
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "hubbub-bench compare:", err)
		return 1
	}
	fmt.Fprintf(stderr, "hubbub-bench compare: results and logs in %s\n", cfg.outDir)
	cmp := &comparison{cfg: cfg, self: self, log: stderr, port: cfg.port}
	results := cmp.runAll(ctx)
	printTable(stdout, cfg, results)
	if ctx.Err() != nil {
		return 1
	}
	for _, byTarget := range results {
		for _, rs := range byTarget {
			if len(rs) > 0 {
				return 0
			}
		}
	}
	return 1
}

// comparison runs the cases of one compare.
type comparison struct {
	cfg  *compareConfig
	self string    // this executable, run as the generator
	log  io.Writer // progress
	port int       // the next free port
}

// caseResults maps a case name to each target's results.
type caseResults map[string]map[string][]Result

// runAll runs every case cfg.runs times against every target that can
// run it, rotating which target goes first in each round.
func (cmp *comparison) runAll(ctx context.Context) caseResults {
	results := caseResults{}
	targets := slices.DeleteFunc(slices.Clone(compareColumns), func(t string) bool { return cmp.cfg.bins[t] == "" })
	for _, bc := range cmp.cfg.benchCases() {
		results[bc.name] = map[string][]Result{}
		for run := range cmp.cfg.runs {
			for k := range targets {
				t := targets[(run+k)%len(targets)]
				if unsupported(protocolOf(t), bc.workload) != "" {
					continue
				}
				if ctx.Err() != nil {
					return results
				}
				res, err := cmp.runOne(ctx, bc, t, run)
				if err != nil {
					fmt.Fprintf(cmp.log, "hubbub-bench compare: %s, %s, run %d: %v\n", bc.name, t, run+1, err)
					continue
				}
				results[bc.name][t] = append(results[bc.name][t], res)
			}
		}
	}
	return results
}

// runOne starts a fresh server of target, runs the generator against it
// and stops the server.
func (cmp *comparison) runOne(ctx context.Context, bc benchCase, target string, run int) (Result, error) {
	tag := runTag(bc, target, run)
	var srv *server
	var url string
	var err error
	// A server that exits at once most likely found its port taken (by
	// another program, or by one of the generator's own sockets): try
	// the next.
	for range 5 {
		port := cmp.port
		cmp.port++
		if srv, url, err = cmp.startServer(ctx, target, port, tag); !errors.Is(err, errExited) {
			break
		}
	}
	if err != nil {
		return Result{}, err
	}
	defer srv.stop()

	args := append([]string{"--target", protocolOf(target), "--url", url, "--server-pid", strconv.Itoa(srv.cmd.Process.Pid), "--json"}, bc.args...)
	fmt.Fprintf(cmp.log, "hubbub-bench compare: %s: %s, run %d: hubbub-bench %s\n", time.Now().Format("15:04:05"), target, run+1, strings.Join(args, " "))
	genLog, err := os.Create(filepath.Join(cmp.cfg.outDir, tag+".gen.log"))
	if err != nil {
		return Result{}, err
	}
	defer genLog.Close()
	var out bytes.Buffer
	gen := exec.CommandContext(ctx, cmp.self, args...)
	gen.Stdout, gen.Stderr = &out, genLog
	runErr := gen.Run()
	if err := os.WriteFile(filepath.Join(cmp.cfg.outDir, tag+".json"), out.Bytes(), 0o644); err != nil {
		return Result{}, err
	}
	var res Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return Result{}, fmt.Errorf("generator (%v): no result: %w", runErr, err)
	}
	if ee, ok := errors.AsType[*exec.ExitError](runErr); ok && ee.ExitCode() == 1 {
		// The run happened; Check found broken promises. Keep the figures,
		// and say so.
		fmt.Fprintf(cmp.log, "hubbub-bench compare: %s, %s, run %d: generator reported FAIL (see %s.gen.log)\n", bc.name, target, run+1, tag)
	} else if runErr != nil {
		return Result{}, fmt.Errorf("generator: %w", runErr)
	}
	return res, nil
}

// runTag names the files of one run.
func runTag(bc benchCase, target string, run int) string {
	return fmt.Sprintf("%s-%s-%d", strings.NewReplacer(" ", "_", ",", "", "/", "").Replace(bc.name), target, run+1)
}

// loadResults reads the results of the runs cfg describes from cfg.from,
// skipping runs that left no result.
func loadResults(cfg *compareConfig) (caseResults, error) {
	results := caseResults{}
	found := 0
	for _, bc := range cfg.benchCases() {
		results[bc.name] = map[string][]Result{}
		for _, t := range compareColumns {
			for run := range cfg.runs {
				data, err := os.ReadFile(filepath.Join(cfg.from, runTag(bc, t, run)+".json"))
				if errors.Is(err, os.ErrNotExist) {
					continue
				} else if err != nil {
					return nil, err
				}
				var r Result
				if err := json.Unmarshal(data, &r); err != nil {
					continue // the generator printed no result
				}
				results[bc.name][t] = append(results[bc.name][t], r)
				found++
			}
		}
	}
	if found == 0 {
		return nil, fmt.Errorf("no results for these flags in %s", cfg.from)
	}
	return results, nil
}

// server is a server process started by compare.
type server struct {
	cmd    *exec.Cmd
	log    *os.File
	dir    string
	done   chan struct{} // closed when cmd has been waited for
	dropDB func()        // drops the run's PostgreSQL database; called once the process is gone
}

// startServer starts target's binary on 127.0.0.1:port with a fresh data
// or config directory, waits until it accepts connections, and returns it
// with its WebSocket URL.
func (cmp *comparison) startServer(ctx context.Context, target string, port int, tag string) (*server, string, error) {
	dir, err := os.MkdirTemp("", "hubbub-compare-srv-")
	if err != nil {
		return nil, "", err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	bin := cmp.cfg.bins[target]
	var argv []string
	var url string
	var dropDB func()
	switch target {
	case targetHubbub:
		argv = hubbubServerArgs(dir, addr)
		url = "ws://" + addr + "/ws"
	case columnHubbubPG:
		store, drop, err := freshDatabase(ctx, cmp.cfg.postgres, fmt.Sprintf("hubbub_compare_%d_%d", os.Getpid(), port), cmp.log)
		if err != nil {
			os.RemoveAll(dir)
			return nil, "", err
		}
		dropDB = drop
		argv = append(hubbubServerArgs(dir, addr), "--store", store)
		url = "ws://" + addr + "/ws"
	case targetGorilla:
		argv = []string{"-addr", addr}
		url = "ws://" + addr + "/ws"
	case targetCentrifugo:
		conf := filepath.Join(dir, "config.json")
		if err := os.WriteFile(conf, centrifugoConfig(port), 0o644); err != nil {
			os.RemoveAll(dir)
			return nil, "", err
		}
		argv = []string{"--config", conf}
		url = "ws://" + addr + "/connection/websocket"
	}
	if dropDB == nil {
		dropDB = func() {}
	}
	logf, err := os.Create(filepath.Join(cmp.cfg.outDir, tag+".server.log"))
	if err != nil {
		dropDB()
		os.RemoveAll(dir)
		return nil, "", err
	}
	fmt.Fprintf(cmp.log, "hubbub-bench compare: %s: %s, server: %s %s\n", time.Now().Format("15:04:05"), target, bin, strings.Join(argv, " "))
	cmd := exec.Command(bin, argv...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		dropDB()
		os.RemoveAll(dir)
		return nil, "", fmt.Errorf("start %s: %w", target, err)
	}
	s := &server{cmd: cmd, log: logf, dir: dir, done: make(chan struct{}), dropDB: dropDB}
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	if err := waitListening(ctx, addr, s.done, 20*time.Second); err != nil {
		s.stop()
		return nil, "", fmt.Errorf("%s on %s: %w (see %s)", target, addr, err, logf.Name())
	}
	return s, url, nil
}

// hubbubServerArgs are hubbubd's flags for a benchmark: its abuse limits,
// made for many users behind many addresses, raised for one generator on
// one loopback address; everything else default (SQLite with
// synchronous=FULL, in-process broker).
func hubbubServerArgs(dataDir, addr string) []string {
	return []string{
		"--data", dataDir, "--addr", addr, "--log-level", "warn",
		"--conns-per-ip", "1000000", "--handshake-rate", "1000000", "--handshake-burst", "1000000",
		"--msg-rate", "100000", "--msg-burst", "100000", "--cmd-rate", "100000", "--cmd-burst", "100000",
		// Guests' room creations count per address, and every bench
		// client comes from one.
		"--room-creates", "1000000",
		// --shared-name: every client is one account.
		"--conns-per-user", "1000000",
		// The node-wide handshake budget is admission policy (it spreads
		// a reconnect storm over time); a capacity benchmark lifts it, as
		// the peers have none.
		"--node-handshake-rate", "1000000", "--node-handshake-burst", "1000000",
		"--node-handshakes-in-progress", "1000000",
	}
}

// centrifugoConfig is the loopback configuration docs/benchmarks.md
// shows: anonymous connections without a token, any client may subscribe
// to a channel without a namespace and publish into it, the memory
// broker, no history, logs at error level.
func centrifugoConfig(port int) []byte {
	return fmt.Appendf(nil, `{
  "http_server": {"address": "127.0.0.1", "port": %d},
  "log": {"level": "error"},
  "client": {"allow_anonymous_connect_without_token": true},
  "channel": {
    "without_namespace": {
      "allow_subscribe_for_anonymous": true,
      "allow_subscribe_for_client": true,
      "allow_publish_for_anonymous": true,
      "allow_publish_for_subscriber": true
    }
  }
}
`, port)
}

// errExited is waitListening's error when the process ends first.
var errExited = errors.New("the server exited")

// waitListening waits until addr accepts a TCP connection, the process
// ends (exited is closed), or limit passes.
func waitListening(ctx context.Context, addr string, exited <-chan struct{}, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return errExited
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening after %v: %w", limit, err)
		}
	}
}

// stop asks the server to stop (SIGTERM), kills it after 15 s, and
// removes its directory.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.log.Close()
	s.dropDB()
	os.RemoveAll(s.dir)
}

// metric is one row of the table: a figure of a case's results.
type metric struct {
	label  string
	unit   string
	digits int
	get    func(*Result) float64
	// when reports whether a case's workload has this figure.
	when func(workload string) bool
	// acks marks figures of acknowledgements, which the gorilla example
	// does not send.
	acks bool
	// ratio: the figure is compared with the gorilla example's.
	ratio bool
}

func is(ws ...string) func(string) bool {
	return func(w string) bool { return slices.Contains(ws, w) }
}

var metrics = []metric{
	{"connections/s", "", 0, func(r *Result) float64 { return r.ConnectsPerSec }, is(workloadStorm), false, true},
	{"server CPU per connection", "µs", 0, func(r *Result) float64 { return r.ServerCPUPerConnUs }, is(workloadStorm), false, true},
	{"server RSS per connection", "KiB", 1, func(r *Result) float64 { return r.RSSPerConn }, is(workloadIdle), false, true},
	{"deliveries/s", "", 0, func(r *Result) float64 { return r.DeliveriesPerSec }, is(workloadFanout, workloadRooms), false, true},
	{"latency p50", "ms", 1, func(r *Result) float64 { return r.LatencyP50 }, is(workloadFanout, workloadRooms), false, true},
	{"latency p99", "ms", 1, func(r *Result) float64 { return r.LatencyP99 }, is(workloadFanout, workloadRooms), false, true},
	{"server CPU per delivery", "µs", 2, func(r *Result) float64 { return r.ServerCPUPerDeliveryUs }, is(workloadFanout, workloadRooms), false, true},
	{"lost deliveries", "", 0, func(r *Result) float64 { return float64(r.Loss) }, is(workloadFanout, workloadRooms), false, false},
	{"acked messages/s", "", 0, func(r *Result) float64 { return r.AckedPerSec }, is(workloadDurable), true, true},
	{"ack p50", "ms", 1, func(r *Result) float64 { return r.AckP50 }, is(workloadDurable, workloadFanout), true, true},
	{"ack p99", "ms", 1, func(r *Result) float64 { return r.AckP99 }, is(workloadDurable, workloadFanout), true, true},
	{"other processes' CPU in the window", "s", 1, func(r *Result) float64 { return r.OtherCPU }, is(workloadFanout, workloadRooms, workloadDurable), false, false},
}

// median returns the median of xs (the mean of the middle two for an even
// count); xs must not be empty.
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// printTable writes the medians as a Markdown table: a row per case and
// figure, a column per target, each figure with its ratio to the gorilla
// example's where that has one.
func printTable(w io.Writer, cfg *compareConfig, results caseResults) {
	targets := slices.DeleteFunc(slices.Clone(compareColumns), func(t string) bool { return cfg.bins[t] == "" })
	fmt.Fprintf(w, "| workload | figure |")
	for _, t := range targets {
		fmt.Fprintf(w, " %s |", t)
	}
	fmt.Fprintf(w, "\n|---|---|")
	for range targets {
		fmt.Fprintf(w, "---|")
	}
	fmt.Fprintln(w)
	for _, bc := range cfg.benchCases() {
		byTarget := results[bc.name]
		for _, m := range metrics {
			if !m.when(bc.workload) {
				continue
			}
			label := m.label
			if m.unit != "" {
				label += " (" + m.unit + ")"
			}
			fmt.Fprintf(w, "| %s | %s |", bc.name, label)
			var base float64
			if rs := byTarget[targetGorilla]; len(rs) > 0 {
				base = medianOf(rs, m.get)
			}
			for _, t := range targets {
				rs := byTarget[t]
				switch {
				case unsupported(protocolOf(t), bc.workload) != "":
					fmt.Fprint(w, " n/a |")
				case m.acks && t == targetGorilla:
					fmt.Fprint(w, " no acks |")
				case len(rs) == 0:
					fmt.Fprint(w, " no result |")
				default:
					v := medianOf(rs, m.get)
					cell := formatFigure(v, m.digits)
					if t != targetGorilla && base > 0 && m.ratio {
						cell += fmt.Sprintf(" (%.2f×)", v/base)
					}
					if len(rs) < cfg.runs {
						cell += fmt.Sprintf(" [%d of %d runs]", len(rs), cfg.runs)
					}
					fmt.Fprintf(w, " %s |", cell)
				}
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintf(w, "\nMedians of %d runs per cell, targets alternating; ratios are against the gorilla example's median. n/a: ", cfg.runs)
	var notes []string
	for _, t := range targets {
		for _, wl := range cfg.cases {
			if why := unsupported(protocolOf(t), wl); why != "" {
				notes = append(notes, fmt.Sprintf("%s on %s (%s)", wl, t, why))
			}
		}
	}
	if len(notes) == 0 {
		notes = []string{"none"}
	}
	fmt.Fprintln(w, strings.Join(notes, "; ")+".")
}

func medianOf(rs []Result, get func(*Result) float64) float64 {
	xs := make([]float64, len(rs))
	for i := range rs {
		xs[i] = get(&rs[i])
	}
	return median(xs)
}

// formatFigure prints v with digits decimals and thousands separators.
func formatFigure(v float64, digits int) string {
	s := strconv.FormatFloat(v, 'f', digits, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := b.String()
	if neg {
		out = "-" + out
	}
	if frac != "" {
		out += "." + frac
	}
	return out
}
