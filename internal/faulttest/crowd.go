package faulttest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// CrowdPackage is the import path of the crowd command (see its package
// documentation); Build it with the suite's binaries.
const CrowdPackage = "github.com/hubbub-chat/hubbub/internal/faulttest/crowd"

// Crowd is a crowd process: many real clients in one room, in a process
// of their own (built without -race), answering Status and Report. Its
// methods are called from the test goroutine.
type Crowd struct {
	p   *proc
	in  io.WriteCloser
	out *bufio.Reader
	t   testing.TB

	OK, Failed int    // clients that connected and joined, and those that did not
	FirstErr   string // why the first failed one failed
}

// CrowdClient is one client's line of a crowd's report.
type CrowdClient struct {
	Name      string         `json:"name"`
	From      int64          `json:"from"` // the room's last seq at the join
	Seqs      [][2]int64     `json:"seqs"` // delivered seqs, as closed ranges
	Breaches  []string       `json:"breaches"`
	Connected bool           `json:"connected"`
	Live      bool           `json:"live"`
	Drops     int            `json:"drops"`  // connections lost
	Dials     int            `json:"dials"`  // reconnect dials
	Causes    map[string]int `json:"causes"` // failed dials by cause
}

// Has reports whether the client delivered seq.
func (c *CrowdClient) Has(seq int64) bool {
	for _, r := range c.Seqs {
		if r[0] <= seq && seq <= r[1] {
			return true
		}
	}
	return false
}

// StartCrowd runs the crowd binary with n clients named prefix0… dialing
// url into room, and waits (up to setup) until all have connected and
// joined or failed. The process is stopped at the end of the test.
func StartCrowd(t testing.TB, bin, url string, n int, room, prefix string, setup time.Duration) *Crowd {
	t.Helper()
	argv := []string{bin, "-url", url, "-n", strconv.Itoa(n), "-room", room, "-prefix", prefix}
	cmd := newCmd(argv, os.Environ())
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errBuf := &tailBuffer{max: 16 << 10}
	cmd.Stderr = errBuf
	p, err := startCmd(cmd, errBuf)
	if err != nil {
		t.Fatal(err)
	}
	c := &Crowd{p: p, in: in, out: bufio.NewReaderSize(outPipe, 1<<20), t: t}
	t.Cleanup(func() {
		fmt.Fprintln(in, "quit")
		in.Close()
		if _, exited := p.wait(30 * time.Second); !exited {
			p.kill()
		}
	})
	line, err := c.readLine(setup)
	if err != nil {
		t.Fatalf("crowd: %v; stderr:\n%s", err, errBuf)
	}
	var rest string
	if _, err := fmt.Sscanf(line, "ready %d %d", &c.OK, &c.Failed); err != nil {
		t.Fatalf("crowd said %q, want \"ready OK FAILED\"", line)
	}
	if f := strings.SplitN(line, " ", 4); len(f) == 4 {
		rest = f[3]
	}
	c.FirstErr = rest
	return c
}

// readLine reads one line of output within d.
func (c *Crowd) readLine(d time.Duration) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := c.out.ReadString('\n')
		ch <- res{strings.TrimSuffix(s, "\n"), err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-time.After(d):
		c.p.kill() // ends the read above
		<-ch
		return "", fmt.Errorf("no answer within %v", d)
	}
}

// ask sends cmd and decodes the one-line JSON answer into v.
func (c *Crowd) ask(cmd string, v any) {
	c.t.Helper()
	if _, err := fmt.Fprintln(c.in, cmd); err != nil {
		c.t.Fatalf("crowd %s: %v", cmd, err)
	}
	line, err := c.readLine(60 * time.Second)
	if err != nil {
		c.t.Fatalf("crowd %s: %v", cmd, err)
	}
	if err := json.Unmarshal([]byte(line), v); err != nil {
		c.t.Fatalf("crowd %s: %v in %.200q", cmd, err, line)
	}
}

// Status returns how many clients are connected, and how many still run.
func (c *Crowd) Status() (connected, live int) {
	c.t.Helper()
	var s struct{ Connected, Live int }
	c.ask("status", &s)
	return s.Connected, s.Live
}

// Report returns every client's record.
func (c *Crowd) Report() []CrowdClient {
	c.t.Helper()
	var r struct{ Clients []CrowdClient }
	c.ask("report", &r)
	return r.Clients
}
