// Package names compares the display names people choose, so that two
// names a reader cannot tell apart are the same name to the server.
//
// A name is checked with [Check] and compared by its [Key]:
//
//   - [Check] enforces the PRECIS Nickname profile (RFC 8266, through
//     golang.org/x/text/secure/precis), which refuses control characters,
//     default-ignorable code points such as the Hangul fillers U+115F and
//     U+3164 and the zero-width joiners, and unassigned code points; and it
//     refuses a name with nothing visible in it: at least one letter,
//     digit, symbol or punctuation mark is required.
//   - [Key] maps a name to a comparison key: the Nickname profile's
//     comparison form (NFKC, so full-width ＡＬＩＣＥ is ALICE; spaces
//     collapsed; lower case), then the confusable skeleton of Unicode
//     TR39 (its confusables.txt, Unicode 13.0, as carried by
//     github.com/mtibben/confusables: Cyrillic а and Greek ο become Latin
//     a and o, 0 becomes O, 1 and I become l, and about 6,000 more), then
//     lower case again (the skeleton maps to capitals at places) and with
//     combining marks removed (so "alicé" with a combining accent and
//     "alice" share a key), and with i and l made one letter (capital I
//     looks like l, but case folding has made it i by then).
//
// Two names with the same Key may not be held by two people at once. Key
// is deliberately coarse: "José" and "Jose" collide, and so do "car0l" and
// "carol"; the price is a few refused names, never an impostor.
//
// What it does not do: it does not restrict mixed scripts (TR39 §5), and
// it knows only single-character confusables of the table, not sequences
// such as "rn" for "m".
package names

import (
	"errors"
	"slices"
	"strings"
	"unicode"

	"github.com/mtibben/confusables"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// ErrInvalid is wrapped by the errors of Check.
var ErrInvalid = errors.New("invalid name")

// Check reports whether name is acceptable as a display name by the
// PRECIS Nickname profile and has something visible in it. It does not
// check lengths; the protocol does.
func Check(name string) error {
	enforced, err := precis.Nickname.String(name)
	if err != nil {
		return errors.Join(ErrInvalid, err)
	}
	if enforced != name {
		// Nickname enforcement changes only width and spaces; a name
		// that it changes is one a reader would see differently from
		// how it compares (extra spaces, full-width letters).
		if strings.Join(strings.Fields(name), " ") != name {
			return errors.Join(ErrInvalid, errors.New("name has repeated spaces"))
		}
	}
	for _, r := range name {
		if unicode.In(r, unicode.L, unicode.N, unicode.S, unicode.P) {
			return nil
		}
	}
	return errors.Join(ErrInvalid, errors.New("name has nothing visible in it"))
}

// Sigils are the signs that clients show before names: @ before a mention
// and a room's moderators, ~ before its owner and & before a server
// administrator (the terminal client's Here panel), # before a room.
const Sigils = "@~#&"

// Sigiled reports whether key, a Key, starts with one of Sigils: the name
// it is the key of (@grace, its full-width ＠grace, ~ada, &root, #lobby) would
// read as a mention, a role mark or a room beside the names that clients
// mark so.
func Sigiled(key string) bool {
	return key != "" && strings.ContainsRune(Sigils, rune(key[0]))
}

// Forms returns the ASCII spellings an account name that looks like name
// could have: name in NFKC lower case, and its confusable skeleton taken
// before lower-casing (so capital I reads as l), both without combining
// marks. Candidates that are not plain ASCII are left out. Account names
// are ASCII, so these are what to look up to refuse a guest name that
// imitates an account; Key cannot serve, because it makes i and l one.
func Forms(name string) []string {
	nfkc := norm.NFKC.String(name)
	var out []string
	for _, f := range []string{
		stripMarks(strings.ToLower(norm.NFD.String(nfkc))),
		stripMarks(strings.ToLower(confusables.Skeleton(nfkc))),
	} {
		if isASCII(f) && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// stripMarks drops combining marks (the text should be NFD).
func stripMarks(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Key returns the comparison key of name: names with equal keys look
// alike. Key of a name that fails Check is still defined (it never
// panics), but such names should not be compared at all.
func Key(name string) string {
	s, err := precis.Nickname.CompareKey(name)
	if err != nil {
		s = strings.ToLower(norm.NFKC.String(name))
	}
	// The skeleton is NFD: drop the combining marks it split off.
	s = stripMarks(strings.ToLower(confusables.Skeleton(s)))
	// Lower-casing first loses one confusion the skeleton knows: capital
	// I looks like l, and lower-cased it is i. So i and l share a key.
	return strings.ReplaceAll(strings.ToLower(confusables.Skeleton(s)), "i", "l")
}
