package names

import (
	"errors"
	"slices"
	"testing"
)

func TestKeyCollides(t *testing.T) {
	tests := []struct {
		name, a, b string
	}{
		{"case", "Alice", "alice"},
		{"cyrillic a", "\u0430lice", "alice"},
		{"greek omicron", "b\u03bfb", "bob"},
		{"full width", "ＡＬＩＣＥ", "alice"},
		{"combining accent", "alice\u0301", "alice"},
		{"precomposed accent", "alicé", "alice"},
		{"digit zero", "car0l", "carol"},
		{"digit one", "a1ice", "alice"},
		{"capital I", "ALICE", "aIice"},
		{"spaces", "mary  ann", "mary ann"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ka, kb := Key(tt.a), Key(tt.b); ka != kb {
				t.Errorf("Key(%q) = %q, Key(%q) = %q; want equal", tt.a, ka, tt.b, kb)
			}
		})
	}
}

func TestKeyDistinct(t *testing.T) {
	for _, p := range [][2]string{{"alice", "alicia"}, {"bob", "rob"}, {"dave", "david"}, {"ann", "anne"}} {
		if Key(p[0]) == Key(p[1]) {
			t.Errorf("Key(%q) == Key(%q) = %q; want different", p[0], p[1], Key(p[0]))
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"plain", "alice", true},
		{"spaced", "Mary Ann", true},
		{"accented", "José", true},
		{"cjk", "小明", true},
		{"emoji", "🐱 cat", true},
		{"hangul filler", "\u3164", false},
		{"hangul choseong filler", "\u115f", false},
		{"filler inside", "al\u3164ice", false},
		{"zero width space", "ali\u200bce", false},
		{"zero width joiner", "ali\u200dce", false},
		{"only combining marks", "\u0301\u0301", false},
		{"control", "a\x07b", false},
		{"double space", "mary  ann", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.in)
			if got := err == nil; got != tt.ok {
				t.Errorf("Check(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("Check(%q) = %v, not ErrInvalid", tt.in, err)
			}
		})
	}
}

func FuzzKey(f *testing.F) {
	for _, s := range []string{"alice", "ＡＬＩＣＥ", "\u3164", "car0l", "alice\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := Key(s)
		if Key(k) != Key(k) {
			t.Fatal("Key not deterministic")
		}
		_ = Check(s)
	})
}

func TestForms(t *testing.T) {
	tests := []struct {
		in   string
		want string // one of the forms
	}{
		{"alice", "alice"},
		{"ALICE", "alice"},
		{"aIice", "alice"},
		{"\u0430lice", "alice"},
		{"ＡＬＩＣＥ", "alice"},
		{"alice\u0301", "alice"},
		{"Dave", "dave"},
	}
	for _, tt := range tests {
		if got := Forms(tt.in); !slices.Contains(got, tt.want) {
			t.Errorf("Forms(%q) = %q, want it to hold %q", tt.in, got, tt.want)
		}
	}
}

func TestSigiled(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"@grace", true},
		{"\uff20grace", true}, // full-width @
		{"\ufe6bgrace", true}, // small commercial at
		{"~ada", true},
		{"\uff5eada", true}, // full-width tilde
		{"#lobby", true},
		{"&root", true},
		{"\uff06root", true}, // full-width ampersand
		{"r&b", false},
		{"\uff03lobby", true}, // full-width number sign
		{"grace@home", false},
		{"a~b", false},
		{"alice", false},
		{"🐱 cat", false},
	}
	for _, tt := range tests {
		if got := Sigiled(Key(tt.in)); got != tt.want {
			t.Errorf("Sigiled(Key(%+q)) = %v (key %+q), want %v", tt.in, got, Key(tt.in), tt.want)
		}
	}
}
