package wsframe

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParseClose(t *testing.T) {
	tests := []struct {
		name    string
		p       []byte
		code    uint16
		reason  string
		wantErr error
	}{
		{"empty", nil, CloseNoStatus, "", nil},
		{"one byte", []byte{0x03}, 0, "", ErrCloseLength},
		{"normal", []byte{0x03, 0xE8}, 1000, "", nil},
		{"with reason", []byte{0x03, 0xE9, 'b', 'y', 'e'}, 1001, "bye", nil},
		{"utf-8 reason", append([]byte{0x0F, 0xA0}, "héllo"...), 4000, "héllo", nil},
		{"bad reason", []byte{0x03, 0xE8, 0xCE, 0xBA, 0xE1, 0xBD}, 1000, "\xce\xba\xe1\xbd", ErrCloseReason},
		{"1004 reserved", []byte{0x03, 0xEC}, 1004, "", ErrCloseCode},
		{"1005 not on the wire", []byte{0x03, 0xED}, 1005, "", ErrCloseCode},
		{"1006 not on the wire", []byte{0x03, 0xEE}, 1006, "", ErrCloseCode},
		{"1014 registered", []byte{0x03, 0xF6}, 1014, "", nil},
		{"1015 not on the wire", []byte{0x03, 0xF7}, 1015, "", ErrCloseCode},
		{"999", []byte{0x03, 0xE7}, 999, "", ErrCloseCode},
		{"2999", []byte{0x0B, 0xB7}, 2999, "", ErrCloseCode},
		{"3000", []byte{0x0B, 0xB8}, 3000, "", nil},
		{"4999", []byte{0x13, 0x87}, 4999, "", nil},
		{"5000", []byte{0x13, 0x88}, 5000, "", ErrCloseCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, reason, err := ParseClose(tt.p)
			if code != tt.code || reason != tt.reason || !errors.Is(err, tt.wantErr) {
				t.Errorf("ParseClose(% x) = %d, %q, %v; want %d, %q, %v", tt.p, code, reason, err, tt.code, tt.reason, tt.wantErr)
			}
			if tt.wantErr == nil {
				if got := AppendClose(nil, code, reason); string(got) != string(tt.p) {
					t.Errorf("AppendClose(%d, %q) = % x, want % x", code, reason, got, tt.p)
				}
			}
		})
	}
}

// TestUTF8 checks UTF8 against the standard library on every split of
// each input, and that it fails on the first bad byte, not later.
func TestUTF8(t *testing.T) {
	tests := []struct {
		name   string
		s      string
		failAt int // index of the byte that makes it invalid; -1: valid prefix throughout
	}{
		{"ascii", "Hello", -1},
		{"two-byte", "κόσμε", -1},
		{"four-byte", "\U0001F600 and \U0010FFFF", -1},
		{"boundary U+FFFF", "\uFFFF", -1},
		{"cut character", "κόσμ\xce", -1}, // valid so far, incomplete at the end
		{"lone continuation", "ab\x80cd", 2},
		{"overlong slash", "\xC0\xAF", 0},
		{"overlong 3-byte", "\xE0\x80\xAF", 1},
		{"surrogate", "a\xED\xA0\x80", 2},
		{"above U+10FFFF", "\xF4\x90\x80\x80", 1},
		{"F5", "\xF5\x80", 0},
		{"Autobahn 6.4.1", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64", 12},
		{"bad in the middle of a char", "\xE2\x82x", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.s)
			// Byte by byte: the first false must come at failAt.
			var u UTF8
			first := -1
			for i := range b {
				if !u.Write(b[i:i+1]) && first < 0 {
					first = i
				}
			}
			if first != tt.failAt {
				t.Errorf("first failing byte = %d, want %d", first, tt.failAt)
			}
			// Every split in two agrees with utf8.Valid at the end.
			for cut := 0; cut <= len(b); cut++ {
				var u UTF8
				ok := u.Write(b[:cut])
				ok = u.Write(b[cut:]) && ok
				if got, want := ok && u.Complete(), utf8.Valid(b); got != want {
					t.Errorf("split at %d: valid = %v, want %v", cut, got, want)
				}
			}
		})
	}
}

func FuzzUTF8(f *testing.F) {
	f.Add([]byte("κόσμε"), 2)
	f.Add([]byte("\xF4\x90\x80\x80"), 1)
	f.Fuzz(func(t *testing.T, b []byte, cut int) {
		if cut < 0 || cut > len(b) {
			cut = len(b) / 2
		}
		var u UTF8
		ok := u.Write(b[:cut])
		ok = u.Write(b[cut:]) && ok
		if got, want := ok && u.Complete(), utf8.Valid(b); got != want {
			t.Errorf("UTF8 says %v, utf8.Valid says %v for % x", got, want, b)
		}
	})
}

func TestAssembler(t *testing.T) {
	text := func(fin bool, op Opcode, s string) Frame {
		return Frame{Header: Header{Fin: fin, Opcode: op, Length: uint64(len(s))}, Payload: []byte(s)}
	}
	type result struct {
		Msg  Message
		Done bool
		Err  error
	}
	tests := []struct {
		name    string
		maxData int
		frames  []Frame
		want    []result
	}{
		{
			name:   "RFC fragmented Hello with a ping between",
			frames: []Frame{text(false, OpText, "Hel"), text(true, OpPing, "p"), text(true, OpContinuation, "lo")},
			want: []result{
				{},
				{Msg: Message{Opcode: OpPing, Data: []byte("p"), Length: 1, Frames: 1}, Done: true},
				{Msg: Message{Opcode: OpText, Data: []byte("Hello"), Length: 5, Frames: 2}, Done: true},
			},
		},
		{
			name:   "continuation without start",
			frames: []Frame{text(true, OpContinuation, "x")},
			want:   []result{{Err: ErrUnexpectedContinuation}},
		},
		{
			name:   "new message inside a fragmented one",
			frames: []Frame{text(false, OpBinary, "a"), text(true, OpText, "b"), text(true, OpContinuation, "c")},
			want: []result{
				{}, {Err: ErrExpectedContinuation},
				{Msg: Message{Opcode: OpBinary, Data: []byte("ac"), Length: 2, Frames: 2}, Done: true},
			},
		},
		{
			name:   "character split across fragments",
			frames: []Frame{text(false, OpText, "\xce"), text(false, OpContinuation, ""), text(true, OpContinuation, "\xba")},
			want:   []result{{}, {}, {Msg: Message{Opcode: OpText, Data: []byte("κ"), Length: 2, Frames: 3}, Done: true}},
		},
		{
			name:   "text ending inside a character",
			frames: []Frame{text(true, OpText, "ab\xce")},
			want:   []result{{Msg: Message{Opcode: OpText, Data: []byte("ab\xce"), Length: 3, Frames: 1, BadUTF8: true}, Done: true}},
		},
		{
			name:    "bounded",
			maxData: 4,
			frames:  []Frame{text(false, OpText, "abc"), text(true, OpContinuation, "def\xff")},
			want:    []result{{}, {Msg: Message{Opcode: OpText, Data: []byte("abcd"), Length: 7, Frames: 2, Truncated: true}, Done: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Assembler{MaxData: tt.maxData}
			var got []result
			for _, f := range tt.frames {
				m, done, err := a.Push(f)
				got = append(got, result{m, done, err})
			}
			if diff := cmp.Diff(tt.want, got, frameCmp); diff != "" {
				t.Errorf("Push results (-want +got):\n%s", diff)
			}
		})
	}
}
