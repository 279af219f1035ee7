package pgstore

import (
	"os"
	"strings"
	"testing"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/storetest"
)

func TestSearch(t *testing.T) {
	testDSN(t)
	storetest.RunSearch(t, factory)
}

func TestTSQuery(t *testing.T) {
	tests := []struct {
		words []string
		want  string
	}{
		{[]string{"sicp"}, `'sicp':*`},
		{[]string{"sicp", "chapter"}, `'sicp' & 'chapter':*`},
		{[]string{`"`}, ``},
		{[]string{`'`, `\`, `&`, `|`, `!`, `<->`, `:*`, `(`, `)`}, ``},
		{[]string{`a'b`, "NEAR(", "OR"}, `'a b' & 'NEAR' & 'OR':*`},
		{[]string{"example.com", "x"}, `'example com' & 'x':*`},
		{[]string{"a\x00b", "\xff"}, `'a b':*`},
		{[]string{"café"}, `'café':*`},
	}
	for _, tt := range tests {
		if got := tsQuery(tt.words); got != tt.want {
			t.Errorf("tsQuery(%q) = %s, want %s", tt.words, got, tt.want)
		}
	}
	if len(asciiPunct) != 32 || sqlSpaces != "'"+strings.Repeat(" ", len(asciiPunct))+"'" ||
		sqlPunct != "'"+strings.ReplaceAll(asciiPunct, "'", "''")+"'" {
		t.Errorf("the punctuation constants disagree: %q %q %q", asciiPunct, sqlPunct, sqlSpaces)
	}
}

// FuzzTSQuery: whatever the words, PostgreSQL runs the search (the
// tsquery always parses) and finds only messages of the rooms asked.
func FuzzTSQuery(f *testing.F) {
	for _, s := range []string{"sicp", `"`, `*`, `NEAR(`, `-`, `OR`, `a'b c:*`, "x\x00y", `a & !b | (c <-> d)`, `\'`, "\xff"} {
		f.Add(s)
	}
	if os.Getenv(dsnEnv) == "" {
		f.Skip(dsnEnv + " not set: skipping PostgreSQL tests")
	}
	s := open(f, newSchema(f))
	defer s.Close()
	if err := s.CreateRoom(f.Context(), chat.Room{Name: "other"}); err != nil {
		f.Fatal(err)
	}
	if _, err := s.Append(f.Context(), []chat.NewMessage{
		{Room: chat.DefaultRoom, Author: "ada", Body: `a 'quoted' OR NEAR(this) & !b <-> c:*`},
		{Room: "other", Author: "ada", Body: `a 'quoted' OR NEAR(this) & !b <-> c:*`},
	}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query string) {
		for _, words := range [][]string{strings.Fields(query), chat.SearchWords(query), {query}} {
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
