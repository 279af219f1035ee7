package main

import (
	"strings"
	"testing"
	"time"

	hserver "github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/servertest"
	"github.com/hubbub-chat/hubbub/protocol"
)

// startServer serves hubbub from a fresh store on an httptest server and
// returns its WebSocket URL. Its abuse limits are raised as compare raises
// hubbubd's: every client of a run comes from one address.
func startServer(t *testing.T) string {
	return servertest.Start(t, func(c *hserver.Config) {
		c.ConnsPerIP, c.HandshakeRate, c.HandshakeBurst = 100000, 100000, 100000
		c.MsgRate, c.MsgBurst, c.CmdRate, c.CmdBurst = 100000, 100000, 100000, 100000
		c.RoomCreates = 100000  // guests' creations count per address
		c.ConnsPerUser = 100000 // --shared-name: every client is one account
	}).WSURL
}

func TestRun(t *testing.T) {
	url := startServer(t)
	const n, rate = 20, 50
	cfg := Config{URL: url, Clients: n, Publishers: 5, Rate: rate, Duration: time.Second, Drain: 5 * time.Second, Settle: 200 * time.Millisecond}
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run: %v (result %+v)", err, res)
	}
	if err := res.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	if res.Connected != n {
		t.Errorf("Connected = %d, want %d", res.Connected, n)
	}
	if res.Sent != rate || res.Acked != rate {
		t.Errorf("Sent, Acked = %d, %d; want %d, %d", res.Sent, res.Acked, rate, rate)
	}
	if want := res.Acked * n; res.Received != want || res.Expected != want {
		t.Errorf("Received = %d, Expected = %d; want acked × n = %d", res.Received, res.Expected, want)
	}
	if res.Loss != 0 || res.Gaps != 0 || res.Duplicates != 0 {
		t.Errorf("Loss, Gaps, Duplicates = %d, %d, %d; want 0, 0, 0", res.Loss, res.Gaps, res.Duplicates)
	}
	if !res.Drained {
		t.Error("Drained = false, want true")
	}
	if len(res.CloseCodes) != 0 || len(res.SendErrors) != 0 {
		t.Errorf("CloseCodes = %v, SendErrors = %v; want none", res.CloseCodes, res.SendErrors)
	}
	if res.LatencyP50 <= 0 || res.LatencyP99 < res.LatencyP50 || res.LatencyMax < res.LatencyP99 {
		t.Errorf("latency p50 %v, p99 %v, max %v: want 0 < p50 ≤ p99 ≤ max", res.LatencyP50, res.LatencyP99, res.LatencyMax)
	}
	// Each join is announced to the clients in the room at that moment,
	// the joiner included: about 1+2+...+n join events in all, give or
	// take the joins that overlapped.
	if res.Presence < n || res.Presence > n*n {
		t.Errorf("Presence = %d join events, want between n = %d and n² = %d", res.Presence, n, n*n)
	}

	// A second run in the same room starts from its last seq and still
	// sees no gap: the room exists (room_exists is fine) and holds the
	// first run's messages, which are not news.
	cfg.Duration = 200 * time.Millisecond
	res, err = Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("second Run: %v", err)
	}
	if err := res.Check(); err != nil || res.Acked != 10 || res.Received != 10*n {
		t.Errorf("second run: Check = %v, Acked = %d, Received = %d; want nil, 10, %d", err, res.Acked, res.Received, 10*n)
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{URL: "http://127.0.0.1:1/ws"},
		{Clients: 2, Publishers: 3},
		{Room: "Not A Room"},
		{Rate: -1},
		{Target: "nats"},
		{Workload: "sleep"},
		{Workload: workloadRooms, RoomMin: 5, RoomMax: 4},
		{Room: "a-room-name-of-twenty-nine-byte", Clients: 100}, // its rooms -r<i> would be too long
	} {
		if _, err := Run(t.Context(), cfg); err == nil {
			t.Errorf("Run(%+v) = nil error, want one", cfg)
		}
	}
}

func TestRunNoServer(t *testing.T) {
	// A port nobody listens on: the first client fails, fast.
	res, err := Run(t.Context(), Config{URL: "ws://127.0.0.1:1/ws", Clients: 3, Publishers: 1})
	if err == nil {
		t.Fatal("Run against no server: nil error")
	}
	if res.Connected != 0 || res.ConnectErrors != 1 {
		t.Errorf("Connected, ConnectErrors = %d, %d; want 0, 1", res.Connected, res.ConnectErrors)
	}
}

func TestScanMessage(t *testing.T) {
	events := []protocol.Event{
		{Type: protocol.TypeMessage, Message: &protocol.Message{Room: "bench", Seq: 42, From: "b01-3", Guest: true, Body: "b01 1764085497123000000 3 7", CMID: "b01-3-7", TS: 1764085497123}},
		{Type: protocol.TypeMessage, Message: &protocol.Message{Room: "r", Seq: 1, From: `evil "body":"x`, Body: `say "hi" \o/`, TS: 1}},
		{Type: protocol.TypeMessage, Message: &protocol.Message{Room: "lobby", Seq: 9000000000, From: "ada", Body: "<b>&</b>\nline"}},
	}
	for _, ev := range events {
		obj, err := protocol.EncodeEvent(&ev)
		if err != nil {
			t.Fatal(err)
		}
		room, seq, body, ok := scanMessage(obj)
		if !ok {
			t.Errorf("scanMessage(%s): not recognised", obj)
			continue
		}
		if string(room) != ev.Message.Room || seq != ev.Message.Seq {
			t.Errorf("scanMessage(%s) = room %q seq %d, want %q %d", obj, room, seq, ev.Message.Room, ev.Message.Seq)
		}
		// A body that JSON escapes is left to the slow path (nil).
		escaped := strings.ContainsAny(ev.Message.Body, "\"\\\n")
		if escaped && body != nil || !escaped && string(body) != ev.Message.Body {
			t.Errorf("scanMessage(%s) body = %q, want %q (nil if escaped: %v)", obj, body, ev.Message.Body, escaped)
		}
	}
	for _, obj := range []string{
		`{"type":"ok","id":"s1","message":{"room":"bench","seq":1,"from":"a","body":"x","ts":1}}`,
		`{"type":"message","message":{"room":"bench","seq":"1","body":"x"}}`,
		`{"type":"message","message":{"room":"bench","seq":,"body":"x"}}`,
		`{"type":"message","message":{"room":"bench","seq":12`,
		`{"type":"message","message":{"room":"bench"`,
		`{"type":"join","room":"bench","user":"a"}`,
	} {
		if _, _, _, ok := scanMessage([]byte(obj)); ok {
			t.Errorf("scanMessage(%s) recognised it; want the slow path", obj)
		}
	}
}

func TestBody(t *testing.T) {
	at := time.Unix(1764085497, 123456789)
	body := messageBody("b0a1b2c3", at, 42)
	if err := protocol.CheckBody(body); err != nil {
		t.Fatalf("messageBody = %q: %v", body, err)
	}
	got, slot, ok := parseBody("b0a1b2c3", []byte(body))
	if !ok || got != at.UnixNano() || slot != 42 {
		t.Errorf("parseBody(%q) = %d, %d, %v; want %d, 42, true", body, got, slot, ok, at.UnixNano())
	}
	for _, other := range []string{"b0a1b2c", "b0a1b2c3x", "B0A1B2C3"} {
		if _, _, ok := parseBody(other, []byte(body)); ok {
			t.Errorf("parseBody(%q, %q) accepted another run's body", other, body)
		}
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	if got := h.quantile(0.5); got != 0 {
		t.Errorf("empty quantile = %v, want 0", got)
	}
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.quantile(tc.q)
		if got < tc.want || float64(got) > float64(tc.want)*1.035 {
			t.Errorf("quantile(%v) = %v, want %v to 3.5%% above", tc.q, got, tc.want)
		}
	}
	if got := time.Duration(h.max.Load()); got != time.Second {
		t.Errorf("max = %v, want 1s", got)
	}
	for us := range uint64(1 << 20) {
		if i := histIndex(us); us > histUpper(i) || (i > 0 && us <= histUpper(i-1)) {
			t.Fatalf("histIndex(%d) = %d, whose range ends at %d (previous %d)", us, i, histUpper(i), histUpper(i-1))
		}
	}
}

func TestParseFlags(t *testing.T) {
	var sink strings.Builder
	cfg, opts, err := parseFlags([]string{"--url", "ws://h:1/ws", "-n", "5000", "--publishers", "20", "--rate", "250", "--duration", "20s", "--room", "r1", "--ramp", "500", "--server-pid", "42", "--json", "--cpuprofile", "gen.prof"}, &sink)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Target: targetHubbub, Workload: workloadFanout, URL: "ws://h:1/ws", Clients: 5000, Publishers: 20, Rate: 250, Duration: 20 * time.Second,
		Room: "r1", RoomMin: 10, RoomMax: 50, Hold: 30 * time.Second, Ramp: 500, ServerPID: 42, Workers: 64, Drain: 10 * time.Second, Resume: true,
		ResumeJitter: 250 * time.Millisecond}
	if wantOpts := (options{json: true, cpuProfile: "gen.prof"}); cfg != want || opts != wantOpts {
		t.Errorf("parseFlags = %+v, %+v; want %+v, %+v", cfg, opts, want, wantOpts)
	}
	cfg, _, err = parseFlags([]string{"--target", "centrifugo", "--workload", "rooms", "--room-min", "3", "--room-max", "4", "--hold", "5s", "--workers", "7", "-n", "5", "--publishers", "10", "--resume=false", "--resume-jitter", "0"}, &sink)
	if err != nil {
		t.Fatal(err)
	}
	want = Config{Target: targetCentrifugo, Workload: workloadRooms, URL: "ws://127.0.0.1:8080/ws", Clients: 5, Publishers: 10, Rate: 100, Duration: 10 * time.Second,
		Room: "bench", RoomMin: 3, RoomMax: 4, Hold: 5 * time.Second, Workers: 7, Drain: 10 * time.Second}
	if cfg != want {
		t.Errorf("parseFlags = %+v; want %+v", cfg, want)
	}
	for _, args := range [][]string{
		{"-n", "0"}, {"-n", "5", "--publishers", "6"}, {"--rate", "0"}, {"extra"}, {"--nope"},
		{"--workers", "0"}, {"--hold", "0s"}, {"--ramp", "-1"}, {"--target", "nats"}, {"--workload", "nap"},
		{"--target", "gorilla-chat", "--workload", "rooms"}, {"--target", "centrifugo", "--workload", "durable"},
	} {
		if _, _, err := parseFlags(args, &sink); err == nil {
			t.Errorf("parseFlags(%q) = nil error, want one", args)
		}
	}
}

func TestCheck(t *testing.T) {
	ok := Result{Clients: 10, Connected: 10, Sent: 5, Acked: 5, Expected: 50, Received: 50}
	tests := []struct {
		name   string
		change func(r *Result)
		want   string // substring of the error; "" for nil
	}{
		{"clean", func(r *Result) {}, ""},
		{"loss", func(r *Result) { r.Received, r.Loss = 45, 5 }, "lost 5 of 50"},
		{"loss excused by slow consumers", func(r *Result) {
			r.Received, r.Loss, r.CloseCodes = 45, 5, map[int]int64{protocol.CloseSlowConsumer: 1}
		}, ""},
		{"loss with other closes", func(r *Result) {
			r.Received, r.Loss, r.CloseCodes = 45, 5, map[int]int64{protocol.CloseGoingAway: 1}
		}, "lost 5"},
		{"gap", func(r *Result) { r.Gaps = 1 }, "1 seq gaps"},
		{"duplicate", func(r *Result) { r.Duplicates = 2 }, "2 duplicates"},
		{"gap despite slow consumers", func(r *Result) {
			r.Gaps, r.CloseCodes = 1, map[int]int64{protocol.CloseSlowConsumer: 1}
		}, "seq gaps"},
		{"not all connected", func(r *Result) { r.Connected = 9 }, "9 of 10 clients"},
		{"unanswered sends", func(r *Result) { r.Sent = 7 }, "2 sends never answered"},
		{"refused sends are answered", func(r *Result) { r.Sent, r.SendErrors = 7, map[string]int64{"rate_limited": 2} }, ""},
		{"closes excuse unanswered sends", func(r *Result) { r.Sent, r.CloseCodes = 7, map[int]int64{protocol.CloseSlowConsumer: 1} }, ""},
		{"resumed: no loss", func(r *Result) {
			r.Resume, r.Resumes, r.CloseCodes = true, 3, map[int]int64{protocol.CloseSlowConsumer: 3}
		}, ""},
		{"resumed: loss is not excused", func(r *Result) {
			r.Resume, r.Received, r.Loss, r.CloseCodes = true, 45, 5, map[int]int64{protocol.CloseSlowConsumer: 1}
		}, "lost 5 of 50 deliveries although clients resume"},
		{"resumed: publishers resend", func(r *Result) {
			r.Resume, r.Sent, r.CloseCodes = true, 7, map[int]int64{protocol.CloseSlowConsumer: 1}
		}, "2 sends never answered"},
		{"resumed: other closes excuse unanswered sends", func(r *Result) {
			r.Resume, r.Sent, r.CloseCodes = true, 7, map[int]int64{protocol.CloseSlowConsumer: 1, protocol.CloseGoingAway: 1}
		}, ""},
		{"resumed: a client gave up", func(r *Result) {
			r.Resume, r.ResumeFailures, r.CloseCodes = true, 1, map[int]int64{protocol.CloseSlowConsumer: 1}
		}, "1 clients gave up"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.change(&r)
			err := r.Check()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Check() = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Check() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestRunResume has half the clients of a real server stop reading for a
// while, so that it closes them as slow consumers, and checks that with
// resume every client still receives every message exactly once.
func TestRunResume(t *testing.T) {
	url := servertest.Start(t, func(c *hserver.Config) {
		c.ConnsPerIP, c.HandshakeRate, c.HandshakeBurst = 100000, 100000, 100000
		c.NodeHandshakeRate, c.NodeHandshakeBurst, c.NodeHandshakesInProgress = 100000, 100000, 100000
		c.MsgRate, c.MsgBurst, c.CmdRate, c.CmdBurst = 100000, 100000, 100000, 100000
		c.RoomCreates = 100000
		// A stalled client is closed by size or, if the kernel's buffers
		// took most of its backlog (a slow, loaded machine sends less in
		// the stall), by age. 2500 events in the stall are more than the
		// kernel's buffers hold; 128 queued leave a client that does read,
		// slowed by the race detector and a busy machine, room to lag
		// without being closed over and over (at 32, with the hub handing
		// over runs, every client was closed dozens of times).
		c.SendQueueLen = 128
		c.SendQueueAge = 300 * time.Millisecond
	}).WSURL
	const n, rate = 20, 2500
	cfg := Config{URL: url, Clients: n, Publishers: 4, Rate: rate, Duration: time.Second, Drain: 20 * time.Second, Settle: 200 * time.Millisecond,
		Resume: true, Stall: 1500 * time.Millisecond, RcvBuf: 4096}
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run: %v (result %+v)", err, res)
	}
	if res.CloseCodes[protocol.CloseSlowConsumer] < n/2 || res.ResumedClients < n/2 {
		t.Errorf("slow-consumer closes %d, resumed clients %d; want at least the %d stalled ones",
			res.CloseCodes[protocol.CloseSlowConsumer], res.ResumedClients, n/2)
	}
	t.Logf("closes %v, resumes %d by %d clients (max %d), recovered %d, overlaps %d, resent %d, resume p50 %.0f ms max %.0f ms, errors %v",
		res.CloseCodes, res.Resumes, res.ResumedClients, res.ResumesMax, res.Recovered, res.Overlaps, res.Resent, res.ResumeP50, res.ResumeMax, res.ResumeErrors)
	if err := res.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	if res.Sent != rate || res.Acked != rate {
		t.Errorf("Sent, Acked = %d, %d; want %d, %d", res.Sent, res.Acked, rate, rate)
	}
	if want := res.Acked * n; res.Received != want || res.Expected != want || res.Loss != 0 {
		t.Errorf("Received = %d, Expected = %d, Loss = %d; want acked × n = %d, loss 0", res.Received, res.Expected, res.Loss, want)
	}
	if res.Gaps != 0 || res.Duplicates != 0 || res.ResumeFailures != 0 {
		t.Errorf("Gaps, Duplicates, ResumeFailures = %d, %d, %d; want 0, 0, 0", res.Gaps, res.Duplicates, res.ResumeFailures)
	}
	if res.Recovered == 0 || !res.Drained {
		t.Errorf("Recovered = %d, Drained = %v; want some recovered from history, drained", res.Recovered, res.Drained)
	}
}
