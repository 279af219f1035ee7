package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/protocol"
)

// seqs returns 1..n.
func seqs(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

func seqsOf(ms []client.MessageEvent) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Message.Seq
	}
	return out
}

// allHistory pages through room from the start.
func allHistory(t *testing.T, c *client.Client, room string) []protocol.Message {
	t.Helper()
	var all []protocol.Message
	after := int64(0)
	for {
		page, more, err := c.HistoryAfter(t.Context(), room, after, protocol.MaxHistoryLimit)
		if err != nil {
			t.Fatalf("HistoryAfter(%s, %d): %v", room, after, err)
		}
		all = append(all, page...)
		if !more || len(page) == 0 {
			return all
		}
		after = page[len(page)-1].Seq
	}
}

// TestResumeAcrossDrops cuts every connection several times and restarts
// the server while one client sends 200 messages: the other client (and
// the sender, which is in the room too) sees every acknowledged message
// exactly once, in order, and the room holds each message once.
func TestResumeAcrossDrops(t *testing.T) {
	s := startServer(t, server.Config{})
	sender, senderEvents := dial(t, s, fastOptions("sender"))
	receiver, receiverEvents := dial(t, s, fastOptions("receiver"))
	ctx := t.Context()
	if _, err := sender.Create(ctx, "stream", ""); err != nil {
		t.Fatalf("Create: %v", err)
	}
	for _, c := range []*client.Client{sender, receiver} {
		if _, _, err := c.Join(ctx, "stream"); err != nil {
			t.Fatalf("Join: %v", err)
		}
	}

	const n = 200
	var (
		mu       sync.Mutex
		acked    []int64
		progress atomic.Int64
		sendErr  error
		done     = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := range n {
			ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			m, err := sender.Send(ctx, "stream", fmt.Sprintf("message %d", i+1))
			cancel()
			if err != nil {
				mu.Lock()
				sendErr = fmt.Errorf("Send %d: %w", i+1, err)
				mu.Unlock()
				return
			}
			mu.Lock()
			acked = append(acked, m.Seq)
			mu.Unlock()
			progress.Add(1)
		}
	}()

	waitProgress := func(at int64) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for progress.Load() < at {
			select {
			case <-done:
				return
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("sender stuck at %d messages, waiting for %d", progress.Load(), at)
			}
			time.Sleep(time.Millisecond)
		}
	}
	steps := []struct {
		at int64
		do func()
	}{
		{25, s.killConns},
		{50, s.killConns},
		{75, func() { s.restart(t) }},
		{100, s.killConns},
		{125, s.killConns},
		{150, func() { s.restart(t) }},
		{175, s.killConns},
	}
	for i, step := range steps {
		waitProgress(step.at)
		step.do()
		// Both clients are back before the next blow, so each one counts.
		for _, rec := range []*recorder{senderEvents, receiverEvents} {
			want := i + 2 // the first connection, and one per step so far
			rec.wait(t, 10*time.Second, fmt.Sprintf("connection %d", want), func(evs []client.Event) bool {
				return connectedCount(evs) >= want
			})
		}
	}
	<-done
	if sendErr != nil {
		t.Fatal(sendErr)
	}
	if diff := cmp.Diff(seqs(n), acked); diff != "" {
		t.Fatalf("acknowledged seqs mismatch (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name string
		rec  *recorder
	}{
		{"receiver", receiverEvents},
		{"sender", senderEvents},
	} {
		tc.rec.waitSeq(t, "stream", n)
		got := tc.rec.messages("stream")
		if diff := cmp.Diff(acked, seqsOf(got)); diff != "" {
			t.Errorf("%s's seqs mismatch (-want +got):\n%s", tc.name, diff)
		}
		for _, m := range got {
			if want := fmt.Sprintf("message %d", m.Message.Seq); m.Message.Body != want {
				t.Errorf("%s: message %d has body %q, want %q", tc.name, m.Message.Seq, m.Message.Body, want)
			}
		}
	}

	var stored []int64
	for _, m := range allHistory(t, receiver, "stream") {
		stored = append(stored, m.Seq)
	}
	if diff := cmp.Diff(seqs(n), stored); diff != "" {
		t.Errorf("stored seqs mismatch (-want +got):\n%s", diff)
	}

	// Every drop was noticed and the backoff started over after each good
	// connection: the attempt after a Connected is always 1.
	receiverEvents.mu.Lock()
	var states []client.StateEvent
	for _, ev := range receiverEvents.events {
		if st, ok := ev.(client.StateEvent); ok {
			states = append(states, st)
		}
	}
	receiverEvents.mu.Unlock()
	reconnects := 0
	for i, st := range states {
		if st.State == client.Connected {
			reconnects++
			if i+1 < len(states) && states[i+1].State == client.Reconnecting && states[i+1].Attempt != 1 {
				t.Errorf("the first reconnect attempt after a connection was number %d, want 1", states[i+1].Attempt)
			}
		}
	}
	if want := len(steps) + 1; reconnects != want {
		t.Errorf("receiver reported %d Connected states, want %d (the first and one per drop)", reconnects, want)
	}
}

// TestSendRetriedOnce loses the acknowledgement of a stored message: the
// client sends the command again after the reconnect, with the same cmid,
// the server answers with the first acknowledgement, and the room holds
// the message once.
func TestSendRetriedOnce(t *testing.T) {
	s := startServer(t, server.Config{})
	alice, aliceEvents := dial(t, s, fastOptions("alice"))
	aliceConn := s.lastConn()
	bob, _ := dial(t, s, fastOptions("bob"))
	ctx := t.Context()
	if _, err := alice.Create(ctx, "once", ""); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, _, err := alice.Join(ctx, "once"); err != nil {
		t.Fatalf("Join: %v", err)
	}

	// From now on alice hears nothing: the ack and the message event are lost.
	aliceConn.muted.Store(true)
	type sendResult struct {
		m   protocol.Message
		err error
	}
	res := make(chan sendResult, 1)
	go func() {
		m, err := alice.Send(ctx, "once", "exactly once")
		res <- sendResult{m, err}
	}()

	// Wait until the server has stored it, then cut alice's connection.
	var stored []protocol.Message
	deadline := time.Now().Add(10 * time.Second)
	for len(stored) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the message was never stored")
		}
		time.Sleep(5 * time.Millisecond)
		stored = allHistory(t, bob, "once")
	}
	select {
	case r := <-res:
		t.Fatalf("Send returned %+v, %v while its acknowledgement was being dropped", r.m, r.err)
	default:
	}
	aliceConn.Conn.Close()

	var r sendResult
	select {
	case r = <-res:
	case <-time.After(10 * time.Second):
		t.Fatal("Send did not return after the reconnect")
	}
	if r.err != nil {
		t.Fatalf("Send: %v", r.err)
	}
	if diff := cmp.Diff(stored[0], r.m); diff != "" {
		t.Errorf("Send's acknowledgement differs from the stored message (-want +got):\n%s", diff)
	}
	if got := s.counter(t, "hubbub_duplicate_sends_total"); got != 1 {
		t.Errorf("server answered %v resends from an earlier commit, want 1", got)
	}

	// One more message, so that anything delivered twice would show.
	second, err := alice.Send(ctx, "once", "and then another")
	if err != nil {
		t.Fatalf("second Send: %v", err)
	}
	aliceEvents.waitSeq(t, "once", second.Seq)
	want := []client.MessageEvent{{Message: r.m}, {Message: second}}
	if diff := cmp.Diff(want, aliceEvents.messages("once")); diff != "" {
		t.Errorf("alice's messages mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]protocol.Message{r.m, second}, allHistory(t, bob, "once")); diff != "" {
		t.Errorf("stored messages mismatch (-want +got):\n%s", diff)
	}
}

// TestSlowConsumerResumes lets a client's events pile up while the server
// keeps sending: the read loop stops, the server closes the connection as
// a slow consumer (4000), and once the caller reads again the client
// reconnects and resumes. Nothing is lost and nothing is repeated.
func TestSlowConsumerResumes(t *testing.T) {
	s := startServer(t, server.Config{SendQueueLen: 4})
	ctx := t.Context()
	sender, _ := dial(t, s, fastOptions("sender"))
	if _, err := sender.Create(ctx, "flood", ""); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, _, err := sender.Join(ctx, "flood"); err != nil {
		t.Fatalf("Join: %v", err)
	}

	// Small socket buffers, so that what the client does not read backs up
	// into the server's send queue quickly.
	opts := fastOptions("sleeper")
	opts.EventBuffer = 1
	opts.Dialer = &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			c.(*net.TCPConn).SetReadBuffer(4096)
		}
		return c, err
	}}
	sleeper, err := client.Dial(ctx, s.URL(), opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	joinDraining(t, sleeper, "flood")
	s.lastConn().Conn.(*net.TCPConn).SetWriteBuffer(4096)

	// The sleeper does not read its events while 100 messages of 1 KiB arrive.
	const n = 100
	body := string(slices.Repeat([]byte("x"), 1000))
	for i := range n {
		if _, err := sender.Send(ctx, "flood", fmt.Sprintf("%d %s", i+1, body)); err != nil {
			t.Fatalf("Send %d: %v", i+1, err)
		}
	}
	if got := s.counter(t, "hubbub_slow_consumer_closes_total"); got < 1 {
		t.Errorf("server closed %v slow consumers, want at least 1", got)
	}

	rec := record(sleeper)
	t.Cleanup(func() {
		sleeper.Close()
		<-rec.done
	})
	rec.waitSeq(t, "flood", n)
	if diff := cmp.Diff(seqs(n), seqsOf(rec.messages("flood"))); diff != "" {
		t.Errorf("seqs mismatch (-want +got):\n%s", diff)
	}
}

// TestCloseStopsEverything closes clients in every state: connected with
// an operation waiting, and reconnecting to a server that is gone. Close
// returns promptly, fails the waiting operation with ErrClosed, closes the
// events channel and leaves no goroutine behind.
func TestCloseStopsEverything(t *testing.T) {
	t.Run("connected", func(t *testing.T) {
		s := startServer(t, server.Config{})
		serverOnly := goleak.IgnoreCurrent()
		c, err := client.Dial(t.Context(), s.URL(), fastOptions("carol"))
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		if _, _, err := c.Join(t.Context(), "lobby"); err != nil {
			t.Fatalf("Join: %v", err)
		}
		s.lastConn().muted.Store(true) // the Send below never gets its ack
		errc := make(chan error, 1)
		go func() {
			_, err := c.Send(t.Context(), "lobby", "never acknowledged")
			errc <- err
		}()
		time.Sleep(20 * time.Millisecond) // let the Send go out
		closeAndCheck(t, c)
		if err := <-errc; !errors.Is(err, client.ErrClosed) {
			t.Errorf("pending Send returned %v, want ErrClosed", err)
		}
		if err := c.Ping(t.Context()); !errors.Is(err, client.ErrClosed) {
			t.Errorf("Ping after Close returned %v, want ErrClosed", err)
		}
		if err := c.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		// The server is still up: only the client's goroutines (and the
		// server's for its connection) must be gone.
		goleak.VerifyNone(t, serverOnly)
	})
	t.Run("events not read", func(t *testing.T) {
		s := startServer(t, server.Config{})
		sender, _ := dial(t, s, fastOptions("sender"))
		if _, _, err := sender.Join(t.Context(), "lobby"); err != nil {
			t.Fatalf("Join: %v", err)
		}
		before := goleak.IgnoreCurrent()
		opts := fastOptions("sleeper")
		opts.EventBuffer = 1
		c, err := client.Dial(t.Context(), s.URL(), opts)
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		joinDraining(t, c, "lobby")
		for i := range 10 { // the read loop blocks on the second
			if _, err := sender.Send(t.Context(), "lobby", fmt.Sprint(i)); err != nil {
				t.Fatalf("Send: %v", err)
			}
		}
		start := time.Now()
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Close took %v", d)
		}
		for range c.Events() {
		}
		goleak.VerifyNone(t, before)
	})
	t.Run("reconnecting", func(t *testing.T) {
		s := startServer(t, server.Config{})
		before := goleak.IgnoreCurrent()
		c, err := client.Dial(t.Context(), s.URL(), fastOptions("dave"))
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		if err := s.stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		time.Sleep(100 * time.Millisecond) // a few failed dials
		errc := make(chan error, 1)
		go func() { errc <- c.Ping(t.Context()) }()
		closeAndCheck(t, c)
		if err := <-errc; !errors.Is(err, client.ErrClosed) {
			t.Errorf("Ping waiting for a connection returned %v, want ErrClosed", err)
		}
		goleak.VerifyNone(t, before)
	})
}

// closeAndCheck closes c and checks that it returns promptly and that the
// events channel ends with Closed.
func closeAndCheck(t *testing.T, c *client.Client) {
	t.Helper()
	closed := make(chan struct{})
	go func() {
		c.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	var last client.Event
	for ev := range c.Events() { // ends: the channel is closed
		last = ev
	}
	if st, ok := last.(client.StateEvent); !ok || st.State != client.Closed || st.Err != nil {
		t.Errorf("last event = %#v, want StateEvent{State: Closed}", last)
	}
}

// TestGapFilledFromHistory loses one message event on the way to a client
// (as a broker may): when the next message shows the gap, the client
// fetches the missing one from history and delivers both, in order.
func TestGapFilledFromHistory(t *testing.T) {
	s := startServer(t, server.Config{})
	ctx := t.Context()
	sender, _ := dial(t, s, fastOptions("sender"))
	receiver, receiverEvents := dial(t, s, fastOptions("receiver"))
	receiverConn := s.lastConn()
	if _, err := sender.Create(ctx, "gappy", ""); err != nil {
		t.Fatalf("Create: %v", err)
	}
	for _, c := range []*client.Client{sender, receiver} {
		if _, _, err := c.Join(ctx, "gappy"); err != nil {
			t.Fatalf("Join: %v", err)
		}
	}
	receiverEvents.wait(t, 5*time.Second, "the receiver's own join", func(evs []client.Event) bool {
		return slices.Contains(evs, client.Event(client.JoinEvent{Room: "gappy", User: "receiver"}))
	})

	// Swallow exactly the frame that carries message 1: the server queues
	// the event before it acknowledges the send, and writes it at once.
	receiverConn.muted.Store(true)
	first, err := sender.Send(ctx, "gappy", "lost on the way")
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for receiverConn.swallowed.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the server never wrote message 1")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the frame's last write pass
	receiverConn.muted.Store(false)

	second, err := sender.Send(ctx, "gappy", "shows the gap")
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	receiverEvents.waitSeq(t, "gappy", second.Seq)
	want := []client.MessageEvent{{Message: first}, {Message: second}}
	if diff := cmp.Diff(want, receiverEvents.messages("gappy")); diff != "" {
		t.Errorf("messages mismatch (-want +got):\n%s", diff)
	}
}

func connectedCount(evs []client.Event) int {
	n := 0
	for _, ev := range evs {
		if st, ok := ev.(client.StateEvent); ok && st.State == client.Connected {
			n++
		}
	}
	return n
}

// TestConnectedNotDroppedWhenBufferFull: a connection that drops while the
// application is not reading, its events buffer full, comes back; once
// the application reads again it gets the event that filled the buffer,
// then Connected numbered 2 (which says the client reconnected), before
// anything of the new connection.
func TestConnectedNotDroppedWhenBufferFull(t *testing.T) {
	s := startServer(t, server.Config{})
	ctx := t.Context()
	sender, _ := dial(t, s, fastOptions("sender"))
	if _, _, err := sender.Join(ctx, "lobby"); err != nil {
		t.Fatalf("Join: %v", err)
	}
	opts := fastOptions("sleeper")
	opts.EventBuffer = 1
	sleeper, err := client.Dial(ctx, s.URL(), opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { sleeper.Close() })
	joinDraining(t, sleeper, "lobby")
	// One message fills its buffer (the sender does nothing else the
	// sleeper would hear of).
	if err := sleeper.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if _, err := sender.Send(ctx, "lobby", "fills the buffer"); err != nil {
		t.Fatalf("Send: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); len(sleeper.Events()) < cap(sleeper.Events()); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sleeper's events buffer did not fill")
		}
	}

	// The sleeper's connection drops; Ping returns once it is back.
	old := s.lastConn()
	old.Conn.Close()
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sleeper.Ping(pingCtx); err != nil {
		t.Fatalf("Ping after the drop: %v", err)
	}
	if s.lastConn() == old {
		t.Fatal("the sleeper did not reconnect")
	}

	var got []string
	timeout := time.After(5 * time.Second)
read:
	for len(got) < 10 {
		select {
		case ev := <-sleeper.Events():
			switch ev := ev.(type) {
			case client.MessageEvent:
				got = append(got, "message "+ev.Message.Body)
			case client.StateEvent:
				got = append(got, fmt.Sprintf("%s %d", ev.State, ev.Conn))
				if ev.State == client.Connected {
					break read
				}
			}
		case <-timeout:
			break read
		}
	}
	if want := []string{"message fills the buffer", "connected 2"}; !slices.Equal(got[:min(len(got), 1)], want[:1]) || !slices.Contains(got, "connected 2") {
		t.Errorf("events after the reconnect = %q, want %q (Reconnecting may come between)", got, want)
	}
}

// joinDraining joins room on c, a client whose events nobody reads yet,
// taking its events meanwhile: replies come through the read loop that
// delivers events, so a Join with a small events buffer would otherwise
// wait on its own Connected and join events.
func joinDraining(t *testing.T, c *client.Client, room string) {
	t.Helper()
	joined := make(chan error, 1)
	go func() {
		_, _, err := c.Join(t.Context(), room)
		joined <- err
	}()
	for {
		select {
		case err := <-joined:
			if err != nil {
				t.Fatalf("Join %s: %v", room, err)
			}
			return
		case <-c.Events():
		}
	}
}
