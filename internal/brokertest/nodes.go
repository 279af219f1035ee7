package brokertest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// OpenNodes returns a function that opens brokers which are nodes of one
// deployment (for example the same server and channel prefix), isolated
// from the brokers of every other OpenNodes call.
type OpenNodes func(t *testing.T) (openNode func() chat.Broker)

// RunNodes is the suite for brokers that carry payloads between nodes:
// what one node publishes reaches the subscribers on another, in order,
// for every kind of topic hubbub uses; and a topic dropped by its last
// subscriber and taken again at once still receives what comes next.
func RunNodes(t *testing.T, open OpenNodes) {
	t.Run("TwoNodes", func(t *testing.T) { testTwoNodes(t, open) })
	t.Run("Resubscribe", func(t *testing.T) { testResubscribe(t, open) })
}

func testTwoNodes(t *testing.T, open OpenNodes) {
	openNode := open(t)
	nodeA, nodeB := openNode(), openNode()
	tests := []struct{ name, topic string }{
		{"room", "lobby"},
		{"dm", "dm:alice:bob"},
		{"user", "@alice"},
		{"guest with spaces and Unicode", "@Bob Smith ☕ Ünïcødé.*>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			onA, onB := newRecorder(), newRecorder()
			defer subscribe(t, nodeB, tt.topic, onB.deliver)()
			defer subscribe(t, nodeA, tt.topic, onA.deliver)()
			const n = 200
			var want []string
			for i := range n {
				p := fmt.Sprintf("%s %d", tt.topic, i)
				want = append(want, p)
				publish(t, nodeA, tt.topic, p)
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

func testResubscribe(t *testing.T, open OpenNodes) {
	openNode := open(t)
	nodeA, nodeB := openNode(), openNode()
	for i := range 20 {
		r := newRecorder()
		cancel := subscribe(t, nodeB, "churn", r.deliver)
		p := fmt.Sprint("round ", i)
		publish(t, nodeA, "churn", p)
		if diff := cmp.Diff([]string{p}, r.wait(1, 5*time.Second)); diff != "" {
			t.Errorf("round %d (-want +got):\n%s", i, diff)
		}
		cancel()
	}
}
