package faulttest

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is one child process.
type proc struct {
	cmd    *exec.Cmd
	output *tailBuffer
	exited chan struct{} // closed when Wait returned; then err is set
	err    error
}

// startProc starts argv with stdout and stderr collected in a bounded
// buffer. The child is killed by the kernel if the test binary dies
// (Pdeathsig), and by stop at the latest.
func startProc(argv []string, env []string) (*proc, error) {
	cmd := newCmd(argv, env)
	output := &tailBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = output, output
	return startCmd(cmd, output)
}

// newCmd prepares argv to run as a child that dies with the test binary.
func newCmd(argv []string, env []string) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.SysProcAttr = childAttr()
	return cmd
}

// startCmd starts cmd, whose output (or the part of it not piped
// elsewhere) goes to output.
func startCmd(cmd *exec.Cmd, output *tailBuffer) (*proc, error) {
	p := &proc{cmd: cmd, output: output, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// signal sends sig unless the process has exited.
func (p *proc) signal(sig syscall.Signal) {
	select {
	case <-p.exited:
	default:
		p.cmd.Process.Signal(sig)
	}
}

// kill sends SIGKILL and waits for the exit.
func (p *proc) kill() {
	p.signal(syscall.SIGKILL)
	<-p.exited
}

// wait waits up to d for the exit and returns its error; ok is false if
// the process is still running.
func (p *proc) wait(d time.Duration) (err error, ok bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.exited:
		return p.err, true
	case <-t.C:
		return nil, false
	}
}

func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// tailBuffer keeps the last max bytes written to it; exec writes it from
// its own goroutines.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.Write(p)
	if extra := b.b.Len() - b.max; extra > 0 {
		b.b.Next(extra)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitReachable waits up to d for a TCP listener on addr.
func waitReachable(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not reachable after %v: %w", addr, d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
