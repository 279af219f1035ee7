package server

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
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

// countingStore counts Append calls and records, once each returns, the
// highest sequence it committed.
type countingStore struct {
	chat.Store
	appends   atomic.Int64
	committed atomic.Int64
}

func (s *countingStore) Append(ctx context.Context, batch []chat.NewMessage) ([]chat.AppendResult, error) {
	res, err := s.Store.Append(ctx, batch)
	s.appends.Add(1)
	for _, r := range res {
		if r.Err == nil && r.Message.Seq > s.committed.Load() {
			s.committed.Store(r.Message.Seq)
		}
	}
	return res, err
}

// TestCommitIntervalKeepsPromises: with a commit interval, concurrent
// senders into one room are still each acknowledged only after their
// message is committed, every message is stored once, in the order of
// the sequence numbers the acks gave, and the sends shared commits.
func TestCommitIntervalKeepsPromises(t *testing.T) {
	sqlite, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	store := &countingStore{Store: sqlite}
	ts := newTestServerWithStore(t, store, func(c *Config) { c.CommitInterval = 20 * time.Millisecond })
	const senders, each = 8, 50
	var (
		mu    sync.Mutex
		acked = map[int64]string{} // seq → body
		wg    sync.WaitGroup
	)
	for s := range senders {
		wg.Go(func() {
			done := make(chan chat.AppendResult, 1)
			for i := range each {
				body := fmt.Sprintf("s%d-%d", s, i)
				ok := ts.srv.commit.submit(pendingSend{
					msg: chat.NewMessage{Room: chat.DefaultRoom, Author: fmt.Sprint("u", s), Body: body, CMID: body},
					at:  time.Now(),
					done: func(res chat.AppendResult, err error) {
						if err != nil || res.Err != nil {
							t.Errorf("send %s: %v %v", body, err, res.Err)
						} else if res.Message.Seq > store.committed.Load() {
							t.Errorf("send %s acknowledged as #%d before its commit returned (committed up to #%d)",
								body, res.Message.Seq, store.committed.Load())
						}
						done <- res
					},
				})
				if !ok {
					t.Error("submit refused")
					return
				}
				res := <-done
				mu.Lock()
				if prev, dup := acked[res.Message.Seq]; dup {
					t.Errorf("#%d acknowledged twice: %s and %s", res.Message.Seq, prev, body)
				}
				acked[res.Message.Seq] = body
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	stored, err := sqlite.HistoryAfter(t.Context(), chat.DefaultRoom, 0, senders*each+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != senders*each {
		t.Fatalf("stored %d messages, want %d", len(stored), senders*each)
	}
	for i, m := range stored {
		if m.Seq != int64(i+1) || acked[m.Seq] != m.Body {
			t.Errorf("stored #%d %q at %d, acked as %q", m.Seq, m.Body, i, acked[m.Seq])
		}
	}
	// Each sender waits for its ack, so without the interval the
	// pipeline splits them into two batches a round (about 100 commits);
	// with it, a round's sends share one commit (about 50).
	if n := store.appends.Load(); n > each*3/2 {
		t.Errorf("%d commits for %d rounds of %d senders: the interval did not gather them", n, each, senders)
	}
}
