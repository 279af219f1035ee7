package server

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

// Shutdown drains the server like a lame duck, in three steps:
//
//  1. At once /readyz answers 503, so that load balancers take the node out
//     of rotation, while everything else keeps serving, new WebSockets
//     included, for Config.DrainGrace: a balancer that has not probed yet
//     still finds a working node.
//  2. Then new upgrades are refused (503 with Retry-After) and the open
//     sockets are closed with 1012 (service restart), after what is queued
//     for each, in random order spread evenly over Config.DrainWindow, so
//     their reconnects reach the other nodes as a trickle, not a wall.
//  3. It waits for the sockets to end, until ctx ends; then it cuts the
//     remaining ones. Finally it stops the committer (every send accepted
//     before is committed and acknowledged, if its socket is still there),
//     the background goroutines and the hub.
//
// If ctx ends during the grace or the window, Shutdown skips to closing
// every remaining socket at once, so it returns soon after ctx ends,
// with ctx's error. It does not close the Store or the Broker, which belong
// to the caller, nor the http.Server: call that server's Shutdown after this
// one, because http.Server.Shutdown neither closes nor waits for hijacked
// connections.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.shutdown(ctx, s.cfg.DrainGrace, s.cfg.DrainWindow)
}

// Close stops the server at once, as Shutdown does with no drain grace
// and no drain window: for a server whose listener never opened (hubbubd
// calls it when a listener fails at start), where a grace would only
// delay the exit. Sockets still open are closed with 1012 at once, and
// Close waits for them to end; the committer, the background goroutines
// and the hub stop as in Shutdown.
func (s *Server) Close() error {
	return s.shutdown(context.Background(), 0, 0)
}

// shutdown is Shutdown with the grace and the window given.
func (s *Server) shutdown(ctx context.Context, grace, window time.Duration) error {
	s.draining.Store(true)
	if grace > 0 || window > 0 {
		s.log.Info("draining", "grace", grace, "window", window)
	}
	if !sleepCtx(ctx, grace) {
		s.log.Warn("shutdown deadline reached during the drain grace")
	}

	s.mu.Lock()
	s.closing.Store(true) // under mu: run registers no connection after this
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	closeSpread(ctx, conns, window)

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		for _, c := range conns {
			c.cut()
		}
		<-done
	}
	if s.poller != nil {
		s.poller.close() // every connection has ended
	}
	s.readers.close()
	s.commit.stop()
	s.quitOnce.Do(func() { close(s.quit) })
	s.cancelDir() // before the wait: a directory note may start a goroutine
	s.bg.Wait()
	s.hub.Close() // after the committer: what it committed is published
	return err
}

// closeSpread closes conns with 1012 in random order, evenly spaced over
// window: the i-th of n at i·window/n after the start. When ctx ends, the
// rest are closed at once.
func closeSpread(ctx context.Context, conns []*conn, window time.Duration) {
	rand.Shuffle(len(conns), func(i, j int) { conns[i], conns[j] = conns[j], conns[i] })
	start := time.Now()
	for i, c := range conns {
		if window > 0 && ctx.Err() == nil {
			at := start.Add(window * time.Duration(i) / time.Duration(len(conns)))
			sleepCtx(ctx, time.Until(at))
		}
		c.close(protocol.CloseServiceRestart, "server restarting; reconnect")
	}
}

// sleepCtx waits for d or until ctx ends, and reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
