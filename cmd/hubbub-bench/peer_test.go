package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// newTestBench returns a bench of one fanout room with publishers
// publishers and messages slots, for the frame handlers' tests.
func newTestBench(t *testing.T, publishers, messages int) *bench {
	t.Helper()
	cfg := Config{Clients: max(publishers, 1), Publishers: publishers, Rate: float64(messages), Duration: time.Second}
	cfg.setDefaults()
	lay := newLayout(&cfg)
	return &bench{
		cfg: cfg, runID: "b0a1b2c3", layout: lay, members: make([]atomic.Int64, len(lay.rooms)),
		closeCodes: map[int]int64{}, sendErrors: map[string]int64{}, slots: make([]slot, cfg.messages()),
		nodes: newNodes(lay.nodes, lay.nodeOf, lay.publishers),
	}
}

func TestDeliverInOrder(t *testing.T) {
	body := func(slot int) []byte { return []byte(messageBody("b0a1b2c3", time.Unix(1, 0), slot)) }
	tests := []struct {
		name       string
		publishers int
		slots      []int
		wantRecv   int64
		wantGaps   int64
		wantDups   int64
	}{
		{"in order, one publisher", 1, []int{0, 1, 2, 3}, 4, 0, 0},
		{"in order, two publishers interleaved", 2, []int{1, 0, 3, 2, 4}, 5, 0, 0},
		{"first message missing", 1, []int{1, 2}, 2, 1, 0},
		{"gap of two from publisher 1 of 3", 3, []int{1, 10}, 2, 2, 0},
		{"duplicate", 1, []int{0, 1, 1, 2}, 3, 0, 1},
		{"going back", 2, []int{0, 2, 4, 2}, 3, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newTestBench(t, tc.publishers, 20)
			c := &client{b: b, node: b.nodes[0]}
			for _, s := range tc.slots {
				c.deliverInOrder(body(s), time.Unix(2, 0))
			}
			if got := c.received.Load(); got != tc.wantRecv {
				t.Errorf("received = %d, want %d", got, tc.wantRecv)
			}
			if got := b.gaps.Load(); got != tc.wantGaps {
				t.Errorf("gaps = %d, want %d", got, tc.wantGaps)
			}
			if got := b.duplicates.Load(); got != tc.wantDups {
				t.Errorf("duplicates = %d, want %d", got, tc.wantDups)
			}
		})
	}
}

func TestGorillaFrame(t *testing.T) {
	b := newTestBench(t, 1, 10)
	c := &client{b: b, node: b.nodes[0]}
	frame := strings.Join([]string{
		messageBody(b.runID, time.Unix(1, 0), 0),
		messageBody(b.runID, time.Unix(1, 0), 1),
		"somebody else's chat line",
		messageBody(b.runID, time.Unix(1, 0), 2),
	}, "\n")
	gorillaPeer{}.frame(c, []byte(frame), time.Unix(1, 5e6))
	if got, want := c.received.Load(), int64(3); got != want {
		t.Errorf("received = %d, want %d", got, want)
	}
	if got := b.foreign.Load(); got != 1 {
		t.Errorf("foreign = %d, want 1", got)
	}
	if got := b.latency.quantile(1); got < 4*time.Millisecond || got > 6*time.Millisecond {
		t.Errorf("latency max = %v, want about 5ms", got)
	}
}

func TestCentrifugoObject(t *testing.T) {
	b := newTestBench(t, 1, 10)
	body := messageBody(b.runID, time.Unix(1, 0), 0)
	tests := []struct {
		name   string
		frame  string
		check  func(c *client) string // "" when fine
		wantTx string                 // what the client writes back
	}{
		{"push, fast path", `{"push":{"channel":"bench","pub":{"data":"` + body + `","info":{"client":"x"}}}}`,
			func(c *client) string { return want("received", c.received.Load(), 1) }, ""},
		{"push, fields reordered", `{"push":{"pub":{"data":"` + body + `"},"channel":"bench"}}`,
			func(c *client) string { return want("received", c.received.Load(), 1) }, ""},
		{"push of another's data", `{"push":{"channel":"bench","pub":{"data":{"x":1}}}}`,
			func(c *client) string { return want("foreign", c.b.foreign.Load(), 1) }, ""},
		{"publish ack", `{"id":3,"publish":{}}`,
			func(c *client) string { return want("acked", c.b.acked.Load(), 1) }, ""},
		{"publish refused", `{"id":4,"error":{"code":103,"message":"permission denied"}}`,
			func(c *client) string { return want("send errors", c.b.sendErrors["centrifugo-103"], 1) }, ""},
		{"connect reply", `{"id":1,"connect":{"client":"abc","version":"6.9.1","ping":25,"pong":true}}`,
			func(c *client) string {
				select {
				case r := <-c.replies:
					if r.id != "1" || !r.ok {
						return "reply " + r.id + " not ok"
					}
					return ""
				default:
					return "no reply"
				}
			}, ""},
		{"subscribe refused", `{"id":2,"error":{"code":103,"message":"permission denied"}}`,
			func(c *client) string {
				r := <-c.replies
				if r.id != "2" || r.ok || r.code != "103" {
					return "want refusal 103 of id 2"
				}
				return ""
			}, ""},
		{"ping", `{}`, func(c *client) string { return "" }, `{}`},
		{"two objects in a frame", `{"id":3,"publish":{}}` + "\n" + `{"push":{"channel":"bench","pub":{"data":"` + body + `"}}}`,
			func(c *client) string {
				return want("acked", c.b.acked.Load(), 1) + want("received", c.received.Load(), 1)
			}, ""},
		{"garbage", `{"id":`, func(c *client) string { return want("undecodable", c.b.undecodable.Load(), 1) }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newTestBench(t, 1, 10)
			b.runID = "b0a1b2c3"
			c, peerEnd := pipeClient(t, b)
			centrifugoPeer{}.frame(c, []byte(tc.frame), time.Unix(1, 1e6))
			if msg := tc.check(c); msg != "" {
				t.Error(msg)
			}
			got := peerEnd.drain(tc.wantTx != "")
			if got != tc.wantTx {
				t.Errorf("client wrote %q, want %q", got, tc.wantTx)
			}
		})
	}
}

func want(what string, got, want int64) string {
	if got != want {
		return fmt.Sprintf("%s = %d, want %d; ", what, got, want)
	}
	return ""
}

// sink is the server end of pipeClient: it records the text frames the
// client writes.
type sink struct {
	frames chan string
}

// drain returns the frames received, joined by "|": it waits up to 10s
// for the first when one is expected, then until 200ms pass without
// another (so that a frame that should not be there has time to show).
func (s *sink) drain(expectOne bool) string {
	var got []string
	if expectOne {
		select {
		case f := <-s.frames:
			got = append(got, f)
		case <-time.After(10 * time.Second):
			return ""
		}
	}
	for {
		select {
		case f := <-s.frames:
			got = append(got, f)
		case <-time.After(200 * time.Millisecond):
			return strings.Join(got, "|")
		}
	}
}

// pipeClient returns a client of b connected to an in-test WebSocket
// server that records what it writes; no read goroutine runs.
func pipeClient(t *testing.T, b *bench) (*client, *sink) {
	t.Helper()
	s := &sink{frames: make(chan string, 16)}
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			select {
			case s.frames <- string(data):
			case <-done:
				return
			}
		}
	}))
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		close(done)
		ws.Close()
		srv.Close()
	})
	return &client{b: b, node: b.nodes[0], ws: ws, replies: make(chan reply, 4), done: make(chan struct{})}, s
}
