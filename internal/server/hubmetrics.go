package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hubbub-chat/hubbub/internal/hub"
)

// dataMetrics measure the data path past the commit.
type dataMetrics struct {
	healed        prometheus.Counter   // messages delivered from the store by heal
	staleLeft     prometheus.Counter   // connections heal took out of rooms deleted without news (dropStale)
	recentHistory prometheus.Counter   // history pages answered from memory (recentHistory)
	ackSeconds    prometheus.Histogram // from a send's arrival to its ack being queued
}

// walTruncations is the part of a store that truncates its write-ahead
// log when idle (sqlitestore.Store): how those truncations went.
type walTruncations interface {
	WALTruncations() (done, busy, failed int64)
}

// registerStoreMetrics exports what the store counts of itself, if it
// counts anything.
func registerStoreMetrics(reg *prometheus.Registry, store any) {
	w, ok := store.(walTruncations)
	if !ok {
		return
	}
	for _, r := range []struct {
		result string
		get    func(done, busy, failed int64) int64
	}{
		{"done", func(d, _, _ int64) int64 { return d }},
		{"busy", func(_, b, _ int64) int64 { return b }},
		{"failed", func(_, _, f int64) int64 { return f }},
	} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "hubbub_store_wal_truncations_total",
			Help:        "Truncations of SQLite's write-ahead log when the store is idle, so that deleted content leaves it: done, busy (a reader was using it; tried again at the next idle period), failed.",
			ConstLabels: prometheus.Labels{"result": r.result},
		}, func() float64 { return float64(r.get(w.WALTruncations())) }))
	}
}

func newDataMetrics(reg *prometheus.Registry, h *hub.Hub) *dataMetrics {
	m := &dataMetrics{
		healed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hubbub_healed_messages_total",
			Help: "Messages of other nodes delivered from the store because the broker lost or delayed them.",
		}),
		staleLeft: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hubbub_heal_stale_leaves_total",
			Help: "Connections heal took out of a room deleted on another node (or whose name a new room took) whose directory event never reached this node.",
		}),
		recentHistory: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hubbub_history_recent_total",
			Help: "History pages answered from the latest messages a room keeps in memory, without reading the store.",
		}),
		ackSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hubbub_ack_seconds",
			Help:    "Time from a send's arrival to its acknowledgement (or error) being queued: the checks before the commit (which may read the store), the wait for the committer and the commit.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	reg.MustRegister(m.healed, m.staleLeft, m.recentHistory, m.ackSeconds)
	registerHubMetrics(reg, h)
	return m
}

// registerHubMetrics exports the hub's counters: what the broker carried,
// what it refused, what was dropped and why.
func registerHubMetrics(reg *prometheus.Registry, h *hub.Hub) {
	counter := func(name, help string, get func(hub.Stats) uint64) {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(get(h.Stats())) }))
	}
	counter("hubbub_broker_published_total", "Events the broker accepted for the other nodes.",
		func(s hub.Stats) uint64 { return s.Published })
	counter("hubbub_broker_publish_failed_total", "Events the broker refused (down or slow); the other nodes heal them from the store.",
		func(s hub.Stats) uint64 { return s.PublishFailed })
	counter("hubbub_broker_publish_dropped_total", "Events dropped because the queue to the broker was full; the other nodes heal them from the store.",
		func(s hub.Stats) uint64 { return s.PublishDropped })
	counter("hubbub_broker_malformed_total", "Broker payloads that were not hubbub envelopes.",
		func(s hub.Stats) uint64 { return s.Malformed })
	counter("hubbub_stale_messages_total", "Message events not delivered because the room already had their sequence (from the store or the other path).",
		func(s hub.Stats) uint64 { return s.Stale })
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hubbub_broker_queue", Help: "Events waiting to be published to the broker.",
	}, func() float64 { return float64(h.Stats().PublishQueue) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hubbub_history_recent_bytes", Help: "Bytes of the latest messages rooms keep in memory for history (--recent-bytes bounds them).",
	}, func() float64 { return float64(h.Stats().RecentKept) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hubbub_delivery_backlog", Help: "Room events committed or received and not yet handed to their local members (the hub's shard queues).",
	}, func() float64 { return float64(h.Stats().Backlog) }))
}
