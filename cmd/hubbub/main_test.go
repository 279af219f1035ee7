package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/servertest"
)

// binDir holds the hubbub binary the tests build, once, when a test
// needs it.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hubbub-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildErr  error
)

// hubbubBinary builds cmd/hubbub with go build (once per test run; with
// -race when the tests run with it) and returns its path. It skips the test under -short.
func hubbubBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	bin := filepath.Join(binDir, "hubbub")
	buildOnce.Do(func() {
		args := []string{"build", "-o", bin}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bin
}

// startServer starts a real hubbub server (SQLite store, in-process
// broker, accounts enabled, guests allowed) for t and returns its URL.
func startServer(t *testing.T) string {
	return servertest.Start(t, nil).URL
}

// peer is a client of package client in the tests, with its events
// recorded.
type peer struct {
	*client.Client
	mu     sync.Mutex // guards events
	events []client.Event
	done   chan struct{}
}

// dialPeer connects a guest named name and closes it when t ends.
func dialPeer(t *testing.T, url, name string) *peer {
	t.Helper()
	return dialPeerWith(t, url, client.Options{Name: name})
}

// dialPeerWith connects with opts and closes the client when t ends.
func dialPeerWith(t *testing.T, url string, opts client.Options) *peer {
	t.Helper()
	c, err := client.Dial(t.Context(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{Client: c, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for ev := range c.Events() {
			p.mu.Lock()
			p.events = append(p.events, ev)
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		c.Close()
		<-p.done
	})
	return p
}

// waitEvent waits until an event satisfies match.
func (p *peer) waitEvent(t *testing.T, what string, match func(client.Event) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		found := slices.ContainsFunc(p.events, match)
		p.mu.Unlock()
		if found {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s within 10s", what)
}

// isMessage matches a message event in room from user with body.
func isMessage(room, from, body string) func(client.Event) bool {
	return func(ev client.Event) bool {
		m, ok := ev.(client.MessageEvent)
		return ok && m.Message.Room == room && m.Message.From == from && m.Message.Body == body
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and many readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitOutput waits until out contains want.
func waitOutput(t *testing.T, out *syncBuffer, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(out.String(), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s := out.String()
	t.Fatalf("output has no %q within %v; the last of it:\n%q", want, timeout, s[max(0, len(s)-3000):])
}

// testApp returns an app with in-memory streams, the environment env
// and a configuration directory of its own.
func testApp(t *testing.T, stdin string, env map[string]string) (*app, *syncBuffer, *syncBuffer) {
	t.Helper()
	var stdout, stderr syncBuffer
	dir := t.TempDir()
	return &app{
		stdin:     strings.NewReader(stdin),
		stdout:    &stdout,
		stderr:    &stderr,
		getenv:    func(k string) string { return env[k] },
		configDir: func() (string, error) { return dir, nil },
	}, &stdout, &stderr
}

// binEnv is the environment for the binary: no HUBBUB_ settings from the
// caller, and a configuration directory of the test's own.
func binEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HUBBUB_") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, append([]string{"XDG_CONFIG_HOME=" + t.TempDir()}, extra...)...)
}
