package tui

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // Sanitize
		line string // SanitizeLine, if different from want
	}{
		{name: "empty", in: "", want: ""},
		{name: "ascii", in: "hello, <world> & \"friends\"", want: "hello, <world> & \"friends\""},
		{name: "csi color", in: "\x1b[31mred\x1b[0m", want: "^[[31mred^[[0m"},
		{name: "clear screen and title", in: "\x1b[2J\x1b]0;pwned\x07 hello", want: "^[[2J^[]0;pwned^G hello"},
		{name: "osc 8 hyperlink", in: "\x1b]8;;http://x\x07click\x1b]8;;\x07", want: "^[]8;;http://x^Gclick^[]8;;^G"},
		{name: "osc with string terminator", in: "\x1b]52;c;aGk=\x1b\\", want: "^[]52;c;aGk=^[\\"},
		{name: "c1 csi", in: "\u009b31m", want: "<U+009B>31m"},
		{name: "c1 range ends", in: "\u0080x\u009f", want: "<U+0080>x<U+009F>"},
		{name: "nul", in: "a\x00b", want: "a^@b"},
		{name: "del", in: "a\x7fb", want: "a^?b"},
		{name: "backspace and bell", in: "ab\b\bXY\a", want: "ab^H^HXY^G"},
		{name: "carriage return alone", in: "safe\rEVIL", want: "safe^MEVIL"},
		{name: "crlf", in: "one\r\ntwo", want: "one\ntwo", line: "one^M^Jtwo"},
		{name: "newline", in: "one\ntwo", want: "one\ntwo", line: "one^Jtwo"},
		{name: "tab", in: "a\tb", want: "a    b"},
		{name: "bidi override", in: "abc\u202edcba", want: "abc<U+202E>dcba"},
		{name: "bidi embeddings", in: "\u202a\u202b\u202c\u202d", want: "<U+202A><U+202B><U+202C><U+202D>"},
		{name: "bidi isolates", in: "\u2066x\u2067y\u2068z\u2069", want: "<U+2066>x<U+2067>y<U+2068>z<U+2069>"},
		{name: "lrm rlm", in: "\u200e\u200f", want: "<U+200E><U+200F>"},
		{name: "zero width space", in: "ad\u200bmin", want: "ad<U+200B>min"},
		{name: "zero width joiner", in: "a\u200db", want: "a<U+200D>b"},
		{name: "zero width non-joiner", in: "a\u200cb", want: "a<U+200C>b"},
		{name: "word joiner and bom", in: "\u2060\ufeff", want: "<U+2060><U+FEFF>"},
		{name: "soft hyphen", in: "pay\u00adpal", want: "pay<U+00AD>pal"},
		{name: "line separator", in: "a\u2028b\u2029", want: "a<U+2028>b<U+2029>"},
		{name: "hangul filler", in: "\u3164", want: "<U+3164>"},
		{name: "tag character", in: "\U000E0041", want: "<U+E0041>"},
		{name: "invalid utf-8", in: "a\xffb\xc3", want: `a\xffb\xc3`},
		{name: "replacement character kept", in: "\ufffd", want: "\ufffd"},
		{name: "latin accents", in: "Grüße, café, naïve", want: "Grüße, café, naïve"},
		{name: "combining mark", in: "e\u0301", want: "e\u0301"},
		{name: "cjk", in: "你好，世界", want: "你好，世界"},
		{name: "arabic", in: "مرحبا", want: "مرحبا"},
		{name: "emoji", in: "hi 👋🎉", want: "hi 👋🎉"},
		{name: "emoji skin tone", in: "👍🏽", want: "👍🏽"},
		{name: "emoji variation selector", in: "❤️", want: "❤️"},
		{name: "flag", in: "🇳🇿", want: "🇳🇿"},
		{name: "emoji zwj sequence", in: "👩\u200d💻", want: "👩<U+200D>💻"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sanitize(tt.in); got != tt.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			line := tt.line
			if line == "" {
				line = tt.want
			}
			if got := SanitizeLine(tt.in); got != line {
				t.Errorf("SanitizeLine(%q) = %q, want %q", tt.in, got, line)
			}
		})
	}
}

// TestSanitizeNothingInterpreted checks the promise over every code point
// of the ranges that matter: no C0, C1, DEL or format character survives.
func TestSanitizeNothingInterpreted(t *testing.T) {
	var b strings.Builder
	for r := rune(0); r < 0x3000; r++ {
		b.WriteRune(r)
	}
	for r := rune(0xfe00); r <= 0xffff; r++ {
		if utf8.ValidRune(r) {
			b.WriteRune(r)
		}
	}
	outputs := []struct {
		name      string
		out       string
		newlineOK bool
	}{
		{"Sanitize", Sanitize(b.String()), true},
		{"SanitizeLine", SanitizeLine(b.String()), false},
	}
	for _, o := range outputs {
		for i, r := range o.out {
			if r == '\n' && o.newlineOK {
				continue
			}
			if r < 0x20 || r == 0x7f || hidden(r) {
				t.Fatalf("%s output keeps %U at byte %d", o.name, r, i)
			}
		}
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"\x1b[2J", "\u202e", "a\nb", "\xff", "👩\u200d💻"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Sanitize(s), SanitizeLine(s)} {
			if !utf8.ValidString(out) {
				t.Fatalf("output of %q is not valid UTF-8: %q", s, out)
			}
			for _, r := range out {
				if (r < 0x20 && r != '\n') || r == 0x7f || hidden(r) {
					t.Fatalf("output of %q keeps %U: %q", s, r, out)
				}
			}
		}
		if strings.Contains(SanitizeLine(s), "\n") {
			t.Fatalf("SanitizeLine(%q) has a newline", s)
		}
	})
}
