package faulttest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Build compiles the command at package path pkg (such as
// "github.com/hubbub-chat/hubbub/cmd/hubbubd" or CrowdPackage) into dir,
// without the race detector, and returns the binary's path. Call it once
// per test binary, from TestMain.
func Build(dir, pkg string) (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, filepath.Base(pkg))
	out, err := exec.Command(goCmd, "build", "-o", path, pkg).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return path, nil
}

// Node is one hubbubd process on a fixed loopback port: a restart serves
// on the same address. Its methods are called from the test goroutine.
type Node struct {
	Name string // "A", "B", ...
	Addr string // 127.0.0.1:PORT

	bin  string
	args []string
	t    testing.TB

	mu sync.Mutex // guards p
	p  *proc
}

// StartNode runs bin with args plus --addr on a free port and --data in a
// temporary directory, and waits until /readyz answers 200. The process is
// killed at the end of the test if it still runs; its output is logged if
// the test failed.
func StartNode(t testing.TB, name, bin string, args ...string) *Node {
	t.Helper()
	n := &Node{
		Name: name,
		Addr: "127.0.0.1:" + strconv.Itoa(freePort(t)),
		bin:  bin,
		args: append([]string{"--data", t.TempDir(), "--log-level", "warn"}, args...),
		t:    t,
	}
	n.start()
	t.Cleanup(func() {
		n.mu.Lock()
		p := n.p
		n.mu.Unlock()
		p.kill()
		if t.Failed() {
			t.Logf("node %s output (last lines):\n%s", n.Name, lastLines(p.output.String(), 15))
		}
	})
	return n
}

func (n *Node) start() {
	n.t.Helper()
	argv := append([]string{n.bin, "--addr", n.Addr}, n.args...)
	p, err := startProc(argv, os.Environ())
	if err != nil {
		n.t.Fatalf("node %s: %v", n.Name, err)
	}
	n.mu.Lock()
	n.p = p
	n.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for !httpReady(n.Addr) {
		if !p.running() || time.Now().After(deadline) {
			p.kill()
			n.t.Fatalf("node %s did not become ready (exit: %v); output:\n%s", n.Name, p.err, p.output)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func httpReady(addr string) bool {
	return checkReady(quickHTTP, addr)
}

// Kill sends SIGKILL: no drain, no close frames, no flush.
func (n *Node) Kill() {
	n.mu.Lock()
	p := n.p
	n.mu.Unlock()
	p.kill()
}

// Term sends SIGTERM and returns at once.
func (n *Node) Term() {
	n.mu.Lock()
	p := n.p
	n.mu.Unlock()
	p.signal(syscall.SIGTERM)
}

// Wait waits up to d for the process to exit. It returns the exit error
// (nil for status 0) and whether it exited.
func (n *Node) Wait(d time.Duration) (error, bool) {
	n.mu.Lock()
	p := n.p
	n.mu.Unlock()
	return p.wait(d)
}

// Restart starts the node again, on the same address and data directory,
// after Kill or a Term it has exited from.
func (n *Node) Restart() {
	n.t.Helper()
	n.mu.Lock()
	running := n.p.running()
	n.mu.Unlock()
	if running {
		n.t.Fatalf("node %s: Restart while running", n.Name)
	}
	n.start()
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// Output returns the tail of the node's stdout and stderr.
func (n *Node) Output() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.p.output.String()
}
