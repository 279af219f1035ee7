package natsbroker

import (
	"crypto/rand"
	"os"
	"testing"
	"time"
)

// TestNotifyGaps: after the connection to the NATS server is lost and made
// again (nats.go's ForceReconnect stands for the lost connection), the
// broker reports the gap, and payloads flow again. Nothing is reported
// before.
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
	gaps := make(chan struct{}, 100)
	b.NotifyGaps(func() { gaps <- struct{}{} })
	got := make(chan string, 10)
	cancel, err := b.Subscribe("den", func(p []byte) { got <- string(p) })
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	publish := func(p string) {
		t.Helper()
		if err := b.Publish(t.Context(), "den", []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	publish("before")
	if p := <-got; p != "before" {
		t.Fatalf("got %q, want before", p)
	}
	select {
	case <-gaps:
		t.Fatal("a gap reported before any was made")
	default:
	}
	if err := b.nc.ForceReconnect(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gaps:
	case <-time.After(10 * time.Second):
		t.Fatal("no gap reported 10 s after the connection was dropped")
	}
	publish("after")
	select {
	case p := <-got:
		if p != "after" {
			t.Errorf("got %q after the reconnect, want after", p)
		}
	case <-time.After(10 * time.Second):
		t.Error("nothing delivered after the reconnect")
	}
}
