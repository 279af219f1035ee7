package faulttest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/faulttest"
	"github.com/hubbub-chat/hubbub/protocol"
)

// commitDeadline is how long a node waits for one commit before it gives
// up on it (internal/server's committer).
const commitDeadline = 10 * time.Second

// TestPostgresCut: PostgreSQL's connections are cut and new ones refused
// for 5 s under load. Sends are refused with unavailable (never
// acknowledged without a commit), every node's /readyz answers 503, and
// the cluster recovers without a restart.
func TestPostgresCut(t *testing.T) {
	testPostgresOutage(t, "cut", 5*time.Second, (*faulttest.Proxy).Cut)
}

// TestPostgresStall: PostgreSQL's traffic is held, existing and new
// connections alike, for longer than the commit deadline. The same
// promises hold as for a cut.
func TestPostgresStall(t *testing.T) {
	testPostgresOutage(t, "stall", commitDeadline+2*time.Second, (*faulttest.Proxy).Stall)
}

func testPostgresOutage(t *testing.T, what string, outage time.Duration, breakIt func(*faulttest.Proxy)) {
	bin := suite(t)
	cl := faulttest.StartCluster(t, faulttest.ClusterConfig{Bin: bin, Broker: "redis", Args: loadArgs})
	const room = "lobby"
	var urls []string
	for i := range cl.Nodes {
		urls = append(urls, cl.LB.Frontend(t, i))
	}
	pubs := connectAll(t, "pub", 3, urls, room)
	subs := connectAll(t, "sub", 3, urls, room)
	members := append(append([]*faulttest.Member{}, pubs...), subs...)

	ledger := &faulttest.Ledger{}
	start := time.Now()
	broken := start.Add(3 * time.Second)
	restored := broken.Add(outage)
	ctx, cancel := context.WithDeadline(t.Context(), restored.Add(6*time.Second))
	defer cancel()
	loaded := runLoad(ctx, ledger, pubs, room, 30)
	sleepUntil(broken)
	breakIt(cl.PG)

	// While PostgreSQL is away, no node says it is ready.
	sleepUntil(broken.Add(outage / 2))
	for _, n := range cl.Nodes {
		if code := readyz(n.Addr); code == http.StatusOK {
			t.Errorf("node %s: /readyz answered 200 %v into the PostgreSQL %s; want 503", n.Name, outage/2, what)
		}
	}
	sleepUntil(restored)
	cl.PG.Restore()
	restored = time.Now()

	// Recovery without a restart: every node ready again soon, and every
	// send made from 3 s after the return on acknowledged.
	for _, n := range cl.Nodes {
		deadline := time.Now().Add(5 * time.Second)
		for readyz(n.Addr) != http.StatusOK {
			if time.Now().After(deadline) {
				t.Errorf("node %s: /readyz not 200 5s after PostgreSQL returned", n.Name)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	<-loaded

	var during, after, afterAcked int
	wrong := map[protocol.Code]int{}
	for _, s := range ledger.Sends() {
		if s.Outcome == faulttest.Refused && s.Code != protocol.CodeUnavailable {
			wrong[s.Code]++
		}
		if !s.Start.Before(broken) && s.Start.Before(restored) {
			during++
		}
		if s.Start.After(restored.Add(3 * time.Second)) {
			after++
			if s.Outcome == faulttest.Acked {
				afterAcked++
			}
		}
	}
	if len(wrong) > 0 {
		t.Errorf("sends refused with %v; docs/protocol.md answers a storage outage with %q", wrong, protocol.CodeUnavailable)
	}
	t.Logf("%d sends started during the %s, %d from 3s after PostgreSQL returned (%d of them acked)", during, what, after, afterAcked)
	if after == 0 || afterAcked < after {
		t.Errorf("%d of %d sends made from 3s after PostgreSQL returned were acknowledged; want all: the cluster must recover without a restart", afterAcked, after)
	}

	faulttest.Verify(t, faulttest.Check{
		Ledger: ledger, Members: members, Rooms: []string{room},
		HistoryURL: cl.URL(0), Within: 10 * time.Second,
	})
}

// readyz returns the status of addr's /readyz, or 0 if there was no
// answer within a second.
func readyz(addr string) int {
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
