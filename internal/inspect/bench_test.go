//go:build unix

package inspect

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// benchTap chooses the side of the old-vs-new comparison:
//
//	go test ./internal/inspect -run '^$' -bench Echo -count 10 -tap=false > old.txt
//	go test ./internal/inspect -run '^$' -bench Echo -count 10 -tap=true  > new.txt
//	benchstat old.txt new.txt
var benchTap = flag.Bool("tap", true, "BenchmarkEcho: serve through an unwatched Tap (false: the bare net.Conn)")

// hijackTapper makes Hijack return the conn tapped, as the server does.
type hijackTapper struct{ http.ResponseWriter }

func (h hijackTapper) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := h.ResponseWriter.(http.Hijacker).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return NewConn(nc, NewTap(true, false, true)), brw, nil
}

// BenchmarkEcho measures one round trip through a gorilla echo server on
// loopback TCP, with the server's conn tapped (-tap=true, nobody
// watching) or bare (-tap=false). Messages over gorilla's 4 KiB write
// buffer take its two-buffer write path, which a wrapped conn turns from
// one writev into two writes.
func BenchmarkEcho(b *testing.B) {
	up := websocket.Upgrader{ReadBufferSize: 0, WriteBufferSize: 4096}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *benchTap {
			w = hijackTapper{w}
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			typ, p, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if ws.WriteMessage(typ, p) != nil {
				return
			}
		}
	}))
	defer ts.Close()
	for _, size := range []int{64, 1024, 16 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http"), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer ws.Close()
			msg := make([]byte, size)
			b.SetBytes(int64(size))
			// CPU time of the process (client and server both) per round
			// trip: on a shared machine, wall time mostly measures the
			// scheduler.
			cpu0 := cpuTime()
			for b.Loop() {
				if err := ws.WriteMessage(websocket.BinaryMessage, msg); err != nil {
					b.Fatal(err)
				}
				if _, _, err := ws.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkObserve is the Tap's own cost per Read or Write when nobody
// watches: a chunk holding one frame, or the middle of a long payload.
func BenchmarkObserve(b *testing.B) {
	frame := clientFrame(1, true, strings.Repeat("x", 100))
	for _, tt := range []struct {
		name string
		p    []byte
	}{{"frame", frame}, {"payload", make([]byte, 4096)}} {
		b.Run(tt.name, func(b *testing.B) {
			tap := NewTap(true, false, false)
			if tt.name == "payload" {
				tap.Observe(In, []byte{0x82, 127, 0x3F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}) // the header of a frame that never ends
			}
			for b.Loop() {
				tap.Observe(In, tt.p)
			}
		})
	}
}
