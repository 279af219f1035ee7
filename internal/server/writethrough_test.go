//go:build linux

package server

import (
	"bytes"
	"fmt"
	"net"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/sys/unix"
)

// TestWriteThrough: an event for an idle socket is written straight to
// it, without a write loop; runs handed over with more to come are held
// and go out as one frame with the room's last run; a command's reply is
// written through, an entry's ack is held for the write loop; a frame
// bigger than the socket takes at once is begun there and finished by the
// write loop, before anything queued after it. The peer reads every event
// whole, once and in order.
func TestWriteThrough(t *testing.T) {
	srv, ts := rawServer(t, Config{SendQueueLen: 1 << 20, SendQueueBytes: 1 << 30})
	// Small socket buffers on both ends, so that a megabyte cannot fit.
	small := func(opt int) func(string, string, syscall.RawConn) error {
		return func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, opt, 4096) })
		}
	}
	peer, c := dialEcho(t, srv, ts, &websocket.Dialer{NetDial: (&net.Dialer{Control: small(syscall.SO_RCVBUF)}).Dial})
	if c.raw == nil {
		t.Fatal("a plain TCP connection on Linux did not get its descriptor: nothing would be written through")
	}
	// The kernel may hold only UnsentLimit bytes unsent (TCP_NOTSENT_LOWAT),
	// so that a stalled reader's backlog shows in its send queue.
	var lowat int
	var lerr error
	c.raw.Control(func(fd uintptr) { lowat, lerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT) })
	if lerr != nil || lowat != srv.cfg.UnsentLimit {
		t.Errorf("TCP_NOTSENT_LOWAT = %d, %v; want %d", lowat, lerr, srv.cfg.UnsentLimit)
	}
	if err := small(syscall.SO_SNDBUF)("", "", c.raw); err != nil {
		t.Fatal(err)
	}
	through := func() float64 {
		t.Helper()
		var m dto.Metric
		if err := srv.metrics.writesThrough.Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetCounter().GetValue()
	}
	busy := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.wbusy
	}
	writing := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.writing
	}

	c.Deliver([]byte("small"))
	if got := through(); got != 1 {
		t.Fatalf("%v frames written through after the first event, want 1", got)
	}
	if writing() {
		t.Error("a write loop started for an event the socket took at once")
	}
	_, p, err := peer.ReadMessage()
	if err != nil || string(p) != "small" {
		t.Fatalf("read %q, %v; want small", p, err)
	}

	// Runs with more of their room behind them are held: queued, no
	// write loop woken. The room's last run writes them all through with
	// it, as one frame.
	c.DeliverBatch([][]byte{[]byte("run1")}, time.Now(), true)
	c.DeliverBatch([][]byte{[]byte("run2"), []byte("run3")}, time.Now(), true)
	if got := through(); got != 1 {
		t.Fatalf("%v frames written through after runs with more behind them, want still 1", got)
	}
	if writing() {
		t.Error("a write loop started for held runs")
	}
	c.DeliverBatch([][]byte{[]byte("run4")}, time.Now(), false)
	if got := through(); got != 2 {
		t.Fatalf("%v frames written through after the room's last run, want 2", got)
	}
	_, p, err = peer.ReadMessage()
	if err != nil || string(p) != "run1\nrun2\nrun3\nrun4" {
		t.Fatalf("read %q, %v; want the four runs in one frame", p, err)
	}
	// A hold ended by a run with nothing left in it (all stale, or the
	// member left the room: Hub.Leave).
	c.DeliverBatch([][]byte{[]byte("run5")}, time.Now(), true)
	c.DeliverBatch(nil, time.Now(), false)
	if got := through(); got != 3 {
		t.Fatalf("%v frames written through after an empty last run, want 3", got)
	}
	// readEvents reads frames until it has n events.
	readEvents := func(n int) []string {
		t.Helper()
		var got []string
		peer.SetReadDeadline(time.Now().Add(10 * time.Second))
		for len(got) < n {
			_, p, err := peer.ReadMessage()
			if err != nil {
				t.Fatalf("after %d events: %v", len(got), err)
			}
			got = append(got, strings.Split(string(p), "\n")...)
		}
		return got
	}
	if diff := cmp.Diff([]string{"run5"}, readEvents(1)); diff != "" {
		t.Errorf("runs (-want +got):\n%s", diff)
	}
	waitIdle := func() {
		t.Helper()
		for busy() { // let the write loop finish, so that the next write finds the socket free
			runtime.Gosched()
		}
	}
	waitIdle()

	// A command's reply is written through by the goroutine that has it;
	// the ack of a committed entry is held for the write loop, which sends
	// it with the entry's event.
	c.enqueue(outMsg{data: []byte("reply"), reply: true})
	if got := through(); got != 4 {
		t.Fatalf("%v frames written through after a reply, want 4", got)
	}
	c.enqueue(outMsg{data: []byte("ack"), reply: true, held: true})
	if got := through(); got != 4 {
		t.Fatalf("%v frames written through after a held ack, want still 4", got)
	}
	if diff := cmp.Diff([]string{"reply", "ack"}, readEvents(2)); diff != "" {
		t.Errorf("replies (-want +got):\n%s", diff)
	}
	waitIdle()

	big := bytes.Repeat([]byte("b"), 1<<20)
	c.Deliver(big) // begun through, finished by the write loop
	if got := through(); got != 5 {
		t.Fatalf("%v frames written through after the big event, want 5", got)
	}
	if !writing() {
		t.Fatal("no write loop for the rest of a frame the socket could not take")
	}
	want := []string{string(big)}
	for i := range 20 {
		e := fmt.Sprintf("after:%d", i)
		c.Deliver([]byte(e)) // queued: the write loop is busy
		want = append(want, e)
	}
	if got := through(); got != 5 {
		t.Errorf("%v frames written through while the write loop was busy, want 5", got)
	}
	if diff := cmp.Diff(want, readEvents(len(want))); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
