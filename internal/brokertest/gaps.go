package brokertest

import (
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// GapBroker is a broker that reports when it may have lost payloads.
type GapBroker interface {
	chat.Broker
	chat.GapNotifier
}

// RunGaps checks a chat.GapNotifier: b reports nothing while its
// connection holds, reports a gap once cut (which must make b lose its
// connection to its server, as an outage would) has been called and b
// has connected again, and delivers what is published after that. b is
// the caller's to close.
func RunGaps(t *testing.T, b GapBroker, cut func(t *testing.T)) {
	t.Helper()
	gaps := make(chan struct{}, 100)
	b.NotifyGaps(func() { gaps <- struct{}{} })
	r := newRecorder()
	defer subscribe(t, b, "den", r.deliver)()
	publish(t, b, "den", "before")
	if got := r.wait(1, 5*time.Second); len(got) != 1 || got[0] != "before" {
		t.Fatalf("delivered %q, want [before]", got)
	}
	select {
	case <-gaps:
		t.Fatal("a gap reported before any was made")
	default:
	}
	cut(t)
	select {
	case <-gaps:
	case <-time.After(10 * time.Second):
		t.Fatal("no gap reported 10 s after the connection was cut")
	}
	publish(t, b, "den", "after")
	if got := r.wait(2, 10*time.Second); len(got) != 2 || got[1] != "after" {
		t.Errorf("delivered %q after the gap, want [before after]", got)
	}
}
