package server

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus series, on a registry of its own so
// that several servers in one process (tests) do not collide.
type metrics struct {
	reg            *prometheus.Registry
	conns          prometheus.Gauge
	upgradeRefused prometheus.Counter
	slowConsumers  *prometheus.CounterVec // by reason: size, age
	queueAge       prometheus.Histogram
	timeouts       prometheus.Counter
	parked         prometheus.Gauge
	badCommands    prometheus.Counter
	deliveries     prometheus.Counter
	frames         prometheus.Counter
	writesThrough  prometheus.Counter
	committed      prometheus.Counter
	duplicates     prometheus.Counter
	commitBatch    prometheus.Histogram
	commitSeconds  prometheus.Histogram
	thumbsWaiting  prometheus.Gauge
	thumbsSkipped  prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		conns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hubbub_connections", Help: "Open WebSocket connections."}),
		upgradeRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hubbub_upgrades_refused_total", Help: "WebSocket handshakes refused (origin, bad request)."}),
		slowConsumers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hubbub_slow_consumer_closes_total",
			Help: "Connections closed as slow consumers, by reason: size (send queue full), age (oldest queued message too old) or lag (the node fell behind on one of its rooms)."},
			[]string{"reason"}),
		queueAge: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hubbub_send_queue_age_seconds", Help: "Age of the oldest message in each batch the write loop takes from a send queue.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}),
		timeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hubbub_read_timeouts_total", Help: "Connections dropped because the peer went silent."}),
		parked: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hubbub_connections_parked", Help: "Open connections idle without a read goroutine (waiting in epoll)."}),
		badCommands: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hubbub_bad_commands_total", Help: "Client commands refused by the decoder."}),
		deliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hubbub_deliveries_total", Help: "Broadcast events queued to connections."}),
		frames: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hubbub_frames_written_total", Help: "Data frames written (one frame may carry many events)."}),
		writesThrough: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hubbub_frames_written_through_total", Help: "Data frames written straight to an idle socket by the goroutine that had them, without the write loop (counted in hubbub_frames_written_total too)."}),
		committed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hubbub_messages_committed_total", Help: "Messages committed to the store."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hubbub_duplicate_sends_total", Help: "Sends answered from an earlier commit (same cmid)."}),
		commitBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hubbub_commit_batch_size", Help: "Messages per store transaction.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hubbub_commit_seconds", Help: "Duration of one store transaction.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}),
		thumbsWaiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hubbub_thumbnails_waiting", Help: "Complete image uploads waiting for their turn to be decoded for a thumbnail."}),
		thumbsSkipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hubbub_thumbnails_skipped_total", Help: "Images kept without a thumbnail because no turn to decode them came in time."}),
	}
	m.reg.MustRegister(m.conns, m.upgradeRefused, m.slowConsumers, m.queueAge, m.timeouts, m.parked, m.badCommands,
		m.deliveries, m.frames, m.writesThrough, m.committed, m.duplicates, m.commitBatch, m.commitSeconds, m.thumbsWaiting, m.thumbsSkipped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, reason := range []string{slowBySize, slowByAge} {
		m.slowConsumers.WithLabelValues(reason) // exported at 0 before the first close
	}
	return m
}

func deadlineIn(d time.Duration) time.Time { return time.Now().Add(d) }
