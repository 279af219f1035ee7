package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// batchRecorder records the size of every Append batch; the first Append
// waits for the gate, so that sends pile up behind it.
type batchRecorder struct {
	chat.Store
	gate  chan struct{}
	mu    sync.Mutex
	sizes []int
}

func (b *batchRecorder) Append(ctx context.Context, batch []chat.NewMessage) ([]chat.AppendResult, error) {
	<-b.gate
	b.mu.Lock()
	b.sizes = append(b.sizes, len(batch))
	b.mu.Unlock()
	return b.Store.Append(ctx, batch)
}

// TestCommitsAreGrouped: sends that arrive while a commit is running are
// committed together in the next transaction, and every one is acked.
func TestCommitsAreGrouped(t *testing.T) {
	real, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &batchRecorder{Store: real, gate: make(chan struct{})}
	s := newTestServerWithStore(t, rec, nil)
	c := s.client(t, "grouper")
	c.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	const n = 40
	for i := range n {
		c.write(protocol.Command{ID: fmt.Sprint("g", i), Op: protocol.OpSend, Room: "lobby", Body: "x"})
	}
	// Let the read loop hand all of them over while the first commit waits.
	time.Sleep(200 * time.Millisecond)
	close(rec.gate)
	acks := 0
	for acks < n {
		if ev := c.next(); ev.Type == protocol.TypeOK {
			acks++
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.sizes) > 3 {
		t.Errorf("%d messages took %d transactions %v, want them grouped into a few", n, len(rec.sizes), rec.sizes)
	}
}

// BenchmarkWriteQueue measures the write loop's cost per delivered event
// when 1, 4 or 16 events are waiting: coalesced into one frame and one
// write, sixteen cost little more than one. Run with
//
//	go test -run '^$' -bench WriteQueue -benchtime 2s ./internal/server/
func BenchmarkWriteQueue(b *testing.B) {
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprint("events=", n), func(b *testing.B) {
			c, drain := benchConn(b)
			defer drain()
			ev, _ := protocol.EncodeEvent(&protocol.Event{Type: protocol.TypeMessage, Message: &protocol.Message{
				Room: "lobby", Seq: 1234, From: "alice", Body: strings.Repeat("hello ", 12), TS: 1764000000000}})
			queue := make([]outMsg, n)
			for i := range queue {
				queue[i] = outMsg{data: ev}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := c.writeQueue(queue, time.Now().Add(time.Minute)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}

// benchConn returns a server-side conn whose peer reads and discards
// everything on a real loopback socket.
func benchConn(b *testing.B) (*conn, func()) {
	b.Helper()
	srv := benchServer(b)
	got := make(chan *websocket.Conn, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := srv.upgrader.Upgrade(w, r, nil)
		if err == nil {
			got <- ws
		}
	}))
	peer, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http"), nil)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			if _, err := peer.UnderlyingConn().Read(buf); err != nil {
				return
			}
		}
	}()
	ws := <-got
	c := newConn(srv, ws, echo{})
	return c, func() {
		ws.Close()
		peer.Close()
		<-done
		ts.Close()
	}
}

func TestRepliesFirst(t *testing.T) {
	ev := func(s string) outMsg { return outMsg{data: []byte(s)} }
	re := func(s string) outMsg { return outMsg{data: []byte(s), reply: true} }
	tests := []struct {
		in   []outMsg
		want string
	}{
		{nil, ""},
		{[]outMsg{ev("e1"), ev("e2")}, "e1 e2"},
		{[]outMsg{re("r1"), re("r2")}, "r1 r2"},
		{[]outMsg{ev("e1"), re("r1"), ev("e2"), re("r2"), ev("e3")}, "r1 r2 e1 e2 e3"},
	}
	for _, tt := range tests {
		var got []string
		for _, m := range repliesFirst(tt.in) {
			got = append(got, string(m.data))
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("repliesFirst = %q, want %q", g, tt.want)
		}
	}
}

// TestPresenceLimit: past PresenceLimit users, joins and leaves are no
// longer announced and the member list is capped.
func TestPresenceLimit(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.PresenceLimit = 2 })
	watcher := s.client(t, "watcher")
	watcher.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	second := s.client(t, "second")
	second.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	watcher.waitFor("second's join", func(ev protocol.Event) bool { return ev.Type == protocol.TypeJoin && ev.User == "second" })
	third := s.client(t, "third")
	join := third.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	if len(join.Members) != 2 || join.Info.Online != 3 {
		t.Errorf("members %v, online %d; want 2 listed of 3", join.Members, join.Info.Online)
	}
	// third's join was not announced: the next thing watcher sees is the
	// message sent after it.
	second.ok(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: "marker"})
	ev := watcher.waitFor("an event", func(ev protocol.Event) bool { return ev.Type != protocol.TypeOK })
	if ev.Type != protocol.TypeMessage {
		t.Errorf("watcher got %s %s, want the marker message", ev.Type, ev.User)
	}
}

// TestEchoHasIPLimits: /echo needs no account, so the per-IP connection
// limit applies to it as to /ws.
func TestEchoHasIPLimits(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.ConnsPerIP = 2 })
	echoURL := strings.TrimSuffix(s.wsURL, "/ws") + "/echo"
	var open []*websocket.Conn
	defer func() {
		for _, ws := range open {
			ws.Close()
		}
	}()
	var got []int
	for range 3 {
		ws, resp, err := websocket.DefaultDialer.Dial(echoURL, nil)
		if err == nil {
			open = append(open, ws)
			got = append(got, http.StatusSwitchingProtocols)
			continue
		}
		if resp == nil {
			t.Fatal(err)
		}
		got = append(got, resp.StatusCode)
	}
	if want := []int{101, 101, 429}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
}

// appendSignal tells of every Append as it starts.
type appendSignal struct {
	chat.Store
	started chan int // the batch's size
}

func (a *appendSignal) Append(ctx context.Context, batch []chat.NewMessage) ([]chat.AppendResult, error) {
	a.started <- len(batch)
	return a.Store.Append(ctx, batch)
}

// TestCommitDoesNotWaitForAcks: the next transaction starts while the
// acks of the one before are still being handed out, and acks and the
// hub's copies still come in commit order.
func TestCommitDoesNotWaitForAcks(t *testing.T) {
	real, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	store := &appendSignal{Store: real, started: make(chan int, 10)}
	s := newTestServerWithStore(t, store, nil)
	gate := make(chan struct{})
	var open sync.Once
	openGate := func() { open.Do(func() { close(gate) }) }
	t.Cleanup(openGate)         // before the server's: its shutdown waits for the acks
	ran := make(chan string, 4) // acks and publications, in the order they ran
	record := func(what string) { ran <- what }
	send := func(cmid string, wait bool) {
		s.srv.commit.submit(pendingSend{
			msg: chat.NewMessage{Room: chat.DefaultRoom, Author: "alice", Body: cmid, CMID: cmid},
			done: func(_ chat.AppendResult, err error) {
				if err != nil {
					t.Errorf("ack of %s: %v", cmid, err)
				}
				if wait {
					<-gate
				}
				record("ack " + cmid)
			},
			published: func(m chat.Message) { record(fmt.Sprint("published ", m.Body, " #", m.Seq)) },
		})
	}
	send("a", true)
	<-store.started
	send("b", false)
	select {
	case <-store.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the second transaction waited for the first one's acks")
	}
	openGate()
	var got []string
	for len(got) < 4 {
		select {
		case what := <-ran:
			got = append(got, what)
		case <-time.After(10 * time.Second):
			t.Fatalf("after %q, nothing more in 10s", got)
		}
	}
	want := []string{"ack a", "published a #1", "ack b", "published b #2"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
