package main

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// Several nodes. Config.URL may name several nodes of one chat, comma
// separated: client i dials urls[i % len(urls)]. With
// Config.PublisherURL, the publishers all dial that node instead and the
// other clients spread over URL's list in the same round-robin, so a
// fanout run with --publisher-url A --url B,C measures delivery from node
// A to nodes B and C: the latency of a delivery is still publish to
// receipt (the body carries the send time, one clock), and each node's
// receivers get their own percentiles in Result.Nodes.

// splitURLs returns the URLs of a comma-separated list, spaces trimmed
// and empty items dropped.
func splitURLs(list string) []string {
	var urls []string
	for u := range strings.SplitSeq(list, ",") {
		if u = strings.TrimSpace(u); u != "" {
			urls = append(urls, u)
		}
	}
	return urls
}

// checkURLs reports what is wrong with the URLs of a comma-separated list,
// or nil. name names the list in the error.
func checkURLs(name, list string) error {
	urls := splitURLs(list)
	if len(urls) == 0 {
		return fmt.Errorf("%s %q: want at least one ws:// or wss:// URL", name, list)
	}
	var errs []error
	for _, u := range urls {
		if !strings.HasPrefix(u, "ws://") && !strings.HasPrefix(u, "wss://") {
			errs = append(errs, fmt.Errorf("%s %q: want ws:// or wss://", name, u))
		}
	}
	return errors.Join(errs...)
}

// assignNodes decides which node each of n clients dials. urls is the
// round-robin list (at least one URL); pubURL, when not empty, is where
// every client in publishers goes. It returns the distinct nodes, in
// order of first mention (urls first, pubURL last when it is not among
// them), and for each client the index of its node.
func assignNodes(n int, urls []string, publishers []int, pubURL string) (nodes []string, nodeOf []int) {
	index := make(map[string]int)
	add := func(u string) int {
		if i, ok := index[u]; ok {
			return i
		}
		index[u] = len(nodes)
		nodes = append(nodes, u)
		return len(nodes) - 1
	}
	spread := make([]int, len(urls)) // urls[k] → node index
	for k, u := range urls {
		spread[k] = add(u)
	}
	isPub := make([]bool, n)
	pubNode := -1
	if pubURL != "" {
		pubNode = add(pubURL)
		for _, p := range publishers {
			isPub[p] = true
		}
	}
	nodeOf = make([]int, n)
	next := 0 // clients spread so far
	for i := range n {
		if isPub[i] {
			nodeOf[i] = pubNode
			continue
		}
		nodeOf[i] = spread[next%len(spread)]
		next++
	}
	return nodes, nodeOf
}

// node is what a run counts per node dialled. The histogram is of the
// deliveries to this node's clients.
type node struct {
	url        string // immutable
	clients    int    // immutable: clients assigned to it
	publishers int    // immutable: publishers assigned to it

	connected atomic.Int64
	received  atomic.Int64 // deliveries of the run's messages, acknowledged or not
	latency   histogram
}

// newNodes builds the nodes of a layout whose clients dial nodeOf.
func newNodes(urls []string, nodeOf []int, publishers []int) []*node {
	nodes := make([]*node, len(urls))
	for i, u := range urls {
		nodes[i] = &node{url: u}
	}
	for _, k := range nodeOf {
		nodes[k].clients++
	}
	for _, p := range publishers {
		nodes[nodeOf[p]].publishers++
	}
	return nodes
}

// NodeResult is what one node's clients saw. Received counts every
// delivery of the run's messages to them (acknowledged or not); the
// latency percentiles are of those deliveries, in milliseconds.
type NodeResult struct {
	URL        string  `json:"url"`
	Clients    int     `json:"clients"`
	Publishers int     `json:"publishers"`
	Connected  int     `json:"connected"`
	Received   int64   `json:"received"`
	LatencyP50 float64 `json:"latency_p50_ms"`
	LatencyP99 float64 `json:"latency_p99_ms"`
	LatencyMax float64 `json:"latency_max_ms"`
}

// nodeResults reports the nodes.
func nodeResults(nodes []*node) []NodeResult {
	out := make([]NodeResult, len(nodes))
	for i, n := range nodes {
		out[i] = NodeResult{
			URL: n.url, Clients: n.clients, Publishers: n.publishers,
			Connected: int(n.connected.Load()), Received: n.received.Load(),
			LatencyP50: ms(n.latency.quantile(0.50)),
			LatencyP99: ms(n.latency.quantile(0.99)),
			LatencyMax: ms(time.Duration(n.latency.max.Load())),
		}
	}
	return out
}

// ms converts d to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
