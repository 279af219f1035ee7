package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// Environment of the client process of BenchmarkIdleConnHeap.
const (
	idleClientsURL = "HUBBUB_IDLE_CLIENTS_URL" // the server's /ws; set only in the child
	idleClientsN   = "HUBBUB_IDLE_CLIENTS_N"   // connections to open after the warm-up
)

// idleWarm is how many connections the client process opens before the
// first reading: the room, caches, pools and maps that the first
// connections create are then in both readings and cancel out.
const idleWarm = 20

// BenchmarkIdleConnHeap measures the live heap each idle chat connection
// keeps on the server: N real connections, each a distinct guest that
// said hello and joined one room, with heartbeats running. The clients
// run in a child process (this test binary again, TestIdleClients), so
// that the heap measured is the server's alone.
//
// It reports live-B/conn, the live heap after two garbage collections
// (runtime/metrics /gc/heap/live:bytes) with the N connections idle minus
// the same before they connected, divided by N; and objects/conn, the
// same for heap objects. Compare runs with benchstat:
//
//	go test -run '^$' -bench IdleConnHeap -benchtime 1x -count 6 ./internal/server
//
// With HUBBUB_IDLE_HEAP_PROFILE=file it also writes a heap profile of
// the idle server, every allocation sampled (runtime.MemProfileRate = 1):
// `go tool pprof -sample_index inuse_space file` attributes the bytes.
func BenchmarkIdleConnHeap(b *testing.B) {
	const n = 500
	profile := os.Getenv("HUBBUB_IDLE_HEAP_PROFILE")
	if profile != "" {
		old := runtime.MemProfileRate
		runtime.MemProfileRate = 1
		b.Cleanup(func() { runtime.MemProfileRate = old })
	}
	warmGoroutines(4 * (idleWarm + n))
	var perConn, objsPerConn float64
	for b.Loop() {
		b.StopTimer()
		// A fresh server each time: the maps that connections are
		// entered in grow with the first run and would not again.
		wsURL, stop := idleServer(b)
		cmd := exec.Command(os.Args[0], "-test.run=^TestIdleClients$", "-test.count=1")
		cmd.Env = append(os.Environ(), idleClientsURL+"="+wsURL, idleClientsN+"="+strconv.Itoa(n))
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		expect := func(want string) {
			b.Helper()
			for lines.Scan() {
				if lines.Text() == want {
					return
				}
			}
			b.Fatalf("client process ended before %q: %v", want, lines.Err())
		}
		expect("warm")
		settle(time.Now())
		live0, objs0 := liveHeap()
		fmt.Fprintln(stdin, "go")
		expect("ready")
		settle(time.Now())
		live1, objs1 := liveHeap()
		if profile != "" {
			writeHeapProfile(b, profile)
		}
		stdin.Close() // the client process closes its connections and exits
		if err := cmd.Wait(); err != nil {
			b.Fatalf("client process: %v", err)
		}
		stop()
		perConn = float64(live1-live0) / n
		objsPerConn = float64(objs1-objs0) / n
		b.StartTimer()
	}
	b.ReportMetric(perConn, "live-B/conn")
	b.ReportMetric(objsPerConn, "objects/conn")
}

// idleServer starts a server for BenchmarkIdleConnHeap, on a fresh store,
// and returns its /ws URL and a function that stops it.
func idleServer(b *testing.B) (wsURL string, stop func()) {
	b.Helper()
	store, err := sqlitestore.Open(filepath.Join(b.TempDir(), "hubbub.db"))
	if err != nil {
		b.Fatal(err)
	}
	broker := membroker.New()
	srv, err := New(Config{
		Store:  store,
		Broker: broker,
		// A real handler, as in production: a logger's clones cost what
		// its handler's WithAttrs costs (slog.DiscardHandler's nothing).
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		ConnsPerIP: 1 << 20, HandshakeRate: 1e6, HandshakeBurst: 1 << 20,
		NodeHandshakeRate: 1e6, NodeHandshakeBurst: 1 << 20, NodeHandshakesInProgress: 1 << 20,
	})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		ts.Close()
		broker.Close()
		store.Close()
	}
	return "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws", stop
}

// settle waits until the connections opened before start are idle: the
// admission timers of their handshakes have fired (admitHold after the
// handshake, whether or not the join released the slot earlier), and the
// number of goroutines has not changed for longer than writerLinger: the
// write loops of the joins' replies and presence events have ended, and
// the readers have parked (park.go). It gives up after 15 s.
func settle(start time.Time) {
	time.Sleep(time.Until(start.Add(admitHold)))
	last, since := runtime.NumGoroutine(), time.Now()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		if n := runtime.NumGoroutine(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) > writerLinger+250*time.Millisecond {
			return
		}
	}
}

// warmGoroutines starts n goroutines at once and lets them end. The
// runtime keeps the descriptor of an ended goroutine (a g, about 0.4 KiB
// of heap) for reuse and never frees it, so the first run would count the
// descriptors of every goroutine that ran at once while its connections
// were made (readers, write loops, handlers), and later runs none. After
// this, no run counts them; an idle connection, parked, keeps none. (Where
// it cannot park and keeps its reader, the figure leaves that
// descriptor out.)
func warmGoroutines(n int) {
	var wg sync.WaitGroup
	release := make(chan struct{})
	for range n {
		wg.Go(func() { <-release })
	}
	close(release)
	wg.Wait()
}

// liveHeap returns the live heap bytes and objects after two garbage
// collections (the second empties sync.Pool's victim caches).
func liveHeap() (bytes, objects uint64) {
	runtime.GC()
	runtime.GC()
	s := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/objects:objects"}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

func writeHeapProfile(b *testing.B, path string) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// TestIdleClients is the client process of BenchmarkIdleConnHeap; it
// does nothing in an ordinary run. It opens idleWarm connections, prints
// "warm", waits for a line on stdin, opens N more, prints "ready", and
// holds them all, reading and answering pings, until stdin closes. Every
// connection is a distinct guest that said hello and joined the lobby.
func TestIdleClients(t *testing.T) {
	url := os.Getenv(idleClientsURL)
	if url == "" {
		t.Skip("the client process of BenchmarkIdleConnHeap")
	}
	n, err := strconv.Atoi(os.Getenv(idleClientsN))
	if err != nil {
		t.Fatal(err)
	}
	var conns []*websocket.Conn
	defer func() {
		for _, ws := range conns {
			ws.Close()
		}
	}()
	open := func(from, to int) {
		for i := from; i < to; i++ {
			ws, err := idleClient(url, fmt.Sprint("idle", i))
			if err != nil {
				t.Fatalf("client %d: %v", i, err)
			}
			conns = append(conns, ws)
		}
	}
	in := bufio.NewScanner(os.Stdin)
	open(0, idleWarm)
	fmt.Println("warm")
	if !in.Scan() {
		return
	}
	open(idleWarm, idleWarm+n)
	fmt.Println("ready")
	for in.Scan() {
	}
}

// idleClient dials, says hello as name, joins the lobby, and leaves the
// connection to a goroutine that reads (and so answers pings) until it
// is closed.
func idleClient(url, name string) (*websocket.Conn, error) {
	d := websocket.Dialer{Subprotocols: []string{protocol.Subprotocol}}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	for _, cmd := range []protocol.Command{
		{Op: protocol.OpHello, ID: "hello", Name: name},
		{Op: protocol.OpJoin, ID: "join", Room: chat.DefaultRoom},
	} {
		frame, err := protocol.EncodeCommand(&cmd)
		if err != nil {
			return nil, err
		}
		if err := ws.WriteMessage(websocket.TextMessage, frame); err != nil {
			return nil, err
		}
	}
	ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for joined := false; !joined; {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		err = protocol.SplitFrame(data, func(obj []byte) error {
			ev, err := protocol.DecodeEvent(obj)
			if err != nil {
				return err
			}
			switch {
			case ev.Type == protocol.TypeError:
				return fmt.Errorf("%s: %s %s", ev.ID, ev.Code, ev.Reason)
			case ev.Type == protocol.TypeOK && ev.ID == "join":
				joined = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	ws.SetReadDeadline(time.Time{})
	go func() {
		for {
			if _, _, err := ws.NextReader(); err != nil {
				return
			}
		}
	}()
	return ws, nil
}
