package tui

import (
	"os"
	"unicode/utf8"
)

// utf8Input is the terminal's input for bubbletea, which reads it 256
// bytes at a time and drops a character whose bytes a read cuts in two:
// typed or pasted without bracketed paste (tmux send-keys, a terminal
// that does not bracket, an input method sending a long phrase), every
// 256 bytes of CJK text lost one character. utf8Input keeps the first
// bytes of a character cut so back for the next read, so that every read
// ends where a character does.
type utf8Input struct {
	*os.File
	held []byte // the start of a character the last read cut
}

func newUTF8Input(f *os.File) *utf8Input { return &utf8Input{File: f} }

// Read reads as the file does, but never returns part of a UTF-8
// character: its first bytes come with its last in a later read. It may
// return 0 bytes and no error when all it read is such a start, after
// which the reader (bubbletea, through its cancelable reader) waits for
// the file to be readable again.
func (in *utf8Input) Read(p []byte) (int, error) {
	n := copy(p, in.held)
	in.held = in.held[n:]
	if len(in.held) > 0 || n == len(p) {
		return n, nil
	}
	m, err := in.File.Read(p[n:])
	n += m
	if err != nil {
		return n, err
	}
	cut := cutRune(p[:n])
	in.held = append(in.held, p[n-cut:n]...)
	return n - cut, nil
}

// cutRune returns how many bytes at the end of b are the start of a
// UTF-8 character whose other bytes are not in b: 0 if b ends with a
// whole character (or with bytes that are not UTF-8, passed on as they
// are).
func cutRune(b []byte) int {
	for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
		c := b[len(b)-i]
		switch {
		case c < 0x80: // ASCII
			return 0
		case c < 0xC0: // a continuation byte: its start is further back
			continue
		}
		if utf8.FullRune(b[len(b)-i:]) {
			return 0
		}
		if j := len(b) - 6; j >= 0 && string(b[j:j+3]) == "\x1b[M" {
			// An X10 mouse report's coordinates are bytes of their
			// own, not UTF-8.
			return 0
		}
		return i
	}
	return 0
}
