package faulttest_test

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/faulttest"
)

// stormClients is how many clients reconnect at once in the storm
// scenario, all from one address (the balancer's, as behind a NAT).
const stormClients = 2000

// stormBound is how long they may take to be back and resumed (issue 12:
// 10,000 clients within 30 s; a fifth of them here must not take longer).
const stormBound = 30 * time.Second

// TestReconnectStorm: stormClients real clients from one address are on
// node A, which is killed. They reconnect through the balancer to B and
// C, fresh nodes with the default admission limits, with the client's
// default backoff. All must be connected and resumed within stormBound of
// the kill, with every message acknowledged meanwhile delivered once and
// in order.
//
// The clients run in a crowd process of their own, built without -race
// (thousands of clients under the race detector would measure the test,
// not the cluster).
func TestReconnectStorm(t *testing.T) {
	bin := suite(t)
	open := []string{"--conns-per-ip", "1000000", "--handshake-rate", "1000000", "--handshake-burst", "1000000",
		"--node-handshake-rate", "1000000", "--node-handshake-burst", "1000000", "--node-handshakes-in-progress", "1000000"}
	cl := faulttest.StartCluster(t, faulttest.ClusterConfig{
		// A room of thousands sends no join and leave events past the
		// presence limit; below it each join is sent to every member. With
		// the default limit (1000) the clients would spend the suite's
		// time budget on half a million join events before the storm
		// starts, so the room stays under a small limit here.
		Bin: bin, Broker: "redis", Args: append([]string{"--presence-limit", "50"}, loadArgs...),
		// A, where the clients start, is opened up; B and C keep the
		// defaults the storm meets. D, outside the balancer and opened
		// up too, serves the history the verdict reads: every client
		// here has the same address, so the storm's refusals on B and C
		// would refuse the auditor too.
		Nodes: 4, Balanced: 3,
		NodeArgs: func(i int) []string {
			if i == 0 || i == 3 {
				return open
			}
			return nil
		},
		// The proxy runs in this process: PostgreSQL is reached directly,
		// so that the storm meets the nodes and the store, not the test.
		DirectStore: true,
	})
	const room = "lobby"
	pub := faulttest.Connect(t, cl.URL(1), "pub", room)
	started := time.Now()
	crowd := faulttest.StartCrowd(t, crowdBin, cl.LB.Frontend(t, 0), stormClients, room, "s", 3*time.Minute)
	if crowd.Failed > 0 {
		t.Fatalf("%d of %d clients could not connect to node A before the storm, e.g. %s", crowd.Failed, stormClients, crowd.FirstErr)
	}
	t.Logf("%d clients connected and joined on node A in %v", crowd.OK, time.Since(started).Round(time.Millisecond))

	ledger := &faulttest.Ledger{}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	loaded := runLoad(ctx, ledger, []*faulttest.Member{pub}, room, 5)
	time.Sleep(time.Second)

	killed := time.Now()
	cl.Nodes[0].Kill()
	deadline := killed.Add(stormBound)
	var back, allBack = 0, time.Duration(-1)
	for {
		back, _ = crowd.Status()
		if back == crowd.OK {
			allBack = time.Since(killed)
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if allBack < 0 {
		t.Errorf("%v after node A was killed, %d of %d clients are connected again; want all", stormBound, back, crowd.OK)
	} else {
		t.Logf("all %d clients connected again %v after the kill", crowd.OK, allBack.Round(time.Millisecond))
	}
	// Messages sent until now must reach every client within the bound.
	cancel()
	<-loaded
	acked := ledger.Sends()
	var missingClients, missing, breaches, notLive int
	var report []faulttest.CrowdClient
	for {
		report = crowd.Report()
		missingClients, missing, breaches, notLive = 0, 0, 0, 0
		for _, c := range report {
			n := 0
			for _, s := range acked {
				if s.Outcome == faulttest.Acked && s.Seq > c.From && !c.Has(s.Seq) {
					n++
				}
			}
			if n > 0 {
				missingClients++
				missing += n
			}
			breaches += len(c.Breaches)
			if !c.Live || !c.Connected {
				notLive++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if missing > 0 {
		t.Errorf("%v after the kill, %d of %d clients lack %d acknowledged messages in all", stormBound, missingClients, len(report), missing)
	}
	if breaches > 0 {
		t.Errorf("%d duplicates or out-of-order deliveries at the clients", breaches)
	}
	if notLive > 0 {
		t.Errorf("%d of %d clients not connected at the end", notLive, len(report))
	}
	var dials, most int
	causes := map[string]int{}
	for _, c := range report {
		dials += c.Dials
		most = max(most, c.Dials)
		for k, v := range c.Causes {
			causes[k] += v
		}
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(causes)) {
		parts = append(parts, k+" "+strconv.Itoa(causes[k]))
	}
	t.Logf("reconnect dials: %d in all, at most %d by one client; failed dials by cause: %v; the balancer took B out %d times, C %d times",
		dials, most, parts, cl.LB.Downs(1), cl.LB.Downs(2))

	// History and the publisher, by the general rule.
	faulttest.Verify(t, faulttest.Check{
		Ledger: ledger, Members: []*faulttest.Member{pub}, Rooms: []string{room},
		HistoryURL: cl.URL(3), Within: time.Second,
	})
}
