package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/membroker"
	hserver "github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
)

func TestAssignNodes(t *testing.T) {
	tests := []struct {
		name       string
		n          int
		urls       []string
		publishers []int
		pubURL     string
		wantNodes  []string
		wantNodeOf []int
	}{
		{"one node", 3, []string{"a"}, []int{0}, "", []string{"a"}, []int{0, 0, 0}},
		{"round robin", 5, []string{"a", "b"}, []int{0, 1}, "", []string{"a", "b"}, []int{0, 1, 0, 1, 0}},
		{"three nodes", 7, []string{"a", "b", "c"}, nil, "", []string{"a", "b", "c"}, []int{0, 1, 2, 0, 1, 2, 0}},
		{"a node named twice is one node", 4, []string{"a", "b", "a"}, nil, "", []string{"a", "b"}, []int{0, 1, 0, 0}},
		{
			"publishers apart", 6, []string{"b", "c"}, []int{0, 1}, "a",
			[]string{"b", "c", "a"}, []int{2, 2, 0, 1, 0, 1},
		},
		{
			// The rooms workload's publishers are the first of each room;
			// the others keep their round robin across the gaps.
			"publishers scattered", 6, []string{"b", "c"}, []int{0, 3}, "a",
			[]string{"b", "c", "a"}, []int{2, 0, 1, 2, 0, 1},
		},
		{
			"publisher url also in the list", 5, []string{"a", "b"}, []int{0}, "a",
			[]string{"a", "b"}, []int{0, 0, 1, 0, 1},
		},
		{"everyone publishes", 3, []string{"b"}, []int{0, 1, 2}, "a", []string{"b", "a"}, []int{1, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nodes, nodeOf := assignNodes(tc.n, tc.urls, tc.publishers, tc.pubURL)
			if diff := cmp.Diff(tc.wantNodes, nodes); diff != "" {
				t.Errorf("nodes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantNodeOf, nodeOf); diff != "" {
				t.Errorf("nodeOf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSplitURLs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"ws://a/ws", []string{"ws://a/ws"}},
		{"ws://a/ws,ws://b/ws", []string{"ws://a/ws", "ws://b/ws"}},
		{" ws://a/ws , ws://b/ws ,", []string{"ws://a/ws", "ws://b/ws"}},
		{",", nil},
		{"", nil},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, splitURLs(tc.in)); diff != "" {
			t.Errorf("splitURLs(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestParseFlagsNodes(t *testing.T) {
	var sink strings.Builder
	cfg, _, err := parseFlags([]string{"--url", "ws://b:1/ws,ws://c:1/ws", "--publisher-url", "ws://a:1/ws"}, &sink)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.URL != "ws://b:1/ws,ws://c:1/ws" || cfg.PublisherURL != "ws://a:1/ws" {
		t.Errorf("URL, PublisherURL = %q, %q", cfg.URL, cfg.PublisherURL)
	}
	for _, args := range [][]string{
		{"--url", "ws://a/ws,http://b/ws"},
		{"--url", ","},
		{"--publisher-url", "http://a/ws"},
		{"--publisher-url", "ws://a/ws,ws://b/ws"},
		{"--publisher-url", "ws://a/ws", "--workload", "idle"},
		{"--publisher-url", "ws://a/ws", "--workload", "storm"},
	} {
		if _, _, err := parseFlags(args, &sink); err == nil {
			t.Errorf("parseFlags(%q) = nil error, want one", args)
		}
	}
	for _, cfg := range []Config{
		{URL: "ws://a/ws,wss://b/ws,ftp://c"},
		{PublisherURL: "a:1"},
		{PublisherURL: "ws://a/ws", Workload: workloadIdle},
	} {
		if _, err := Run(t.Context(), cfg); err == nil {
			t.Errorf("Run(%+v) = nil error, want one", cfg)
		}
	}
}

// upgrades counts the WebSocket handshakes a node was asked for.
type upgrades struct {
	http.Handler
	n atomic.Int64
}

func (u *upgrades) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/ws" && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		u.n.Add(1)
	}
	u.Handler.ServeHTTP(w, r)
}

// startNodes starts n hubbub servers that form one chat: one SQLite store
// and one in-process broker between them, as several hubbubd processes
// share PostgreSQL and Redis. It returns their WebSocket URLs and their
// handshake counters.
func startNodes(t *testing.T, n int) ([]string, []*upgrades) {
	t.Helper()
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	broker := membroker.New()
	t.Cleanup(func() {
		broker.Close()
		store.Close()
	}) // runs after the servers' cleanups, registered below
	var urls []string
	var counts []*upgrades
	for range n {
		srv, err := hserver.New(hserver.Config{
			Store: store, Broker: broker, Accounts: store, Access: store,
			Logger:     slog.New(slog.DiscardHandler),
			ConnsPerIP: 100000, HandshakeRate: 100000, HandshakeBurst: 100000,
			MsgRate: 100000, MsgBurst: 100000, CmdRate: 100000, CmdBurst: 100000,
			RoomCreates: 100000,
		})
		if err != nil {
			t.Fatal(err)
		}
		u := &upgrades{Handler: srv}
		ts := httptest.NewServer(u)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				t.Errorf("server shutdown: %v", err)
			}
			ts.Close()
		})
		urls = append(urls, "ws"+strings.TrimPrefix(ts.URL, "http")+"/ws")
		counts = append(counts, u)
	}
	return urls, counts
}

// TestRunCrossNode: publishers on node A, the other clients on B and C.
// Each node sees exactly the handshakes assigned to it, and every client,
// wherever it is, receives every acknowledged message once and in order.
func TestRunCrossNode(t *testing.T) {
	urls, counts := startNodes(t, 3)
	const n, pubs, rate = 11, 3, 30
	cfg := Config{
		URL: urls[1] + "," + urls[2], PublisherURL: urls[0],
		Clients: n, Publishers: pubs, Rate: rate, Duration: time.Second,
		Drain: 5 * time.Second, Settle: 200 * time.Millisecond,
	}
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run: %v (result %+v)", err, res)
	}
	if err := res.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	// The servers' own count: the publishers dialled A, the 8 others
	// alternated between B and C.
	wantUpgrades := []int64{pubs, 4, 4}
	for i, c := range counts {
		if got := c.n.Load(); got != wantUpgrades[i] {
			t.Errorf("node %d served %d handshakes, want %d", i, got, wantUpgrades[i])
		}
	}
	if res.Sent != rate || res.Acked != rate {
		t.Errorf("Sent, Acked = %d, %d; want %d, %d", res.Sent, res.Acked, rate, rate)
	}
	if want := res.Acked * n; res.Received != want || res.Expected != want || res.Loss != 0 {
		t.Errorf("Received, Expected, Loss = %d, %d, %d; want %d, %d, 0", res.Received, res.Expected, res.Loss, want, want)
	}
	if res.Gaps != 0 || res.Duplicates != 0 {
		t.Errorf("Gaps, Duplicates = %d, %d; want 0, 0", res.Gaps, res.Duplicates)
	}
	if res.PublisherURL != urls[0] {
		t.Errorf("PublisherURL = %q, want %q", res.PublisherURL, urls[0])
	}
	// What the result says of each node; latencies are checked for
	// presence only.
	var gotNodes []NodeResult
	for _, nd := range res.Nodes {
		if nd.Received > 0 && (nd.LatencyP50 <= 0 || nd.LatencyP99 < nd.LatencyP50 || nd.LatencyMax < nd.LatencyP99) {
			t.Errorf("node %s latency p50 %v, p99 %v, max %v: want 0 < p50 ≤ p99 ≤ max", nd.URL, nd.LatencyP50, nd.LatencyP99, nd.LatencyMax)
		}
		nd.LatencyP50, nd.LatencyP99, nd.LatencyMax = 0, 0, 0
		gotNodes = append(gotNodes, nd)
	}
	wantNodes := []NodeResult{
		{URL: urls[1], Clients: 4, Connected: 4, Received: 4 * rate},
		{URL: urls[2], Clients: 4, Connected: 4, Received: 4 * rate},
		{URL: urls[0], Clients: pubs, Publishers: pubs, Connected: pubs, Received: pubs * rate},
	}
	if diff := cmp.Diff(wantNodes, gotNodes); diff != "" {
		t.Errorf("Nodes (-want +got):\n%s", diff)
	}
}
