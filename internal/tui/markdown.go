package tui

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/lipgloss"
)

// The terminal shows the Markdown subset of message bodies (bold, italic,
// inline code, code blocks, links, quotes) as plain text: the markers go,
// what they mark stays readable. It never interprets anything else: the
// input is text Sanitize already made harmless, and the output is that
// text with some characters removed and plain ANSI styles added around
// parts of it.

// Styles of the Markdown subset.
var (
	mdBold   = lipgloss.NewStyle().Bold(true)
	mdItalic = lipgloss.NewStyle().Italic(true)
	mdCode   = lipgloss.NewStyle().Foreground(lipgloss.Color("6"))
	mdQuote  = lipgloss.NewStyle().Faint(true)
)

// mdLine is one line of a body as the terminal shows it.
type mdLine struct {
	text string
	code bool // inside a code block: shown as it is, not wrapped at spaces
}

// plainLines turns a sanitized body into the lines the terminal shows:
// code blocks (between ``` fences) keep their text as it is, indented;
// "> " quotes start with a bar; every other line has its inline Markdown
// (plainInline) and emoji shortcodes replaced.
func plainLines(body string) []mdLine {
	var out []mdLine
	inCode := false
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inCode = !inCode
			if rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "```")); inCode || rest == "" {
				continue // the fence, and its language name
			}
		}
		if inCode {
			out = append(out, mdLine{text: "  " + mdCode.Render(l), code: true})
			continue
		}
		if q, ok := strings.CutPrefix(l, ">"); ok {
			out = append(out, mdLine{text: mdQuote.Render("│ " + plainInline(strings.TrimPrefix(q, " ")))})
			continue
		}
		out = append(out, mdLine{text: plainInline(l)})
	}
	return out
}

// plainInline replaces the inline Markdown of one line: **bold** and
// __bold__, *italic* and _italic_ (only as whole words, so snake_case and
// 2*3*4 stay), `code` (whose text is left alone), [text](url) as "text
// (url)", and emoji shortcodes such as :+1:.
func plainInline(s string) string { return inline(s, 0) }

// maxNesting is how deep spans and links nest before their markers are
// left as text: each level is a pass over the text, so that a line of
// 4096 '*' costs a few passes, not 1024.
const maxNesting = 8

// inline is plainInline for text nested in depth spans or links.
func inline(s string, depth int) string {
	if depth >= maxNesting {
		return s
	}
	var b strings.Builder
	// unclosed holds the markers a span search found no end for: none
	// exists after a later opening either (a closing marker's place does
	// not depend on the opening), so they are not searched for again. A
	// line of 4096 '*' would otherwise cost a search to its end for each.
	var unclosed map[string]bool
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '`':
			if end := strings.IndexByte(s[i+1:], '`'); end > 0 {
				b.WriteString(mdCode.Render(s[i+1 : i+1+end]))
				i += end + 2
				continue
			}
		case c == '[':
			if text, url, n, ok := mdLink(s[i:]); ok {
				b.WriteString(inline(text, depth+1))
				if url != text {
					b.WriteString(" (" + url + ")")
				}
				i += n
				continue
			}
		case c == '*' || c == '_':
			marker := string(c)
			if strings.HasPrefix(s[i:], marker+marker) {
				marker += marker
			}
			if unclosed[marker] {
				break
			}
			inner, n, ok := mdSpan(s, i, marker)
			if ok {
				style := mdItalic
				if len(marker) == 2 {
					style = mdBold
				}
				b.WriteString(style.Render(inline(inner, depth+1)))
				i += n
				continue
			}
			if n < 0 {
				if unclosed == nil {
					unclosed = map[string]bool{}
				}
				unclosed[marker] = true
			}
		case c == ':':
			if emoji, n, ok := shortcodeAt(s[i:]); ok {
				b.WriteString(emoji)
				i += n
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// mdSpan finds the span s[i:] opened by marker and closed by the same
// marker: the opening marker must start a word (not follow a letter or
// digit) and touch text, the closing one touch text and end a word. It
// returns the text between them and the span's length; a length of -1
// with false means no closing marker follows at all.
func mdSpan(s string, i int, marker string) (string, int, bool) {
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:i]); isWordRune(r) {
			return "", 0, false
		}
	}
	start := i + len(marker)
	if start >= len(s) || s[start] == ' ' {
		return "", 0, false
	}
	for j := start + 1; j+len(marker) <= len(s); j++ {
		if !strings.HasPrefix(s[j:], marker) || s[j-1] == ' ' {
			continue
		}
		after := j + len(marker)
		if after < len(s) {
			if r, _ := utf8.DecodeRuneInString(s[after:]); isWordRune(r) || strings.ContainsRune("*_", r) {
				continue
			}
		}
		if spanScanned != nil {
			spanScanned(j - start)
		}
		return s[start:j], after - i, true
	}
	if spanScanned != nil {
		spanScanned(len(s) - start)
	}
	return "", -1, false
}

// spanScanned, when set (by tests), is told how many bytes each search
// for a span's closing marker looked at: the work a hostile body can make
// the view do on every render. Nil otherwise.
var spanScanned func(n int)

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// mdLink parses "[text](url)" at the start of s.
func mdLink(s string) (text, url string, n int, ok bool) {
	mid := strings.Index(s, "](")
	if mid < 2 || strings.ContainsAny(s[1:mid], "[]") {
		return "", "", 0, false
	}
	end := strings.IndexByte(s[mid+2:], ')')
	if end < 1 {
		return "", "", 0, false
	}
	url = s[mid+2 : mid+2+end]
	if strings.ContainsAny(url, " ") {
		return "", "", 0, false
	}
	return s[1:mid], url, mid + 3 + end, true
}
