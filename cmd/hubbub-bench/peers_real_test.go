package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// gorillaChat builds gorilla/websocket v1.5.3's examples/chat from the
// module cache (this module requires v1.5.3, so it is there) once per test
// binary, and returns the path of the binary.
var gorillaChat = sync.OnceValues(func() (string, error) {
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMODCACHE: %w", err)
	}
	dir, err := os.MkdirTemp("", "hubbub-bench-gchat-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "gchat")
	cmd := exec.Command("go", "build", "-o", bin, "./examples/chat")
	cmd.Dir = filepath.Join(strings.TrimSpace(string(modcache)), "github.com", "gorilla", "websocket@v1.5.3")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build examples/chat in %s: %w\n%s", cmd.Dir, err, out)
	}
	return bin, nil
})

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startProcess starts bin with args, waits until addr accepts
// connections, and stops it when the test ends. It returns the process id.
func startProcess(t *testing.T, addr, bin string, args ...string) int {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	if err := waitListening(t.Context(), addr, exited, 20*time.Second); err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, out.String())
	}
	return cmd.Process.Pid
}

// TestGorillaChat runs the gorilla-chat adapter against the real example.
func TestGorillaChat(t *testing.T) {
	bin, err := gorillaChat()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	pid := startProcess(t, addr, bin, "-addr", addr)
	url := "ws://" + addr + "/ws"
	tests := []struct {
		name string
		cfg  Config
	}{
		{"fanout", Config{Workload: workloadFanout, Clients: 30, Publishers: 3, Rate: 60, Duration: time.Second}},
		{"storm", Config{Workload: workloadStorm, Clients: 50, Workers: 10}},
		{"idle", Config{Workload: workloadIdle, Clients: 20, Hold: 200 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Target, cfg.URL, cfg.ServerPID = targetGorilla, url, pid
			cfg.Drain, cfg.Settle = 3*time.Second, 200*time.Millisecond
			res, err := Run(t.Context(), cfg)
			if err != nil {
				t.Fatalf("Run: %v (result %+v)", err, res)
			}
			if err := res.Check(); err != nil {
				t.Errorf("Check: %v", err)
			}
			if res.Connected != cfg.Clients || res.RSSIdle == 0 {
				t.Errorf("Connected, RSSIdle = %d, %d; want %d, > 0", res.Connected, res.RSSIdle, cfg.Clients)
			}
			if !publishes(cfg.Workload) {
				return
			}
			// No acks: every written message is expected by every client.
			if want := int64(cfg.Rate) * int64(cfg.Clients); res.Sent != int64(cfg.Rate) || res.Acked != res.Sent || res.Received != want {
				t.Errorf("Sent, Acked, Received = %d, %d, %d; want %d, %d, %d", res.Sent, res.Acked, res.Received, int64(cfg.Rate), int64(cfg.Rate), want)
			}
			if res.Gaps != 0 || res.Duplicates != 0 || res.Foreign != 0 || res.LatencyP50 <= 0 {
				t.Errorf("Gaps, Duplicates, Foreign, LatencyP50 = %d, %d, %d, %v; want 0, 0, 0, > 0", res.Gaps, res.Duplicates, res.Foreign, res.LatencyP50)
			}
		})
	}
}

// TestCentrifugo runs the centrifugo adapter against a real Centrifugo
// v6.9.1 named by HUBBUB_TEST_CENTRIFUGO, with compare's configuration.
// Without it the adapter is covered only by TestCentrifugoObject, which
// feeds it frames in Centrifugo's JSON protocol.
func TestCentrifugo(t *testing.T) {
	bin := os.Getenv("HUBBUB_TEST_CENTRIFUGO")
	if bin == "" {
		t.Skip("HUBBUB_TEST_CENTRIFUGO is not set (a Centrifugo v6.9.1 binary, see docs/benchmarks.md); skipping")
	}
	port := freePort(t)
	conf := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(conf, centrifugoConfig(port), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	pid := startProcess(t, addr, bin, "--config", conf)
	url := "ws://" + addr + "/connection/websocket"
	for _, cfg := range []Config{
		{Workload: workloadFanout, Clients: 30, Publishers: 3, Rate: 60, Duration: time.Second},
		{Workload: workloadRooms, Clients: 60, RoomMin: 5, RoomMax: 15, Rate: 40, Duration: time.Second},
		{Workload: workloadStorm, Clients: 50, Workers: 10},
	} {
		t.Run(cfg.Workload, func(t *testing.T) {
			cfg.Target, cfg.URL, cfg.ServerPID = targetCentrifugo, url, pid
			cfg.Drain, cfg.Settle = 3*time.Second, 200*time.Millisecond
			res, err := Run(t.Context(), cfg)
			if err != nil {
				t.Fatalf("Run: %v (result %+v)", err, res)
			}
			if err := res.Check(); err != nil {
				t.Errorf("Check: %v", err)
			}
			if res.Received != res.Expected || res.Gaps != 0 || res.Duplicates != 0 || res.Foreign != 0 || res.Undecodable != 0 {
				t.Errorf("Received %d of %d, Gaps %d, Duplicates %d, Foreign %d", res.Received, res.Expected, res.Gaps, res.Duplicates, res.Foreign)
			}
			if publishes(cfg.Workload) && (res.Acked != res.Sent || res.Sent == 0 || res.AckP50 <= 0) {
				t.Errorf("Sent, Acked, AckP50 = %d, %d, %v; want equal, positive, > 0", res.Sent, res.Acked, res.AckP50)
			}
		})
	}
}

// TestCompare runs compare end to end, with this test binary as the
// generator, against the gorilla example and tiny workloads.
func TestCompare(t *testing.T) {
	bin, err := gorillaChat()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(asGenerator, "1")
	var out, log bytes.Buffer
	outDir := t.TempDir()
	sizes := []string{"--runs", "2", "--workloads", "storm,fanout,rooms", "--storm-n", "40", "--storm-workers", "10", "--fanout-n", "20",
		"--fanout-deliveries", "400", "--fanout-publishers", "2", "--fanout-duration", "1s", "--drain", "2s"}
	args := append([]string{"--gorilla", bin, "--port", strconv.Itoa(freePort(t)), "--out", outDir}, sizes...)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if code := runCompare(ctx, args, &out, &log); code != 0 {
		t.Fatalf("runCompare = %d, want 0\n%s", code, log.String())
	}
	// --from prints the same table from the results left in --out.
	var again bytes.Buffer
	if code := runCompare(ctx, append([]string{"--from", outDir}, sizes...), &again, &log); code != 0 || again.String() != out.String() {
		t.Errorf("compare --from = %d:\n%s\nwant 0 and the table of the runs:\n%s", code, again.String(), out.String())
	}
	checkTable(t, out.String(), log.String(),
		"| workload | figure | gorilla-chat |",
		"| storm 40, 10 at a time | connections/s |",
		"| fanout room of 20 at 400 deliveries/s | deliveries/s |",
		"| fanout room of 20 at 400 deliveries/s | ack p99 (ms) | no acks |",
		"| rooms of 10–50, 3000 clients, about 30k deliveries/s | deliveries/s | n/a |",
		"Medians of 2 runs",
	)
}

// checkTable fails t unless compare's table holds every line of want and
// every run gave a result; progress is compare's log, shown on failure.
func checkTable(t *testing.T, table, progress string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(table, w) {
			t.Errorf("table lacks %q:\n%s", w, table)
		}
	}
	if strings.Contains(table, "no result") || strings.Contains(table, "runs]") {
		t.Errorf("some runs gave no result:\n%s\n%s", table, progress)
	}
}

// TestComparePostgres runs compare's hubbub-pg column for real: hubbubd
// built from this tree, with a new PostgreSQL database for each run
// (HUBBUB_TEST_POSTGRES), the durable workload at a small size. Every run
// gives a result, and no run's database is left behind.
func TestComparePostgres(t *testing.T) {
	pg := os.Getenv("HUBBUB_TEST_POSTGRES")
	if pg == "" {
		t.Skip("HUBBUB_TEST_POSTGRES is not set (a postgres:// URL of a server this test may create databases on)")
	}
	if testing.Short() {
		t.Skip("builds hubbubd; not with -short")
	}
	bin := filepath.Join(t.TempDir(), "hubbubd")
	if out, err := exec.Command("go", "build", "-o", bin, "../hubbubd").CombinedOutput(); err != nil {
		t.Fatalf("go build ../hubbubd: %v\n%s", err, out)
	}
	t.Setenv(asGenerator, "1")
	var out, log bytes.Buffer
	outDir := t.TempDir()
	sizes := []string{"--runs", "1", "--workloads", "durable", "--durable-n", "4", "--durable-rate", "200",
		"--durable-duration", "1s", "--drain", "1s"}
	args := append([]string{"--hubbubd", bin, "--postgres", pg, "--port", strconv.Itoa(freePort(t)), "--out", outDir}, sizes...)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	if code := runCompare(ctx, args, &out, &log); code != 0 {
		t.Fatalf("runCompare = %d, want 0\n%s", code, log.String())
	}
	checkTable(t, out.String(), log.String(),
		"| workload | figure | hubbub | hubbub-pg |",
		"| durable, 4 senders at 200 messages/s | acked messages/s |",
	)
	// The hubbub-pg server was given a database of its own (and the
	// hubbub one none).
	u, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	u.Path, u.RawQuery = fmt.Sprintf("/hubbub_compare_%d_", os.Getpid()), ""
	store := "--store " + u.String()
	var pgStarts, sqliteStarts int
	for line := range strings.Lines(log.String()) {
		switch {
		case strings.Contains(line, " hubbub-pg, server: ") && strings.Contains(line, store):
			pgStarts++
		case strings.Contains(line, " hubbub, server: ") && !strings.Contains(line, "--store"):
			sqliteStarts++
		}
	}
	if pgStarts != 1 || sqliteStarts != 1 {
		t.Errorf("server starts: %d with %q…, %d without --store; want 1 and 1\n%s", pgStarts, store, sqliteStarts, log.String())
	}
	conn, err := pgx.Connect(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var left []string
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE $1", fmt.Sprintf("hubbub_compare_%d_%%", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		left = append(left, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("databases left behind: %v", left)
	}
}
