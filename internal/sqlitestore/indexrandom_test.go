package sqlitestore

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// TestIndexRandom: commits of sends, edits, deletions and reactions in
// random order, with searches and room creations and deletions between
// them, new messages indexed at once or left pending (indexLag 0 or an
// hour, drawn each step): after each step the full-text index holds
// exactly the words of the plain messages up to its mark (fts_mark), at
// their rowids, and nothing past it; after a search, every message. (It
// found that a room whose messages had reactions could not be deleted.)
func TestIndexRandom(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(15, 8))
	rooms := []string{chat.DefaultRoom}
	seqs := map[string]int64{}
	word := func() string { return fmt.Sprintf("w%d", rng.IntN(40)) }
	for step := range 300 {
		s.indexLag = []time.Duration{0, time.Hour}[rng.IntN(2)]
		searched := false
		switch r := rng.IntN(100); {
		case r < 3 && len(rooms) > 1:
			room := rooms[len(rooms)-1]
			if err := s.DeleteRoom(ctx, room); err != nil {
				t.Fatalf("step %d: DeleteRoom: %v", step, err)
			}
			rooms = rooms[:len(rooms)-1]
			delete(seqs, room)
		case r < 8:
			room := fmt.Sprintf("r%d", step)
			if err := s.CreateRoom(ctx, chat.Room{Name: room}); err != nil {
				t.Fatal(err)
			}
			rooms = append(rooms, room)
		case r < 15:
			if _, err := s.Search(ctx, chat.SearchQuery{Rooms: rooms, Words: []string{word()}, Limit: 5}); err != nil {
				t.Fatalf("step %d: Search: %v", step, err)
			}
			searched = true
		default:
			var batch []chat.NewMessage
			for range 1 + rng.IntN(4) {
				room := rooms[rng.IntN(len(rooms))]
				m := chat.NewMessage{Room: room, Author: "ada", Body: word() + " " + word()}
				if last := seqs[room]; last > 0 && rng.IntN(3) == 0 {
					m.Target = 1 + rng.Int64N(last)
					m.Kind = []string{chat.KindEdit, chat.KindDelete, chat.KindReact}[rng.IntN(3)]
					if m.Kind == chat.KindReact {
						m.Body = "👍"
					}
				}
				batch = append(batch, m)
			}
			res, err := s.Append(ctx, batch)
			if err != nil {
				t.Fatalf("step %d: Append: %v", step, err)
			}
			for _, r := range res {
				if r.Err == nil && r.Message.Seq > seqs[r.Message.Room] {
					seqs[r.Message.Room] = r.Message.Seq
				}
			}
		}
		upto, last := ftsMark(t, s)
		if searched && upto != last {
			t.Fatalf("step %d: after a search the mark is at %d, the last message at %d", step, upto, last)
		}
		if diff := cmp.Diff(wantIndexedUpTo(t, s, upto), indexed(t, s)); diff != "" {
			t.Fatalf("index after step %d (-want +got):\n%s", step, diff)
		}
	}
	if err := s.indexAll(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantIndexed(t, s), indexed(t, s)); diff != "" {
		t.Fatalf("index at the end (-want +got):\n%s", diff)
	}
}
