package faulttest

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Service is a broker server of the test's own (redis-server or
// nats-server) on a free loopback port. Stop kills it; Start runs it again
// on the same port, empty: neither keeps anything across a restart, as
// with the pub/sub both carry for hubbub. Stop and Start are called from
// the test goroutine; URL may be read from anywhere.
type Service struct {
	Name string // "redis" or "nats"
	URL  string // redis://127.0.0.1:PORT/0 or nats://127.0.0.1:PORT

	addr string
	argv []string
	t    testing.TB

	mu sync.Mutex // guards p
	p  *proc
}

// StartRedis starts redis-server on a free port, without persistence.
// It skips the test if redis-server is not installed.
func StartRedis(t testing.TB) *Service {
	t.Helper()
	bin := lookBinary(t, "redis-server", "/usr/bin/redis-server")
	port := strconv.Itoa(freePort(t))
	s := &Service{
		Name: "redis",
		URL:  "redis://127.0.0.1:" + port + "/0",
		addr: "127.0.0.1:" + port,
		argv: []string{bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", t.TempDir(), "--logfile", ""},
		t: t,
	}
	s.start()
	return s
}

// StartNATS starts nats-server (core NATS, no JetStream) on a free port.
// It skips the test if nats-server is not installed.
func StartNATS(t testing.TB) *Service {
	t.Helper()
	bin := lookBinary(t, "nats-server", "/usr/sbin/nats-server")
	port := strconv.Itoa(freePort(t))
	s := &Service{
		Name: "nats",
		URL:  "nats://127.0.0.1:" + port,
		addr: "127.0.0.1:" + port,
		argv: []string{bin, "-a", "127.0.0.1", "-p", port},
		t:    t,
	}
	s.start()
	return s
}

// StartBroker starts the broker named "redis" or "nats".
func StartBroker(t testing.TB, name string) *Service {
	t.Helper()
	switch name {
	case "redis":
		return StartRedis(t)
	case "nats":
		return StartNATS(t)
	}
	t.Fatalf("faulttest: no broker named %q", name)
	return nil
}

func lookBinary(t testing.TB, name, fallback string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if _, err := os.Stat(fallback); err == nil {
		return fallback
	}
	t.Skipf("%s is not installed: skipping", name)
	return ""
}

func (s *Service) start() {
	s.t.Helper()
	p, err := startProc(s.argv, os.Environ())
	if err != nil {
		s.t.Fatalf("start %s: %v", s.Name, err)
	}
	s.mu.Lock()
	first := s.p == nil
	s.p = p
	s.mu.Unlock()
	if first {
		s.t.Cleanup(func() {
			s.mu.Lock()
			p := s.p
			s.mu.Unlock()
			p.kill()
		})
	}
	if err := waitReachable(s.addr, 10*time.Second); err != nil {
		p.kill()
		s.t.Fatalf("%s: %v; output:\n%s", s.Name, err, p.output)
	}
}

// Stop kills the server (SIGKILL: connections drop without a goodbye)
// and waits until it is gone.
func (s *Service) Stop() {
	s.mu.Lock()
	p := s.p
	s.mu.Unlock()
	p.kill()
}

// Start runs the server again on its port after Stop and waits until it
// accepts connections.
func (s *Service) Start() {
	s.t.Helper()
	s.mu.Lock()
	running := s.p.running()
	s.mu.Unlock()
	if running {
		s.t.Fatalf("%s: Start while running", s.Name)
	}
	s.start()
}

func (s *Service) String() string { return fmt.Sprintf("%s on %s", s.Name, s.addr) }
