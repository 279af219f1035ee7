package natsbroker_test

import (
	"crypto/rand"
	"os"
	"testing"

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

// TestNodes runs the multi-node suite: brokers on one prefix are the
// nodes of one deployment.
func TestNodes(t *testing.T) {
	natsURL(t)
	brokertest.RunNodes(t, func(t *testing.T) func() chat.Broker {
		prefix := testPrefix()
		return func() chat.Broker { return open(t, prefix) }
	})
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
