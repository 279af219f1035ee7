package storetest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// RunSearch runs the conformance suite for [chat.Searcher] against the
// stores f opens, which must implement it as well as chat.Store; the suite
// fails at once if they do not. Beyond the contract it pins down how
// words match: case folded, whole words (punctuation and symbols separate
// them), the last word also as a prefix; and that words are data, never
// query syntax, whatever they hold.
func RunSearch(t *testing.T, f Factory) {
	runSuite(t, f, []subtest{
		{"Words", testSearchWords},
		{"Rooms", testSearchRooms},
		{"Order", testSearchOrder},
		{"State", testSearchState},
		{"Hostile", testSearchHostile},
		{"Durability", testSearchDurability},
		{"Closed", testSearchClosed},
	})
}

type searchStore interface {
	chat.Store
	chat.Searcher
}

func asSearch(t *testing.T, s chat.Store) searchStore {
	t.Helper()
	r, ok := s.(searchStore)
	if !ok {
		t.Fatalf("%T does not implement chat.Searcher", s)
	}
	return r
}

// found is what a search result is compared by.
type found struct {
	Room string
	Seq  int64
}

// sortFound compares results as sets.
var sortFound = cmpopts.SortSlices(func(a, b found) bool {
	return a.Room < b.Room || a.Room == b.Room && a.Seq < b.Seq
})

func search(t *testing.T, s searchStore, q chat.SearchQuery) []found {
	t.Helper()
	msgs, err := s.Search(t.Context(), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	var out []found
	for _, m := range msgs {
		if m.Kind != "" || m.Deleted {
			t.Errorf("Search(%+v) found %s#%d of kind %q, deleted %v; want plain messages only", q, m.Room, m.Seq, m.Kind, m.Deleted)
		}
		out = append(out, found{m.Room, m.Seq})
	}
	return out
}

func testSearchWords(t *testing.T, f Factory) {
	s := asSearch(t, start(t, f))
	const lobby = chat.DefaultRoom
	mustAppend(t, s, []chat.NewMessage{
		plain(lobby, "grace", "has anyone read SICP?"),        // 1
		plain(lobby, "linus", "SICP, chapter 1 :+1:"),         // 2
		plain(lobby, "ada", "the chapters of Knuth's TAOCP"),  // 3
		plain(lobby, "ada", "Café au lait, naïve résumé"),     // 4
		plain(lobby, "bob", "see example.com/sicp-notes now"), // 5
		plain(lobby, "bob", "日本語 テキスト"),                       // 6
	})
	all := []string{lobby}
	tests := []struct {
		words []string
		want  []int64
	}{
		{[]string{"sicp"}, []int64{5, 2, 1}},
		{[]string{"SICP"}, []int64{5, 2, 1}},
		{[]string{"chapter", "sicp"}, []int64{2}}, // any order
		{[]string{"sicp", "chapter"}, []int64{2}}, // all required
		{[]string{"sicp", "chap"}, []int64{2}},    // the last word is a prefix
		{[]string{"chap", "sicp"}, nil},           // the others are whole words
		{[]string{"chapter"}, []int64{3, 2}},      // prefix: chapters too
		{[]string{"knuth"}, []int64{3}},           // punctuation separates
		{[]string{"example", "com"}, []int64{5}},  // so does a dot
		{[]string{"notes"}, []int64{5}},           // and a hyphen
		{[]string{"café"}, []int64{4}},
		{[]string{"CAFÉ", "naïve"}, []int64{4}},
		{[]string{"日本語"}, []int64{6}},
		{[]string{"anyone", "nobody"}, nil},
		{[]string{"ead"}, nil}, // no infix matches
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.words), func(t *testing.T) {
			var want []found
			for _, seq := range tt.want {
				want = append(want, found{lobby, seq})
			}
			got := search(t, s, chat.SearchQuery{Rooms: all, Words: tt.words, Limit: 10})
			if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func testSearchRooms(t *testing.T, f Factory) {
	s := asSearch(t, start(t, f))
	mustCreateRoom(t, s, "books", "secret")
	mustAppend(t, s, []chat.NewMessage{
		plain("books", "ada", "a book on sicp"),   // books#1
		plain("secret", "bob", "secret sicp"),     // secret#1
		plain(chat.DefaultRoom, "ada", "sicp?"),   // lobby#1
		plain("books", "ada", "no match in here"), // books#2
	})
	tests := []struct {
		rooms []string
		want  []found
	}{
		{[]string{"books", chat.DefaultRoom}, []found{{chat.DefaultRoom, 1}, {"books", 1}}},
		{[]string{"secret"}, []found{{"secret", 1}}},
		{[]string{"nope", "Books"}, nil}, // missing rooms; names are exact
		{nil, nil},
	}
	for _, tt := range tests {
		// One batch, one commit time: any order of rooms is newest first.
		got := search(t, s, chat.SearchQuery{Rooms: tt.rooms, Words: []string{"sicp"}, Limit: 10})
		if diff := cmp.Diff(tt.want, got, equateEmpty, sortFound); diff != "" {
			t.Errorf("rooms %q (-want +got):\n%s", tt.rooms, diff)
		}
	}
	for _, q := range []chat.SearchQuery{
		{Rooms: []string{"books"}, Words: nil, Limit: 10},
		{Rooms: []string{"books"}, Words: []string{"sicp"}, Limit: 0},
	} {
		if got := search(t, s, q); len(got) != 0 {
			t.Errorf("Search(%+v) = %v, want nothing", q, got)
		}
	}
}

// testSearchOrder: newest first across rooms (commit order) and in one
// room (seq order), with Limit and Before paging one room.
func testSearchOrder(t *testing.T, f Factory) {
	s := asSearch(t, start(t, f))
	mustCreateRoom(t, s, "a", "b")
	var want []found
	for i := range 12 {
		room := []string{"a", "b"}[i%3%2]
		m := mustAppend(t, s, []chat.NewMessage{plain(room, "ada", fmt.Sprint("word number ", i))})[0]
		want = append([]found{{m.Room, m.Seq}}, want...)
	}
	// Across rooms, newest first is by commit time: messages of two rooms
	// committed in one millisecond may come in either order.
	msgs, err := s.Search(t.Context(), chat.SearchQuery{Rooms: []string{"a", "b"}, Words: []string{"word"}, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var all []found
	last := map[string]int64{}
	for i, m := range msgs {
		all = append(all, found{m.Room, m.Seq})
		if i > 0 && m.Time.After(msgs[i-1].Time) {
			t.Errorf("result %d (%s#%d) is newer than the one before it", i, m.Room, m.Seq)
		}
		if prev, ok := last[m.Room]; ok && m.Seq >= prev {
			t.Errorf("in room %s, seq %d comes after %d", m.Room, m.Seq, prev)
		}
		last[m.Room] = m.Seq
	}
	if diff := cmp.Diff(want, all, sortFound); diff != "" {
		t.Errorf("across rooms (-want +got):\n%s", diff)
	}
	got := search(t, s, chat.SearchQuery{Rooms: []string{"a", "b"}, Words: []string{"word"}, Limit: 5})
	if diff := cmp.Diff(all[:5], got); diff != "" {
		t.Errorf("limit 5 is not the first 5 (-want +got):\n%s", diff)
	}
	// Paging room a with Before.
	var pages [][]int64
	before := int64(0)
	for {
		page := search(t, s, chat.SearchQuery{Rooms: []string{"a"}, Words: []string{"number"}, Before: before, Limit: 3})
		if len(page) == 0 {
			break
		}
		var seqs []int64
		for _, m := range page {
			seqs = append(seqs, m.Seq)
		}
		pages = append(pages, seqs)
		before = seqs[len(seqs)-1]
	}
	wantPages := [][]int64{{8, 7, 6}, {5, 4, 3}, {2, 1}}
	if diff := cmp.Diff(wantPages, pages); diff != "" {
		t.Errorf("pages of room a (-want +got):\n%s", diff)
	}
}

// testSearchState: an edit re-indexes (the new text matches, the old does
// not), a delete un-indexes, and results carry the state history shows.
func testSearchState(t *testing.T, f Factory) {
	s := asSearch(t, start(t, f))
	const lobby = chat.DefaultRoom
	mustAppend(t, s, []chat.NewMessage{
		plain(lobby, "ada", "first draft about turtles"), // 1
		plain(lobby, "bob", "turtles all the way down"),  // 2
		plain(lobby, "bob", "gone soon: turtles"),        // 3
	})
	for _, e := range []chat.NewMessage{
		entry(chat.KindEdit, lobby, "ada", 1, "final text about tortoises"), // 4
		entry(chat.KindReact, lobby, "ada", 2, "👍"),                         // 5
		entry(chat.KindDelete, lobby, "bob", 3, ""),                         // 6
		entry(chat.KindReact, lobby, "bob", 2, "🐢"),                         // 7
	} {
		if r := appendOne(t, s, e); r.Err != nil {
			t.Fatalf("Append %s: %v", e.Kind, r.Err)
		}
	}
	all := []string{lobby}
	if got := search(t, s, chat.SearchQuery{Rooms: all, Words: []string{"draft"}, Limit: 10}); len(got) != 0 {
		t.Errorf("the text before the edit still matches: %v", got)
	}
	msgs, err := s.Search(t.Context(), chat.SearchQuery{Rooms: all, Words: []string{"tortoises"}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := []state{{Seq: 1, Author: "ada", Body: "final text about tortoises", Edited: true, V: 4}}
	var got []state
	for _, m := range msgs {
		got = append(got, stateOf(m))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the edited message (-want +got):\n%s", diff)
	}
	msgs, err = s.Search(t.Context(), chat.SearchQuery{Rooms: all, Words: []string{"turtles"}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	want = []state{{Seq: 2, Author: "bob", Body: "turtles all the way down", V: 7, Reactions: []chat.Reaction{
		{Emoji: "👍", Users: []string{"ada"}}, {Emoji: "🐢", Users: []string{"bob"}},
	}}}
	got = nil
	for _, m := range msgs {
		got = append(got, stateOf(m))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("turtles: the deleted message must not match, the other carries its reactions (-want +got):\n%s", diff)
	}
}

// testSearchHostile: words that are FTS5 or tsquery syntax are searched
// for as text (and match nothing, or the words they spell), never run.
func testSearchHostile(t *testing.T, f Factory) {
	s := asSearch(t, start(t, f))
	const lobby = chat.DefaultRoom
	mustAppend(t, s, []chat.NewMessage{
		plain(lobby, "ada", "this OR that"),            // 1
		plain(lobby, "ada", "NEAR the end, not far"),   // 2
		plain(lobby, "ada", `a "quoted" word and a *`), // 3
	})
	hostile := [][]string{
		{`"`}, {`*`}, {`NEAR(`}, {`-`}, {`OR`}, {`AND`}, {`NOT`}, {`^`}, {`""`}, {`a"b`}, {`'`}, {`\`},
		{`body:this`}, {`this`, `OR`, `that`}, {`NEAR(this that)`}, {`!`}, {`&`}, {`|`}, {`<->`}, {`:*`},
		{`this*`}, {`(`}, {`)`}, {`{body}`}, {`+`}, {"\x00"}, {"', 'x'); DROP TABLE messages; --"},
	}
	for _, words := range hostile {
		if _, err := s.Search(t.Context(), chat.SearchQuery{Rooms: []string{lobby}, Words: words, Limit: 10}); err != nil {
			t.Errorf("Search(%q): %v", words, err)
		}
		if _, err := s.Search(t.Context(), chat.SearchQuery{Rooms: []string{lobby}, Words: chat.SearchWords(fmt.Sprint(words)), Limit: 10}); err != nil {
			t.Errorf("Search(SearchWords(%q)): %v", words, err)
		}
	}
	tests := []struct {
		words []string
		want  []int64
	}{
		{[]string{"OR"}, []int64{1}}, // a word, not an operator
		{[]string{"this", "OR", "that"}, []int64{1}},
		{[]string{"NEAR"}, []int64{2}},
		{[]string{"not", "far"}, []int64{2}},
		{[]string{"quoted", "word"}, []int64{3}},
		{[]string{"this", "that", "end"}, nil}, // not an OR
	}
	for _, tt := range tests {
		var want []found
		for _, seq := range tt.want {
			want = append(want, found{lobby, seq})
		}
		got := search(t, s, chat.SearchQuery{Rooms: []string{lobby}, Words: tt.words, Limit: 10})
		if diff := cmp.Diff(want, got, equateEmpty); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.words, diff)
		}
	}
	// Still all there.
	if got := allHistory(t, s, lobby); len(got) != 3 {
		t.Errorf("%d messages after the hostile searches, want 3", len(got))
	}
}

func testSearchDurability(t *testing.T, f Factory) {
	open := f(t)
	first, closeStore := openOnce(t, open)
	mustAppend(t, first, []chat.NewMessage{plain(chat.DefaultRoom, "ada", "kept across a restart")})
	if err := closeStore(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s := asSearch(t, keepOpen(t, open))
	got := search(t, s, chat.SearchQuery{Rooms: []string{chat.DefaultRoom}, Words: []string{"restart"}, Limit: 10})
	if diff := cmp.Diff([]found{{chat.DefaultRoom, 1}}, got); diff != "" {
		t.Errorf("after reopen (-want +got):\n%s", diff)
	}
}

func testSearchClosed(t *testing.T, f Factory) {
	first, closeStore := openOnce(t, f(t))
	s := asSearch(t, first)
	if err := closeStore(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err := s.Search(t.Context(), chat.SearchQuery{Rooms: []string{chat.DefaultRoom}, Words: []string{"x"}, Limit: 1})
	if !errors.Is(err, chat.ErrClosed) {
		t.Errorf("Search after Close = %v, want %v", err, chat.ErrClosed)
	}
}
