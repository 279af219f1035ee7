package hub_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/hub"
)

// TestRecent: a room keeps a run of consecutive keepable message events,
// the newest within its bounds, and Recent answers only from within it.
func TestRecent(t *testing.T) {
	type msg struct {
		seq  int64
		keep bool
		heal bool
	}
	plain := func(seqs ...int64) []msg {
		var ms []msg
		for _, s := range seqs {
			ms = append(ms, msg{seq: s, keep: true})
		}
		return ms
	}
	type query struct {
		after    int64
		max      int
		want     []string // nil: ok false
		wantLast int64
	}
	tests := []struct {
		name      string
		perRoom   int // Config.RecentRoomBytes; 0: default
		total     int // Config.RecentBytes; 0: default
		msgs      []msg
		queries   []query
		wantBytes int64 // Stats().RecentKept after the messages
	}{
		{name: "a run from the first message", msgs: plain(1, 2, 3, 4),
			queries: []query{
				{after: 0, max: 2, want: []string{"e1", "e2"}, wantLast: 4},
				{after: 2, max: 10, want: []string{"e3", "e4"}, wantLast: 4},
				{after: 3, max: 1, want: []string{"e4"}, wantLast: 4},
				{after: 4, max: 10},  // nothing newer kept: ask the store
				{after: -1, max: 10}, // seq 0 was never kept
			},
			wantBytes: 4 * (2 + 32)},
		{name: "an entry that acts on a message starts the run afresh", msgs: []msg{{1, true, false}, {2, true, false}, {3, false, false}, {4, true, false}, {5, true, false}},
			queries: []query{
				{after: 0, max: 10},
				{after: 2, max: 10},
				{after: 3, max: 10, want: []string{"e4", "e5"}, wantLast: 5},
			},
			wantBytes: 2 * (2 + 32)},
		{name: "a gap starts the run afresh", msgs: plain(1, 2, 4, 5),
			queries: []query{
				{after: 1, max: 10},
				{after: 3, max: 10, want: []string{"e4", "e5"}, wantLast: 5},
			},
			wantBytes: 2 * (2 + 32)},
		{name: "healed messages extend the run", msgs: []msg{{1, true, false}, {2, true, true}, {3, true, true}, {4, true, false}},
			queries:   []query{{after: 0, max: 10, want: []string{"e1", "e2", "e3", "e4"}, wantLast: 4}},
			wantBytes: 4 * (2 + 32)},
		{name: "the oldest go past the room's bound", perRoom: 3 * (2 + 32), msgs: plain(1, 2, 3, 4, 5),
			queries: []query{
				{after: 1, max: 10},
				{after: 2, max: 10, want: []string{"e3", "e4", "e5"}, wantLast: 5},
			},
			wantBytes: 3 * (2 + 32)},
		{name: "the node's bound", total: 2 * (2 + 32), msgs: plain(1, 2, 3),
			queries:   []query{{after: 1, max: 10, want: []string{"e2", "e3"}, wantLast: 3}},
			wantBytes: 2 * (2 + 32)},
		{name: "an event larger than the room's bound is not kept", perRoom: 2 + 32 - 1, msgs: plain(1, 2),
			queries:   []query{{after: 0, max: 10}},
			wantBytes: 0},
		{name: "off", perRoom: -1, msgs: plain(1, 2),
			queries:   []query{{after: 0, max: 10}},
			wantBytes: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := hub.New(hub.Config{Broker: newBroker(t), RecentRoomBytes: tt.perRoom, RecentBytes: tt.total})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			m := newMember()
			join(t, h, "den", m, "u")
			for _, ms := range tt.msgs {
				ev := fmt.Appendf(nil, "e%d", ms.seq)
				ev = ev[:len(ev):len(ev)] // the bounds count capacity
				if ms.heal {
					h.Heal("den", ms.seq, ev, ms.keep)
				} else {
					h.Message("den", ms.seq, ev, ms.keep)
				}
			}
			m.wait(t, len(tt.msgs))
			for _, q := range tt.queries {
				events, last, ok := h.Recent("den", q.after, q.max)
				var got []string
				for _, e := range events {
					got = append(got, string(e))
				}
				if ok != (q.want != nil) || !ok && (events != nil || last != 0) {
					t.Errorf("Recent(%d, %d) = %q, %d, %v; want ok %v", q.after, q.max, got, last, ok, q.want != nil)
					continue
				}
				if diff := cmp.Diff(q.want, got); diff != "" || last != q.wantLast {
					t.Errorf("Recent(%d, %d): last %d, want %d; events (-want +got):\n%s", q.after, q.max, last, q.wantLast, diff)
				}
			}
			if got := h.Stats().RecentKept; got != tt.wantBytes {
				t.Errorf("Stats().RecentKept = %d, want %d", got, tt.wantBytes)
			}
			// The room's last member leaves: what it kept goes.
			h.Leave("den", m)
			if got := h.Stats().RecentKept; got != 0 {
				t.Errorf("after the last member left: Stats().RecentKept = %d, want 0", got)
			}
			if _, _, ok := h.Recent("den", 0, 10); ok {
				t.Errorf("after the last member left: Recent answered")
			}
		})
	}
}

// TestRecentFromBroker: events of another node are kept only when
// Config.Keep says so.
func TestRecentFromBroker(t *testing.T) {
	b := newBroker(t)
	keep := func(e []byte) bool { return !strings.HasPrefix(string(e), "edit") }
	here, err := hub.New(hub.Config{Broker: b, Keep: keep})
	if err != nil {
		t.Fatal(err)
	}
	defer here.Close()
	other := newHub(t, b)
	m := newMember()
	join(t, here, "den", m, "u")
	for seq, e := range []string{"m1", "m2", "edit of 2", "m4", "m5"} {
		other.Message("den", int64(seq+1), []byte(e), true) // keep is the sender's word for its own members only
	}
	m.wait(t, 5)
	events, last, ok := here.Recent("den", 3, 10)
	var got []string
	for _, e := range events {
		got = append(got, string(e))
	}
	if diff := cmp.Diff([]string{"m4", "m5"}, got); diff != "" || !ok || last != 5 {
		t.Errorf("Recent(3) ok %v last %d, events (-want +got):\n%s", ok, last, diff)
	}
	if _, _, ok := here.Recent("den", 0, 10); ok {
		t.Errorf("Recent(0) answered across the edit")
	}
}
