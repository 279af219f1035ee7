package server

// Tests of the connection's write side: the write loop on demand, the
// slow-consumer rules, replies before events, and /echo's ordering.

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/internal/hub"
	"github.com/hubbub-chat/hubbub/protocol"
)

// pipeServer creates a Server for cfg inside the current synctest bubble,
// with backends from outside it, and shuts it down at cleanup.
func pipeServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	store, broker := rawBackends(t)
	cfg.Store, cfg.Broker = store, broker
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return srv
}

// onlyConn returns the server's one connection.
func onlyConn(t *testing.T, srv *Server) *conn {
	t.Helper()
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.conns) != 1 {
		t.Fatalf("%d connections, want 1", len(srv.conns))
	}
	for c := range srv.conns {
		return c
	}
	return nil
}

// pipeEcho dials /echo over net.Pipe inside the bubble and returns the
// client end and the server's conn. net.Pipe has no buffer: a write of
// the server blocks until the client reads it, so a client that does not
// read is a stalled reader from the first byte.
func pipeEcho(t *testing.T, srv *Server) (*rawPipeConn, *conn) {
	t.Helper()
	c, err := rawPipeDial(srv, "/echo")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.nc.Close(); <-c.served })
	synctest.Wait()
	return c, onlyConn(t, srv)
}

// readEvents reads one frame from c and splits it into the events it
// carries.
func readEvents(t *testing.T, c *rawPipeConn) []string {
	t.Helper()
	f, err := rawReadFrame(c.br)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if f.opcode == rawOpClose {
		code, _ := rawParseClose(f.payload)
		return []string{fmt.Sprintf("close %d", code)}
	}
	return strings.Split(string(f.payload), "\n")
}

// TestSlowConsumerByAge: a connection whose oldest queued message waited
// longer than SendQueueAge is closed with the slow-consumer code, long
// before its queue is full and before its write deadline; what was queued
// is dropped, not written. The age is noticed by the next enqueue, or, if
// none comes, by the write loop when it takes the queue.
func TestSlowConsumerByAge(t *testing.T) {
	tests := []struct {
		name     string
		laterMsg bool // another event arrives after the age is exceeded
	}{
		{"noticed by enqueue", true},
		{"noticed by the write loop", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := pipeServer(t, Config{SendQueueAge: 5 * time.Second, WriteTimeout: time.Minute})
				client, c := pipeEcho(t, srv)

				c.Deliver([]byte("e1")) // taken by the writer, which blocks: nobody reads
				synctest.Wait()
				time.Sleep(time.Second)
				c.Deliver([]byte("e2")) // queued at 1s
				time.Sleep(6 * time.Second)
				if tt.laterMsg {
					if c.enqueue(outMsg{data: []byte("e3")}) { // at 7s: e2 is 6s old
						t.Error("enqueue at 7s accepted e3, want it refused: e2 waited 6s")
					}
				}

				var got []string
				for {
					evs := readEvents(t, client)
					got = append(got, evs...)
					if strings.HasPrefix(evs[0], "close") {
						break
					}
				}
				want := []string{"e1", fmt.Sprintf("close %d", protocol.CloseSlowConsumer)}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("client read %q, want %q", got, want)
				}
				if got := counterValue(srv.metrics.slowConsumers.WithLabelValues(slowByAge)); got != 1 {
					t.Errorf("slow-consumer closes by age = %v, want 1", got)
				}
				if got := counterValue(srv.metrics.slowConsumers.WithLabelValues(slowBySize)); got != 0 {
					t.Errorf("slow-consumer closes by size = %v, want 0", got)
				}
			})
		})
	}
}

// TestLaggingClosesAsSlowConsumer: a connection told by the hub that its
// room's deliveries run late (hub.Laggard) is closed with the
// slow-consumer code at once, counted by reason "lag", and its queue is
// dropped; a second Lagging changes nothing.
func TestLaggingClosesAsSlowConsumer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := pipeServer(t, Config{WriteTimeout: time.Minute})
		client, c := pipeEcho(t, srv)
		var _ hub.Laggard = c
		c.Lagging()
		c.Lagging()
		if c.enqueue(outMsg{data: []byte("e1")}) {
			t.Error("enqueue after Lagging accepted, want it refused")
		}
		if got := readEvents(t, client); fmt.Sprint(got) != fmt.Sprint([]string{fmt.Sprintf("close %d", protocol.CloseSlowConsumer)}) {
			t.Errorf("client read %q, want close %d", got, protocol.CloseSlowConsumer)
		}
		if got := counterValue(srv.metrics.slowConsumers.WithLabelValues(slowByLag)); got != 1 {
			t.Errorf("slow-consumer closes by lag = %v, want 1", got)
		}
	})
}

// TestDeliverBatch: a run of a room's events is queued whole and written
// in order, or, when it does not fit the send queue (by count or by
// bytes), closes the connection as a slow consumer exactly as queuing the
// events one by one would have: nothing of the run is written.
func TestDeliverBatch(t *testing.T) {
	tests := []struct {
		name     string
		queued   int // events queued behind the one the stalled writer holds
		run      []string
		wantSlow bool
	}{
		{"fits", 2, []string{"r1", "r2"}, false},
		{"one too many", 2, []string{"r1", "r2", "r3"}, true},
		{"too many bytes", 0, []string{"r1", strings.Repeat("x", 64)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := pipeServer(t, Config{SendQueueLen: 4, SendQueueBytes: 64, WriteTimeout: time.Minute})
				client, c := pipeEcho(t, srv)
				var _ hub.BatchMember = c

				c.Deliver([]byte("e0")) // the writer blocks on it: the reader stalls
				synctest.Wait()
				want := []string{"e0"}
				for i := 1; i <= tt.queued; i++ {
					e := fmt.Sprintf("e%d", i)
					c.Deliver([]byte(e))
					want = append(want, e)
				}
				var run [][]byte
				for _, e := range tt.run {
					run = append(run, []byte(e))
				}
				c.DeliverBatch(run, time.Now(), false)
				if tt.wantSlow {
					want = []string{"e0", fmt.Sprintf("close %d", protocol.CloseSlowConsumer)}
				} else {
					want = append(want, tt.run...)
				}

				var got []string
				for len(got) < len(want) {
					got = append(got, readEvents(t, client)...)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("client read (-want +got):\n%s", diff)
				}
				wantCount := 0.0
				if tt.wantSlow {
					wantCount = 1
				}
				if got := counterValue(srv.metrics.slowConsumers.WithLabelValues(slowBySize)); got != wantCount {
					t.Errorf("slow-consumer closes by size = %v, want %v", got, wantCount)
				}
			})
		})
	}
}

// TestSlowConsumerKeepsReplies: a connection closed as a slow consumer
// drops its queued events, which the client gets back from history, but
// still writes its queued replies before the close frame: an ack of a
// committed send is not lost to the client that fell behind.
func TestSlowConsumerKeepsReplies(t *testing.T) {
	tests := []struct {
		name  string
		close func(c *conn)
	}{
		{"lagging", func(c *conn) { c.Lagging() }},
		{"queue full", func(c *conn) { c.DeliverBatch([][]byte{[]byte("r1"), []byte("r2"), []byte("r3")}, time.Now(), false) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := pipeServer(t, Config{SendQueueLen: 4, WriteTimeout: time.Minute})
				client, c := pipeEcho(t, srv)

				c.Deliver([]byte("e0")) // the writer blocks on it: the reader stalls
				synctest.Wait()
				c.Deliver([]byte("e1"))
				c.enqueue(outMsg{data: []byte("ack1"), reply: true})
				c.Deliver([]byte("e2"))
				tt.close(c)

				var got []string
				for len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "close") {
					got = append(got, readEvents(t, client)...)
				}
				want := []string{"e0", "ack1", fmt.Sprintf("close %d", protocol.CloseSlowConsumer)}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("client read (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// TestRepliesOvertakeEvents: while a reader stalls, events pile up in its
// queue; a reply queued after them is written before them.
func TestRepliesOvertakeEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := pipeServer(t, Config{})
		client, c := pipeEcho(t, srv)

		c.Deliver([]byte("e0")) // the writer blocks on it: the reader stalls
		synctest.Wait()
		for i := 1; i <= 5; i++ {
			c.Deliver(fmt.Appendf(nil, "e%d", i))
		}
		c.enqueue(outMsg{data: []byte("ack"), reply: true})

		var got []string
		for len(got) < 7 {
			got = append(got, readEvents(t, client)...)
		}
		want := []string{"e0", "ack", "e1", "e2", "e3", "e4", "e5"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("client read %q, want %q", got, want)
		}
	})
}

// TestWriteLoopOnDemand: an idle connection has no write loop; one starts
// for a write and ends writerLinger after the queue emptied.
func TestWriteLoopOnDemand(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := pipeServer(t, Config{})
		client, c := pipeEcho(t, srv)
		writing := func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.writing
		}
		if writing() {
			t.Fatal("a write loop runs on a new idle connection")
		}
		c.Deliver([]byte("hello"))
		synctest.Wait()
		if !writing() {
			t.Fatal("no write loop while a write is pending")
		}
		if got := readEvents(t, client); fmt.Sprint(got) != "[hello]" {
			t.Errorf("client read %q, want [hello]", got)
		}
		synctest.Wait()
		if !writing() {
			t.Error("the write loop ended at once, want it to linger for more")
		}
		time.Sleep(writerLinger + time.Millisecond)
		synctest.Wait()
		if writing() {
			t.Errorf("the write loop still runs %v after the queue emptied", writerLinger)
		}
	})
}

// TestOneWriterAtATime hammers enqueue from many goroutines while the peer
// reads, so that write loops start and stop all the time. Two write loops
// at once would be a data race on gorilla's connection (run with -race),
// make gorilla panic ("concurrent write"), or reorder a sender's messages.
func TestOneWriterAtATime(t *testing.T) {
	srv, ts := rawServer(t, Config{SendQueueLen: 1 << 20, SendQueueBytes: 1 << 30})
	peer, c := dialEcho(t, srv, ts, websocket.DefaultDialer)

	const senders, each = 8, 300
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				c.Deliver(fmt.Appendf(nil, "%d:%d", s, i))
				if i%16 == 0 {
					time.Sleep(time.Microsecond) // let the queue run dry now and then
				}
			}
		})
	}

	next := make([]int, senders)
	peer.SetReadDeadline(time.Now().Add(20 * time.Second))
	for n := 0; n < senders*each; {
		_, p, err := peer.ReadMessage()
		if err != nil {
			t.Fatalf("after %d messages: %v", n, err)
		}
		for _, ev := range bytes.Split(p, []byte("\n")) {
			var s, i int
			if _, err := fmt.Sscanf(string(ev), "%d:%d", &s, &i); err != nil || s < 0 || s >= senders {
				t.Fatalf("odd event %q", ev)
			}
			if i != next[s] {
				t.Fatalf("sender %d: got message %d, want %d", s, i, next[s])
			}
			next[s]++
			n++
		}
	}
	wg.Wait()
}

// TestEchoBeforeProtocolError: messages accepted before a frame that
// fails the connection are echoed before the close (Autobahn 3.2, 4.1.3,
// 5.15). Over net.Pipe the echoes cannot reach the client before it reads,
// so without the wait for each echo gorilla's close frame would overtake
// them.
func TestEchoBeforeProtocolError(t *testing.T) {
	frame := func(f rawFrame) []byte { f.masked = true; return rawEncodeFrame(f) }
	tests := []struct {
		name string
		bad  []byte
	}{
		{"RSV2", frame(rawFrame{fin: true, rsv: rawRSV2, opcode: rawOpText, payload: []byte("x")})},
		{"reserved opcode 0x3", frame(rawFrame{fin: true, opcode: 0x3})},
		{"continuation without start", frame(rawFrame{fin: true, opcode: rawOpContinuation, payload: []byte("x")})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := pipeServer(t, Config{})
				client, _ := pipeEcho(t, srv)
				var b []byte
				for i := range 3 {
					b = append(b, frame(rawFrame{fin: true, opcode: rawOpText, payload: fmt.Appendf(nil, "m%d", i)})...)
				}
				go client.nc.Write(append(b, tt.bad...)) // ends when the server has read it all, or at cleanup
				synctest.Wait()

				var got []string
				for len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "close") {
					got = append(got, readEvents(t, client)...)
				}
				want := []string{"m0", "m1", "m2", fmt.Sprintf("close %d", protocol.CloseProtocolError)}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("client read %q, want %q", got, want)
				}
			})
		})
	}
}

// TestInvalidUTF8FailsFast: the server closes with 1007 as soon as the
// text it has received cannot be valid UTF-8, without waiting for the rest
// of the message (Autobahn 6.4.1–6.4.4): here the rest never comes.
func TestInvalidUTF8FailsFast(t *testing.T) {
	_, ts := rawServer(t, Config{})
	tests := []struct {
		name string
		sent []byte
	}{
		{"in a fragment", append(
			rawEncodeFrame(rawFrame{opcode: rawOpText, masked: true, payload: []byte("κόσμε")}),
			rawEncodeFrame(rawFrame{opcode: rawOpContinuation, masked: true, payload: []byte("\xf4\x90\x80\x80")})...)},
		{"in the first bytes of a frame", func() []byte {
			// A frame announcing 20 bytes of which only 8 are sent.
			f := rawEncodeFrame(rawFrame{fin: true, opcode: rawOpText, masked: true, payload: []byte("κόσ\xf4\x90" + strings.Repeat("x", 13))})
			return f[:len(f)-12]
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawDial(t, ts, "/echo")
			c.writeRaw(tt.sent)
			c.expectClose(protocol.CloseInvalidUTF8)
		})
	}
}

// TestWriteDeadlineKept: the write loop renews its write deadline only
// once a tenth of WriteTimeout has passed, so a write blocked by a peer
// that stopped reading ends the connection between 0.9×WriteTimeout and
// WriteTimeout after it began: never later, and not much sooner.
func TestWriteDeadlineKept(t *testing.T) {
	tests := []struct {
		name     string
		lastRead time.Duration // when the client reads the last event it reads
		stalled  time.Duration // when the write that blocks starts
	}{
		{"deadline renewed", 5 * time.Second, 5*time.Second + 500*time.Millisecond},
		{"deadline kept", 0, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const timeout = 10 * time.Second
				srv := pipeServer(t, Config{WriteTimeout: timeout, SendQueueAge: time.Minute})
				client, c := pipeEcho(t, srv)
				// An event every half second keeps the one write loop
				// running (writerLinger is a second).
				start := time.Now()
				for time.Since(start) <= tt.lastRead {
					c.Deliver([]byte("e"))
					readEvents(t, client)
					time.Sleep(500 * time.Millisecond)
				}
				time.Sleep(tt.stalled - time.Since(start))
				c.Deliver([]byte("stalled")) // nobody reads it
				blocked := time.Now()
				c.waitEnded()
				if got := time.Since(blocked); got < timeout*9/10 || got > timeout {
					t.Errorf("the blocked write ended the connection after %v, want between %v and %v", got, timeout*9/10, timeout)
				}
			})
		})
	}
}

// dialEcho dials /echo of ts, which serves srv, with d, and returns the
// peer, closed at cleanup, and the server's end of the connection, its
// only one, once registered.
func dialEcho(t *testing.T, srv *Server, ts *httptest.Server, d *websocket.Dialer) (*websocket.Conn, *conn) {
	t.Helper()
	peer, _, err := d.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	for { // the connection registers right after the handshake
		srv.mu.Lock()
		for c := range srv.conns {
			srv.mu.Unlock()
			return peer, c
		}
		srv.mu.Unlock()
		runtime.Gosched()
	}
}
