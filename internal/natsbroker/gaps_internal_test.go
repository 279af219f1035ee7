package natsbroker

import (
	"crypto/rand"
	"os"
	"testing"

	"github.com/hubbub-chat/hubbub/internal/brokertest"
)

// TestNotifyGaps: after the connection to the NATS server is lost and made
// again (nats.go's ForceReconnect stands for the lost connection), the
// broker reports the gap (brokertest.RunGaps).
func TestNotifyGaps(t *testing.T) {
	url := os.Getenv("HUBBUB_TEST_NATS")
	if url == "" {
		t.Skip("HUBBUB_TEST_NATS is not set (e.g. nats://127.0.0.1:4222); skipping tests that need a NATS server")
	}
	b, err := Open(t.Context(), url, Config{Prefix: "hubbubtest." + rand.Text() + "."})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer b.Close()
	brokertest.RunGaps(t, b, func(t *testing.T) {
		if err := b.nc.ForceReconnect(); err != nil {
			t.Fatal(err)
		}
	})
}
