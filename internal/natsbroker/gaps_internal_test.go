package natsbroker

import (
	"crypto/rand"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hubbub-chat/hubbub/internal/brokertest"
	"github.com/hubbub-chat/hubbub/internal/chat"
)

// TestNotifyGaps: after the connection to the NATS server is lost and made
// again (nats.go's ForceReconnect stands for the lost connection), the
// broker reports the gap (brokertest.RunGaps).
func TestNotifyGaps(t *testing.T) {
	b := openGapBroker(t)
	brokertest.RunGaps(t, b, func(t *testing.T) {
		if err := b.nc.ForceReconnect(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestNotifyGapsSlowConsumer: when nats.go drops payloads of a
// subscription whose handler fell behind (its pending limits, here one
// payload, are exceeded), the broker reports the gap, and payloads
// published once the handler is back still arrive.
func TestNotifyGapsSlowConsumer(t *testing.T) {
	b := openGapBroker(t)
	gaps := make(chan struct{}, 100)
	b.NotifyGaps(func() { gaps <- struct{}{} })

	release := make(chan struct{})
	got := make(chan string, 100)
	cancel, err := b.Subscribe("den", func(p []byte) {
		if string(p) == "first" {
			<-release // the handler stalls on the first payload
		}
		got <- string(p)
	})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	defer cancel()
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	defer unblock() // before cancel, which waits for the handler
	var ns *nats.Subscription
	b.mu.Lock()
	for s := range b.subs {
		ns = s.ns
	}
	b.mu.Unlock()
	if err := ns.SetPendingLimits(1, 1<<20); err != nil {
		t.Fatal(err)
	}

	pub := func(payloads ...string) {
		t.Helper()
		batch := make([]chat.Publication, len(payloads))
		for i, p := range payloads {
			batch[i] = chat.Publication{Topic: "den", Payload: []byte(p)}
		}
		if err := b.PublishBatch(t.Context(), batch); err != nil {
			t.Fatalf("PublishBatch: %v", err)
		}
	}
	pub("first")
	select {
	case <-gaps:
		t.Fatal("a gap reported before the handler fell behind")
	case <-time.After(100 * time.Millisecond):
	}
	// "first" is in the handler; one more fills the pending limit, and the
	// rest are dropped.
	pub("second", "third", "fourth", "fifth")
	select {
	case <-gaps:
	case <-time.After(10 * time.Second):
		t.Fatal("no gap reported 10 s after payloads were dropped")
	}
	unblock()
	// Once the handler has taken what was kept, within the limit again.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if n, _, err := ns.Pending(); err != nil || n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the handler did not catch up 10 s after it was released")
		}
	}
	pub("after")
	var seen []string
	for len(seen) == 0 || seen[len(seen)-1] != "after" {
		select {
		case p := <-got:
			seen = append(seen, p)
		case <-time.After(10 * time.Second):
			t.Fatalf("delivered %q, and not %q, 10 s after the handler was released", seen, "after")
		}
	}
	if len(seen) >= 6 {
		t.Errorf("delivered %q: nothing was dropped, the test did not make a slow consumer", seen)
	}
}

// openGapBroker opens a broker on HUBBUB_TEST_NATS with a prefix of its
// own, closed when t ends, or skips t when the variable is unset.
func openGapBroker(t *testing.T) *Broker {
	t.Helper()
	url := os.Getenv("HUBBUB_TEST_NATS")
	if url == "" {
		t.Skip("HUBBUB_TEST_NATS is not set (e.g. nats://127.0.0.1:4222); skipping tests that need a NATS server")
	}
	b, err := Open(t.Context(), url, Config{Prefix: "hubbubtest." + rand.Text() + "."})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
