package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gwebsocket "github.com/gorilla/websocket"
)

type config struct {
	autobahn string
	conns    int
	clients  int
	duration time.Duration
	size     int
	runs     int
	libs     []string
}

type result struct {
	autobahn string    // "OK n / NON-STRICT n / INFORMATIONAL n / FAILED n"
	rate     []float64 // round trips per second, one per run
	perConn  []float64 // KiB of RSS per idle connection, one per run
}

func run(cfg config) error {
	results := make(map[string]*result)
	for _, lib := range cfg.libs {
		results[lib] = &result{autobahn: "not run"}
	}
	if cfg.autobahn != "" {
		for _, lib := range cfg.libs {
			s, err := startServer(lib)
			if err != nil {
				return err
			}
			fmt.Fprintf(os.Stderr, "autobahn: %s\n", lib)
			results[lib].autobahn, err = conformance(cfg.autobahn, s.addr)
			s.stop()
			if err != nil {
				return err
			}
		}
	}
	// Rounds over all libraries, each on a fresh server, so that a slow
	// moment of a shared machine spreads over all of them.
	for i := range cfg.runs {
		for _, lib := range cfg.libs {
			fmt.Fprintf(os.Stderr, "run %d: %s\n", i+1, lib)
			s, err := startServer(lib)
			if err != nil {
				return err
			}
			// Memory first, on a fresh process: after the speed test its
			// heap would already hold freed memory that new connections
			// reuse without growing RSS.
			kib, err := memoryPerConn(s, cfg.conns)
			var rate float64
			if err == nil {
				rate, err = roundTrips(s.addr, cfg)
			}
			s.stop()
			if err != nil {
				return fmt.Errorf("%s: %w", lib, err)
			}
			results[lib].perConn = append(results[lib].perConn, kib)
			results[lib].rate = append(results[lib].rate, rate)
		}
	}
	printTable(cfg, results)
	return nil
}

var autobahnLine = regexp.MustCompile(`cases \d+: (OK \d+ / NON-STRICT \d+ / INFORMATIONAL \d+ / FAILED \d+)`)

// conformance runs the Autobahn runner (sections 1-8 and 10) and returns
// its summary. The runner exits 1 when a case FAILED; that is a result
// here, not an error.
func conformance(runner, addr string) (string, error) {
	dir, err := os.MkdirTemp("", "autobahn-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	out, _ := exec.Command(runner, "ws://"+addr+"/", dir).CombinedOutput()
	m := autobahnLine.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("autobahn: no summary in %q", out)
	}
	summary := string(m[1])
	if failed, err := failedBySection(filepath.Join(dir, "reports", "index.json")); err != nil {
		return "", err
	} else if failed != "" {
		summary += " (" + failed + ")"
	}
	return summary, nil
}

// failedBySection reads the suite's index.json and counts the FAILED
// cases by section, with the runner's pass rule: behavior OK, NON-STRICT
// or INFORMATIONAL, and close behavior OK or INFORMATIONAL.
func failedBySection(index string) (string, error) {
	b, err := os.ReadFile(index)
	if err != nil {
		return "", err
	}
	var agents map[string]map[string]struct {
		Behavior      string `json:"behavior"`
		BehaviorClose string `json:"behaviorClose"`
	}
	if err := json.Unmarshal(b, &agents); err != nil {
		return "", fmt.Errorf("autobahn: %s: %w", index, err)
	}
	failed := map[int][]string{} // case ids by section
	for _, cases := range agents {
		for id, c := range cases {
			okBehavior := c.Behavior == "OK" || c.Behavior == "NON-STRICT" || c.Behavior == "INFORMATIONAL"
			okClose := c.BehaviorClose == "OK" || c.BehaviorClose == "INFORMATIONAL"
			if !okBehavior || !okClose {
				sec, _, _ := strings.Cut(id, ".")
				n, _ := strconv.Atoi(sec)
				failed[n] = append(failed[n], id)
			}
		}
	}
	var parts []string
	for _, sec := range slices.Sorted(maps.Keys(failed)) {
		ids := failed[sec]
		part := fmt.Sprintf("§%d: %d", sec, len(ids))
		if len(ids) <= 3 { // name a few stray cases
			slices.Sort(ids)
			part += " [" + strings.Join(ids, " ") + "]"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", "), nil
}

// roundTrips runs cfg.clients clients, each sending a text message of
// cfg.size bytes and waiting for its echo, for cfg.duration, and returns
// the round trips per second of all of them.
func roundTrips(addr string, cfg config) (float64, error) {
	msg := bytes.Repeat([]byte("x"), cfg.size)
	var total atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, cfg.clients)
	deadline := time.Now().Add(cfg.duration)
	start := time.Now()
	for range cfg.clients {
		c, _, err := gwebsocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
		if err != nil {
			return 0, err
		}
		wg.Go(func() {
			defer c.Close()
			n := int64(0)
			for time.Now().Before(deadline) {
				if err := c.WriteMessage(gwebsocket.TextMessage, msg); err != nil {
					errs <- err
					return
				}
				if _, p, err := c.ReadMessage(); err != nil || len(p) != len(msg) {
					errs <- fmt.Errorf("echo: %d bytes, %v", len(p), err)
					return
				}
				n++
			}
			total.Add(n)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(total.Load()) / elapsed.Seconds(), nil
}

// memoryPerConn opens n connections, each with one echoed message, and
// returns the server's growth of resident memory divided by n, in KiB.
func memoryPerConn(s *server, n int) (float64, error) {
	time.Sleep(200 * time.Millisecond)
	before, err := rssKiB(s.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	conns := make([]*gwebsocket.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, _, err := gwebsocket.DefaultDialer.Dial("ws://"+s.addr+"/", nil)
		if err != nil {
			return 0, err
		}
		conns = append(conns, c)
		if err := c.WriteMessage(gwebsocket.TextMessage, []byte("hello")); err != nil {
			return 0, err
		}
		if _, _, err := c.ReadMessage(); err != nil {
			return 0, err
		}
	}
	time.Sleep(500 * time.Millisecond)
	after, err := rssKiB(s.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	return float64(after-before) / float64(n), nil
}

func rssKiB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			return strconv.Atoi(f[1])
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func printTable(cfg config, results map[string]*result) {
	base := results[cfg.libs[0]]
	fmt.Printf("| implementation | Autobahn 1-8, 10 | echo round trips/s (ratio) | RSS per idle connection (ratio) |\n")
	fmt.Printf("|---|---|---|---|\n")
	for _, lib := range cfg.libs {
		r := results[lib]
		rate, kib := median(r.rate), median(r.perConn)
		fmt.Printf("| %s | %s | %.0f (%.2f×) | %.1f KiB (%.2f×) |\n", libNames[lib], r.autobahn,
			rate, rate/median(base.rate), kib, kib/median(base.perConn))
	}
	fmt.Printf("\n%d clients × %d-byte text messages for %v; %d idle connections; median of %d runs; %s first is the baseline.\n",
		cfg.clients, cfg.size, cfg.duration, cfg.conns, cfg.runs, cfg.libs[0])
}
