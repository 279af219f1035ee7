package tui

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tabSpaces is what a tab in a message body becomes.
const tabSpaces = "    "

// Sanitize returns text received from the network (a message body) made
// safe to print to a terminal: nothing in the result is interpreted by the
// terminal, every character that would be is shown as a visible token
// instead.
//
//   - A newline stays a line break (and "\r\n" becomes one), a tab becomes
//     four spaces.
//   - Every other C0 control character and DEL are shown in caret notation:
//     ESC as "^[", NUL as "^@", BEL as "^G", CR as "^M", DEL as "^?". So the
//     escape sequence "\x1b[31m" is shown as the text "^[[31m".
//   - C1 controls (U+0080 to U+009F), Unicode format characters (category
//     Cf: bidirectional overrides and isolates such as U+202E and U+2066,
//     zero-width spaces and joiners, the byte order mark, soft hyphen, tag
//     characters), the line and paragraph separators U+2028 and U+2029 and
//     the invisible Hangul fillers are shown as "<U+202E>"-style tokens.
//   - A byte that is not valid UTF-8 is shown as "\xff"-style text.
//
// Everything else, letters of every script, combining marks, emoji and
// their skin-tone and variation selectors, passes unchanged. An emoji
// sequence joined with U+200D (ZERO WIDTH JOINER) is shown with the joiner
// as a token: terminals disagree on how wide such a sequence is, and a
// joiner is also a way to hide text.
//
// Sanitize does not escape the tokens' own characters: a body that
// contains the five characters "^[[2J" and one that contains ESC "[2J"
// look the same. It makes text harmless, not unambiguous.
func Sanitize(s string) string {
	return sanitize(s, true)
}

// SanitizeLine is Sanitize for text that must stay on one line: names,
// topics, room names, error reasons, and message bodies printed one per
// line. A newline is shown as "^J" like the other controls.
func SanitizeLine(s string) string {
	return sanitize(s, false)
}

func sanitize(s string, multiline bool) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, `\x%02x`, s[i])
			i++
			continue
		}
		i += size
		switch {
		case r == '\n' && multiline:
			b.WriteByte('\n')
		case r == '\r' && multiline && strings.HasPrefix(s[i:], "\n"):
			// "\r\n" is a line break; the '\n' is written next.
		case r == '\t':
			b.WriteString(tabSpaces)
		case r < 0x20:
			b.WriteByte('^')
			b.WriteByte(byte(r) + '@')
		case r == 0x7f:
			b.WriteString("^?")
		case hidden(r):
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Unsafe reports whether a terminal could interpret r or not show it: a
// C0 control (newline and tab included), DEL, or one of the characters
// Sanitize shows as a <U+XXXX> token. Callers that print text in another
// form, such as JSON, use it to escape what Sanitize would replace.
func Unsafe(r rune) bool {
	return r < 0x20 || r == 0x7f || hidden(r)
}

// isPlain reports whether s is printable ASCII only, the common case that
// needs no copy.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// hidden reports whether r is a non-ASCII character that a terminal would
// interpret or not show: a C1 control, a format character, a line or
// paragraph separator, or an invisible filler.
func hidden(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == '\u2028' || r == '\u2029':
		return true
	case r == '\u034f', // COMBINING GRAPHEME JOINER
		r == '\u115f', r == '\u1160', // HANGUL CHOSEONG and JUNGSEONG FILLER
		r == '\u17b4', r == '\u17b5', // KHMER VOWEL INHERENT AQ and AA
		r == '\u3164', // HANGUL FILLER
		r == '\uffa0': // HALFWIDTH HANGUL FILLER
		return true
	}
	return unicode.Is(unicode.Cf, r)
}
