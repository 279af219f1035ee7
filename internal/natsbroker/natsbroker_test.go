package natsbroker_test

import (
	"crypto/rand"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/hubbub-chat/hubbub/internal/brokertest"
	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/natsbroker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// natsURL returns HUBBUB_TEST_NATS or skips the test.
func natsURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("HUBBUB_TEST_NATS")
	if url == "" {
		t.Skip("HUBBUB_TEST_NATS is not set (e.g. nats://127.0.0.1:4222); skipping tests that need a NATS server")
	}
	return url
}

// testPrefix returns a subject prefix no other test uses.
func testPrefix() string {
	return "hubbubtest." + rand.Text() + "."
}

func open(t *testing.T, prefix string) *natsbroker.Broker {
	t.Helper()
	b, err := natsbroker.Open(t.Context(), natsURL(t), natsbroker.Config{Prefix: prefix})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

func TestConformance(t *testing.T) {
	natsURL(t)
	brokertest.Run(t, func(t *testing.T) chat.Broker {
		return open(t, testPrefix())
	})
}

// collector records payloads of one subscription.
type collector struct {
	mu   sync.Mutex
	got  []string
	more chan struct{}
}

func newCollector() *collector { return &collector{more: make(chan struct{}, 1)} }

func (c *collector) deliver(p []byte) {
	c.mu.Lock()
	c.got = append(c.got, string(p))
	c.mu.Unlock()
	select {
	case c.more <- struct{}{}:
	default:
	}
}

// wait returns what arrived once n payloads did, or after timeout.
func (c *collector) wait(n int, timeout time.Duration) []string {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		got := append([]string(nil), c.got...)
		c.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-c.more:
		case <-deadline:
			return got
		}
	}
}

// TestTwoNodes runs two brokers on one prefix, as two hubbubd nodes would.
func TestTwoNodes(t *testing.T) {
	prefix := testPrefix()
	nodeA, nodeB := open(t, prefix), open(t, prefix)
	tests := []struct {
		name, topic string
	}{
		{"room", "lobby"},
		{"dm", "dm:alice:bob"},
		{"user", "@alice"},
		{"guest with spaces and Unicode", "@Bob Smith ☕ Ünïcødé.*>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			onB, onA := newCollector(), newCollector()
			cancelB, err := nodeB.Subscribe(tt.topic, onB.deliver)
			if err != nil {
				t.Fatalf("Subscribe on B: %v", err)
			}
			defer cancelB()
			cancelA, err := nodeA.Subscribe(tt.topic, onA.deliver)
			if err != nil {
				t.Fatalf("Subscribe on A: %v", err)
			}
			defer cancelA()
			const n = 200
			var want []string
			for i := range n {
				p := fmt.Sprintf("%s %d", tt.topic, i)
				want = append(want, p)
				if err := nodeA.Publish(t.Context(), tt.topic, []byte(p)); err != nil {
					t.Fatalf("Publish on A: %v", err)
				}
			}
			if diff := cmp.Diff(want, onB.wait(n, 10*time.Second)); diff != "" {
				t.Errorf("on node B (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, onA.wait(n, 10*time.Second)); diff != "" {
				t.Errorf("on node A (-want +got):\n%s", diff)
			}
		})
	}
}

// TestResubscribe checks that a topic dropped by its last subscriber and
// subscribed again at once still receives what is published afterwards.
func TestResubscribe(t *testing.T) {
	prefix := testPrefix()
	nodeA, nodeB := open(t, prefix), open(t, prefix)
	for i := range 20 {
		c := newCollector()
		cancel, err := nodeB.Subscribe("churn", c.deliver)
		if err != nil {
			t.Fatalf("Subscribe %d: %v", i, err)
		}
		p := fmt.Sprint("round ", i)
		if err := nodeA.Publish(t.Context(), "churn", []byte(p)); err != nil {
			t.Fatalf("Publish: %v", err)
		}
		if diff := cmp.Diff([]string{p}, c.wait(1, 5*time.Second)); diff != "" {
			t.Errorf("round %d (-want +got):\n%s", i, diff)
		}
		cancel()
	}
}

// TestEmptyTopic checks that an empty topic, which has no valid subject,
// is refused rather than sent to the server.
func TestEmptyTopic(t *testing.T) {
	b := open(t, testPrefix())
	if err := b.Publish(t.Context(), "", []byte("x")); err == nil {
		t.Error("Publish(\"\") = nil, want an error")
	}
	if _, err := b.Subscribe("", func([]byte) {}); err == nil {
		t.Error("Subscribe(\"\") = nil error, want one")
	}
}
