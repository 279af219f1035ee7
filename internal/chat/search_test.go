package chat

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestSearchWords(t *testing.T) {
	tests := []struct {
		query string
		want  []string
	}{
		{"sicp chapter", []string{"sicp", "chapter"}},
		{"  SICP,   chapter 1!  ", []string{"SICP", "chapter", "1"}},
		{`"`, nil},
		{`*`, nil},
		{`-`, nil},
		{`""""`, nil},
		{`NEAR(a b)`, []string{"NEAR", "a", "b"}},
		{`a OR b`, []string{"a", "OR", "b"}},
		{`-foo +bar`, []string{"foo", "bar"}},
		{`col:value ^start`, []string{"col", "value", "start"}},
		{`foo* "bar baz"`, []string{"foo", "bar", "baz"}},
		{`it's example.com`, []string{"it", "s", "example", "com"}},
		{`a & b | !c <-> d:*`, []string{"a", "b", "c", "d"}},
		{`'quoted' \back\slash`, []string{"quoted", "back", "slash"}},
		{"café naïve e\u0301", []string{"café", "naïve", "e\u0301"}},
		{"日本語 テキスト", []string{"日本語", "テキスト"}},
		{"👍 🎉", nil},
		{"snake_case", []string{"snake", "case"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, SearchWords(tt.query), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("SearchWords(%q) (-want +got):\n%s", tt.query, diff)
		}
	}
	many := strings.Repeat("w ", 2*MaxSearchWords)
	if got := len(SearchWords(many)); got != MaxSearchWords {
		t.Errorf("SearchWords of %d words kept %d, want %d", 2*MaxSearchWords, got, MaxSearchWords)
	}
}

// FuzzSearchWords: every word is non-empty, made only of letters, digits
// and marks (so it holds nothing a query language could read as syntax),
// and appears in the query; there are at most MaxSearchWords.
func FuzzSearchWords(f *testing.F) {
	for _, s := range []string{"sicp chapter", `"`, `*`, `NEAR(`, `-`, `OR`, `a"b*c`, "e\u0301", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		words := SearchWords(query)
		if len(words) > MaxSearchWords {
			t.Fatalf("%d words", len(words))
		}
		for _, w := range words {
			if w == "" || !strings.Contains(query, w) {
				t.Fatalf("word %q of %q", w, query)
			}
			if !utf8.ValidString(w) {
				t.Fatalf("word %q of %q is not UTF-8", w, query)
			}
			for _, r := range w {
				if !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r) {
					t.Fatalf("word %q holds %q", w, r)
				}
			}
		}
	})
}
