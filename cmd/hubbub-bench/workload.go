package main

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// The workloads. Each decides how the clients are spread over rooms, who
// publishes, and what Run measures:
//
//   - fanout: every client in one room, the first Publishers of them
//     publishing Rate messages/s in total: deliveries/s, latency, server
//     CPU per delivery.
//   - storm: every client connects (and, on hubbub, says hello and joins
//     one room), Workers at a time, as fast as the server lets them; no
//     messages: connections/s and server CPU per connection.
//   - idle: every client connects to one room and stays idle for Hold,
//     heartbeats running: server RSS per connection.
//   - rooms: rooms of RoomMin–RoomMax members, the first member of each
//     publishing, Rate messages/s over all rooms: deliveries/s, latency.
//   - durable: every client alone in a room of its own and publishing,
//     Rate messages/s in total, each delivered once (to its sender):
//     acknowledged messages/s and ack latency — the store's pace. hubbub
//     only: the peers store nothing and acknowledge nothing durably.
const (
	workloadFanout  = "fanout"
	workloadStorm   = "storm"
	workloadIdle    = "idle"
	workloadRooms   = "rooms"
	workloadDurable = "durable"
)

var workloadNames = []string{workloadFanout, workloadStorm, workloadIdle, workloadRooms, workloadDurable}

var workloads = map[string]bool{
	workloadFanout: true, workloadStorm: true, workloadIdle: true, workloadRooms: true, workloadDurable: true,
}

// unsupported says why target cannot run workload, or returns "".
func unsupported(target, workload string) string {
	switch {
	case target == targetGorilla && workload == workloadRooms:
		return "the gorilla chat example has one hub and no rooms: every message goes to every client"
	case target == targetGorilla && workload == workloadDurable:
		return "the gorilla chat example persists nothing and acknowledges nothing"
	case target == targetCentrifugo && workload == workloadDurable:
		return "Centrifugo as configured here persists nothing (no history) and its publish reply is not a commit"
	}
	return ""
}

// publishes reports whether the workload sends messages.
func publishes(workload string) bool {
	return workload != workloadStorm && workload != workloadIdle
}

// layout is how a run's clients are spread over rooms. Immutable once
// built.
type layout struct {
	rooms      []string // room names
	roomOf     []int    // client index → room index
	order      []int    // client indices in connection order: each room's creator first
	creator    []bool   // client index → it creates its room (the first of each room)
	publishers []int    // client indices; slot n is published by publishers[n % len]
	nodes      []string // the distinct URLs dialled; see assignNodes
	nodeOf     []int    // client index → index into nodes
}

// newLayout builds the layout of cfg's workload; cfg has its defaults.
// The rooms workload draws room sizes from a fixed seed, so every run and
// every target get the same rooms; the last room takes the remainder when
// a room of RoomMin would not fit (it may then hold up to
// RoomMax+RoomMin−1 members).
func newLayout(cfg *Config) *layout {
	n := cfg.Clients
	l := &layout{roomOf: make([]int, n), creator: make([]bool, n)}
	var sizes []int
	switch cfg.Workload {
	case workloadRooms:
		rng := rand.New(rand.NewPCG(1, 2))
		for rem := n; rem > 0; {
			size := min(rem, cfg.RoomMin+rng.IntN(cfg.RoomMax-cfg.RoomMin+1))
			if rem-size < cfg.RoomMin {
				size = rem
			}
			sizes = append(sizes, size)
			rem -= size
		}
	case workloadDurable:
		sizes = make([]int, n)
		for i := range sizes {
			sizes[i] = 1
		}
	default:
		sizes = []int{n}
	}
	first := 0
	for r, size := range sizes {
		name := cfg.Room
		if len(sizes) > 1 {
			name = cfg.Room + "-r" + strconv.Itoa(r)
		}
		l.rooms = append(l.rooms, name)
		for i := first; i < first+size; i++ {
			l.roomOf[i] = r
		}
		l.creator[first] = true
		l.order = append(l.order, first)
		if cfg.Workload == workloadRooms || cfg.Workload == workloadDurable {
			l.publishers = append(l.publishers, first)
		}
		first += size
	}
	for i := range n {
		if !l.creator[i] {
			l.order = append(l.order, i)
		}
	}
	if cfg.Workload == workloadFanout {
		for i := range min(cfg.Publishers, n) {
			l.publishers = append(l.publishers, i)
		}
	}
	l.nodes, l.nodeOf = assignNodes(n, splitURLs(cfg.URL), l.publishers, strings.TrimSpace(cfg.PublisherURL))
	return l
}

// roomOfSlot returns the room that message slot is published to.
func (l *layout) roomOfSlot(slot int) int {
	return l.roomOf[l.publishers[slot%len(l.publishers)]]
}
