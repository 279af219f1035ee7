package server

import "unicode/utf8"

// utf8Stream checks that a byte stream is valid UTF-8 as it arrives, in
// chunks split anywhere, and fails at the first byte that cannot be part of
// valid UTF-8 (RFC 6455 §8.1: an endpoint should fail the connection as
// soon as it sees invalid text, not at the end of the message). For
// example "\xf4\x90" fails at once: no code point above U+10FFFF exists.
// The zero value is ready at the start of a message.
type utf8Stream struct {
	need   int  // continuation bytes still expected in the current sequence
	lo, hi byte // the range of the next continuation byte
}

// write checks the next chunk and reports whether the stream so far is
// still the beginning of valid UTF-8.
func (v *utf8Stream) write(p []byte) bool {
	for len(p) > 0 && v.need > 0 {
		if !v.step(p[0]) {
			return false
		}
		p = p[1:]
	}
	if len(p) == 0 {
		return true
	}
	// p starts at a sequence boundary: the standard library checks all but
	// an unfinished last sequence, which the state machine takes.
	t := unfinishedTail(p)
	if !utf8.Valid(p[:t]) {
		return false
	}
	for _, b := range p[t:] {
		if !v.step(b) {
			return false
		}
	}
	return true
}

// complete reports whether the stream ends at a sequence boundary: a
// message must not end in the middle of a code point.
func (v *utf8Stream) complete() bool { return v.need == 0 }

// step takes one byte, following the table of well-formed byte sequences
// (Unicode 15, table 3-7).
func (v *utf8Stream) step(b byte) bool {
	if v.need > 0 {
		if b < v.lo || b > v.hi {
			return false
		}
		v.need--
		v.lo, v.hi = 0x80, 0xBF
		return true
	}
	v.lo, v.hi = 0x80, 0xBF
	switch {
	case b < 0x80:
	case b >= 0xC2 && b <= 0xDF:
		v.need = 1
	case b == 0xE0:
		v.need, v.lo = 2, 0xA0 // no overlong 3-byte forms
	case b == 0xED:
		v.need, v.hi = 2, 0x9F // no surrogates
	case b >= 0xE1 && b <= 0xEF:
		v.need = 2
	case b == 0xF0:
		v.need, v.lo = 3, 0x90 // no overlong 4-byte forms
	case b >= 0xF1 && b <= 0xF3:
		v.need = 3
	case b == 0xF4:
		v.need, v.hi = 3, 0x8F // nothing above U+10FFFF
	default:
		return false // continuation without a start, C0, C1, F5..FF
	}
	return true
}

// unfinishedTail returns where the last sequence of p starts if it is
// shorter than its first byte announces, or len(p). It only looks at the
// last three bytes; utf8.Valid judges everything before.
func unfinishedTail(p []byte) int {
	for k := len(p) - 1; k >= 0 && k >= len(p)-3; k-- {
		b := p[k]
		if b < 0x80 {
			return len(p)
		}
		if b < 0xC0 {
			continue // a continuation byte: look further back
		}
		size := 4
		switch {
		case b < 0xE0:
			size = 2
		case b < 0xF0:
			size = 3
		}
		if len(p)-k < size {
			return k
		}
		return len(p)
	}
	return len(p)
}
