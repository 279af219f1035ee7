package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// slot is the fate of one message of the run.
type slot struct {
	sentAt   atomic.Int64 // Unix nanoseconds of the publish; 0 before
	acked    atomic.Bool
	received atomic.Int32 // receivers it reached
}

// bench is the state of one run, shared by its clients.
type bench struct {
	cfg    Config  // immutable after Run starts
	runID  string  // immutable; prefixes names, bodies and cmids
	token  string  // immutable: the shared account's session token (SharedName on hubbub), or ""
	peer   peer    // immutable: the target's protocol
	layout *layout // immutable: rooms, creators, publishers, nodes
	nodes  []*node // immutable slice: per node, by layout.nodes' index

	connected   atomic.Int64
	members     []atomic.Int64 // connected clients by room index
	sent, acked atomic.Int64
	lastAck     atomic.Int64 // Unix nanoseconds of the latest ack
	gaps        atomic.Int64
	duplicates  atomic.Int64
	foreign     atomic.Int64
	presence    atomic.Int64
	undecodable atomic.Int64
	otherEvents atomic.Int64
	latency     histogram
	ackLatency  histogram
	// Resumes (resume.go): connections opened after a slow-consumer
	// close, deliveries recovered from history, seam copies dropped,
	// sends resent, clients that gave up, and the time from a close to
	// caught up.
	resumeCount  atomic.Int64
	recovered    atomic.Int64
	overlaps     atomic.Int64
	resent       atomic.Int64
	resumeFailed atomic.Int64
	resumeTime   histogram
	slots        []slot // one per message of the run, by slot number

	mu            sync.Mutex // guards the fields below
	clients       []*client  // connected, in connection order
	closeCodes    map[int]int64
	sendErrors    map[string]int64
	resumeErrors  map[string]int64 // failed resume attempts by cause
	connectErrors int
	firstConnErr  error
}

func (b *bench) closedBy(code int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closeCodes[code]++
}

func (b *bench) resumeErr(cause string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.resumeErrors[cause]++
}

func (b *bench) sendErr(code string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sendErrors[code]++
}

// ack records the server's acknowledgement, read at now, of message slot.
func (b *bench) ack(slot int, now time.Time) {
	s := &b.slots[slot]
	if s.acked.Swap(true) {
		return // a second ack of one send: not news
	}
	b.acked.Add(1)
	b.lastAck.Store(now.UnixNano())
	if at := s.sentAt.Load(); at != 0 {
		b.ackLatency.record(now.Sub(time.Unix(0, at)))
	}
}

// ackUnanswered counts message slot as acknowledged by a target that
// never answers a send: it is expected wherever it was written.
func (b *bench) ackUnanswered(slot int) {
	if !b.slots[slot].acked.Swap(true) {
		b.acked.Add(1)
	}
}

func (b *bench) connectFailed(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.connectErrors++
	if b.firstConnErr == nil {
		b.firstConnErr = err
	}
}

func (b *bench) snapshot() []*client {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.clients)
}

// totals sums the per-client counters: frames read, and deliveries of the
// run's messages.
func (b *bench) totals() (frames, received int64) {
	for _, c := range b.snapshot() {
		frames += c.frames.Load()
		received += c.received.Load()
	}
	return frames, received
}

// fates sums the slots: messages acknowledged, the deliveries they are
// owed (one per client connected to their room), and deliveries of
// acknowledged and of unacknowledged messages.
func (b *bench) fates() (acked, expected, received, unacked int64) {
	for i := range b.slots {
		s := &b.slots[i]
		n := int64(s.received.Load())
		if s.acked.Load() {
			acked++
			expected += b.members[b.layout.roomOfSlot(i)].Load()
			received += n
		} else {
			unacked += n
		}
	}
	return acked, expected, received, unacked
}

// Run carries out cfg's workload against cfg's target: it connects
// cfg.Clients clients to their rooms, lets the publishers publish at
// cfg.Rate for cfg.Duration (fanout, rooms, durable) or holds the
// connections idle (idle), waits for the deliveries, closes every
// connection, and returns what it measured. An error means the run could
// not be carried out (bad config, a room could not be joined, ctx ended);
// the Result then holds what was measured so far. Whether the server kept
// its promises is Result.Check's business, not Run's.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg.setDefaults()
	res := Result{
		Target: cfg.Target, Workload: cfg.Workload,
		URL: cfg.URL, PublisherURL: cfg.PublisherURL, Room: cfg.Room, Clients: cfg.Clients, Publishers: cfg.Publishers,
		Rate: cfg.Rate, Duration: cfg.Duration.Seconds(),
		Resume: cfg.Resume && cfg.Target == targetHubbub,
	}
	if err := cfg.validate(); err != nil {
		return res, err
	}
	if !publishes(cfg.Workload) {
		res.Publishers, res.Rate, res.Duration = 0, 0, 0
	}
	limit, err := raiseNoFile()
	if err != nil {
		return res, fmt.Errorf("open-file limit: %w", err)
	}
	res.NoFileLimit = limit
	if need := uint64(cfg.Clients) + 64; need > limit {
		return res, fmt.Errorf("%d clients need about %d open files; the limit is %d (raise the hard limit, or run several generators)", cfg.Clients, need, limit)
	}
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	lay := newLayout(&cfg)
	b := &bench{
		cfg:          cfg,
		runID:        "b" + hex.EncodeToString(id),
		peer:         peers[cfg.Target],
		layout:       lay,
		members:      make([]atomic.Int64, len(lay.rooms)),
		closeCodes:   make(map[int]int64),
		sendErrors:   make(map[string]int64),
		resumeErrors: make(map[string]int64),
		slots:        make([]slot, cfg.messages()),
		nodes:        newNodes(lay.nodes, lay.nodeOf, lay.publishers),
	}
	if publishes(cfg.Workload) {
		res.Publishers = len(lay.publishers)
	}
	res.Rooms = len(lay.rooms)
	defer b.closeAll()
	if cfg.SharedName && cfg.Target == targetHubbub {
		if b.token, err = registerAccount(ctx, b.nodes[0].url, b.runID); err != nil {
			return res, fmt.Errorf("--shared-name: %w", err)
		}
	}

	if cfg.ServerPID != 0 {
		if res.RSSBefore, err = readRSS(cfg.ServerPID); err != nil {
			return res, fmt.Errorf("server RSS: %w", err)
		}
	}
	// The server's Go runtime figures are per connection of one server:
	// they mean nothing when the clients are spread over several.
	scrape := func() (goStats, error) {
		if len(lay.nodes) != 1 {
			return goStats{}, errors.New("several nodes")
		}
		return scrapeGoStats(ctx, lay.nodes[0])
	}
	goBefore, goErr := scrape()
	stopProgress := b.startProgress()
	defer stopProgress()

	cpuStart := b.cpu()
	start := time.Now()
	err = b.connectAll(ctx)
	res.ConnectSeconds = time.Since(start).Seconds()
	res.Connected = int(b.connected.Load())
	b.mu.Lock()
	res.ConnectErrors = b.connectErrors
	if b.firstConnErr != nil {
		res.FirstConnectError = b.firstConnErr.Error()
	}
	b.mu.Unlock()
	if res.ConnectSeconds > 0 {
		res.ConnectsPerSec = float64(res.Connected) / res.ConnectSeconds
	}
	if err != nil {
		b.fill(&res)
		return res, err
	}
	if err := b.settle(ctx); err != nil {
		b.fill(&res)
		return res, err
	}
	if cpuSettled := b.cpu(); cfg.ServerPID != 0 && res.Connected > 0 {
		res.ConnectServerCPU = cpuSettled.server - cpuStart.server
		res.ServerCPUPerConnUs = res.ConnectServerCPU / float64(res.Connected) * 1e6
	}
	if cfg.Workload == workloadIdle {
		if err := sleepUntil(ctx, time.Now().Add(cfg.Hold)); err != nil {
			b.fill(&res)
			return res, err
		}
		res.Held = cfg.Hold.Seconds()
	}
	if cfg.ServerPID != 0 && res.Connected > 0 {
		if res.RSSIdle, err = readRSS(cfg.ServerPID); err != nil {
			return res, fmt.Errorf("server RSS: %w", err)
		}
		res.RSSPerConn = float64(res.RSSIdle-res.RSSBefore) / float64(res.Connected)
	}
	if goIdle, err := scrape(); goErr == nil && err == nil && res.Connected > 0 {
		n := float64(res.Connected)
		res.HeapPerConn = (goIdle.heapInuse - goBefore.heapInuse) / 1024 / n
		res.StackPerConn = (goIdle.stackInuse - goBefore.stackInuse) / 1024 / n
		res.GoroutinesPerConn = (goIdle.goroutines - goBefore.goroutines) / n
	}
	if !publishes(cfg.Workload) {
		b.fill(&res)
		res.Drained = true
		return res, ctx.Err()
	}

	cpu0 := b.cpu()
	sendStart := time.Now()
	b.publishAll(ctx, sendStart)
	res.Drained = b.drain(ctx)
	cpu1 := b.cpu()
	res.Window = time.Since(sendStart).Seconds()
	res.BenchCPU = cpu1.self - cpu0.self
	res.ServerCPU = cpu1.server - cpu0.server
	res.IRQCPU = cpu1.irq - cpu0.irq
	res.MachineCPU = cpu1.machine - cpu0.machine
	res.OtherCPU = max(0, res.MachineCPU-res.ServerCPU-res.BenchCPU-res.IRQCPU)
	if cfg.ServerPID != 0 {
		res.RSSEnd, _ = readRSS(cfg.ServerPID)
	}
	b.fill(&res)
	if all := res.Received + res.ReceivedUnacked; all > 0 {
		var last int64
		for _, c := range b.snapshot() {
			last = max(last, c.lastDelivery.Load())
		}
		if el := time.Unix(0, last).Sub(sendStart).Seconds(); el > 0 {
			res.DeliveriesPerSec = float64(all) / el
		}
		if cfg.ServerPID != 0 {
			res.ServerCPUPerDeliveryUs = res.ServerCPU / float64(all) * 1e6
		}
	}
	if el := time.Unix(0, b.lastAck.Load()).Sub(sendStart).Seconds(); res.Acked > 0 && el > 0 {
		res.AckedPerSec = float64(res.Acked) / el
	}
	if cfg.Duration > 0 {
		res.OfferedPerSec = float64(res.Expected) / cfg.Duration.Seconds()
	}
	return res, ctx.Err()
}

// fill copies the counters into res.
func (b *bench) fill(res *Result) {
	res.Sent = b.sent.Load()
	res.Acked, res.Expected, res.Received, res.ReceivedUnacked = b.fates()
	res.Loss = res.Expected - res.Received
	res.Gaps, res.Duplicates = b.gaps.Load(), b.duplicates.Load()
	res.Foreign, res.Presence = b.foreign.Load(), b.presence.Load()
	res.Undecodable = b.undecodable.Load()
	res.Nodes = nodeResults(b.nodes)
	res.LatencyP50 = ms(b.latency.quantile(0.50))
	res.LatencyP99 = ms(b.latency.quantile(0.99))
	res.LatencyMax = ms(time.Duration(b.latency.max.Load()))
	res.AckP50 = ms(b.ackLatency.quantile(0.50))
	res.AckP99 = ms(b.ackLatency.quantile(0.99))
	res.Resumes, res.Recovered, res.Overlaps = b.resumeCount.Load(), b.recovered.Load(), b.overlaps.Load()
	res.Resent, res.ResumeFailures = b.resent.Load(), b.resumeFailed.Load()
	res.ResumedClients, res.ResumesMax = 0, 0
	for _, c := range b.snapshot() {
		if n := c.resumes.Load(); n > 0 {
			res.ResumedClients++
			res.ResumesMax = max(res.ResumesMax, n)
		}
	}
	res.ResumeP50 = ms(b.resumeTime.quantile(0.50))
	res.ResumeMax = ms(time.Duration(b.resumeTime.max.Load()))
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.closeCodes) > 0 {
		res.CloseCodes = maps.Clone(b.closeCodes)
	}
	if len(b.sendErrors) > 0 {
		res.SendErrors = maps.Clone(b.sendErrors)
	}
	if len(b.resumeErrors) > 0 {
		res.ResumeErrors = maps.Clone(b.resumeErrors)
	}
}

// cpuTimes are CPU seconds used so far.
type cpuTimes struct{ self, server, irq, machine float64 }

// cpu reads the CPU time of this process, the server (0 without its pid),
// interrupts and the whole machine. Errors read as 0: these figures
// explain a result, they are not the result.
func (b *bench) cpu() cpuTimes {
	var t cpuTimes
	t.self, _ = readCPU(0)
	if b.cfg.ServerPID != 0 {
		t.server, _ = readCPU(b.cfg.ServerPID)
	}
	t.machine, t.irq, _ = readMachineCPU()
	return t
}

// connectAll opens the clients in the layout's order: the first alone
// (it fails fast when there is no server), then the other rooms' creators,
// then everyone else, through a pool of cfg.Workers, starting at most
// cfg.Ramp per second. A client that fails is counted and skipped; only a
// failure of the first client or the end of ctx is an error.
func (b *bench) connectAll(ctx context.Context) error {
	order := b.layout.order
	first := order[0]
	c0, err := b.dial(ctx, first)
	if err != nil {
		b.connectFailed(err)
		return fmt.Errorf("first client: %w", err)
	}
	b.added(c0)
	creators := len(b.layout.rooms)
	start := time.Now()
	b.connectPool(ctx, order[1:creators], start, 0)
	b.connectPool(ctx, order[creators:], start, creators-1)
	return ctx.Err()
}

// connectPool dials the clients idxs through cfg.Workers goroutines; the
// i-th is due at start + (skip+i)/cfg.Ramp.
func (b *bench) connectPool(ctx context.Context, idxs []int, start time.Time, skip int) {
	if len(idxs) == 0 {
		return
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(b.cfg.Workers, len(idxs)) {
		wg.Go(func() {
			for i := range jobs {
				c, err := b.dial(ctx, i)
				if err != nil {
					if ctx.Err() == nil {
						b.connectFailed(fmt.Errorf("client %d: %w", i, err))
					}
					continue
				}
				b.added(c)
			}
		})
	}
	interval := float64(time.Second) / b.cfg.Ramp
feed:
	for n, i := range idxs {
		if err := sleepUntil(ctx, start.Add(time.Duration(float64(skip+n)*interval))); err != nil {
			break
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
}

func (b *bench) added(c *client) {
	b.mu.Lock()
	b.clients = append(b.clients, c)
	b.mu.Unlock()
	b.members[c.room].Add(1)
	c.node.connected.Add(1)
	b.connected.Add(1)
}

// settle waits until no client has read a frame for cfg.Settle (the join
// events of the connect phase are delivered), at most a minute.
func (b *bench) settle(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	last, _ := b.totals()
	quietSince := time.Now()
	for time.Since(quietSince) < b.cfg.Settle && time.Now().Before(deadline) {
		if err := sleepUntil(ctx, time.Now().Add(50*time.Millisecond)); err != nil {
			return err
		}
		if n, _ := b.totals(); n != last {
			last, quietSince = n, time.Now()
		}
	}
	return nil
}

// publishAll has the layout's publishers send Rate × Duration messages
// between them, open loop: message slot s is due at start + s/Rate, and
// publisher p takes the slots p, p+P, p+2P, ... A publisher that falls
// behind sends at once until it catches up. A publisher that did not
// connect leaves its slots unsent. When the run resumes, a publisher whose
// connection is gone waits for the next one to join and sends the slot
// there; otherwise it stops, leaving the rest of its slots unsent.
func (b *bench) publishAll(ctx context.Context, start time.Time) {
	byIdx := make(map[int]*client)
	for _, c := range b.snapshot() {
		byIdx[c.idx] = c
	}
	pubs := b.layout.publishers
	total := len(b.slots)
	interval := float64(time.Second) / b.cfg.Rate
	var wg sync.WaitGroup
	for p, idx := range pubs {
		c := byIdx[idx]
		if c == nil {
			continue
		}
		wg.Go(func() {
			gen, err := c.waitUp(ctx, 1)
			if err != nil {
				return
			}
			for n := p; n < total; n += len(pubs) {
				if err := sleepUntil(ctx, start.Add(time.Duration(float64(n)*interval))); err != nil {
					return
				}
				at := time.Now()
				b.slots[n].sentAt.Store(at.UnixNano())
				for {
					err := b.peer.publish(c, gen, n, at)
					if err == nil {
						break
					}
					if b.resumes() {
						gen, err = c.waitUp(ctx, gen+1)
					}
					if err != nil {
						b.sendErr("write")
						return // the connection is gone; its reader records why
					}
				}
				b.sent.Add(1)
			}
		})
	}
	wg.Wait()
}

// drain waits until every send is answered and every acknowledged message
// has reached every client connected to its room, or nothing has arrived
// for cfg.Drain, or every client is gone. It reports whether everything
// arrived.
func (b *bench) drain(ctx context.Context) bool {
	clients := b.snapshot()
	var lastAcks, lastReceived int64
	lastProgress := time.Now()
	for {
		b.mu.Lock()
		var errs int64
		for _, n := range b.sendErrors {
			errs += n
		}
		b.mu.Unlock()
		answers := b.acked.Load() + errs
		_, expected, received, unacked := b.fates()
		if answers >= b.sent.Load() && received >= expected {
			return true
		}
		if answers != lastAcks || received+unacked != lastReceived {
			lastAcks, lastReceived, lastProgress = answers, received+unacked, time.Now()
		}
		alive := 0
		for _, c := range clients {
			select {
			case <-c.done:
			default:
				alive++
			}
		}
		if alive == 0 || time.Since(lastProgress) > b.cfg.Drain {
			return false
		}
		if sleepUntil(ctx, time.Now().Add(20*time.Millisecond)) != nil {
			return false
		}
	}
}

// closeAll closes every client with 1000 and waits for their read
// goroutines, cutting the sockets that have not ended after 3 seconds.
func (b *bench) closeAll() {
	clients := b.snapshot()
	var wg sync.WaitGroup
	// Close frames from a few goroutines: 5000 sequential writes are slow
	// when the server is busy with the leave events they cause.
	for part := range slices.Chunk(clients, max(1, len(clients)/8+1)) {
		wg.Go(func() {
			for _, c := range part {
				c.close()
			}
		})
	}
	wg.Wait()
	cut := time.After(3 * time.Second)
	for _, c := range clients {
		select {
		case <-c.done:
		case <-cut:
			c.closing.Store(true)
			c.conn().Close() // the read goroutine ends with an error
			<-c.done
		}
	}
}

// startProgress writes a progress line every second until the returned
// stop is called.
func (b *bench) startProgress() (stop func()) {
	if b.cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		start := time.Now()
		var prev int64
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				_, received := b.totals()
				b.mu.Lock()
				var closed int64
				for _, n := range b.closeCodes {
					closed += n
				}
				b.mu.Unlock()
				fmt.Fprintf(b.cfg.Progress, "hubbub-bench: %3.0fs connected %d/%d sent %d acked %d received %d (%d/s) presence %d closed-by-server %d resumed %d recovered %d\n",
					now.Sub(start).Seconds(), b.connected.Load(), b.cfg.Clients, b.sent.Load(), b.acked.Load(),
					received, received-prev, b.presence.Load(), closed, b.resumeCount.Load(), b.recovered.Load())
				prev = received
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// sleepUntil sleeps until t or the end of ctx, whichever is first.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
