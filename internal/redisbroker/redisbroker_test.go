package redisbroker_test

import (
	"crypto/rand"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
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

// TestNotifyGaps: when the broker's pub/sub connection is killed on the
// server (CLIENT KILL), go-redis makes a new one and subscribes again, and
// the broker reports the gap (brokertest.RunGaps).
func TestNotifyGaps(t *testing.T) {
	url := redisURL(t)
	name := "hubbubtest-" + rand.Text()
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	b, err := redisbroker.Open(t.Context(), url+sep+"client_name="+name, redisbroker.Config{Prefix: testPrefix()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer b.Close()
	brokertest.RunGaps(t, b, func(t *testing.T) {
		// Kill the broker's pub/sub connection, found by its name.
		opt, err := redis.ParseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		admin := redis.NewClient(opt)
		defer admin.Close()
		list, err := admin.Do(t.Context(), "CLIENT", "LIST", "TYPE", "pubsub").Text()
		if err != nil {
			t.Fatal(err)
		}
		killed := 0
		for line := range strings.Lines(list) {
			fields := strings.Fields(line)
			if !slices.Contains(fields, "name="+name) {
				continue
			}
			for _, f := range fields {
				if id, ok := strings.CutPrefix(f, "id="); ok {
					if err := admin.Do(t.Context(), "CLIENT", "KILL", "ID", id).Err(); err != nil {
						t.Fatal(err)
					}
					killed++
				}
			}
		}
		if killed != 1 {
			t.Fatalf("killed %d pub/sub connections named %s, want 1:\n%s", killed, name, list)
		}
	})
}
