package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/protocol"
)

// dropServer is a fake hubbub server: its first connection says hello and
// then drops without a reply on the first command of op drop; later
// connections wait for gate to close before their handshake, then answer
// every command with ok.
type dropServer struct {
	drop  string
	gate  chan struct{}
	conns atomic.Int32
	again atomic.Int32 // commands of op drop seen on later connections
}

func (s *dropServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := s.conns.Add(1)
	if n > 1 {
		select {
		case <-s.gate:
		case <-r.Context().Done():
			return
		}
	}
	up := websocket.Upgrader{Subprotocols: []string{protocol.Subprotocol}}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		cmd, err := protocol.Decode(data)
		if err != nil {
			return
		}
		if cmd.Op == s.drop {
			if n == 1 {
				return // the connection drops after the command was sent
			}
			s.again.Add(1)
		}
		ev := protocol.Event{Type: protocol.TypeOK, ID: cmd.ID}
		switch cmd.Op {
		case protocol.OpHello:
			ev.Self = &protocol.Identity{Name: "ada", Guest: true}
		case protocol.OpJoin:
			ev.Info = &protocol.RoomInfo{Name: cmd.Room}
		case protocol.OpCreate:
			ev.Info = &protocol.RoomInfo{Name: cmd.Room}
		case protocol.OpSend, protocol.OpDelete, protocol.OpReact:
			ev.Message = &protocol.Message{Room: cmd.Room, Seq: 1, From: "ada", Guest: true, Body: cmd.Body, CMID: cmd.CMID}
		}
		frame, err := protocol.EncodeEvent(&ev)
		if err != nil {
			return
		}
		if ws.WriteMessage(websocket.TextMessage, frame) != nil {
			return
		}
	}
}

// TestAbandonedWhileReconnecting checks that a call the caller stopped
// waiting for while the client was reconnecting (it had been sent on the
// connection that dropped) is forgotten: it is not resent, and nothing of
// it stays behind in the client.
func TestAbandonedWhileReconnecting(t *testing.T) {
	tests := []struct {
		op  string
		run func(ctx context.Context, c *Client) error
	}{
		{protocol.OpJoin, func(ctx context.Context, c *Client) error { _, _, err := c.Join(ctx, "x"); return err }},
		{protocol.OpSend, func(ctx context.Context, c *Client) error { _, err := c.Send(ctx, "x", "hi"); return err }},
		{protocol.OpHistory, func(ctx context.Context, c *Client) error {
			_, _, err := c.HistoryBefore(ctx, "x", 0, 10)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			srv := &dropServer{drop: tt.op, gate: make(chan struct{})}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			defer close(srv.gate)

			c, err := Dial(context.Background(), ts.URL, Options{Name: "ada", BackoffBase: time.Millisecond, BackoffMax: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			connected := make(chan struct{}, 8)
			go func() {
				for ev := range c.Events() {
					if se, ok := ev.(StateEvent); ok && se.State == Connected {
						connected <- struct{}{}
					}
				}
			}()

			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			err = tt.run(ctx, c)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s: err = %v, want the context's deadline", tt.op, err)
			}

			srv.gate <- struct{}{} // not closed: a second reconnect would wait
			select {
			case <-connected:
			case <-time.After(10 * time.Second):
				t.Fatal("no Connected after the reconnect")
			}
			if err := c.Ping(context.Background()); err != nil {
				t.Fatal(err)
			}
			c.mu.Lock()
			pending, joining := len(c.pending), len(c.joining)
			c.mu.Unlock()
			if pending != 0 || joining != 0 {
				t.Errorf("%s: after the reconnect %d calls pending and %d rooms joining, want 0 and 0", tt.op, pending, joining)
			}
		})
	}
}

// TestNotResent checks the operations the package documentation says are
// not sent again after a reconnect: when the connection drops between
// sending one and its reply, it returns ErrConnectionLost and the next
// connection does not see it.
func TestNotResent(t *testing.T) {
	tests := []struct {
		op  string
		run func(ctx context.Context, c *Client) error
	}{
		{protocol.OpCreate, func(ctx context.Context, c *Client) error { _, err := c.Create(ctx, "x", ""); return err }},
		{protocol.OpDelete, func(ctx context.Context, c *Client) error { _, err := c.Delete(ctx, "x", 1); return err }},
		{protocol.OpReact, func(ctx context.Context, c *Client) error { _, err := c.React(ctx, "x", 1, "👍"); return err }},
		{protocol.OpKick, func(ctx context.Context, c *Client) error { return c.Kick(ctx, "x", "bob", "") }},
		{protocol.OpDeleteRoom, func(ctx context.Context, c *Client) error { return c.DeleteRoom(ctx, "x") }},
		{protocol.OpTyping, func(ctx context.Context, c *Client) error { return c.Typing(ctx, "x") }},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			srv := &dropServer{drop: tt.op, gate: make(chan struct{})}
			close(srv.gate)
			ts := httptest.NewServer(srv)
			defer ts.Close()
			c, err := Dial(context.Background(), ts.URL, Options{Name: "ada", BackoffBase: time.Millisecond, BackoffMax: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			go func() {
				for range c.Events() {
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := tt.run(ctx, c); !errors.Is(err, ErrConnectionLost) {
				t.Errorf("%s: err = %v, want ErrConnectionLost", tt.op, err)
			}
			if err := c.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			if got := srv.again.Load(); got != 0 {
				t.Errorf("%s sent again %d times after the reconnect, want 0", tt.op, got)
			}
		})
	}
}
