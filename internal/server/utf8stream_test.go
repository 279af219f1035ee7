package server

import (
	"sync"
	"testing"
	"unicode/utf8"
)

// utf8Prefixes holds every proper prefix of a multi-byte UTF-8 encoding:
// the unfinished sequences a valid stream may end a chunk with.
var utf8Prefixes = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool)
	var buf [4]byte
	for r := rune(0x80); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		n := utf8.EncodeRune(buf[:], r)
		for i := 1; i < n; i++ {
			m[string(buf[:i])] = true
		}
	}
	return m
})

// validPrefix is the reference: p can still become valid UTF-8.
func validPrefix(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	for i := 1; i <= 3 && i <= len(p); i++ {
		if utf8Prefixes()[string(p[len(p)-i:])] && utf8.Valid(p[:len(p)-i]) {
			return true
		}
	}
	return false
}

// checkStream feeds p to a utf8Stream cut at the given points and
// compares every answer with the reference.
func checkStream(t *testing.T, p []byte, cuts []int) {
	t.Helper()
	var v utf8Stream
	prev := 0
	for _, cut := range append(cuts, len(p)) {
		if cut < prev || cut > len(p) {
			continue
		}
		got := v.write(p[prev:cut])
		if want := validPrefix(p[:cut]); got != want {
			t.Fatalf("%q cut at %v: write(%q) = %v, want %v", p, cuts, p[prev:cut], got, want)
		}
		if !got {
			return
		}
		prev = cut
	}
	if got, want := v.complete(), utf8.Valid(p); got != want {
		t.Fatalf("%q cut at %v: complete = %v, want %v", p, cuts, got, want)
	}
}

func TestUTF8Stream(t *testing.T) {
	tests := []struct {
		name string
		in   string
		cuts []int
	}{
		{"empty", "", nil},
		{"ascii", "Hello, world", []int{3, 7}},
		{"κόσμε whole", "κόσμε", nil},
		{"κόσμε byte by byte", "κόσμε", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"4-byte rune split", "a\U0001F600b", []int{2, 3, 4}},
		// Autobahn 6.4.1 and 6.4.2: the invalid code point arrives in the
		// middle of a message and must fail at once.
		{"above U+10FFFF whole", "κόσμε\xf4\x90\x80\x80edited", []int{11, 15}},
		{"above U+10FFFF at its 2nd byte", "κόσμε\xf4\x90\x80\x80edited", []int{12, 13}},
		{"surrogate", "\xed\xa0\x80", []int{1, 2}},
		{"overlong 3", "\xe0\x80\xaf", []int{1, 2}},
		{"overlong 4", "\xf0\x80\x80\xaf", []int{1, 2}},
		{"lone continuation", "a\x80", []int{1}},
		{"C0 lead", "\xc0\xaf", []int{1}},
		{"F5 lead", "\xf5\x80\x80\x80", nil},
		{"ends mid-rune", "ab\xe2\x82", nil},
		{"ascii after lead", "\xe2a", []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkStream(t, []byte(tt.in), tt.cuts)
		})
	}
}

// TestUTF8StreamFailsFast: the answer turns false at exactly the first
// byte after which no valid text can follow.
func TestUTF8StreamFailsFast(t *testing.T) {
	in := []byte("κόσμε\xf4\x90\x80\x80edited")
	var v utf8Stream
	for i, b := range in {
		if !v.write([]byte{b}) {
			if want := 11; i != want {
				t.Errorf("failed at byte %d, want %d", i, want)
			}
			return
		}
	}
	t.Error("never failed")
}

func FuzzUTF8Stream(f *testing.F) {
	f.Add([]byte("κόσμε\xf4\x90\x80\x80edited"), uint8(11), uint8(13))
	f.Add([]byte("a\U0001F600b"), uint8(2), uint8(4))
	f.Add([]byte("\xed\xa0\x80"), uint8(1), uint8(2))
	f.Add([]byte("ab\xe2\x82"), uint8(0), uint8(3))
	f.Fuzz(func(t *testing.T, p []byte, a, b uint8) {
		cuts := []int{int(a) % (len(p) + 1), int(b) % (len(p) + 1)}
		if cuts[0] > cuts[1] {
			cuts[0], cuts[1] = cuts[1], cuts[0]
		}
		checkStream(t, p, cuts)
	})
}
