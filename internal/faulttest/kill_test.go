package faulttest_test

import (
	"context"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/faulttest"
)

// TestKillPublishingNode: publishers on node A, subscribers on B and C;
// A is killed with SIGKILL mid-load. The publishers' client moves to
// another node through the balancer and resends what was unacknowledged.
func TestKillPublishingNode(t *testing.T) {
	for _, broker := range brokers {
		t.Run(broker, func(t *testing.T) { testKill(t, broker, 0) })
	}
}

// TestKillSubscribingNode: as TestKillPublishingNode, but the node killed
// is B, where half of the subscribers are; they resume on another node.
func TestKillSubscribingNode(t *testing.T) {
	for _, broker := range brokers {
		t.Run(broker, func(t *testing.T) { testKill(t, broker, 1) })
	}
}

func testKill(t *testing.T, broker string, victim int) {
	bin := suite(t)
	cl := faulttest.StartCluster(t, faulttest.ClusterConfig{Bin: bin, Broker: broker, Args: loadArgs})
	const room = "lobby"
	onA := []string{cl.LB.Frontend(t, 0)}
	onBC := []string{cl.LB.Frontend(t, 1), cl.LB.Frontend(t, 2)}
	pubs := connectAll(t, "pub", 3, onA, room)
	subs := connectAll(t, "sub", 4, onBC, room)

	ledger := &faulttest.Ledger{}
	start := time.Now()
	ctx, cancel := context.WithDeadline(t.Context(), start.Add(8*time.Second))
	defer cancel()
	loaded := runLoad(ctx, ledger, pubs, room, 30)
	sleepUntil(start.Add(3 * time.Second))
	killed := time.Now()
	cl.Nodes[victim].Kill()
	t.Logf("node %s killed (SIGKILL) %v into the load", cl.Nodes[victim].Name, killed.Sub(start).Round(time.Millisecond))
	<-loaded

	members := append(append([]*faulttest.Member{}, pubs...), subs...)
	faulttest.Verify(t, faulttest.Check{
		Ledger: ledger, Members: members, Rooms: []string{room},
		HistoryURL: cl.URL(2), Within: 10 * time.Second,
	})
	if ledger.Count(faulttest.Acked) == 0 {
		t.Errorf("no send was acknowledged: the scenario tested nothing")
	}
	// The client resends what a dead node left unanswered, with the same
	// cmid, on its next connection: with two nodes alive and the store
	// healthy, every send is acknowledged.
	if n := ledger.Count(faulttest.Refused) + ledger.Count(faulttest.Unknown); n > 0 {
		t.Errorf("%d sends refused or unanswered; want every send acknowledged", n)
	}
	var moved, worst = 0, time.Duration(0)
	for _, m := range members {
		for _, d := range m.Drops() {
			if d.At.Before(killed) {
				continue
			}
			moved++
			if d.Back == 0 {
				t.Errorf("member %s lost its connection at the kill and never came back", m.Name)
			}
			worst = max(worst, d.Back)
		}
	}
	if moved == 0 {
		t.Errorf("no member lost its connection: node %s was not where the members were", cl.Nodes[victim].Name)
	}
	t.Logf("%d members moved to another node; the slowest was back after %v", moved, worst.Round(time.Millisecond))
}
