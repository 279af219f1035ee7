package client_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testServer is a real hubbub server (SQLite store, in-process broker)
// served over a listener that records its TCP connections, so a test can
// cut them, mute them, or restart the server on the same address and
// database file.
type testServer struct {
	dbPath string
	cfg    server.Config // Store, Broker and Logger are filled in by start
	// wrap, if not nil, wraps the real store the server gets (to inject
	// faults around it).
	wrap func(chat.Store) chat.Store
	// files makes the store the server's file store too (uploads).
	files bool

	mu     sync.Mutex // guards the fields below
	addr   string
	conns  []*trackedConn
	srv    *server.Server
	ts     *httptest.Server
	store  *sqlitestore.Store
	broker *membroker.Broker
}

// startServer starts a server for t and stops it when t ends.
func startServer(t *testing.T, cfg server.Config) *testServer {
	t.Helper()
	return startServerWrapped(t, cfg, nil)
}

// startServerWrapped is startServer with the server's store wrapped by wrap.
func startServerWrapped(t *testing.T, cfg server.Config, wrap func(chat.Store) chat.Store) *testServer {
	t.Helper()
	return startTestServer(t, &testServer{dbPath: filepath.Join(t.TempDir(), "hubbub.db"), cfg: cfg, wrap: wrap})
}

// startFilesServer is startServer with uploads: its SQLite store keeps the
// files (and the access rules downloads check).
func startFilesServer(t *testing.T, cfg server.Config) *testServer {
	t.Helper()
	return startTestServer(t, &testServer{dbPath: filepath.Join(t.TempDir(), "hubbub.db"), cfg: cfg, files: true})
}

func startTestServer(t *testing.T, s *testServer) *testServer {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func (s *testServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	store, err := sqlitestore.Open(s.dbPath)
	if err != nil {
		return err
	}
	broker := membroker.New()
	cfg := s.cfg
	cfg.Store, cfg.Broker = store, broker
	if s.wrap != nil {
		cfg.Store = s.wrap(store)
	}
	if s.files {
		cfg.Files, cfg.Access = store, store
	}
	// Tests send and reconnect much faster than people do: lift the
	// per-connection and per-IP rate limits they would otherwise hit.
	cfg.MsgRate, cfg.MsgBurst = 1e6, 1e6
	cfg.CmdRate, cfg.CmdBurst = 1e6, 1e6
	cfg.HandshakeRate, cfg.HandshakeBurst = 1e6, 1e6
	if cfg.NodeHandshakeRate == 0 { // unless the test is about the budget
		cfg.NodeHandshakeRate, cfg.NodeHandshakeBurst = 1e6, 1e6
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := server.New(cfg)
	if err != nil {
		broker.Close()
		store.Close()
		return err
	}
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var l net.Listener
	for range 50 { // the old listener's port may take a moment to free
		if l, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		srv.Shutdown(context.Background())
		broker.Close()
		store.Close()
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	ts := httptest.NewUnstartedServer(srv)
	ts.Listener.Close()
	ts.Listener = &trackingListener{Listener: l, s: s}
	ts.Start()
	s.addr = l.Addr().String()
	s.srv, s.ts, s.store, s.broker = srv, ts, store, broker
	return nil
}

// stop shuts the server down: every WebSocket is closed with 1012.
func (s *testServer) stop() error {
	s.mu.Lock()
	srv, ts, store, broker := s.srv, s.ts, s.store, s.broker
	s.srv, s.ts, s.store, s.broker = nil, nil, nil, nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	ts.Close()
	broker.Close()
	store.Close()
	return err
}

// restart stops the server and starts a new one on the same address with
// the same database file.
func (s *testServer) restart(t *testing.T) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := s.start(); err != nil {
		t.Fatalf("restart: %v", err)
	}
}

// URL returns the server's WebSocket endpoint.
func (s *testServer) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "ws://" + s.addr + "/ws"
}

// killConns cuts every TCP connection the server has accepted, without a
// close frame, as a network failure would.
func (s *testServer) killConns() {
	s.mu.Lock()
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for _, c := range conns {
		c.Conn.Close()
	}
}

// lastConn returns the connection the server accepted last.
func (s *testServer) lastConn() *trackedConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) == 0 {
		return nil
	}
	return s.conns[len(s.conns)-1]
}

type trackingListener struct {
	net.Listener
	s *testServer
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c}
	l.s.mu.Lock()
	l.s.conns = append(l.s.conns, tc)
	l.s.mu.Unlock()
	return tc, nil
}

// trackedConn is a server-side TCP connection. While muted, everything the
// server writes to it is silently discarded: the server believes it sent
// its replies, the client never gets them.
type trackedConn struct {
	net.Conn
	muted     atomic.Bool
	swallowed atomic.Int64 // bytes discarded while muted
}

func (c *trackedConn) Write(b []byte) (int, error) {
	if c.muted.Load() {
		c.swallowed.Add(int64(len(b)))
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// fastOptions are client options with a backoff short enough for tests.
func fastOptions(name string) client.Options {
	return client.Options{
		Name:        name,
		BackoffBase: 5 * time.Millisecond,
		BackoffMax:  50 * time.Millisecond,
		Logger:      testLogger(),
	}
}

// testLogger logs the client's warnings and errors to stderr when
// HUBBUB_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("HUBBUB_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// recorder collects a client's events on a goroutine of its own.
type recorder struct {
	mu      sync.Mutex
	events  []client.Event
	changed chan struct{} // closed and replaced on every new event
	done    chan struct{} // closed when the events channel was closed
}

// dial connects a client for t, records its events, and closes it when t
// ends.
func dial(t *testing.T, s *testServer, opts client.Options) (*client.Client, *recorder) {
	t.Helper()
	return dialURL(t, s.URL(), opts)
}

// dialURL is dial to the WebSocket endpoint url (a proxy in front of a
// test server, say).
func dialURL(t *testing.T, url string, opts client.Options) (*client.Client, *recorder) {
	t.Helper()
	c, err := client.Dial(t.Context(), url, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	rec := record(c)
	t.Cleanup(func() {
		c.Close()
		<-rec.done
	})
	return c, rec
}

func record(c *client.Client) *recorder {
	rec := &recorder{changed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(rec.done)
		for ev := range c.Events() {
			rec.mu.Lock()
			rec.events = append(rec.events, ev)
			close(rec.changed)
			rec.changed = make(chan struct{})
			rec.mu.Unlock()
		}
	}()
	return rec
}

// wait waits until cond holds for the events so far, failing t after
// timeout.
func (rec *recorder) wait(t *testing.T, timeout time.Duration, what string, cond func([]client.Event) bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		rec.mu.Lock()
		ok := cond(rec.events)
		changed := rec.changed
		rec.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// messages returns the messages of room recorded so far.
func (rec *recorder) messages(room string) []client.MessageEvent {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return messagesIn(rec.events, room)
}

func messagesIn(events []client.Event, room string) []client.MessageEvent {
	var out []client.MessageEvent
	for _, ev := range events {
		if m, ok := ev.(client.MessageEvent); ok && m.Message.Room == room {
			out = append(out, m)
		}
	}
	return out
}

// waitSeq waits until room's messages reach seq.
func (rec *recorder) waitSeq(t *testing.T, room string, seq int64) {
	t.Helper()
	rec.wait(t, 20*time.Second, fmt.Sprintf("message %d of %s", seq, room), func(evs []client.Event) bool {
		ms := messagesIn(evs, room)
		return len(ms) > 0 && ms[len(ms)-1].Message.Seq >= seq
	})
}

// count returns how many events of type E were recorded.
func count[E client.Event](rec *recorder, keep func(E) bool) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, ev := range rec.events {
		if e, ok := ev.(E); ok && keep(e) {
			n++
		}
	}
	return n
}

// httpURL turns a ws URL into its http base, for tests of URL handling.
func httpURL(wsURL string) string {
	return "http" + strings.TrimSuffix(strings.TrimPrefix(wsURL, "ws"), "/ws")
}

// counter returns the value of one of the running server's counters:
// summed over its labels, or one series of it: `name{label="value"}`.
func (s *testServer) counter(t *testing.T, name string) float64 {
	t.Helper()
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	families, err := srv.Registry().Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	// name may pick one series by one label: name{label="value"}.
	name, label, _ := strings.Cut(strings.TrimSuffix(name, "}"), "{")
	lname, lvalue, _ := strings.Cut(label, "=")
	lvalue = strings.Trim(lvalue, `"`)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		var sum float64
		for _, m := range f.GetMetric() {
			if label == "" {
				sum += m.GetCounter().GetValue()
				continue
			}
			for _, lp := range m.GetLabel() {
				if lp.GetName() == lname && lp.GetValue() == lvalue {
					return m.GetCounter().GetValue()
				}
			}
		}
		if label == "" && len(f.GetMetric()) > 0 {
			return sum
		}
	}
	t.Fatalf("no counter %s", name)
	return 0
}
