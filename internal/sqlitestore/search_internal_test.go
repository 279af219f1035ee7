package sqlitestore

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

func TestFTSQuery(t *testing.T) {
	tests := []struct {
		words []string
		want  string
	}{
		{[]string{"sicp"}, `"sicp"*`},
		{[]string{"sicp", "chapter"}, `"sicp" "chapter"*`},
		{[]string{`"`}, `""""*`},
		{[]string{`a"b`, "NEAR(", "OR"}, `"a""b" "NEAR(" "OR"*`},
		{[]string{"*", "-"}, `"*" "-"*`},
		{[]string{"a\x00b"}, `"a b"*`},
	}
	for _, tt := range tests {
		if got := ftsQuery(tt.words); got != tt.want {
			t.Errorf("ftsQuery(%q) = %s, want %s", tt.words, got, tt.want)
		}
	}
}

// FuzzSearch: whatever the words, Search runs (no FTS5 syntax error) and
// finds only plain messages of the rooms asked.
func FuzzSearch(f *testing.F) {
	for _, s := range []string{"sicp", `"`, `*`, `NEAR(`, `-`, `OR`, `a"b c*`, "x\x00y", `body:x`, `^a`, `(a OR b) NOT c`} {
		f.Add(s)
	}
	s, err := Open(filepath.Join(f.TempDir(), "hubbub.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateRoom(f.Context(), chat.Room{Name: "other"}); err != nil {
		f.Fatal(err)
	}
	if _, err := s.Append(f.Context(), []chat.NewMessage{
		{Room: chat.DefaultRoom, Author: "ada", Body: `a "quoted" OR NEAR(this) * - body:x`},
		{Room: "other", Author: "ada", Body: `a "quoted" OR NEAR(this) * - body:x`},
	}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query string) {
		for _, words := range [][]string{strings.Fields(query), chat.SearchWords(query), {query}} {
			if len(words) == 0 {
				continue
			}
			msgs, err := s.Search(t.Context(), chat.SearchQuery{Rooms: []string{chat.DefaultRoom}, Words: words, Limit: 5})
			if err != nil {
				t.Fatalf("Search(%q): %v", words, err)
			}
			for _, m := range msgs {
				if m.Room != chat.DefaultRoom {
					t.Fatalf("Search(%q) found a message of %s", words, m.Room)
				}
			}
		}
	})
}

// TestSearchAfterVacuum: the FTS5 index is keyed by the messages' rowid,
// which VACUUM and VACUUM INTO (the backup docs/operations.md shows) keep:
// after either, search still finds the right messages, an edit
// re-indexes the right row, and every message is found by its own word.
func TestSearchAfterVacuum(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if err := s.CreateRoom(ctx, chat.Room{Name: "gone"}); err != nil {
		t.Fatal(err)
	}
	var batch []chat.NewMessage
	for i := range 50 {
		room := chat.DefaultRoom
		if i%2 == 0 {
			room = "gone"
		}
		batch = append(batch, chat.NewMessage{Room: room, Author: "ada", Body: fmt.Sprintf("w%d common", i)})
	}
	if _, err := s.Append(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// Holes in the rowids: the rows of one room go (their index entries
	// with them), so a VACUUM that renumbered would show.
	if err := s.DeleteRoom(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.ExecContext(ctx, `VACUUM`); err != nil {
		t.Fatalf("VACUUM: %v", err)
	}
	backup := filepath.Join(dir, "backup.db")
	if _, err := s.writer.ExecContext(ctx, `VACUUM INTO ?`, backup); err != nil {
		t.Fatalf("VACUUM INTO: %v", err)
	}
	b, err := Open(backup)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for name, st := range map[string]*Store{"vacuumed": s, "backup": b} {
		if _, err := st.Append(ctx, []chat.NewMessage{{Room: chat.DefaultRoom, Kind: chat.KindEdit, Author: "ada", Target: 3, Body: "renamed common"}}); err != nil {
			t.Fatalf("%s: edit: %v", name, err)
		}
		// Each message is found by its own word, and only it: the index
		// points at the right rows. (FTS5's integrity-check cannot say:
		// it expects every row of the table indexed, and entries are not.)
		hist, err := st.HistoryAfter(ctx, chat.DefaultRoom, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range hist {
			word, _, _ := strings.Cut(m.Body, " ")
			if m.Kind != "" || m.Seq == 3 {
				continue
			}
			got, err := st.Search(ctx, chat.SearchQuery{Rooms: []string{chat.DefaultRoom}, Words: []string{word, "common"}, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Seq != m.Seq || got[0].Body != m.Body {
				t.Errorf("%s: %q found %v, want only lobby#%d", name, word, got, m.Seq)
			}
		}
		msgs, err := st.Search(ctx, chat.SearchQuery{Rooms: []string{chat.DefaultRoom}, Words: []string{"common"}, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 25 {
			t.Errorf("%s: %d messages match common, want 25", name, len(msgs))
		}
		for _, m := range msgs {
			if !strings.Contains(m.Body, "common") {
				t.Errorf("%s: %s#%d %q matched common", name, m.Room, m.Seq, m.Body)
			}
		}
		msgs, err = st.Search(ctx, chat.SearchQuery{Rooms: []string{chat.DefaultRoom}, Words: []string{"renamed"}, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 || msgs[0].Seq != 3 {
			t.Errorf("%s: renamed found %v, want lobby#3", name, msgs)
		}
	}
}

// TestFTSOneBatch: a message inserted, edited and another deleted in one
// batch leave the index right (the new messages are indexed as sent, then
// the queued changes are replayed in order), the queue is empty after every commit, and a
// deleted room leaves nothing to find.
func TestFTSOneBatch(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if err := s.CreateRoom(ctx, chat.Room{Name: "gone"}); err != nil {
		t.Fatal(err)
	}
	lobby := chat.DefaultRoom
	if _, err := s.Append(ctx, []chat.NewMessage{
		{Room: lobby, Author: "ada", Body: "alpha bravo"},                             // 1
		{Room: lobby, Author: "ada", Kind: chat.KindEdit, Target: 1, Body: "charlie"}, // 2
		{Room: lobby, Author: "ada", Body: "delta echo"},                              // 3
		{Room: lobby, Author: "ada", Body: "foxtrot"},                                 // 4
		{Room: lobby, Author: "ada", Kind: chat.KindDelete, Target: 4},                // 5
		{Room: "gone", Author: "ada", Body: "golf"},
	}); err != nil {
		t.Fatal(err)
	}
	find := func(word string, rooms ...string) []int64 {
		t.Helper()
		msgs, err := s.Search(ctx, chat.SearchQuery{Rooms: rooms, Words: []string{word}, Limit: 10})
		if err != nil {
			t.Fatalf("Search(%q): %v", word, err)
		}
		var seqs []int64
		for _, m := range msgs {
			seqs = append(seqs, m.Seq)
		}
		return seqs
	}
	queued := func() int {
		t.Helper()
		var n int
		if err := s.writer.QueryRowContext(ctx, `SELECT count(*) FROM fts_queue`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	tests := []struct {
		word  string
		rooms []string
		want  string
	}{
		{"alpha", []string{lobby}, "[]"},
		{"charlie", []string{lobby}, "[1]"},
		{"delta", []string{lobby}, "[3]"},
		{"foxtrot", []string{lobby}, "[]"},
		{"golf", []string{"gone"}, "[1]"},
	}
	for _, tc := range tests {
		if got := fmt.Sprint(find(tc.word, tc.rooms...)); got != tc.want {
			t.Errorf("search %q = %s, want %s", tc.word, got, tc.want)
		}
	}
	if n := queued(); n != 0 {
		t.Errorf("after Append: %d changes still queued", n)
	}
	// Every word of every plain message is indexed once, and nothing
	// else (not an edit entry, not a deleted message, not a word edited
	// away).
	if diff := cmp.Diff(wantIndexed(t, s), indexed(t, s)); diff != "" {
		t.Errorf("full-text index after Append (-want +got):\n%s", diff)
	}
	if err := s.DeleteRoom(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if n := queued(); n != 0 {
		t.Errorf("after DeleteRoom: %d changes still queued", n)
	}
	var indexed int
	if err := s.writer.QueryRowContext(ctx, `SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'golf'`).Scan(&indexed); err != nil {
		t.Fatal(err)
	}
	if indexed != 0 {
		t.Errorf("the deleted room's message is still indexed (%d)", indexed)
	}
}

// indexed returns what the full-text index holds, one "rowid word" per
// occurrence, sorted.
func indexed(t *testing.T, s *Store) []string {
	t.Helper()
	ctx := t.Context()
	if _, err := s.writer.ExecContext(ctx,
		`CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_words USING fts5vocab(main, messages_fts, instance)`); err != nil {
		t.Fatal(err)
	}
	rows, err := s.writer.QueryContext(ctx, `SELECT doc, term FROM temp.fts_words`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var doc int64
		var term string
		if err := rows.Scan(&doc, &term); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(doc, " ", term))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	return got
}

// wantIndexed is what indexed should return once nothing is pending: the
// words of the plain messages that are not deleted.
func wantIndexed(t *testing.T, s *Store) []string {
	t.Helper()
	return wantIndexedUpTo(t, s, 1<<62)
}

// wantIndexedUpTo is what indexed should return when the index is
// complete up to the rowid upto (fts_mark), and holds nothing above it.
func wantIndexedUpTo(t *testing.T, s *Store, upto int64) []string {
	t.Helper()
	rows, err := s.writer.QueryContext(t.Context(), `SELECT rowid, body FROM messages WHERE kind = '' AND deleted = 0 AND rowid <= ?`, upto)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var want []string
	for rows.Next() {
		var rowid int64
		var body string
		if err := rows.Scan(&rowid, &body); err != nil {
			t.Fatal(err)
		}
		for _, w := range strings.Fields(strings.ToLower(body)) {
			want = append(want, fmt.Sprint(rowid, " ", w))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	return want
}

// ftsMark returns fts_mark.upto and the largest rowid of messages.
func ftsMark(t *testing.T, s *Store) (upto, last int64) {
	t.Helper()
	if err := s.writer.QueryRowContext(t.Context(),
		`SELECT (SELECT upto FROM fts_mark), (SELECT coalesce(max(rowid), 0) FROM messages)`).Scan(&upto, &last); err != nil {
		t.Fatal(err)
	}
	return upto, last
}

// TestIndexLater: new messages are indexed once the oldest not indexed has
// waited indexLag, at once when an entry changes a message, before a
// search and a room's deletion, at Close, and at Open for what a crash
// left; a message that takes the rowid of a deleted room's last message
// is indexed too.
func TestIndexLater(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubbub.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	ctx := t.Context()
	var clock int64 = 1_000_000
	s.indexClock = func() int64 { return clock }
	lobby := chat.DefaultRoom
	send := func(room string, bodies ...string) {
		t.Helper()
		var batch []chat.NewMessage
		for _, b := range bodies {
			batch = append(batch, chat.NewMessage{Room: room, Author: "ada", Body: b})
		}
		if _, err := s.Append(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	// check compares the index with the messages up to the mark, and
	// the mark with where it should be: at the last message, or not.
	check := func(what string, complete bool) {
		t.Helper()
		upto, last := ftsMark(t, s)
		if got := upto == last; got != complete {
			t.Errorf("%s: mark at %d, last message %d; want complete %v", what, upto, last, complete)
		}
		if diff := cmp.Diff(wantIndexedUpTo(t, s, upto), indexed(t, s)); diff != "" {
			t.Errorf("%s: index (-want +got):\n%s", what, diff)
		}
	}
	find := func(word string, rooms ...string) int {
		t.Helper()
		msgs, err := s.Search(ctx, chat.SearchQuery{Rooms: rooms, Words: []string{word}, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		return len(msgs)
	}

	send(lobby, "alpha", "bravo")
	check("a first commit", false)
	clock += indexLag.Milliseconds() - 1
	send(lobby, "charlie")
	check("before the first has waited indexLag", false)
	clock++
	send(lobby, "delta")
	check("once the first has waited indexLag", true)
	if got := indexed(t, s); len(got) != 4 {
		t.Errorf("indexed %q, want the four messages", got)
	}

	send(lobby, "echo")
	check("a new commit", false)
	if n := find("echo", lobby); n != 1 {
		t.Errorf("search for a message not indexed yet found %d, want 1", n)
	}
	check("after a search", true)

	send(lobby, "foxtrot")
	if _, err := s.Append(ctx, []chat.NewMessage{{Room: lobby, Author: "ada", Kind: chat.KindEdit, Target: 1, Body: "alpha2"}}); err != nil {
		t.Fatal(err)
	}
	check("after an edit", true)

	// A room deleted with messages not indexed yet, its own and
	// another room's, its own the last rows: the next message takes
	// their rowids.
	if err := s.CreateRoom(ctx, chat.Room{Name: "gone"}); err != nil {
		t.Fatal(err)
	}
	send(lobby, "golf")
	send("gone", "hotel", "hotel")
	if err := s.DeleteRoom(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	check("after a room's deletion", true)
	send(lobby, "india")
	if n := find("india", lobby); n != 1 {
		t.Errorf("search for a message at a deleted message's rowid found %d, want 1", n)
	}
	check("after a search", true)

	send(lobby, "juliett")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// What a crash leaves: a committed message past the mark.
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	var upto, last int64
	if err := db.QueryRowContext(ctx, `SELECT (SELECT upto FROM fts_mark), (SELECT max(rowid) FROM messages)`).Scan(&upto, &last); err != nil {
		t.Fatal(err)
	}
	if upto != last {
		t.Errorf("after Close: mark at %d, last message %d", upto, last)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO messages (room, seq, author, guest, body, ts) VALUES (?, 100, 'ada', 0, 'kilo', 0)`, lobby); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	check("after Open", true)
	if n := find("kilo", lobby); n != 1 {
		t.Errorf("search for the message the crash left found %d, want 1", n)
	}
}
