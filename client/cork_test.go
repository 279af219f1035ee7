package client_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/wsframe"
	"github.com/hubbub-chat/hubbub/protocol"
)

// writeLog is a net.Conn that decodes the WebSocket frames of each write
// the client makes (after the upgrade request) and records the commands'
// ops, one entry per write.
type writeLog struct {
	net.Conn
	log *opLog
}

type opLog struct {
	mu     sync.Mutex
	writes [][]string // per connection, per write: the ops of its frames
}

func (w *writeLog) Write(p []byte) (int, error) {
	if !strings.HasPrefix(string(p), "GET ") {
		var ops []string
		parser := wsframe.NewParser(1<<16, func(f wsframe.Frame) {
			if f.Opcode != wsframe.OpText {
				ops = append(ops, f.Opcode.String())
				return
			}
			cmd, err := protocol.Decode(f.Payload)
			if err != nil {
				ops = append(ops, "undecodable")
				return
			}
			ops = append(ops, cmd.Op)
		})
		parser.Write(p)
		w.log.mu.Lock()
		w.log.writes = append(w.log.writes, ops)
		w.log.mu.Unlock()
	}
	return w.Conn.Write(p)
}

// hellos returns the ops of every write that starts with a hello: one
// entry per connection.
func (l *opLog) hellos() [][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out [][]string
	for _, ops := range l.writes {
		if len(ops) > 0 && ops[0] == protocol.OpHello {
			out = append(out, ops)
		}
	}
	return out
}

// TestHelloAndRejoinsInOneWrite: on a reconnect, hello and the re-joins of
// every room leave in one write, so that the server reads them in one go
// and answers them in one frame; on the first connection, hello alone.
func TestHelloAndRejoinsInOneWrite(t *testing.T) {
	s := startServer(t, server.Config{})
	log := &opLog{}
	opts := fastOptions("alice")
	opts.Dialer = &websocket.Dialer{
		HandshakeTimeout: 10 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &writeLog{Conn: nc, log: log}, nil
		},
	}
	c, rec := dial(t, s, opts)
	ctx := t.Context()
	const rooms = 3
	for i := range rooms {
		room := fmt.Sprint("room", i)
		if _, err := c.Create(ctx, room, ""); err != nil {
			t.Fatalf("Create %s: %v", room, err)
		}
		if _, _, err := c.Join(ctx, room); err != nil {
			t.Fatalf("Join %s: %v", room, err)
		}
	}
	s.killConns()
	rec.wait(t, 20*time.Second, "the second connection", func([]client.Event) bool { return len(log.hellos()) >= 2 })
	want := [][]string{{"hello"}, {"hello", "join", "join", "join"}}
	if diff := cmp.Diff(want, log.hellos()[:2]); diff != "" {
		t.Errorf("the writes that start with hello (-want +got):\n%s", diff)
	}
}
