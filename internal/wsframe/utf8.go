package wsframe

// UTF8 validates a text message incrementally, as its bytes arrive in
// pieces split anywhere, even inside a character. It fails on the first
// byte that no continuation could make valid, which lets an endpoint "fail
// the WebSocket connection" as soon as the invalid data arrives (§8.1), not
// only at the end of the message.
//
// Valid means well-formed UTF-8 as RFC 3629 §4 defines it: no overlong
// forms, no surrogates (U+D800-U+DFFF), nothing above U+10FFFF.
//
// The zero value is ready for a new message. A UTF8 is not safe for
// concurrent use.
type UTF8 struct {
	need   int  // continuation bytes still expected in the current character
	lo, hi byte // the allowed range of the next continuation byte
	bad    bool // an invalid byte has been seen
}

// Write feeds the next bytes of the message and reports whether every
// byte so far could still be the start of valid UTF-8. After it has
// returned false it keeps returning false.
func (u *UTF8) Write(p []byte) bool {
	if u.bad {
		return false
	}
	for _, b := range p {
		if u.need > 0 {
			if b < u.lo || b > u.hi {
				u.bad = true
				return false
			}
			u.need--
			u.lo, u.hi = 0x80, 0xBF
			continue
		}
		// RFC 3629 §4, UTF8-1 to UTF8-4: the first byte fixes the length
		// of the character and the range of the byte after it.
		switch {
		case b < 0x80: // UTF8-1
		case b >= 0xC2 && b <= 0xDF: // UTF8-2 (0xC0, 0xC1 would be overlong)
			u.need, u.lo, u.hi = 1, 0x80, 0xBF
		case b == 0xE0: // overlong below U+0800 excluded
			u.need, u.lo, u.hi = 2, 0xA0, 0xBF
		case b >= 0xE1 && b <= 0xEC, b == 0xEE, b == 0xEF:
			u.need, u.lo, u.hi = 2, 0x80, 0xBF
		case b == 0xED: // surrogates U+D800-U+DFFF excluded
			u.need, u.lo, u.hi = 2, 0x80, 0x9F
		case b == 0xF0: // overlong below U+10000 excluded
			u.need, u.lo, u.hi = 3, 0x90, 0xBF
		case b >= 0xF1 && b <= 0xF3:
			u.need, u.lo, u.hi = 3, 0x80, 0xBF
		case b == 0xF4: // nothing above U+10FFFF
			u.need, u.lo, u.hi = 3, 0x80, 0x8F
		default: // 0x80-0xC1 as a first byte, 0xF5-0xFF anywhere
			u.bad = true
			return false
		}
	}
	return true
}

// Complete reports whether the bytes written so far are valid UTF-8 that
// does not end inside a character: what the end of a text message needs.
func (u *UTF8) Complete() bool { return !u.bad && u.need == 0 }

// Reset makes u ready for a new message.
func (u *UTF8) Reset() { *u = UTF8{} }
