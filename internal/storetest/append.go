package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

func testConcurrentAppend(t *testing.T, f Factory) {
	s := start(t, f)
	rooms := []string{chat.DefaultRoom, "second"}
	mustCreateRoom(t, s, rooms[1])

	const (
		writers   = 8
		perWriter = 50
	)
	// Each writer sends its messages in batches of these sizes, in turn,
	// each batch alternating between the two rooms.
	sizes := []int{1, 2, 3, 5, 8, 13}

	var (
		results = make([][]chat.Message, writers) // by writer, in submission order
		errs    = make([]error, writers)
		wg      sync.WaitGroup
	)
	for w := range writers {
		wg.Go(func() {
			author := fmt.Sprintf("writer%d", w)
			for n, b := 0, w; n < perWriter; b++ {
				size := min(sizes[b%len(sizes)], perWriter-n)
				batch := make([]chat.NewMessage, size)
				for i := range batch {
					k := n + i
					batch[i] = chat.NewMessage{
						Room:   rooms[(w+k)%len(rooms)],
						Author: author,
						Body:   fmt.Sprintf("%s message %d", author, k),
					}
					if k%3 != 0 { // every third message has no CMID
						batch[i].CMID = fmt.Sprintf("c%d", k)
					}
				}
				res, err := s.Append(t.Context(), batch)
				if err != nil {
					errs[w] = fmt.Errorf("Append: %w", err)
					return
				}
				if len(res) != len(batch) {
					errs[w] = fmt.Errorf("Append returned %d results for %d messages", len(res), len(batch))
					return
				}
				for i, r := range res {
					if r.Err != nil || r.Duplicate {
						errs[w] = fmt.Errorf("result for %q = {Duplicate: %v, Err: %v}, want a new message", batch[i].Body, r.Duplicate, r.Err)
						return
					}
					results[w] = append(results[w], r.Message)
				}
				n += size
			}
		})
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", w, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// What Append returned, by room and sequence number.
	acked := make(map[string]map[int64]chat.Message)
	for _, room := range rooms {
		acked[room] = make(map[int64]chat.Message)
	}
	for _, res := range results {
		for _, m := range res {
			if prev, dup := acked[m.Room][m.Seq]; dup {
				t.Fatalf("two messages got %s#%d: %q and %q", m.Room, m.Seq, prev.Body, m.Body)
			}
			acked[m.Room][m.Seq] = m
		}
	}

	for _, room := range rooms {
		hist := allHistory(t, s, room)
		if got, want := len(hist), len(acked[room]); got != want {
			t.Errorf("room %q holds %d messages, want %d", room, got, want)
		}
		checkSeqs(t, room, hist)
		checkTimes(t, hist)
		for _, m := range hist {
			if diff := cmp.Diff(acked[room][m.Seq], m); diff != "" {
				t.Errorf("history differs from Append's result (-append +history):\n%s", diff)
			}
		}
		r, err := s.Room(t.Context(), room)
		if err != nil {
			t.Fatalf("Room(%q): %v", room, err)
		}
		if got, want := r.LastSeq, int64(len(acked[room])); got != want {
			t.Errorf("Room(%q).LastSeq = %d, want %d", room, got, want)
		}
	}

	// Each writer's messages are in the order it sent them.
	for w, res := range results {
		last := make(map[string]int64)
		for _, m := range res {
			if m.Seq <= last[m.Room] {
				t.Errorf("writer %d: %q got %s#%d after an earlier message got #%d", w, m.Body, m.Room, m.Seq, last[m.Room])
			}
			last[m.Room] = m.Seq
		}
	}
}

func testResend(t *testing.T, f Factory) {
	msg := func(room, author, cmid, body string) chat.NewMessage {
		return chat.NewMessage{Room: room, Author: author, CMID: cmid, Body: body}
	}
	const lobby, other = chat.DefaultRoom, "other"
	tests := []struct {
		name  string
		first []chat.NewMessage // appended before batch
		batch []chat.NewMessage
		// For each message of batch: -1 if it must be stored as a new
		// message, or the index, in first followed by batch, of the stored
		// message it repeats.
		dupOf []int
	}{{
		name:  "resend",
		first: []chat.NewMessage{msg(lobby, "alice", "c1", "hello")},
		batch: []chat.NewMessage{msg(lobby, "alice", "c1", "hello, edited")},
		dupOf: []int{0},
	}, {
		name:  "resend as guest",
		first: []chat.NewMessage{msg(lobby, "alice", "c1", "hello")},
		batch: []chat.NewMessage{{Room: lobby, Author: "alice", CMID: "c1", Guest: true, Body: "hello"}},
		dupOf: []int{0},
	}, {
		name:  "other author",
		first: []chat.NewMessage{msg(lobby, "alice", "c1", "hello")},
		batch: []chat.NewMessage{msg(lobby, "bob", "c1", "hello")},
		dupOf: []int{-1},
	}, {
		name:  "other room",
		first: []chat.NewMessage{msg(lobby, "alice", "c1", "hello")},
		batch: []chat.NewMessage{msg(other, "alice", "c1", "hello")},
		dupOf: []int{-1},
	}, {
		name:  "cmid is case sensitive",
		first: []chat.NewMessage{msg(lobby, "alice", "c1", "hello")},
		batch: []chat.NewMessage{msg(lobby, "alice", "C1", "hello")},
		dupOf: []int{-1},
	}, {
		name:  "empty cmid never dedupes",
		first: []chat.NewMessage{msg(lobby, "alice", "", "hello")},
		batch: []chat.NewMessage{msg(lobby, "alice", "", "hello"), msg(lobby, "alice", "", "hello")},
		dupOf: []int{-1, -1},
	}, {
		name: "duplicates in one batch",
		batch: []chat.NewMessage{
			msg(lobby, "alice", "c1", "a"),
			msg(lobby, "bob", "c1", "b"),
			msg(lobby, "alice", "c1", "c"),
			msg(other, "alice", "c1", "d"),
			msg(lobby, "bob", "c1", "e"),
			msg(other, "alice", "c1", "f"),
		},
		dupOf: []int{-1, -1, 0, -1, 1, 3},
	}, {
		name:  "resends among new messages",
		first: []chat.NewMessage{msg(lobby, "alice", "c1", "one"), msg(lobby, "alice", "c2", "two")},
		batch: []chat.NewMessage{
			msg(lobby, "alice", "c3", "three"),
			msg(lobby, "alice", "c2", "two"),
			msg(lobby, "alice", "c1", "one"),
			msg(lobby, "alice", "c4", "four"),
		},
		dupOf: []int{-1, 1, 0, -1},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, f)
			mustCreateRoom(t, s, other)
			// stored is every message of first and batch as the store
			// returned it.
			stored := mustAppend(t, s, tt.first)

			res, err := s.Append(t.Context(), tt.batch)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if len(res) != len(tt.batch) {
				t.Fatalf("Append returned %d results for %d messages", len(res), len(tt.batch))
			}
			for i, r := range res {
				stored = append(stored, r.Message)
				if r.Err != nil {
					t.Errorf("result %d: Err = %v, want nil", i, r.Err)
				}
				if got, want := r.Duplicate, tt.dupOf[i] >= 0; got != want {
					t.Errorf("result %d: Duplicate = %v, want %v", i, got, want)
				}
			}
			if t.Failed() {
				t.FailNow()
			}

			// A duplicate is the stored message, not the resent one.
			want := make(map[string][]chat.Message)
			for _, m := range stored[:len(tt.first)] {
				want[m.Room] = append(want[m.Room], m)
			}
			for i, r := range res {
				nm := tt.batch[i]
				if k := tt.dupOf[i]; k >= 0 {
					if diff := cmp.Diff(stored[k], r.Message); diff != "" {
						t.Errorf("result %d repeats message %d (-stored +result):\n%s", i, k, diff)
					}
					continue
				}
				wantMsg := chat.Message{Room: nm.Room, Seq: r.Message.Seq, Author: nm.Author, Guest: nm.Guest, Body: nm.Body, CMID: nm.CMID, Time: r.Message.Time}
				if diff := cmp.Diff(wantMsg, r.Message); diff != "" {
					t.Errorf("result %d mismatch (-want +got):\n%s", i, diff)
				}
				want[nm.Room] = append(want[nm.Room], r.Message)
			}

			// Duplicates stored nothing.
			for _, room := range []string{lobby, other} {
				hist := allHistory(t, s, room)
				checkSeqs(t, room, hist)
				if diff := cmp.Diff(want[room], hist, equateEmpty); diff != "" {
					t.Errorf("history of %q mismatch (-want +got):\n%s", room, diff)
				}
			}
		})
	}
}

func testMissingRoomInBatch(t *testing.T, f Factory) {
	s := start(t, f)
	ctx := t.Context()
	lobby := chat.DefaultRoom

	t.Run("Mixed", func(t *testing.T) {
		batch := []chat.NewMessage{
			{Room: lobby, Author: "alice", Body: "one"},
			{Room: "nope", Author: "alice", Body: "lost"},
			{Room: lobby, Author: "alice", Body: "two", CMID: "c2"},
			{Room: "nope", Author: "alice", Body: "lost", CMID: "c2"},
			{Room: "", Author: "alice", Body: "lost"},
		}
		res, err := s.Append(ctx, batch)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if len(res) != len(batch) {
			t.Fatalf("Append returned %d results for %d messages", len(res), len(batch))
		}
		for i, r := range res {
			var want error
			if batch[i].Room != lobby {
				want = chat.ErrNoSuchRoom
			}
			if !errors.Is(r.Err, want) {
				t.Errorf("result %d: Err = %v, want %v", i, r.Err, want)
			}
			if r.Duplicate {
				t.Errorf("result %d: Duplicate = true, want false", i)
			}
		}
		hist := allHistory(t, s, lobby)
		if diff := cmp.Diff([]chat.Message{res[0].Message, res[2].Message}, hist); diff != "" {
			t.Errorf("history of %q mismatch (-results +history):\n%s", lobby, diff)
		}
		checkSeqs(t, lobby, hist)
		if _, err := s.Room(ctx, "nope"); !errors.Is(err, chat.ErrNoSuchRoom) {
			t.Errorf("Room(%q) after Append = %v, want %v", "nope", err, chat.ErrNoSuchRoom)
		}
	})

	t.Run("AllMissing", func(t *testing.T) {
		res, err := s.Append(ctx, []chat.NewMessage{
			{Room: "nope", Author: "alice", Body: "lost"},
			{Room: "gone", Author: "bob", Body: "lost"},
		})
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if len(res) != 2 {
			t.Fatalf("Append returned %d results for 2 messages", len(res))
		}
		for i, r := range res {
			if !errors.Is(r.Err, chat.ErrNoSuchRoom) {
				t.Errorf("result %d: Err = %v, want %v", i, r.Err, chat.ErrNoSuchRoom)
			}
		}
	})

	t.Run("Empty", func(t *testing.T) {
		res, err := s.Append(ctx, nil)
		if err != nil || len(res) != 0 {
			t.Errorf("Append(nil) = %v, %v; want no results, nil", res, err)
		}
	})
}

// testCanceledAppend checks "a non-nil error means nothing of the batch was
// committed" where an error is most likely: the context is already done.
func testCanceledAppend(t *testing.T, f Factory) {
	s := start(t, f)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res, err := s.Append(ctx, []chat.NewMessage{{Room: chat.DefaultRoom, Author: "alice", Body: "hi"}})
	hist := allHistory(t, s, chat.DefaultRoom)
	if err != nil {
		if len(hist) != 0 {
			t.Errorf("Append with a canceled context failed (%v) but stored %d messages", err, len(hist))
		}
		return
	}
	// Not failing is allowed, but then the message is stored.
	if len(res) != 1 || res[0].Err != nil || len(hist) != 1 {
		t.Errorf("Append with a canceled context = %+v, nil; history holds %d messages, want 1", res, len(hist))
	}
}

func testMessageTime(t *testing.T, f Factory) {
	s := start(t, f)
	var acked []chat.Message
	for i := range 5 {
		batch := make([]chat.NewMessage, i+1)
		for j := range batch {
			batch[j] = chat.NewMessage{Room: chat.DefaultRoom, Author: "alice", Body: "tick"}
		}
		acked = append(acked, mustAppend(t, s, batch)...)
	}
	checkTimes(t, acked)
	if diff := cmp.Diff(acked, allHistory(t, s, chat.DefaultRoom)); diff != "" {
		t.Errorf("history differs from Append's results (-append +history):\n%s", diff)
	}
}
