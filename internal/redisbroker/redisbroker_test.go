package redisbroker_test

import (
	"crypto/rand"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/hubbub-chat/hubbub/internal/brokertest"
	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/redisbroker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// redisURL returns HUBBUB_TEST_REDIS or skips the test.
func redisURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("HUBBUB_TEST_REDIS")
	if url == "" {
		t.Skip("HUBBUB_TEST_REDIS is not set (e.g. redis://127.0.0.1:6379/0); skipping tests that need a Redis server")
	}
	return url
}

// testPrefix returns a channel prefix no other test uses.
func testPrefix() string {
	return "hubbubtest:" + rand.Text() + ":"
}

func open(t *testing.T, prefix string) *redisbroker.Broker {
	t.Helper()
	b, err := redisbroker.Open(t.Context(), redisURL(t), redisbroker.Config{Prefix: prefix})
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
	redisURL(t)
	brokertest.Run(t, func(t *testing.T) chat.Broker {
		return open(t, testPrefix())
	})
}

// TestNodes runs the multi-node suite: brokers on one prefix are the
// nodes of one deployment.
func TestNodes(t *testing.T) {
	redisURL(t)
	brokertest.RunNodes(t, func(t *testing.T) func() chat.Broker {
		prefix := testPrefix()
		return func() chat.Broker { return open(t, prefix) }
	})
}
