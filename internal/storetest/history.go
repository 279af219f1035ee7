package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// historyLen is the number of messages in the room the history tests page
// through.
const historyLen = 250

// fillRoom creates room and appends historyLen messages to it, returning
// them as Append did.
func fillRoom(t *testing.T, s chat.Store, room string) []chat.Message {
	t.Helper()
	mustCreateRoom(t, s, room)
	var msgs []chat.Message
	for len(msgs) < historyLen {
		batch := make([]chat.NewMessage, min(50, historyLen-len(msgs)))
		for i := range batch {
			k := len(msgs) + i + 1
			batch[i] = chat.NewMessage{
				Room:   room,
				Author: fmt.Sprintf("user%d", k%3),
				Guest:  k%3 == 0,
				Body:   fmt.Sprintf("message %d", k),
				CMID:   fmt.Sprintf("c%d", k),
			}
		}
		msgs = append(msgs, mustAppend(t, s, batch)...)
	}
	return msgs
}

func testHistory(t *testing.T, f Factory) {
	s := start(t, f)
	const long, empty = "long", "empty"
	acked := fillRoom(t, s, long)
	mustCreateRoom(t, s, empty)

	const (
		before = "HistoryBefore"
		after  = "HistoryAfter"
	)
	tests := []struct {
		call    string
		room    string
		seq     int64
		limit   int
		want    []int64
		wantErr error
	}{
		{before, long, 0, 10, seqs(241, 250), nil},
		{before, long, -1, 3, seqs(248, 250), nil},
		{before, long, 251, 3, seqs(248, 250), nil},
		{before, long, 1000, 3, seqs(248, 250), nil},
		{before, long, 250, 3, seqs(247, 249), nil},
		{before, long, 100, 10, seqs(90, 99), nil},
		{before, long, 5, 10, seqs(1, 4), nil},
		{before, long, 2, 1, seqs(1, 1), nil},
		{before, long, 1, 10, nil, nil},
		{before, long, 0, 1, seqs(250, 250), nil},
		{before, long, 0, 1000, seqs(1, 250), nil},
		{before, empty, 0, 10, nil, nil},
		{before, empty, 5, 10, nil, nil},
		{before, "nope", 0, 10, nil, chat.ErrNoSuchRoom},

		{after, long, 0, 10, seqs(1, 10), nil},
		{after, long, -5, 3, seqs(1, 3), nil},
		{after, long, 100, 10, seqs(101, 110), nil},
		{after, long, 245, 10, seqs(246, 250), nil},
		{after, long, 249, 1, seqs(250, 250), nil},
		{after, long, 250, 10, nil, nil},
		{after, long, 1000, 10, nil, nil},
		{after, long, 0, 1000, seqs(1, 250), nil},
		{after, empty, 0, 10, nil, nil},
		{after, "nope", 0, 10, nil, chat.ErrNoSuchRoom},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s(%q,%d,%d)", tt.call, tt.room, tt.seq, tt.limit)
		t.Run(name, func(t *testing.T) {
			var got []chat.Message
			var err error
			if tt.call == before {
				got, err = s.HistoryBefore(t.Context(), tt.room, tt.seq, tt.limit)
			} else {
				got, err = s.HistoryAfter(t.Context(), tt.room, tt.seq, tt.limit)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, seqsOf(got), equateEmpty); diff != "" {
				t.Errorf("Seqs mismatch (-want +got):\n%s", diff)
			}
			for _, m := range got {
				if m.Seq < 1 || m.Seq > historyLen {
					continue
				}
				if diff := cmp.Diff(acked[m.Seq-1], m); diff != "" {
					t.Errorf("message differs from Append's result (-append +history):\n%s", diff)
				}
			}
		})
	}
}

func testHistoryWalk(t *testing.T, f Factory) {
	s := start(t, f)
	const room = "long"
	acked := fillRoom(t, s, room)

	// Page sizes that do not divide historyLen, so the last page is short.
	const pageBack, pageForward = 7, 9

	t.Run("Backward", func(t *testing.T) {
		var got []chat.Message
		before := int64(0)
		for range historyLen + 1 {
			page, err := s.HistoryBefore(t.Context(), room, before, pageBack)
			if err != nil {
				t.Fatalf("HistoryBefore(%d): %v", before, err)
			}
			if len(page) == 0 {
				break
			}
			if len(page) > pageBack {
				t.Fatalf("HistoryBefore(%d, %d) returned %d messages", before, pageBack, len(page))
			}
			got = append(page, got...)
			before = page[0].Seq
		}
		if diff := cmp.Diff(acked, got); diff != "" {
			t.Errorf("walk backward mismatch (-append +walk):\n%s", diff)
		}
	})

	t.Run("Forward", func(t *testing.T) {
		var got []chat.Message
		after := int64(0)
		for range historyLen + 1 {
			page, err := s.HistoryAfter(t.Context(), room, after, pageForward)
			if err != nil {
				t.Fatalf("HistoryAfter(%d): %v", after, err)
			}
			if len(page) == 0 {
				break
			}
			if len(page) > pageForward {
				t.Fatalf("HistoryAfter(%d, %d) returned %d messages", after, pageForward, len(page))
			}
			got = append(got, page...)
			after = page[len(page)-1].Seq
		}
		if diff := cmp.Diff(acked, got); diff != "" {
			t.Errorf("walk forward mismatch (-append +walk):\n%s", diff)
		}
	})
}
