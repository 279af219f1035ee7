package faulttest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/faulttest"
)

// healBound bounds how long an acknowledged message may take to reach
// every live member of its room when the broker lost it. Issue 12 asks for
// a documented bound "say ≤ 5 s after the broker returns"; docs/protocol.md
// promises "at most about 2 seconds after its commit even while the
// nodes' broker is down" (--heal-interval 2s). The suite holds the cluster
// to 5 s, after the commit and after the broker's return: the documented
// 2 s plus room for a machine shared by other work.
const healBound = 5 * time.Second

// brokerDown is how long the broker stays down in the outage scenarios.
const brokerDown = 10 * time.Second

// TestBrokerOutageUnderLoad: with a publisher and a subscriber on each of
// three nodes at 300 messages/s in all, the broker is down for 10 s.
// Acknowledgements must not stop (PostgreSQL is healthy: the broker only
// carries news between nodes), and every message acknowledged while it was
// down must reach every member within healBound of its return.
func TestBrokerOutageUnderLoad(t *testing.T) {
	for _, broker := range brokers {
		t.Run(broker, func(t *testing.T) { testBrokerOutageUnderLoad(t, broker) })
	}
}

func testBrokerOutageUnderLoad(t *testing.T, broker string) {
	bin := suite(t)
	cl := faulttest.StartCluster(t, faulttest.ClusterConfig{Bin: bin, Broker: broker, Args: loadArgs})
	const room = "busy"
	var urls []string
	for i := range cl.Nodes {
		urls = append(urls, cl.LB.Frontend(t, i))
	}
	pubs := connectAll(t, "pub", 3, urls, room)
	subs := connectAll(t, "sub", 3, urls, room)
	members := append(append([]*faulttest.Member{}, pubs...), subs...)

	ledger := &faulttest.Ledger{}
	start := time.Now()
	down := start.Add(3 * time.Second)
	up := down.Add(brokerDown)
	ctx, cancel := context.WithDeadline(t.Context(), up.Add(3*time.Second))
	defer cancel()
	const rate = 100 // per publisher
	loaded := runLoad(ctx, ledger, pubs, room, rate)
	sleepUntil(down)
	cl.Broker.Stop()
	sleepUntil(up)
	// The healing does not wait for the broker: by the end of the outage,
	// every message acknowledged healBound before has reached every member.
	if missing := owedBy(time.Now(), up.Add(-healBound), ledger, members, room); missing > 0 {
		t.Errorf("with the broker down, %d (message, member) deliveries of messages acknowledged over %v earlier are missing", missing, healBound)
	}
	cl.Broker.Start()
	returned := time.Now()
	t.Logf("%s down for %v", broker, returned.Sub(down).Round(time.Millisecond))

	// Every message acknowledged before the broker returned reaches every
	// member within the bound.
	if missing := owedBy(returned.Add(healBound), returned, ledger, members, room); missing > 0 {
		t.Errorf("%v after the broker returned, %d (message, member) deliveries of messages acknowledged before its return are still missing", healBound, missing)
	}
	<-loaded

	// Acknowledgements never stop: while the broker is down, acks arrive
	// at least at 80% of the rate they arrived at before (measured, not
	// offered: on a busy machine the publishers may not make 300/s).
	outage := returned.Sub(down)
	warm := start.Add(time.Second)
	var before, during int
	var slowest time.Duration
	for _, s := range ledger.Sends() {
		if s.Outcome != faulttest.Acked {
			continue
		}
		switch {
		case !s.End.Before(warm) && s.End.Before(down):
			before++
		case !s.End.Before(down) && s.End.Before(returned):
			during++
			slowest = max(slowest, s.End.Sub(s.Start))
		}
	}
	rateBefore := float64(before) / down.Sub(warm).Seconds()
	rateDuring := float64(during) / outage.Seconds()
	t.Logf("acks: %.0f/s before the outage, %.0f/s during it (%d in %v), slowest ack during it %v",
		rateBefore, rateDuring, during, outage.Round(time.Millisecond), slowest.Round(time.Millisecond))
	if before == 0 || rateDuring < 0.8*rateBefore {
		t.Errorf("acks fell from %.0f/s to %.0f/s while the broker was down; want at least 80%%: acknowledgements must not depend on the broker", rateBefore, rateDuring)
	}
	if n := ledger.Count(faulttest.Refused) + ledger.Count(faulttest.Unknown); n > 0 {
		t.Errorf("%d sends refused or unanswered with PostgreSQL healthy; want 0", n)
	}

	faulttest.Verify(t, faulttest.Check{
		Ledger: ledger, Members: members, Rooms: []string{room},
		HistoryURL: cl.URL(0), Within: healBound,
	})
	noDrops(t, members)
}

// noDrops fails t for every connection a member lost: nothing in the
// broker scenarios is a reason to close a client that reads (the burst
// after the broker's return must not overflow send queues).
func noDrops(t *testing.T, members []*faulttest.Member) {
	t.Helper()
	for _, m := range members {
		for _, d := range m.Drops() {
			t.Errorf("member %s lost its connection at %s (close code %d: %v)", m.Name, d.At.Format("15:04:05.000"), d.CloseCode, d.Err)
		}
	}
}

// TestBrokerOutageQuietRoom: one message is sent in a quiet room while the
// broker is down, and nothing after it. Members on the node that
// committed it get it at once (local delivery does not need the broker);
// members on every node have it within healBound of its commit, the
// broker still down, and (should that fail) within healBound of the
// broker's return.
func TestBrokerOutageQuietRoom(t *testing.T) {
	for _, broker := range brokers {
		t.Run(broker, func(t *testing.T) { testBrokerOutageQuietRoom(t, broker) })
	}
}

func testBrokerOutageQuietRoom(t *testing.T, broker string) {
	bin := suite(t)
	cl := faulttest.StartCluster(t, faulttest.ClusterConfig{Bin: bin, Broker: broker, Args: loadArgs})
	const room = "quiet"
	var members []*faulttest.Member
	for i := range cl.Nodes {
		for j := range 2 {
			members = append(members, faulttest.Connect(t, cl.URL(i), fmt.Sprintf("m%s%d", cl.Nodes[i].Name, j), room))
		}
	}
	sender, local := members[0], members[:2] // both on node A
	ledger := &faulttest.Ledger{}

	// The live path works before the outage.
	before := ledger.Send(sender, room, sendTimeout)
	if before.Outcome != faulttest.Acked {
		t.Fatalf("send before the outage: %v %v", before.Outcome, before.Err)
	}
	if missing := owedBy(time.Now().Add(healBound), time.Now(), ledger, members, room); missing > 0 {
		t.Fatalf("before any outage, %d members lack the first message after %v", missing, healBound)
	}

	cl.Broker.Stop()
	down := time.Now()
	s := ledger.Send(sender, room, sendTimeout)
	t.Logf("the send while %s was down: %v after %v", broker, s.Outcome, s.End.Sub(s.Start).Round(time.Millisecond))
	if s.Outcome != faulttest.Acked {
		t.Errorf("the send while the broker was down was %v (%v); want acknowledged, PostgreSQL is healthy", s.Outcome, s.Err)
	} else if missing := owedBy(s.End.Add(time.Second), s.End.Add(time.Millisecond), ledger, local, room); missing > 0 {
		t.Errorf("%d of %d members on the committing node lack the message 1s after its ack: local delivery must not wait for the broker", missing, len(local))
	}
	if s.Outcome == faulttest.Acked {
		// The healing does not wait for the broker: every member has the
		// message within the bound of its commit, the broker still down.
		if missing := owedBy(s.End.Add(healBound), s.End.Add(time.Millisecond), ledger, members, room); missing > 0 {
			t.Errorf("%v after its ack, with the broker still down, %d of %d members lack the message", healBound, missing, len(members))
		}
	}
	sleepUntil(down.Add(brokerDown))
	cl.Broker.Start()
	returned := time.Now()

	missing := owedBy(returned.Add(healBound), returned.Add(time.Hour), ledger, members, room)
	var lacking []string
	for _, m := range members {
		if s.Outcome == faulttest.Acked && !m.Has(room, s.Body) {
			lacking = append(lacking, m.Name)
		}
	}
	if missing > 0 {
		t.Errorf("%v after the broker returned, %d of %d members lack the message sent while it was down: %v", healBound, missing, len(members), lacking)
	}
	faulttest.Verify(t, faulttest.Check{
		Ledger: ledger, Members: members, Rooms: []string{room},
		HistoryURL: cl.URL(1), Within: time.Second,
	})
	noDrops(t, members)
}

// TestBrokerOutageNewRoom: while the broker is down, a client still joins
// a room that nobody on its node was in, although the node cannot
// subscribe to it (it serves the room without its subscription and heals
// it from the store, trying the broker again in the background); a
// message sent there on another node reaches it within healBound, the
// broker still down, and another after the broker's return. Before, such
// a join failed as long as Redis was down ("the store is unavailable").
func TestBrokerOutageNewRoom(t *testing.T) {
	for _, broker := range brokers {
		t.Run(broker, func(t *testing.T) { testBrokerOutageNewRoom(t, broker) })
	}
}

func testBrokerOutageNewRoom(t *testing.T, broker string) {
	bin := suite(t)
	cl := faulttest.StartCluster(t, faulttest.ClusterConfig{Bin: bin, Broker: broker, Args: loadArgs})
	const room = "fresh"
	sender := faulttest.Connect(t, cl.URL(0), "sender", room)
	ledger := &faulttest.Ledger{}

	cl.Broker.Stop()
	down := time.Now()
	members := []*faulttest.Member{sender}
	for i := 1; i < len(cl.Nodes); i++ {
		// Connect fails the test if the join fails.
		members = append(members, faulttest.Connect(t, cl.URL(i), "late"+cl.Nodes[i].Name, room))
	}
	s := ledger.Send(sender, room, sendTimeout)
	if s.Outcome != faulttest.Acked {
		t.Fatalf("the send while %s was down was %v (%v); want acknowledged, PostgreSQL is healthy", broker, s.Outcome, s.Err)
	}
	if missing := owedBy(s.End.Add(healBound), s.End.Add(time.Millisecond), ledger, members, room); missing > 0 {
		t.Errorf("%v after its ack, with the broker still down, %d of %d members lack the message", healBound, missing, len(members))
	}
	sleepUntil(down.Add(brokerDown))
	cl.Broker.Start()

	after := ledger.Send(sender, room, sendTimeout)
	if after.Outcome != faulttest.Acked {
		t.Fatalf("the send after the broker returned was %v (%v)", after.Outcome, after.Err)
	}
	if missing := owedBy(after.End.Add(healBound), time.Now().Add(time.Hour), ledger, members, room); missing > 0 {
		t.Errorf("%v after the broker returned and a send, %d of %d members lack a message", healBound, missing, len(members))
	}
	faulttest.Verify(t, faulttest.Check{
		Ledger: ledger, Members: members, Rooms: []string{room},
		HistoryURL: cl.URL(1), Within: time.Second,
	})
	noDrops(t, members)
}
