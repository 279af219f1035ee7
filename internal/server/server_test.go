package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testServer is a real Server with a real SQLite store behind httptest.
type testServer struct {
	srv   *Server
	ts    *httptest.Server
	store chat.Store
	wsURL string
}

func newTestServer(t *testing.T, mut func(*Config)) *testServer {
	t.Helper()
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	return newTestServerWithStore(t, store, mut)
}

func newTestServerWithStore(t *testing.T, store chat.Store, mut func(*Config)) *testServer {
	t.Helper()
	return newTestServerOn(t, store, nil, mut)
}

// smallBufListener fixes the kernel send buffer of the first socket it
// accepts at a few KiB, so that peer, when it stops reading, stalls the
// server's writes at once instead of after megabytes of autotuned buffer.
// (Only the first: on loopback a send buffer smaller than a segment can
// stall even a peer that reads.)
type smallBufListener struct {
	net.Listener
	done atomic.Bool
}

func (l *smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && !l.done.Swap(true) {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

func newTestServerOn(t *testing.T, store chat.Store, wrap func(net.Listener) net.Listener, mut func(*Config)) *testServer {
	t.Helper()
	broker := membroker.New()
	cfg := Config{Store: store, Broker: broker, Logger: slog.New(slog.DiscardHandler)}
	// Tests that are not about abuse limits send fast from one address.
	cfg.MsgRate, cfg.MsgBurst = 1e6, 1e6
	cfg.CmdRate, cfg.CmdBurst = 1e6, 1e6
	cfg.HandshakeRate, cfg.HandshakeBurst = 1e6, 1e6
	cfg.NodeHandshakeRate, cfg.NodeHandshakeBurst = 1e6, 1e6
	if os.Getenv("HUBBUB_TEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if mut != nil {
		mut(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv)
	if wrap != nil {
		ts.Listener = wrap(ts.Listener)
	}
	ts.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.Close()
		broker.Close()
		store.Close()
	})
	return &testServer{srv: srv, ts: ts, store: store, wsURL: "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"}
}

// tclient is a test client speaking protocol v1 over a real socket.
type tclient struct {
	t       *testing.T
	ws      *websocket.Conn
	pending []protocol.Event // events read but not yet consumed
	nextID  int
}

func (s *testServer) dial(t *testing.T) *tclient {
	t.Helper()
	return s.dialWith(t, nil, websocket.DefaultDialer)
}

func (s *testServer) dialWith(t *testing.T, hdr http.Header, d *websocket.Dialer) *tclient {
	t.Helper()
	dd := *d
	dd.Subprotocols = []string{protocol.Subprotocol}
	ws, resp, err := dd.Dial(s.wsURL, hdr)
	if err != nil {
		t.Fatalf("dial: %v (resp %v)", err, resp)
	}
	if got := ws.Subprotocol(); got != protocol.Subprotocol {
		t.Fatalf("subprotocol = %q, want %q", got, protocol.Subprotocol)
	}
	ws.SetReadLimit(protocol.MaxServerFrameBytes)
	c := &tclient{t: t, ws: ws}
	t.Cleanup(func() { ws.Close() })
	return c
}

// hello dials and identifies as name.
func (s *testServer) client(t *testing.T, name string) *tclient {
	t.Helper()
	c := s.dial(t)
	c.ok(protocol.Command{Op: protocol.OpHello, Name: name})
	return c
}

func (c *tclient) writeRaw(frame string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *tclient) write(cmd protocol.Command) {
	c.t.Helper()
	b, err := protocol.EncodeCommand(&cmd)
	if err != nil {
		c.t.Fatal(err)
	}
	c.writeRaw(string(b))
}

// next returns the next event, reading a frame if none is pending.
func (c *tclient) next() protocol.Event {
	c.t.Helper()
	for len(c.pending) == 0 {
		c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if typ != websocket.TextMessage {
			c.t.Fatalf("frame type %d, want text", typ)
		}
		err = protocol.SplitFrame(data, func(obj []byte) error {
			ev, err := protocol.DecodeEvent(obj)
			c.pending = append(c.pending, ev)
			return err
		})
		if err != nil {
			c.t.Fatalf("decode %q: %v", data, err)
		}
	}
	ev := c.pending[0]
	c.pending = c.pending[1:]
	return ev
}

// waitFor returns the first event for which match is true, skipping others.
func (c *tclient) waitFor(what string, match func(protocol.Event) bool) protocol.Event {
	c.t.Helper()
	for range 10000 {
		if ev := c.next(); match(ev) {
			return ev
		}
	}
	c.t.Fatalf("no %s", what)
	return protocol.Event{}
}

// do sends cmd with a fresh id and returns the reply (ok or error).
func (c *tclient) do(cmd protocol.Command) protocol.Event {
	c.t.Helper()
	c.nextID++
	cmd.ID = fmt.Sprint("c", c.nextID)
	c.write(cmd)
	return c.waitFor("reply to "+cmd.ID, func(ev protocol.Event) bool {
		return (ev.Type == protocol.TypeOK || ev.Type == protocol.TypeError) && ev.ID == cmd.ID
	})
}

func (c *tclient) ok(cmd protocol.Command) protocol.Event {
	c.t.Helper()
	ev := c.do(cmd)
	if ev.Type != protocol.TypeOK {
		c.t.Fatalf("%s: got %s %s (%s), want ok", cmd.Op, ev.Type, ev.Code, ev.Reason)
	}
	return ev
}

// closeCode reads until the server closes and returns the close code.
func (c *tclient) closeCode() int {
	c.t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := c.ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		c.t.Fatalf("read ended without a close frame: %v", err)
	}
}

func i64(n int64) *int64 { return &n }

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	c.Write(&m)
	return m.GetCounter().GetValue()
}

func TestHelloJoinSendReceive(t *testing.T) {
	s := newTestServer(t, nil)
	alice := s.client(t, "alice")
	bob := s.client(t, "bob")
	alice.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	join := bob.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	if diff := cmp.Diff([]string{"alice", "bob"}, join.Members); diff != "" {
		t.Errorf("join members (-want +got):\n%s", diff)
	}
	ack := alice.ok(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: "hello <b>bob</b>", CMID: "m1"})
	if ack.Message == nil || ack.Message.Seq != 1 || ack.Message.From != "alice" || !ack.Message.Guest {
		t.Fatalf("ack message = %+v, want seq 1 from guest alice", ack.Message)
	}
	got := bob.waitFor("message", func(ev protocol.Event) bool { return ev.Type == protocol.TypeMessage })
	if diff := cmp.Diff(ack.Message, got.Message); diff != "" {
		t.Errorf("delivered message differs from ack (-ack +got):\n%s", diff)
	}
}

func TestOriginPolicy(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.AllowedOrigins = []string{"https://chat.example.com"} })
	host := strings.TrimPrefix(s.ts.URL, "http://")
	tests := []struct {
		origin string
		want   int
	}{
		{"", http.StatusSwitchingProtocols},
		{"http://" + host, http.StatusSwitchingProtocols},
		{"https://chat.example.com", http.StatusSwitchingProtocols},
		{"https://CHAT.example.com", http.StatusSwitchingProtocols},
		{"http://evil.example", http.StatusForbidden},
		{"https://chat.example.com.evil.example", http.StatusForbidden},
		{"null", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			hdr := http.Header{}
			if tt.origin != "" {
				hdr.Set("Origin", tt.origin)
			}
			d := websocket.Dialer{Subprotocols: []string{protocol.Subprotocol}}
			ws, resp, err := d.Dial(s.wsURL, hdr)
			if ws != nil {
				ws.Close()
			}
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestSubprotocolRequired(t *testing.T) {
	s := newTestServer(t, nil)
	_, resp, err := websocket.DefaultDialer.Dial(s.wsURL, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("dial without subprotocol: err %v, resp %v; want 400", err, resp)
	}
}

func TestCloseCodes(t *testing.T) {
	tests := []struct {
		name string
		send func(c *tclient)
		want int
	}{
		{"invalid UTF-8", func(c *tclient) { c.ws.WriteMessage(websocket.TextMessage, []byte{'{', 0xff, '}'}) }, protocol.CloseInvalidUTF8},
		{"too big", func(c *tclient) {
			c.ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"ping","id":"`+strings.Repeat("x", 2000)+`"}`))
		}, protocol.CloseTooBig},
		{"binary", func(c *tclient) { c.ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}) }, protocol.CloseUnsupportedData},
		{"sustained garbage", func(c *tclient) {
			for range 16 {
				c.ws.WriteMessage(websocket.TextMessage, []byte("garbage"))
			}
		}, protocol.ClosePolicy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, func(c *Config) { c.ReadLimit = 1024 })
			c := s.client(t, "mallory")
			tt.send(c)
			if got := c.closeCode(); got != tt.want {
				t.Errorf("close code = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestGarbageInterleavedWithGoodCommandsStaysOpen(t *testing.T) {
	s := newTestServer(t, nil)
	c := s.client(t, "carol")
	for range 40 {
		c.writeRaw("garbage")
		if ev := c.next(); ev.Code != protocol.CodeBadJSON {
			t.Fatalf("got %+v, want bad_json", ev)
		}
		c.ok(protocol.Command{Op: protocol.OpPing})
	}
}

func TestIdentifyTimeout(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.IdentifyTimeout = 50 * time.Millisecond })
	c := s.dial(t)
	if got := c.closeCode(); got != protocol.CloseIdentifyTimeout {
		t.Errorf("close code = %d, want %d", got, protocol.CloseIdentifyTimeout)
	}
}

func TestCommandErrors(t *testing.T) {
	s := newTestServer(t, nil)
	fresh := s.dial(t)
	c := s.client(t, "dave")
	c.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	tests := []struct {
		name  string
		c     *tclient
		frame string
		want  protocol.Code
	}{
		{"not json", c, `hello`, protocol.CodeBadJSON},
		{"array", c, `[1,2]`, protocol.CodeBadJSON},
		{"unknown op", c, `{"id":"1","op":"dance"}`, protocol.CodeUnknownOp},
		{"unknown field", c, `{"id":"1","op":"join","room":"lobby","body":"x"}`, protocol.CodeUnknownField},
		{"duplicate field", c, `{"id":"1","op":"join","room":"lobby","room":"x"}`, protocol.CodeDuplicateField},
		{"wrong type", c, `{"id":"1","op":"join","room":7}`, protocol.CodeBadType},
		{"trailing data", c, `{"id":"1","op":"ping"} {}`, protocol.CodeTrailingData},
		{"missing field", c, `{"id":"1","op":"send","room":"lobby"}`, protocol.CodeMissingField},
		{"long body", c, `{"id":"1","op":"send","room":"lobby","body":"` + strings.Repeat("y", protocol.MaxBodyBytes+1) + `"}`, protocol.CodeTooLong},
		{"control char in name", fresh, `{"id":"1","op":"hello","name":"bad\u001b[31m"}`, protocol.CodeInvalidValue},
		{"bad room name", c, `{"id":"1","op":"join","room":"Lobby!"}`, protocol.CodeInvalidValue},
		{"no such room", c, `{"id":"1","op":"join","room":"nowhere"}`, protocol.CodeNoSuchRoom},
		{"not joined", c, `{"id":"1","op":"send","room":"other","body":"x"}`, protocol.CodeNotJoined},
		{"not identified", fresh, `{"id":"1","op":"rooms"}`, protocol.CodeNotIdentified},
		{"second hello", c, `{"id":"1","op":"hello","name":"eve"}`, protocol.CodeAlreadyIdentified},
		{"room exists", c, `{"id":"1","op":"create","room":"lobby"}`, protocol.CodeRoomExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.t = t
			tt.c.writeRaw(tt.frame)
			ev := tt.c.waitFor("error", func(ev protocol.Event) bool { return ev.Type == protocol.TypeError })
			if ev.Code != tt.want {
				t.Errorf("code = %q (%s), want %q", ev.Code, ev.Reason, tt.want)
			}
			// The connection stays up.
			tt.c.ok(protocol.Command{Op: protocol.OpPing})
		})
	}
}

func TestIdempotentResend(t *testing.T) {
	s := newTestServer(t, nil)
	c := s.client(t, "erin")
	c.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	first := c.ok(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: "once", CMID: "same"})
	again := c.ok(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: "once", CMID: "same"})
	if diff := cmp.Diff(first.Message, again.Message); diff != "" {
		t.Errorf("resend ack differs (-first +again):\n%s", diff)
	}
	h := c.ok(protocol.Command{Op: protocol.OpHistory, Room: "lobby"})
	if len(h.Messages) != 1 {
		t.Errorf("history has %d messages, want 1", len(h.Messages))
	}
}

// gatedStore delays Append until the gate opens, to show the ack waits
// for the commit.
type gatedStore struct {
	chat.Store
	gate     chan struct{}
	appended chan struct{}
}

func (g *gatedStore) Append(ctx context.Context, b []chat.NewMessage) ([]chat.AppendResult, error) {
	<-g.gate
	res, err := g.Store.Append(ctx, b)
	g.appended <- struct{}{}
	return res, err
}

func TestAckOnlyAfterCommit(t *testing.T) {
	real, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedStore{Store: real, gate: make(chan struct{}), appended: make(chan struct{}, 1)}
	s := newTestServerWithStore(t, g, nil)
	c := s.client(t, "frank")
	c.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	c.write(protocol.Command{ID: "s1", Op: protocol.OpSend, Room: "lobby", Body: "wait for it"})
	// Neither the ack nor the message may arrive while the commit is held
	// (the announcement of frank's own join may).
	c.ws.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			break
		}
		protocol.SplitFrame(data, func(obj []byte) error {
			if ev, err := protocol.DecodeEvent(obj); err != nil || ev.Type != protocol.TypeJoin {
				t.Fatalf("got %s before the commit", obj)
			}
			return nil
		})
	}
	// gorilla poisons the connection after a read timeout: use a fresh one
	// to check the message appears only after the gate opens.
	other := s.client(t, "grace")
	if h := other.ok(protocol.Command{Op: protocol.OpHistory, Room: "lobby"}); len(h.Messages) != 0 {
		t.Fatalf("history before commit = %v, want empty", h.Messages)
	}
	close(g.gate)
	<-g.appended
	h := other.ok(protocol.Command{Op: protocol.OpHistory, Room: "lobby"})
	if len(h.Messages) != 1 || h.Messages[0].Body != "wait for it" {
		t.Fatalf("history after commit = %v", h.Messages)
	}
}

func TestHistoryPaging(t *testing.T) {
	s := newTestServer(t, nil)
	c := s.client(t, "heidi")
	c.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	for i := range 25 {
		c.ok(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: fmt.Sprint("m", i+1)})
	}
	seqs := func(ms []protocol.Message) []int64 {
		var out []int64
		for _, m := range ms {
			out = append(out, m.Seq)
		}
		return out
	}
	rng := func(a, b int64) []int64 {
		var out []int64
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
		return out
	}
	tests := []struct {
		name     string
		cmd      protocol.Command
		want     []int64
		wantMore bool
	}{
		{"latest", protocol.Command{Limit: 10}, rng(16, 25), true},
		{"before 16", protocol.Command{Before: i64(16), Limit: 10}, rng(6, 15), true},
		{"before 6", protocol.Command{Before: i64(6), Limit: 10}, rng(1, 5), false},
		{"after 0", protocol.Command{After: i64(0), Limit: 10}, rng(1, 10), true},
		{"after 20", protocol.Command{After: i64(20), Limit: 10}, rng(21, 25), false},
		{"after 25", protocol.Command{After: i64(25), Limit: 10}, nil, false},
		{"default limit", protocol.Command{}, rng(1, 25), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := tt.cmd
			cmd.Op, cmd.Room = protocol.OpHistory, "lobby"
			got := c.ok(cmd)
			if diff := cmp.Diff(tt.want, seqs(got.Messages)); diff != "" {
				t.Errorf("seqs (-want +got):\n%s", diff)
			}
			if got.More != tt.wantMore {
				t.Errorf("more = %v, want %v", got.More, tt.wantMore)
			}
		})
	}
}

func TestPresenceAndTyping(t *testing.T) {
	s := newTestServer(t, nil)
	s.client(t, "x").ok(protocol.Command{Op: protocol.OpCreate, Room: "den", Topic: "quiet"})
	alice := s.client(t, "alice")
	bob := s.client(t, "bob")
	alice.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})
	bob.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})
	is := func(typ, user string) func(protocol.Event) bool {
		return func(ev protocol.Event) bool { return ev.Type == typ && ev.User == user && ev.Room == "den" }
	}
	alice.waitFor("bob's join", is(protocol.TypeJoin, "bob"))
	bob.ok(protocol.Command{Op: protocol.OpTyping, Room: "den"})
	alice.waitFor("bob typing", is(protocol.TypeTyping, "bob"))
	rooms := alice.ok(protocol.Command{Op: protocol.OpRooms})
	want := []protocol.RoomInfo{{Name: "den", Topic: "quiet", Online: 2}, {Name: "lobby"}}
	if diff := cmp.Diff(want, rooms.Rooms); diff != "" {
		t.Errorf("rooms (-want +got):\n%s", diff)
	}
	bob.ok(protocol.Command{Op: protocol.OpLeave, Room: "den"})
	alice.waitFor("bob's leave", is(protocol.TypeLeave, "bob"))
	// A socket that goes away leaves too.
	carol := s.client(t, "carol")
	carol.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})
	alice.waitFor("carol's join", is(protocol.TypeJoin, "carol"))
	carol.ws.Close()
	alice.waitFor("carol's leave", is(protocol.TypeLeave, "carol"))
}

func TestSlowConsumerClosedOthersUnaffected(t *testing.T) {
	// The queue must hold a commit batch's burst (CommitBatch events and
	// as many acks) for readers that keep up; only the stalled one overflows.
	// A long write timeout lets the close frame reach the stalled reader
	// once it reads again (past the timeout the server cuts the TCP
	// connection instead, and the client sees 1006).
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	small := func(l net.Listener) net.Listener { return &smallBufListener{Listener: l} }
	s := newTestServerOn(t, store, small, func(c *Config) {
		c.SendQueueBytes = 256 << 10
		c.CommitBatch = 16
		c.WriteTimeout = time.Minute
	})
	// A reader that never reads, with a tiny receive window, so the
	// server's socket buffer fills and its queue overflows.
	tiny := &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		}}
		return d.DialContext(ctx, network, addr)
	}}
	slow := s.dialWith(t, nil, tiny)
	slow.ok(protocol.Command{Op: protocol.OpHello, Name: "slow"})
	slow.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	fast := s.client(t, "fast")
	fast.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	sender := s.client(t, "sender")
	sender.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})

	// Send until the server has closed the stalled reader (its kernel
	// buffers absorb an unknown amount first), then check the fast reader
	// got every message.
	body := strings.Repeat("z", 1000)
	var want atomic.Int64
	want.Store(-1)
	var wg sync.WaitGroup
	received := make(chan int64, 1)
	wg.Go(func() {
		var count int64
		fast.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		for w := want.Load(); w < 0 || count < w; w = want.Load() {
			_, data, err := fast.ws.ReadMessage()
			if err != nil {
				break
			}
			protocol.SplitFrame(data, func(obj []byte) error {
				var ev protocol.Event
				if json.Unmarshal(obj, &ev) == nil && ev.Type == protocol.TypeMessage {
					count++
				}
				return nil
			})
		}
		received <- count
	})
	wg.Go(func() { // the sender reads its acks and echoes, and is not slow
		for {
			if _, _, err := sender.ws.ReadMessage(); err != nil {
				return
			}
		}
	})
	n := 0
	for ; n < 20000 && counterValue(s.srv.metrics.slowConsumers.WithLabelValues(slowBySize)) == 0; n++ {
		sender.write(protocol.Command{ID: fmt.Sprint(n), Op: protocol.OpSend, Room: "lobby", Body: body})
		if n%100 == 99 {
			time.Sleep(20 * time.Millisecond) // a pace the fast reader keeps up with
		}
	}
	want.Store(int64(n))
	if got := <-received; got != int64(n) {
		t.Errorf("fast reader got %d messages, want %d", got, n)
	}
	sender.ws.Close()
	wg.Wait()
	if got := slow.closeCode(); got != protocol.CloseSlowConsumer {
		t.Errorf("slow reader close code = %d, want %d", got, protocol.CloseSlowConsumer)
	}
}

func TestShutdownClosesWithServiceRestart(t *testing.T) {
	s := newTestServer(t, nil)
	c := s.client(t, "ivan")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Shutdown(ctx) }()
	if got := c.closeCode(); got != protocol.CloseServiceRestart {
		t.Errorf("close code = %d, want %d", got, protocol.CloseServiceRestart)
	}
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(protocol.CloseServiceRestart, ""), time.Now().Add(time.Second))
	if err := <-errc; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	resp, err := http.Get(s.ts.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz while shut down = %d, want 503", resp.StatusCode)
	}
}

func TestHealthAndReady(t *testing.T) {
	s := newTestServer(t, nil)
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(s.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s = %d, want 200", path, resp.StatusCode)
		}
	}
}

// TestBatchedFrames checks that events queued together share frames and
// that every event still arrives, in order.
func TestBatchedFrames(t *testing.T) {
	s := newTestServer(t, nil)
	c := s.client(t, "judy")
	c.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	const n = 200
	for i := range n {
		c.write(protocol.Command{ID: fmt.Sprint("p", i), Op: protocol.OpSend, Room: "lobby", Body: fmt.Sprint(i)})
	}
	var last int64
	for got := 0; got < n; {
		ev := c.next()
		if ev.Type == protocol.TypeMessage {
			if ev.Message.Seq != last+1 {
				t.Fatalf("seq %d after %d", ev.Message.Seq, last)
			}
			last = ev.Message.Seq
			got++
		}
	}
}
