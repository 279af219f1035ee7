package main

import (
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestStormSmall runs a whole storm against the real binary with a few
// clients: they are all back, and every acked message reached every
// client once and in order.
func TestStormSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and restarts hubbubd")
	}
	bin := filepath.Join(t.TempDir(), "hubbubd")
	if out, err := exec.Command("go", "build", "-o", bin, "../hubbubd").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	for _, stop := range []string{"kill", "term"} {
		t.Run(stop, func(t *testing.T) {
			cfg := config{hubbubd: bin, addr: addr, data: t.TempDir(), n: 20, rate: 10, workers: 4, stop: stop, timeout: time.Minute,
				serverArgs: []string{"--drain-grace", "0s", "--drain-window", "500ms"}}
			res, err := storm(t.Context(), cfg, io.Discard)
			if err != nil {
				t.Fatalf("storm: %v (result %+v)", err, res)
			}
			if res.Acked == 0 || res.Incomplete != 0 || res.OrderViolations != 0 || res.BackSeconds <= 0 || res.ResumedSeconds < res.BackSeconds {
				t.Errorf("result %+v: want acked messages, all delivered in order, back then resumed", res)
			}
			if res.Reconnects != cfg.n {
				t.Errorf("%d reconnects, want one per client (%d)", res.Reconnects, cfg.n)
			}
		})
	}
}
