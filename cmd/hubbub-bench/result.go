package main

import (
	"errors"
	"fmt"

	"github.com/hubbub-chat/hubbub/protocol"
)

// Result is what a run measured. Counts of deliveries are of this run's
// messages only (their bodies carry the run id).
type Result struct {
	Target   string `json:"target"`
	Workload string `json:"workload"`
	// URL is --url as given (several nodes comma separated), and
	// PublisherURL --publisher-url; Nodes says who dialled which node.
	URL          string  `json:"url"`
	PublisherURL string  `json:"publisher_url,omitempty"`
	Room         string  `json:"room"`
	Clients      int     `json:"clients"`
	Publishers   int     `json:"publishers"`
	Rate         float64 `json:"rate"`
	Duration     float64 `json:"duration_seconds"`
	Rooms        int     `json:"rooms"`

	Connected         int     `json:"connected"`
	ConnectErrors     int     `json:"connect_errors"`
	FirstConnectError string  `json:"first_connect_error,omitempty"`
	ConnectSeconds    float64 `json:"connect_seconds"`
	NoFileLimit       uint64  `json:"nofile_limit"`
	// ConnectsPerSec is Connected over ConnectSeconds. ConnectServerCPU
	// is the server's CPU time from the first dial until the clients went
	// quiet (the connect phase and the settle after it), in seconds; and
	// per connected client, in microseconds.
	ConnectsPerSec     float64 `json:"connects_per_sec"`
	ConnectServerCPU   float64 `json:"connect_server_cpu_seconds,omitempty"`
	ServerCPUPerConnUs float64 `json:"server_cpu_per_conn_us,omitempty"`
	// Held is how long the idle workload held its connections before it
	// read the server's RSS, in seconds.
	Held float64 `json:"held_seconds,omitempty"`

	Sent       int64            `json:"sent"`
	Acked      int64            `json:"acked"`
	SendErrors map[string]int64 `json:"send_errors,omitempty"` // error code (or "write") → count

	// Expected is the deliveries owed: every client connected to a room,
	// the sender included, receives every acknowledged message of that
	// room (Acked × Connected with one room). On a target that does not
	// acknowledge sends, a message counts as acknowledged once written. Received counts the
	// deliveries of acknowledged messages, Loss = Expected − Received.
	// ReceivedUnacked counts deliveries of messages whose ack had not
	// arrived when the run ended.
	Expected        int64 `json:"expected"`
	Received        int64 `json:"received"`
	Loss            int64 `json:"loss"`
	ReceivedUnacked int64 `json:"received_unacked"`
	// DeliveriesPerSec is all deliveries over the time from the first
	// send to the last delivery; OfferedPerSec is Expected over Duration.
	DeliveriesPerSec float64 `json:"deliveries_per_sec"`
	OfferedPerSec    float64 `json:"offered_per_sec"`
	// AckedPerSec is Acked over the time from the first send to the
	// last ack.
	AckedPerSec float64 `json:"acked_per_sec,omitempty"`
	Drained     bool    `json:"drained"` // everything arrived before the drain timeout

	// Gaps and Duplicates are counted by room sequence on hubbub; on the
	// peers, which number nothing, by each publisher's order (a message
	// skipped; a message seen again or out of order).
	Gaps       int64 `json:"seq_gaps"`       // missing room seqs, summed over receivers
	Duplicates int64 `json:"seq_duplicates"` // seqs seen twice (or going back)
	Foreign    int64 `json:"foreign"`        // room messages not from this run
	Presence   int64 `json:"presence_events"`
	// Undecodable counts server frames or objects the generator could
	// not read: a protocol mismatch with the target.
	Undecodable int64 `json:"undecodable,omitempty"`

	// Latency is from the publish (the body's timestamp, taken just
	// before the write) to the receipt of the frame; AckLatency to the
	// publisher's receipt of its ack. Milliseconds.
	LatencyP50 float64 `json:"latency_p50_ms"`
	LatencyP99 float64 `json:"latency_p99_ms"`
	LatencyMax float64 `json:"latency_max_ms"`
	AckP50     float64 `json:"ack_p50_ms"`
	AckP99     float64 `json:"ack_p99_ms"`

	// Server memory (VmRSS, KiB): before the first connection, when all
	// are connected and idle, and after the drain. RSSPerConn is
	// (Idle − Before) / Connected.
	RSSBefore  int64   `json:"rss_before_kib,omitempty"`
	RSSIdle    int64   `json:"rss_idle_kib,omitempty"`
	RSSEnd     int64   `json:"rss_end_kib,omitempty"`
	RSSPerConn float64 `json:"rss_per_conn_kib,omitempty"`
	// From the server's Go runtime metrics on /metrics, when it has them:
	// the growth per connection, between the same two moments, of its
	// heap and stacks in use (KiB) and of its goroutines.
	HeapPerConn       float64 `json:"heap_per_conn_kib,omitempty"`
	StackPerConn      float64 `json:"stack_per_conn_kib,omitempty"`
	GoroutinesPerConn float64 `json:"goroutines_per_conn,omitempty"`
	// CPU seconds used in the Window from the first send to the end of
	// the drain: by the server and by this generator (user+system), in
	// interrupts (charged to no process; on loopback much of TCP's work),
	// and by the whole machine, all CPUs together. OtherCPU is the rest:
	// other processes, so that a busy neighbour shows.
	Window     float64 `json:"window_seconds"`
	ServerCPU  float64 `json:"server_cpu_seconds,omitempty"`
	BenchCPU   float64 `json:"bench_cpu_seconds"`
	IRQCPU     float64 `json:"irq_cpu_seconds"`
	MachineCPU float64 `json:"machine_cpu_seconds"`
	OtherCPU   float64 `json:"other_cpu_seconds"`
	// ServerCPUPerDeliveryUs is ServerCPU over all deliveries, in
	// microseconds.
	ServerCPUPerDeliveryUs float64 `json:"server_cpu_per_delivery_us,omitempty"`

	// CloseCodes counts connections the server ended, by close code; 1006
	// means the socket ended without a close frame.
	CloseCodes map[int]int64 `json:"close_codes,omitempty"`

	// Resume is whether clients closed as slow consumers (4000) came back
	// and caught up from history (hubbub with --resume; see resume.go).
	// Resumes counts the connections they opened to do so, ResumedClients
	// the clients that did, ResumesMax the most by one client. Recovered
	// counts deliveries that came from history; they are in Received, and
	// their latency, from the publish, in the latency figures. Overlaps
	// counts copies dropped at the seam between history and the live
	// stream: a message received both ways, which is not a duplicate.
	// Resent counts sends written again, with their cmid, on a new
	// connection because the old one took their ack with it.
	// ResumeP50 and ResumeMax are the time from a close to caught up,
	// milliseconds. ResumeFailures counts clients that gave up after
	// repeated failed attempts, ResumeErrors the failed attempts by cause.
	Resume         bool             `json:"resume"`
	Resumes        int64            `json:"resumes"`
	ResumedClients int              `json:"resumed_clients"`
	ResumesMax     int64            `json:"resumes_per_client_max"`
	Recovered      int64            `json:"recovered_from_history"`
	Overlaps       int64            `json:"seam_overlaps"`
	Resent         int64            `json:"resent"`
	ResumeP50      float64          `json:"resume_p50_ms"`
	ResumeMax      float64          `json:"resume_max_ms"`
	ResumeFailures int64            `json:"resume_failures,omitempty"`
	ResumeErrors   map[string]int64 `json:"resume_errors,omitempty"`

	// Nodes are the distinct URLs the clients dialled, in order of
	// mention (--url's, then --publisher-url), each with the clients and
	// publishers assigned to it, those connected, and the deliveries its
	// clients received with their latency. With publishers on one node,
	// the others' figures are cross-node delivery.
	Nodes []NodeResult `json:"nodes"`
}

// Check returns an error describing what the run broke of hubbub's
// promises, or nil. Without Resume, loss is excused when the server closed
// clients as slow consumers, which the protocol allows (a real client
// resumes from history). With it, the clients did resume: nothing may be
// missing, and no client may have given up.
func (r *Result) Check() error {
	var errs []error
	if r.Connected < r.Clients {
		errs = append(errs, fmt.Errorf("%d of %d clients connected", r.Connected, r.Clients))
	}
	if r.Gaps > 0 || r.Duplicates > 0 {
		errs = append(errs, fmt.Errorf("%d seq gaps and %d duplicates seen by receivers", r.Gaps, r.Duplicates))
	}
	slow := r.CloseCodes[protocol.CloseSlowConsumer]
	switch {
	case r.Loss > 0 && r.Resume:
		errs = append(errs, fmt.Errorf("lost %d of %d deliveries although clients resume (%d slow-consumer closes)", r.Loss, r.Expected, slow))
	case r.Loss > 0 && slow == 0:
		errs = append(errs, fmt.Errorf("lost %d of %d deliveries with no slow-consumer close", r.Loss, r.Expected))
	}
	if r.ResumeFailures > 0 {
		errs = append(errs, fmt.Errorf("%d clients gave up resuming", r.ResumeFailures))
	}
	var sendErrs int64
	for _, n := range r.SendErrors {
		sendErrs += n
	}
	// Closes excuse unanswered sends (their acks went with the
	// connection), except slow-consumer closes when the publishers resume
	// and resend.
	excused := len(r.CloseCodes) > 0
	if r.Resume {
		excused = len(r.CloseCodes) > 1 || len(r.CloseCodes) == 1 && slow == 0
	}
	if missing := r.Sent - r.Acked - sendErrs; missing > 0 && !excused {
		errs = append(errs, fmt.Errorf("%d sends never answered", missing))
	}
	return errors.Join(errs...)
}
