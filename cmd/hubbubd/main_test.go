package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/hubbub-chat/hubbub/protocol"
)

// flagView is what ParseFlags sets, without Main's writers and channel.
type flagView struct {
	Addr, DataDir   string
	AllowedOrigins  []string
	PublicURL       string
	TLSCert, TLSKey string
	LogLevel        string
	ShutdownTimeout time.Duration
	DrainGrace      time.Duration
	DrainWindow     time.Duration
	ReadLimit       int64
	PingInterval    time.Duration
	PongTimeout     time.Duration
	WriteTimeout    time.Duration
	IdentifyTimeout time.Duration
	SendQueueLen    int
	SendQueueBytes  int
	RecentRoomBytes int
	RecentBytes     int
	CommitInterval  time.Duration
}

func viewOf(m *Main) flagView {
	return flagView{
		Addr: m.Addr, DataDir: m.DataDir, AllowedOrigins: m.AllowedOrigins, PublicURL: m.Server.PublicURL,
		TLSCert: m.TLSCert, TLSKey: m.TLSKey, LogLevel: m.LogLevel, ShutdownTimeout: m.ShutdownTimeout,
		DrainGrace: m.Server.DrainGrace, DrainWindow: m.Server.DrainWindow,
		ReadLimit: m.Server.ReadLimit, PingInterval: m.Server.PingInterval, PongTimeout: m.Server.PongTimeout,
		WriteTimeout: m.Server.WriteTimeout, IdentifyTimeout: m.Server.IdentifyTimeout,
		SendQueueLen: m.Server.SendQueueLen, SendQueueBytes: m.Server.SendQueueBytes,
		RecentRoomBytes: m.Server.RecentRoomBytes, RecentBytes: m.Server.RecentBytes,
		CommitInterval: m.Server.CommitInterval,
	}
}

func TestParseFlags(t *testing.T) {
	defaults := flagView{
		Addr: "127.0.0.1:8080", DataDir: "hubbub-data", LogLevel: "info", ShutdownTimeout: 20 * time.Second,
		DrainGrace: 5 * time.Second, DrainWindow: 5 * time.Second,
		ReadLimit: 64 << 10, PingInterval: 25 * time.Second, PongTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdentifyTimeout: 30 * time.Second,
		SendQueueLen: 8192, SendQueueBytes: 8 << 20,
		RecentRoomBytes: 1 << 20, RecentBytes: 16 << 20,
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(v *flagView) // changes to defaults; nil when an error is expected
		err  string            // substring of the error; "" for success
	}{
		{name: "defaults", want: func(v *flagView) {}},
		{name: "flags", args: []string{"--addr", "0.0.0.0:9000", "--data", "/var/lib/hubbub", "--log-level", "debug", "--ping-interval", "5s", "--send-queue", "64", "--read-limit", "1024"},
			want: func(v *flagView) {
				v.Addr, v.DataDir, v.LogLevel, v.PingInterval, v.SendQueueLen, v.ReadLimit = "0.0.0.0:9000", "/var/lib/hubbub", "debug", 5*time.Second, 64, 1024
			}},
		{name: "HUBBUB_ADDR", env: map[string]string{"HUBBUB_ADDR": "0.0.0.0:8443"},
			want: func(v *flagView) { v.Addr = "0.0.0.0:8443" }},
		{name: "flag wins over env", args: []string{"--addr", "127.0.0.1:1"}, env: map[string]string{"HUBBUB_ADDR": "0.0.0.0:8443", "HUBBUB_DATA": "/srv/hubbub"},
			want: func(v *flagView) { v.Addr, v.DataDir = "127.0.0.1:1", "/srv/hubbub" }},
		{name: "HUBBUB_ALLOWED_ORIGIN comma list", env: map[string]string{"HUBBUB_ALLOWED_ORIGIN": "https://a.example, https://b.example:8443,,"},
			want: func(v *flagView) { v.AllowedOrigins = []string{"https://a.example", "https://b.example:8443"} }},
		{name: "public-url", args: []string{"--public-url", "https://chat.example.com"},
			want: func(v *flagView) { v.PublicURL = "https://chat.example.com" }},
		{name: "public-url from env", env: map[string]string{"HUBBUB_PUBLIC_URL": "https://chat.example.com:8443"},
			want: func(v *flagView) { v.PublicURL = "https://chat.example.com:8443" }},
		{name: "allowed-origin repeated and comma-separated", args: []string{"--allowed-origin", "https://a.example", "--allowed-origin", "https://b.example,https://c.example"},
			want: func(v *flagView) {
				v.AllowedOrigins = []string{"https://a.example", "https://b.example", "https://c.example"}
			}},
		{name: "allowed-origin flag replaces env", args: []string{"--allowed-origin", "https://a.example"}, env: map[string]string{"HUBBUB_ALLOWED_ORIGIN": "https://evil.example"},
			want: func(v *flagView) { v.AllowedOrigins = []string{"https://a.example"} }},
		{name: "HUBBUB_PING_INTERVAL", env: map[string]string{"HUBBUB_PING_INTERVAL": "1m30s", "HUBBUB_SEND_QUEUE_BYTES": "4096", "HUBBUB_SHUTDOWN_TIMEOUT": "3s"},
			want: func(v *flagView) {
				v.PingInterval, v.SendQueueBytes, v.ShutdownTimeout = 90*time.Second, 4096, 3*time.Second
			}},
		{name: "drain", args: []string{"--drain-grace", "15s"}, env: map[string]string{"HUBBUB_DRAIN_WINDOW": "30s", "HUBBUB_SHUTDOWN_TIMEOUT": "1m"},
			want: func(v *flagView) {
				v.DrainGrace, v.DrainWindow, v.ShutdownTimeout = 15*time.Second, 30*time.Second, time.Minute
			}},
		{name: "recent history off", args: []string{"--recent-room-bytes", "-1"}, env: map[string]string{"HUBBUB_RECENT_BYTES": "1048576"},
			want: func(v *flagView) { v.RecentRoomBytes, v.RecentBytes = -1, 1<<20 }},
		{name: "commit interval", args: []string{"--commit-interval", "2ms"},
			want: func(v *flagView) { v.CommitInterval = 2 * time.Millisecond }},
		{name: "HUBBUB_COMMIT_INTERVAL", env: map[string]string{"HUBBUB_COMMIT_INTERVAL": "500us"},
			want: func(v *flagView) { v.CommitInterval = 500 * time.Microsecond }},
		{name: "empty env is unset", env: map[string]string{"HUBBUB_ADDR": ""}, want: func(v *flagView) {}},
		{name: "TLS pair", args: []string{"--tls-cert", "c.pem"}, env: map[string]string{"HUBBUB_TLS_KEY": "k.pem"},
			want: func(v *flagView) { v.TLSCert, v.TLSKey = "c.pem", "k.pem" }},

		{name: "bad env duration", env: map[string]string{"HUBBUB_PING_INTERVAL": "soon"}, err: "HUBBUB_PING_INTERVAL"},
		{name: "bad env number", env: map[string]string{"HUBBUB_SEND_QUEUE": "many"}, err: "HUBBUB_SEND_QUEUE"},
		{name: "bad flag duration", args: []string{"--ping-interval", "soon"}, err: "ping-interval"},
		{name: "unknown flag", args: []string{"--no-such-flag"}, err: "no-such-flag"},
		{name: "argument", args: []string{"serve"}, err: `unexpected argument "serve"`},
		{name: "user command after flags", args: []string{"--data", "/tmp/x", "user", "list"}, err: `give the user command first, its flags after it (hubbubd user --data DIR list)`},
		{name: "tls-cert without tls-key", args: []string{"--tls-cert", "c.pem"}, err: "--tls-cert and --tls-key"},
		// A node of a cluster whose HUBBUB_STORE went missing (an
		// environment file not read) must not serve from a SQLite database
		// of its own while it shares the broker: its sequence numbers
		// would collide with the cluster's.
		{name: "broker without store", env: map[string]string{"HUBBUB_BROKER": "redis://cache:6379/0"}, err: "--broker needs --store"},
		{name: "broker with sqlite store", args: []string{"--store", "sqlite", "--broker", "nats://nats:4222"}, err: "--broker needs --store"},
		{name: "in-process broker named, no store", args: []string{"--broker", "memory"}, want: func(v *flagView) {}},
		{name: "tls-key from env without cert", env: map[string]string{"HUBBUB_TLS_KEY": "k.pem"}, err: "--tls-cert and --tls-key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			m := &Main{Stdout: io.Discard, Stderr: &stderr}
			err := m.ParseFlags(tc.args, func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseFlags(%q) error = %v, want one containing %q", tc.args, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFlags(%q) error: %v", tc.args, err)
			}
			want := defaults
			tc.want(&want)
			if diff := cmp.Diff(want, viewOf(m)); diff != "" {
				t.Errorf("ParseFlags(%q) mismatch (-want +got):\n%s", tc.args, diff)
			}
		})
	}
}

func TestParseFlagsHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--help"} {
		var stderr bytes.Buffer
		m := &Main{Stdout: io.Discard, Stderr: &stderr}
		if err := m.ParseFlags([]string{arg}, func(string) string { return "" }); !errors.Is(err, errHelp) {
			t.Errorf("ParseFlags(%q) = %v, want errHelp", arg, err)
		}
		if !strings.Contains(stderr.String(), "HUBBUB_") || !strings.Contains(stderr.String(), "-addr") {
			t.Errorf("ParseFlags(%q) usage = %q, want the flags and the environment rule", arg, stderr.String())
		}
	}
}

func TestParseFlagsVersion(t *testing.T) {
	var stdout bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: io.Discard}
	if err := m.ParseFlags([]string{"--version"}, func(string) string { return "" }); !errors.Is(err, errHelp) {
		t.Errorf("ParseFlags(--version) = %v, want errHelp", err)
	}
	if got := stdout.String(); !strings.HasPrefix(got, "hubbubd ") || !strings.Contains(got, "(go1.") {
		t.Errorf("--version printed %q, want hubbubd's version and Go release", got)
	}
}

// The tests below run the real binary, built once.

var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	// Main runs in-process in some tests: nothing it started may outlive Run.
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// binary builds hubbubd from this package once per test run and returns
// its path. It skips the test in -short mode.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the hubbubd binary; skipped with -short")
	}
	if runtime.GOOS == "windows" {
		t.Skip("sends SIGKILL and SIGTERM")
	}
	buildOnce.Do(func() {
		goCmd, err := exec.LookPath("go")
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "hubbubd-test-"); buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "hubbubd")
		out, err := exec.Command(goCmd, "build", "-o", buildPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// lockedBuffer collects a child's stderr; exec writes it from its own
// goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// dieWithParent returns process attributes that make the kernel kill the
// child when the test binary dies without running its cleanups (a -timeout
// panic, a SIGKILL): on Linux, Pdeathsig. The field exists only on some
// systems, hence reflection; elsewhere a stray survives such a death.
func dieWithParent() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{}
	if f := reflect.ValueOf(attr).Elem().FieldByName("Pdeathsig"); f.IsValid() && f.CanSet() {
		f.Set(reflect.ValueOf(syscall.SIGKILL))
	}
	return attr
}

// process is a running hubbubd.
type process struct {
	cmd    *exec.Cmd
	addr   string // host:port it serves on
	stderr *lockedBuffer
	exited chan struct{} // closed when Wait returned; then err is set
	err    error
}

var servingLine = regexp.MustCompile(`^hubbubd: serving on https?://(\S+) `)

// start runs the binary with --data dir on a free port, no drain grace or
// window unless extra says otherwise, and waits for the line saying where
// it serves. The process is killed at cleanup if it is still running.
func start(t *testing.T, bin, dir string, extra ...string) *process {
	t.Helper()
	args := append([]string{"--data", dir, "--addr", "127.0.0.1:0", "--log-level", "warn", "--drain-grace", "0s", "--drain-window", "0s"}, extra...)
	cmd := exec.Command(bin, args...)
	// The kill test sends 200 messages at once: lift the per-socket rate
	// limits (a binary without them ignores these variables).
	cmd.Env = append(os.Environ(), "HUBBUB_MSG_RATE=100000", "HUBBUB_MSG_BURST=1000", "HUBBUB_CMD_RATE=100000", "HUBBUB_CMD_BURST=1000")
	cmd.SysProcAttr = dieWithParent()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		// Read the serving line, then keep draining so that the child never
		// blocks on a full pipe; Wait closes stdout when the child exits.
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("hubbubd stderr:\n%s", p.stderr)
		}
	})
	select {
	case line, ok := <-lines:
		m := servingLine.FindStringSubmatch(line)
		if !ok || m == nil {
			t.Fatalf("hubbubd printed %q, want %q; stderr:\n%s", line, "hubbubd: serving on http://ADDR ...", p.stderr)
		}
		p.addr = m[1]
	case <-time.After(30 * time.Second):
		t.Fatalf("hubbubd did not say where it serves within 30s; stderr:\n%s", p.stderr)
	}
	return p
}

// wait waits up to d for the process to exit.
func (p *process) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(d):
		t.Fatalf("hubbubd still running %v later", d)
	}
}

// wsClient is a raw protocol client: the test goroutine writes, one
// goroutine reads and forwards each event.
type wsClient struct {
	ws     *websocket.Conn
	events chan protocol.Event
	done   chan struct{} // closed when reading ended; then err is set
	err    error
}

func dial(t *testing.T, addr string) *wsClient {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{protocol.Subprotocol}, HandshakeTimeout: 10 * time.Second}
	ws, resp, err := d.DialContext(t.Context(), "ws://"+addr+"/ws", nil) // no Origin: not a browser
	if err != nil {
		t.Fatalf("dial %s: %v (response %v)", addr, err, resp)
	}
	if ws.Subprotocol() != protocol.Subprotocol {
		t.Fatalf("subprotocol = %q, want %q", ws.Subprotocol(), protocol.Subprotocol)
	}
	c := &wsClient{ws: ws, events: make(chan protocol.Event, 1024), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer close(c.events)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				c.err = err
				return
			}
			err = protocol.SplitFrame(data, func(obj []byte) error {
				ev, err := protocol.DecodeEvent(obj)
				if err != nil {
					return fmt.Errorf("event %s: %w", obj, err)
				}
				c.events <- ev
				return nil
			})
			if err != nil {
				c.err = err
				return
			}
		}
	}()
	t.Cleanup(func() {
		ws.Close()
		for range c.events { // unblock the reader until it ends
		}
	})
	return c
}

func (c *wsClient) send(t *testing.T, cmd protocol.Command) {
	t.Helper()
	data, err := protocol.EncodeCommand(&cmd)
	if err != nil {
		t.Fatal(err)
	}
	c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.ws.WriteMessage(websocket.TextMessage, data); err != nil {
		t.Fatalf("write %s: %v", data, err)
	}
}

// replyTimeout bounds every wait for a reply.
const replyTimeout = 20 * time.Second

// reply waits for the reply to command id, skipping other events.
func (c *wsClient) reply(t *testing.T, id string) protocol.Event {
	t.Helper()
	timeout := time.After(replyTimeout)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				t.Fatalf("connection ended before the reply to %q: %v", id, c.err)
			}
			if (ev.Type == protocol.TypeOK || ev.Type == protocol.TypeError) && ev.ID == id {
				return ev
			}
		case <-timeout:
			t.Fatalf("no reply to %q within %v", id, replyTimeout)
		}
	}
}

// call sends cmd and returns its ok reply, failing on an error reply.
func (c *wsClient) call(t *testing.T, cmd protocol.Command) protocol.Event {
	t.Helper()
	c.send(t, cmd)
	ev := c.reply(t, cmd.ID)
	if ev.Type != protocol.TypeOK {
		t.Fatalf("%s: %s: %s", cmd.Op, ev.Code, ev.Reason)
	}
	return ev
}

// TestKill9KeepsAckedMessages checks hubbub's first promise on the real
// binary: nothing acknowledged is lost, even to SIGKILL in the middle of a
// burst of sends.
func TestKill9KeepsAckedMessages(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	p := start(t, bin, dir)
	c := dial(t, p.addr)
	c.call(t, protocol.Command{ID: "h", Op: protocol.OpHello, Name: "kill9"})
	c.call(t, protocol.Command{ID: "j", Op: protocol.OpJoin, Room: "lobby"})

	// 200 sends, pipelined: a writer goroutine sends them in bursts of 10
	// without waiting for acks, so that when the 150th ack arrives some
	// sends are still on their way and the last are not yet written.
	const sends, killAfter = 200, 150
	frames := make([][]byte, sends)
	for i := range frames {
		cmd := protocol.Command{ID: "s" + strconv.Itoa(i), Op: protocol.OpSend, Room: "lobby", Body: "message " + strconv.Itoa(i), CMID: "k9-" + strconv.Itoa(i)}
		var err error
		if frames[i], err = protocol.EncodeCommand(&cmd); err != nil {
			t.Fatal(err)
		}
	}
	written := make(chan int, 1)
	go func() {
		n := 0
		defer func() { written <- n }()
		for _, f := range frames {
			c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if c.ws.WriteMessage(websocket.TextMessage, f) != nil {
				return // the server is gone
			}
			if n++; n%10 == 0 {
				time.Sleep(2 * time.Millisecond)
			}
		}
	}()
	acked := map[string]int64{} // cmid → seq
	refused := map[protocol.Code]int{}
	killed := false
	for ev := range c.events { // until the connection dies with the server
		if !strings.HasPrefix(ev.ID, "s") {
			continue
		}
		switch {
		case ev.Type == protocol.TypeError:
			refused[ev.Code]++
		case ev.Message == nil:
			t.Fatalf("ack without message: %+v", ev)
		default:
			acked[ev.Message.CMID] = ev.Message.Seq
		}
		if !killed && (len(acked) == killAfter || len(acked)+len(refused) == sends) {
			// SIGKILL: no shutdown, no flush, no close frame. Acks the
			// server had already written are still read below.
			if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	if !killed {
		t.Fatalf("connection ended before the kill: %v", c.err)
	}
	p.wait(t, 10*time.Second)
	n := <-written
	if len(refused) > 0 || len(acked) < killAfter {
		t.Fatalf("%d of %d sends acked before the kill, %v refused; want %d acked", len(acked), sends, refused, killAfter)
	}
	t.Logf("SIGKILL after %d acks; %d of %d sends written, %d acked in all", killAfter, n, sends, len(acked))
	if n == len(acked) {
		t.Logf("no send was in flight at the kill (the server answered each burst at once)")
	}

	// Restart on the same data and read the whole room back.
	p = start(t, bin, dir)
	c = dial(t, p.addr)
	c.call(t, protocol.Command{ID: "h", Op: protocol.OpHello, Name: "reader"})
	var history []protocol.Message
	after := int64(0)
	for page := 0; ; page++ {
		id := "page" + strconv.Itoa(page)
		ev := c.call(t, protocol.Command{ID: id, Op: protocol.OpHistory, Room: "lobby", After: &after, Limit: 100})
		history = append(history, ev.Messages...)
		if !ev.More || len(ev.Messages) == 0 {
			break
		}
		after = ev.Messages[len(ev.Messages)-1].Seq
	}
	stored := map[string]int64{}
	for i, m := range history {
		if m.Seq != int64(i+1) {
			t.Fatalf("history[%d].Seq = %d, want %d: seqs must run from 1 without gaps", i, m.Seq, i+1)
		}
		if _, dup := stored[m.CMID]; dup {
			t.Errorf("cmid %q stored twice", m.CMID)
		}
		stored[m.CMID] = m.Seq
	}
	for cmid, seq := range acked {
		got, ok := stored[cmid]
		switch {
		case !ok:
			t.Errorf("acked message %s (seq %d) is missing after the restart", cmid, seq)
		case got != seq:
			t.Errorf("acked message %s has seq %d after the restart, want %d", cmid, got, seq)
		}
	}
	if len(history) > n {
		t.Errorf("%d messages stored, more than the %d written", len(history), n)
	}
	t.Logf("%d messages stored after the restart (%d acked)", len(history), len(acked))
}

// TestSIGTERMDrains checks the lame-duck shutdown of the real binary:
// right after SIGTERM /readyz answers 503 while /healthz, the open socket
// and new sockets keep working for the drain grace; then the sockets get
// close 1012, and the process exits 0 within the shutdown timeout.
func TestSIGTERMDrains(t *testing.T) {
	const grace = 2 * time.Second
	bin := binary(t)
	p := start(t, bin, t.TempDir(), "--drain-grace", grace.String(), "--drain-window", "1s", "--shutdown-timeout", "6s")
	c := dial(t, p.addr)
	c.call(t, protocol.Command{ID: "h", Op: protocol.OpHello, Name: "term"})
	c.call(t, protocol.Command{ID: "j", Op: protocol.OpJoin, Room: "lobby"})

	status := func(path string) int {
		resp, err := http.Get("http://" + p.addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(grace / 2)
	for status("/readyz") != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still 200 %v after SIGTERM", grace/2)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("/readyz 503 %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
	if got := status("/healthz"); got != http.StatusOK {
		t.Errorf("/healthz during the grace = %d, want 200", got)
	}
	late := dial(t, p.addr)
	late.call(t, protocol.Command{ID: "h", Op: protocol.OpHello, Name: "late"})
	c.call(t, protocol.Command{ID: "s", Op: protocol.OpSend, Room: "lobby", Body: "still served", CMID: "drain-1"})
	if d := time.Since(sent); d >= grace {
		t.Fatalf("the checks took %v, longer than the grace: rerun on a less loaded machine", d)
	}

	for _, cl := range []*wsClient{c, late} {
		for range cl.events { // drain until the close
		}
		if !websocket.IsCloseError(cl.err, protocol.CloseServiceRestart) {
			t.Errorf("client read ended with %v, want close %d", cl.err, protocol.CloseServiceRestart)
		}
	}
	if d := time.Since(sent); d < grace {
		t.Errorf("sockets closed %v after SIGTERM, before the %v grace", d, grace)
	}
	p.wait(t, 6*time.Second)
	if p.err != nil {
		t.Errorf("hubbubd exited with %v, want status 0", p.err)
	}
	t.Logf("exited %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
}
