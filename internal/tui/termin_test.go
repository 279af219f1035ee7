package tui

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestUTF8Input: reads of the terminal's input end where a character
// does, whatever the writes and the reader's buffer cut, and bring every
// byte in order.
func TestUTF8Input(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	text := "ab" + strings.Repeat("你好世界🎉", 40) + "é"
	go func() {
		defer w.Close()
		b := []byte(text)
		for _, n := range []int{1, 4, 3, 5, 256, 7, 2} { // cutting characters
			n = min(n, len(b))
			w.Write(b[:n])
			b = b[n:]
		}
		w.Write(b)
	}()
	in := newUTF8Input(r)
	var got []byte
	buf := make([]byte, 256) // bubbletea's
	for {
		n, err := in.Read(buf)
		if !utf8.Valid(buf[:n]) {
			t.Errorf("read %q: cut in a character", buf[:n])
		}
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	if string(got) != text {
		t.Errorf("read %q, want %q", got, text)
	}
}

func TestCutRune(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 0},
		{"a你", 0},
		{"a\xe4", 1},
		{"a\xe4\xbd", 2},
		{"a\xf0\x9f\x8e", 3},
		{"a🎉", 0},
		{"a\xff", 0},                // not UTF-8: passed on
		{"a\xbd", 0},                // a stray continuation byte: passed on
		{"\x1b[M \xc5\xe0", 0},      // an X10 mouse report
		{"x\x1b[M \xc5\xe4\xbd", 2}, // …and not one
	}
	for _, tt := range tests {
		if got := cutRune([]byte(tt.in)); got != tt.want {
			t.Errorf("cutRune(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// FuzzCutRune: cutRune holds back at most the start of one character, and
// only bytes that do start a character the rest of which is missing; a
// buffer that ends with a whole character is passed on whole.
func FuzzCutRune(f *testing.F) {
	for _, s := range []string{"", "abc", "a\xe4\xbd", "a\xf0\x9f\x8e", "x\x1b[M \xc5\xe4\xbd", "你好", "\xff\xfe"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		k := cutRune(b)
		if k < 0 || k > min(utf8.UTFMax-1, len(b)) {
			t.Fatalf("cutRune(%q) = %d, out of range", b, k)
		}
		if k > 0 {
			tail := b[len(b)-k:]
			if !utf8.RuneStart(tail[0]) || tail[0] < utf8.RuneSelf || utf8.FullRune(tail) {
				t.Fatalf("cutRune(%q) = %d holds back %q, not the start of a cut character", b, k, tail)
			}
		}
		if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError && size > 0 && k != 0 {
			t.Fatalf("cutRune(%q) = %d, but it ends with the whole character %q", b, k, r)
		}
	})
}
