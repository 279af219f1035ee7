package client_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/server"
)

// TestReconnectStormHonoursRetryAfter restarts the server with a node-wide
// handshake budget of 2 per second: its clients reconnect at once, most
// are turned away with 503 and Retry-After, wait as told (plus jitter)
// instead of their own backoff of a few milliseconds, and are all back
// after a few seconds, having been refused only a few times each.
func TestReconnectStormHonoursRetryAfter(t *testing.T) {
	const n = 6
	s := startServer(t, server.Config{})
	var recs []*client.Client
	var records []*recorder
	for i := range n {
		c, rec := dial(t, s, fastOptions(fmt.Sprint("storm", i)))
		if _, _, err := c.Join(t.Context(), "lobby"); err != nil {
			t.Fatal(err)
		}
		recs, records = append(recs, c), append(records, rec)
	}

	s.mu.Lock()
	s.cfg.NodeHandshakeRate, s.cfg.NodeHandshakeBurst = 2, 1
	s.mu.Unlock()
	start := time.Now()
	s.restart(t)
	for i, rec := range records {
		rec.wait(t, 30*time.Second, fmt.Sprint("client ", i, " back"), func(evs []client.Event) bool {
			connected := 0
			for _, ev := range evs {
				if st, ok := ev.(client.StateEvent); ok && st.State == client.Connected {
					connected++
				}
			}
			return connected >= 2
		})
	}
	took := time.Since(start)
	for i, c := range recs {
		if _, err := c.Send(t.Context(), "lobby", "back"); err != nil {
			t.Errorf("client %d after the storm: %v", i, err)
		}
	}
	refused := s.counter(t, `hubbub_handshakes_refused_total{reason="node_busy"}`)
	t.Logf("%d clients back in %v after %v refusals", n, took.Round(time.Millisecond), refused)
	// Without Retry-After, each client would redial every 5-50 ms for the
	// seconds the budget needs: dozens of refusals each.
	if refused > 3*n {
		t.Errorf("%v refusals for %d clients, want at most %d: the clients did not wait as told", refused, n, 3*n)
	}
	if min := time.Duration(n-1) * time.Second / 2; took < min-500*time.Millisecond {
		t.Errorf("all back in %v, faster than a budget of 2/s allows (%v)", took, min)
	}
}
