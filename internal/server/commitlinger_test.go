package server

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// TestGatherLinger: the committer waits for more sends only while they
// keep coming (the last batch began less than CommitInterval ago) in
// small batches (more than one send, fewer than commitSmall), never past
// the interval nor beyond CommitBatch; without an interval it never waits.
func TestGatherLinger(t *testing.T) {
	const interval = 2 * time.Millisecond
	tests := []struct {
		name     string
		interval time.Duration
		batch    int           // CommitBatch
		since    time.Duration // since the last batch began
		lastSize int
		arrive   []time.Duration // more sends, after gather begins
		want     int             // sends in the batch
		wantTook time.Duration   // how long gather took
	}{
		{"quiet: the last commit long ago", interval, 100, time.Second, 5, []time.Duration{time.Millisecond}, 1, 0},
		{"one sender alone", interval, 100, 0, 1, []time.Duration{time.Millisecond}, 1, 0},
		{"busy with large batches", interval, 100, 0, commitSmall, []time.Duration{time.Millisecond}, 1, 0},
		{"busy: waits out the interval", interval, 100, 500 * time.Microsecond, 3,
			[]time.Duration{100 * time.Microsecond, time.Millisecond}, 3, 1500 * time.Microsecond},
		{"busy: a send after the interval waits for the next batch", interval, 100, 0, 2,
			[]time.Duration{time.Millisecond, 3 * time.Millisecond}, 2, interval},
		{"busy: a full batch goes at once", interval, 3, 0, 2,
			[]time.Duration{100 * time.Microsecond, 200 * time.Microsecond, 300 * time.Microsecond}, 3, 200 * time.Microsecond},
		{"no interval (the default): never waits", 0, 100, 0, 5, []time.Duration{time.Millisecond}, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := &committer{
					srv:       &Server{cfg: Config{CommitBatch: tc.batch, CommitInterval: tc.interval}},
					in:        make(chan pendingSend, 16),
					free:      make(chan []pendingSend, 1),
					lastStart: time.Now().Add(-tc.since),
					lastSize:  tc.lastSize,
				}
				c.free <- nil
				begin := time.Now()
				go func() {
					at := time.Duration(0)
					for i, d := range tc.arrive {
						time.Sleep(d - at)
						at = d
						c.in <- pendingSend{msg: chat.NewMessage{Body: string(rune('b' + i))}}
					}
				}()
				batch := c.gather(pendingSend{msg: chat.NewMessage{Body: "a"}})
				took := time.Since(begin)
				if len(batch) != tc.want || took != tc.wantTook {
					t.Errorf("gather: %d sends after %v, want %d after %v", len(batch), took, tc.want, tc.wantTook)
				}
				if c.lastSize != len(batch) || !c.lastStart.Equal(time.Now()) {
					t.Errorf("gather recorded a batch of %d begun at %v, want %d at %v", c.lastSize, c.lastStart, len(batch), time.Now())
				}
				// Let the sender finish: what gather left waits in c.in.
				for range len(tc.arrive) + 1 - len(batch) {
					<-c.in
				}
			})
		})
	}
}
