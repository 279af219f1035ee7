package client_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/servertest"
)

// TestRejoinsPipelined: after a reconnect the client says hello and
// re-joins all its rooms at once, without waiting for any reply (one round
// trip, not one per room, nor one for hello), then fetches what it missed
// in every room at once too, and is back in every room.
func TestRejoinsPipelined(t *testing.T) {
	s := startServer(t, server.Config{})
	const rooms = 5
	gate := servertest.NewBurstGate(t, strings.TrimSuffix(strings.TrimPrefix(s.URL(), "ws://"), "/ws"),
		servertest.Burst{"hello": 1, "join": rooms}, servertest.Burst{"history": rooms})
	ctx := t.Context()
	c, rec := dialURL(t, "ws://"+gate.Addr()+"/ws", fastOptions("alice"))
	other, _ := dial(t, s, fastOptions("bob"))
	for i := range rooms {
		room := fmt.Sprint("room", i)
		if _, err := c.Create(ctx, room, ""); err != nil {
			t.Fatalf("Create %s: %v", room, err)
		}
		if _, _, err := c.Join(ctx, room); err != nil {
			t.Fatalf("Join %s: %v", room, err)
		}
		if _, _, err := other.Join(ctx, room); err != nil {
			t.Fatalf("bob: Join %s: %v", room, err)
		}
	}

	s.killConns()
	connected := func(evs []client.Event) int {
		n := 0
		for _, ev := range evs {
			if st, ok := ev.(client.StateEvent); ok && st.State == client.Connected {
				n++
			}
		}
		return n
	}
	rec.wait(t, 20*time.Second, "the second connection", func(evs []client.Event) bool { return connected(evs) >= 2 })
	// Back in every room: a message bob sends now reaches alice.
	for i := range rooms {
		room := fmt.Sprint("room", i)
		m, err := other.Send(ctx, room, "after the reconnect")
		if err != nil {
			t.Fatalf("bob: Send %s: %v", room, err)
		}
		rec.waitSeq(t, room, m.Seq)
	}
	if f := gate.Failures(); len(f) > 0 {
		t.Errorf("not pipelined: %s", strings.Join(f, "; "))
	}
}
