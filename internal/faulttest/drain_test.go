package faulttest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/faulttest"
	"github.com/hubbub-chat/hubbub/protocol"
)

// drainGrace is the --drain-grace of the drain scenario: how long a node
// keeps serving after SIGTERM with /readyz at 503, so that a balancer
// checking every DefaultCheckInterval sees it before any socket closes.
const drainGrace = 2 * time.Second

// drainWindow is the --drain-window: the time over which a draining node
// closes its sockets, in random order.
const drainWindow = 3 * time.Second

// TestSIGTERMDrain: node A gets SIGTERM under load behind a balancer that
// honours /readyz. A answers 503 at once and keeps serving for the grace
// period, so the balancer takes it out of rotation before any of A's
// sockets closes; then A closes them with 1012 over the drain window, its
// clients reconnect to
// the other nodes on their first dial, no send is refused or lost, and A
// exits 0 within the shutdown timeout.
func TestSIGTERMDrain(t *testing.T) {
	bin := suite(t)
	const shutdownTimeout = 10 * time.Second
	args := append([]string{"--drain-grace", drainGrace.String(), "--drain-window", drainWindow.String(),
		"--shutdown-timeout", shutdownTimeout.String()}, loadArgs...)
	cl := faulttest.StartCluster(t, faulttest.ClusterConfig{Bin: bin, Broker: "redis", Args: args})
	const room = "lobby"
	onA, onB, onC := cl.LB.Frontend(t, 0), cl.LB.Frontend(t, 1), cl.LB.Frontend(t, 2)
	pubs := connectAll(t, "pub", 3, []string{onA, onA, onB}, room)
	subs := connectAll(t, "sub", 4, []string{onA, onA, onB, onC}, room)
	members := append(append([]*faulttest.Member{}, pubs...), subs...)
	onNodeA := []*faulttest.Member{pubs[0], pubs[1], subs[0], subs[1]}

	ledger := &faulttest.Ledger{}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	loaded := runLoad(ctx, ledger, pubs, room, 30)
	time.Sleep(3 * time.Second)

	a := cl.Nodes[0]
	termAt := time.Now()
	a.Term()
	// /readyz turns 503 at once.
	for readyz(a.Addr) == http.StatusOK {
		if time.Since(termAt) > 200*time.Millisecond {
			t.Errorf("node A's /readyz still 200 %v after SIGTERM; want 503 at once", time.Since(termAt).Round(time.Millisecond))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The shutdown timeout bounds the whole shutdown, drain included.
	err, exited := a.Wait(shutdownTimeout + time.Second)
	switch {
	case !exited:
		t.Errorf("node A still running %v after SIGTERM (shutdown timeout %v)", time.Since(termAt).Round(time.Millisecond), shutdownTimeout)
	case err != nil:
		t.Errorf("node A exited with %v after SIGTERM; want status 0", err)
	default:
		t.Logf("node A exited 0 %v after SIGTERM", time.Since(termAt).Round(time.Millisecond))
	}
	time.Sleep(2 * time.Second) // load on the remaining nodes
	cancel()
	<-loaded

	downAt := cl.LB.DownAt(0)
	if downAt.IsZero() {
		t.Errorf("the balancer never saw node A unready")
	}
	var first time.Time
	for _, m := range onNodeA {
		drops := m.Drops()
		if len(drops) == 0 {
			t.Errorf("member %s on node A never lost its connection", m.Name)
			continue
		}
		for _, d := range drops {
			if first.IsZero() || d.At.Before(first) {
				first = d.At
			}
			if d.CloseCode != protocol.CloseServiceRestart {
				t.Errorf("member %s: connection ended %v after SIGTERM with %v; want close %d (service restart)", m.Name, d.At.Sub(termAt).Round(time.Millisecond), d.Err, protocol.CloseServiceRestart)
			}
			if d.Dials != 1 {
				t.Errorf("member %s: back after %d dials (%v); want the first dial to succeed, the balancer sends it to a ready node", m.Name, d.Dials, d.Back.Round(time.Millisecond))
			}
		}
	}
	if !first.IsZero() && !downAt.IsZero() {
		t.Logf("balancer took A out %v after SIGTERM; A's first socket closed %v after SIGTERM", downAt.Sub(termAt).Round(time.Millisecond), first.Sub(termAt).Round(time.Millisecond))
		if !downAt.Before(first) {
			t.Errorf("node A closed a socket before the balancer saw it unready: the drain grace was not honoured")
		}
	}
	for _, m := range []*faulttest.Member{pubs[2], subs[2], subs[3]} {
		for _, d := range m.Drops() {
			t.Errorf("member %s on node B or C lost its connection (%v)", m.Name, d.Err)
		}
	}
	if n := ledger.Count(faulttest.Refused) + ledger.Count(faulttest.Unknown); n > 0 {
		t.Errorf("%d sends refused or unanswered during a drain; want 0", n)
	}
	faulttest.Verify(t, faulttest.Check{
		Ledger: ledger, Members: members, Rooms: []string{room},
		HistoryURL: cl.URL(1), Within: 10 * time.Second,
	})
}
