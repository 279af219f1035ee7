package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// slot is the fate of one message of the run.
type slot struct {
	acked    atomic.Bool
	received atomic.Int32 // receivers it reached
}

// bench is the state of one run, shared by its clients.
type bench struct {
	cfg   Config // immutable after Run starts
	runID string // immutable; prefixes names, bodies and cmids

	connected   atomic.Int64
	sent, acked atomic.Int64
	gaps        atomic.Int64
	duplicates  atomic.Int64
	foreign     atomic.Int64
	presence    atomic.Int64
	undecodable atomic.Int64
	otherEvents atomic.Int64
	latency     histogram
	ackLatency  histogram
	slots       []slot // one per message of the run, by slot number

	mu            sync.Mutex // guards the fields below
	clients       []*client  // connected, in connection order
	closeCodes    map[int]int64
	sendErrors    map[string]int64
	connectErrors int
	firstConnErr  error
}

func (b *bench) closedBy(code int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closeCodes[code]++
}

func (b *bench) sendErr(code string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sendErrors[code]++
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

// fates sums the slots: messages acknowledged, and deliveries of
// acknowledged and of unacknowledged messages.
func (b *bench) fates() (acked, received, unacked int64) {
	for i := range b.slots {
		s := &b.slots[i]
		n := int64(s.received.Load())
		if s.acked.Load() {
			acked++
			received += n
		} else {
			unacked += n
		}
	}
	return acked, received, unacked
}

// Run connects cfg.Clients clients to cfg.Room, lets cfg.Publishers of them
// publish at cfg.Rate for cfg.Duration, waits for the deliveries, closes
// every connection, and returns what it measured. An error means the run
// could not be carried out (bad config, the room could not be joined, ctx
// ended); the Result then holds what was measured so far. Whether the
// server kept its promises is Result.Check's business, not Run's.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg.setDefaults()
	res := Result{
		URL: cfg.URL, Room: cfg.Room, Clients: cfg.Clients, Publishers: cfg.Publishers,
		Rate: cfg.Rate, Duration: cfg.Duration.Seconds(),
	}
	if err := cfg.validate(); err != nil {
		return res, err
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
	b := &bench{
		cfg:        cfg,
		runID:      "b" + hex.EncodeToString(id),
		closeCodes: make(map[int]int64),
		sendErrors: make(map[string]int64),
		slots:      make([]slot, cfg.messages()),
	}
	defer b.closeAll()

	if cfg.ServerPID != 0 {
		if res.RSSBefore, err = readRSS(cfg.ServerPID); err != nil {
			return res, fmt.Errorf("server RSS: %w", err)
		}
	}
	goBefore, goErr := scrapeGoStats(ctx, cfg.URL)
	stopProgress := b.startProgress()
	defer stopProgress()

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
	if err != nil {
		b.fill(&res)
		return res, err
	}
	if err := b.settle(ctx); err != nil {
		b.fill(&res)
		return res, err
	}
	if cfg.ServerPID != 0 && res.Connected > 0 {
		if res.RSSIdle, err = readRSS(cfg.ServerPID); err != nil {
			return res, fmt.Errorf("server RSS: %w", err)
		}
		res.RSSPerConn = float64(res.RSSIdle-res.RSSBefore) / float64(res.Connected)
	}
	if goIdle, err := scrapeGoStats(ctx, cfg.URL); goErr == nil && err == nil && res.Connected > 0 {
		n := float64(res.Connected)
		res.HeapPerConn = (goIdle.heapInuse - goBefore.heapInuse) / 1024 / n
		res.StackPerConn = (goIdle.stackInuse - goBefore.stackInuse) / 1024 / n
		res.GoroutinesPerConn = (goIdle.goroutines - goBefore.goroutines) / n
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
	if res.Received+res.ReceivedUnacked > 0 {
		var last int64
		for _, c := range b.snapshot() {
			last = max(last, c.lastDelivery.Load())
		}
		if el := time.Unix(0, last).Sub(sendStart).Seconds(); el > 0 {
			res.DeliveriesPerSec = float64(res.Received+res.ReceivedUnacked) / el
		}
	}
	if cfg.Duration > 0 {
		res.OfferedPerSec = float64(res.Expected) / cfg.Duration.Seconds()
	}
	return res, ctx.Err()
}

// fill copies the counters into res.
func (b *bench) fill(res *Result) {
	res.Sent = b.sent.Load()
	res.Acked, res.Received, res.ReceivedUnacked = b.fates()
	res.Expected = res.Acked * int64(res.Connected)
	res.Loss = res.Expected - res.Received
	res.Gaps, res.Duplicates = b.gaps.Load(), b.duplicates.Load()
	res.Foreign, res.Presence = b.foreign.Load(), b.presence.Load()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	res.LatencyP50 = ms(b.latency.quantile(0.50))
	res.LatencyP99 = ms(b.latency.quantile(0.99))
	res.LatencyMax = ms(time.Duration(b.latency.max.Load()))
	res.AckP50 = ms(b.ackLatency.quantile(0.50))
	res.AckP99 = ms(b.ackLatency.quantile(0.99))
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.closeCodes) > 0 {
		res.CloseCodes = maps.Clone(b.closeCodes)
	}
	if len(b.sendErrors) > 0 {
		res.SendErrors = maps.Clone(b.sendErrors)
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

// connectAll opens client 0 (which creates the room), then the others
// through a pool of cfg.Workers, starting cfg.Ramp per second. A client
// that fails is counted and skipped; only a failure of client 0 or the end
// of ctx is an error.
func (b *bench) connectAll(ctx context.Context) error {
	c0, err := b.dial(ctx, 0)
	if err != nil {
		b.connectFailed(err)
		return fmt.Errorf("first client: %w", err)
	}
	b.added(c0)

	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(b.cfg.Workers, b.cfg.Clients-1) {
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
	start := time.Now()
	interval := float64(time.Second) / b.cfg.Ramp
feed:
	for i := 1; i < b.cfg.Clients; i++ {
		if err := sleepUntil(ctx, start.Add(time.Duration(float64(i-1)*interval))); err != nil {
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
	return ctx.Err()
}

func (b *bench) added(c *client) {
	b.mu.Lock()
	b.clients = append(b.clients, c)
	b.mu.Unlock()
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

// publishAll has the first cfg.Publishers clients send Rate × Duration
// messages between them, open loop: message slot s is due at start +
// s/Rate, and publisher p takes the slots p, p+P, p+2P, ... A publisher
// that falls behind sends at once until it catches up.
func (b *bench) publishAll(ctx context.Context, start time.Time) {
	clients := b.snapshot()
	pubs := clients[:min(b.cfg.Publishers, len(clients))]
	total := len(b.slots)
	interval := float64(time.Second) / b.cfg.Rate
	var wg sync.WaitGroup
	for p, c := range pubs {
		wg.Go(func() {
			for n := p; n < total; n += len(pubs) {
				if err := sleepUntil(ctx, start.Add(time.Duration(float64(n)*interval))); err != nil {
					return
				}
				if err := c.publish(n); err != nil {
					b.sendErr("write")
					return // the connection is gone; its reader records why
				}
				b.sent.Add(1)
			}
		})
	}
	wg.Wait()
}

// drain waits until every send is answered and every acknowledged message
// has reached every connected client, or nothing has arrived for
// cfg.Drain, or every client is gone. It reports whether everything
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
		acked, received, unacked := b.fates()
		if answers >= b.sent.Load() && received >= acked*int64(len(clients)) {
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
			c.ws.Close() // the read goroutine ends with an error
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
				fmt.Fprintf(b.cfg.Progress, "hubbub-bench: %3.0fs connected %d/%d sent %d acked %d received %d (%d/s) presence %d closed-by-server %d\n",
					now.Sub(start).Seconds(), b.connected.Load(), b.cfg.Clients, b.sent.Load(), b.acked.Load(),
					received, received-prev, b.presence.Load(), closed)
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
