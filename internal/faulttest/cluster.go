package faulttest

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

// ClusterConfig describes a Cluster.
type ClusterConfig struct {
	Bin    string // the hubbubd binary (Build)
	Broker string // "redis" or "nats"
	Nodes  int    // default 3

	// Balanced is how many of the nodes, from the first, are behind the
	// balancer (default all). A node outside it is reached only by its
	// own URL: an auditor that a storm on the others cannot crowd out.
	Balanced int

	// Args are given to every node; NodeArgs, if not nil, adds arguments
	// for node i.
	Args     []string
	NodeArgs func(i int) []string

	// DirectStore has the nodes reach PostgreSQL directly instead of
	// through PG, for scenarios that do not break it and whose load would
	// make the test process's proxy the bottleneck.
	DirectStore bool

	// CheckInterval is the balancer's readiness check interval (default
	// DefaultCheckInterval).
	CheckInterval time.Duration
}

// Cluster is several hubbubd nodes sharing a fresh PostgreSQL schema,
// reached through a Proxy the test can cut or stall, and a broker server
// of the test's own, behind a Balancer.
type Cluster struct {
	Nodes  []*Node
	Broker *Service
	PG     *Proxy
	LB     *Balancer
	Store  string // the nodes' --store DSN (through PG unless DirectStore)
}

// StartCluster starts the services and the nodes, and waits until every
// node is ready. It skips the test when HUBBUB_TEST_POSTGRES is unset.
func StartCluster(t testing.TB, cfg ClusterConfig) *Cluster {
	t.Helper()
	dsn := FreshSchema(t, PostgresDSN(t))
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{Broker: StartBroker(t, cfg.Broker), PG: NewProxy(t, u.Host)}
	c.Store = WithHost(t, dsn, c.PG.Addr())
	if cfg.DirectStore {
		c.Store = dsn
	}
	n := cfg.Nodes
	if n == 0 {
		n = 3
	}
	addrs := make([]string, n)
	for i := range n {
		args := append([]string{"--store", c.Store, "--broker", c.Broker.URL}, cfg.Args...)
		if cfg.NodeArgs != nil {
			args = append(args, cfg.NodeArgs(i)...)
		}
		node := StartNode(t, string(rune('A'+i)), cfg.Bin, args...)
		c.Nodes = append(c.Nodes, node)
		addrs[i] = node.Addr
	}
	if cfg.Balanced > 0 {
		addrs = addrs[:cfg.Balanced]
	}
	c.LB = NewBalancer(t, addrs, cfg.CheckInterval)
	return c
}

// URL returns node i's own WebSocket URL, bypassing the balancer.
func (c *Cluster) URL(i int) string { return fmt.Sprintf("ws://%s/ws", c.Nodes[i].Addr) }
