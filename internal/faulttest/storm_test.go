package faulttest_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/client"
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
// the kill, with every message acknowledged meanwhile delivered.
func TestReconnectStorm(t *testing.T) {
	bin := suite(t)
	open := []string{"--conns-per-ip", "1000000", "--handshake-rate", "1000000", "--handshake-burst", "1000000"}
	cl := faulttest.StartCluster(t, faulttest.ClusterConfig{
		// A room of thousands sends no join and leave events past the
		// presence limit; below it each join is sent to every member. With
		// the default limit (1000) the test's own clients would spend the
		// suite's time budget on half a million join events before the
		// storm starts, so the room stays under a small limit here.
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
	})
	const room = "lobby"
	onA := cl.LB.Frontend(t, 0)
	pub := faulttest.Connect(t, cl.URL(1), "pub", room)

	members := make([]*faulttest.Member, stormClients)
	var (
		wg      sync.WaitGroup
		errMu   sync.Mutex
		errs    []error
		next    = make(chan int)
		started = time.Now()
	)
	for range 32 {
		wg.Go(func() {
			for i := range next {
				m, err := faulttest.Dial(t, onA, "s"+strconv.Itoa(i), faulttest.MemberOptions{Client: client.Options{EventBuffer: 64}})
				if err == nil {
					err = m.Join(t.Context(), room)
				}
				if err != nil {
					errMu.Lock()
					errs = append(errs, fmt.Errorf("client %d: %w", i, err))
					errMu.Unlock()
					continue
				}
				members[i] = m
			}
		})
	}
	for i := range stormClients {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d clients could not connect to node A before the storm, e.g. %v", len(errs), stormClients, errs[0])
	}
	t.Logf("%d clients connected and joined on node A in %v", stormClients, time.Since(started).Round(time.Millisecond))

	ledger := &faulttest.Ledger{}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	loaded := runLoad(ctx, ledger, []*faulttest.Member{pub}, room, 5)
	time.Sleep(time.Second)

	killed := time.Now()
	cl.Nodes[0].Kill()
	deadline := killed.Add(stormBound)
	var back int
	var allBack time.Duration
	for {
		back = 0
		for _, m := range members {
			if m.Connected() {
				back++
			}
		}
		if back == len(members) {
			allBack = time.Since(killed)
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	cancel()
	<-loaded
	if back < len(members) {
		t.Errorf("%v after node A was killed, %d of %d clients are connected again; want all", stormBound, back, len(members))
	} else {
		t.Logf("all %d clients connected again %v after the kill", len(members), allBack.Round(time.Millisecond))
	}
	var dials, most int
	for _, m := range members {
		for _, d := range m.Drops() {
			if d.At.After(killed) {
				dials += d.Dials
				most = max(most, d.Dials)
			}
		}
	}
	t.Logf("reconnect dials: %d in all, at most %d by one client", dials, most)

	within := max(time.Until(deadline), time.Second)
	faulttest.Verify(t, faulttest.Check{
		Ledger: ledger, Members: append(members, pub), Rooms: []string{room},
		HistoryURL: cl.URL(3), Within: within,
	})
}
