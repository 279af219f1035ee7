package tui

import (
	"strings"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hubbub-chat/hubbub/protocol"
)

// Mentions: a message that names the user as "@name" (any case, ending
// where the name ends) is a mention. The name is highlighted in it, a
// mark "»" leads its lines, the room list counts unread mentions apart
// from unread messages, and a new one from someone else rings the
// terminal's bell.

// mentions reports whether msg, a plain message from someone else,
// mentions the user.
func (m *Model) mentions(msg *protocol.Message) bool {
	if msg.Kind != "" || msg.Deleted || m.own(msg) || m.self.Name == "" || m.fromBlocked(msg) {
		return false
	}
	return mentionAt(msg.Body, m.self.Name) >= 0
}

// own reports whether msg is the user's.
func (m *Model) own(msg *protocol.Message) bool {
	return msg.From == m.self.Name && msg.Guest == m.self.Guest
}

// mentionAt returns the index in s of the first "@name", -1 if none. The
// name matches in any case and must not run on into more of a name. It
// compares s itself, not a lower-cased copy: lower-casing changes the
// length of some characters, and highlight cuts s at the index.
func mentionAt(s, name string) int {
	for i := 0; ; {
		j := strings.IndexByte(s[i:], '@')
		if j < 0 {
			return -1
		}
		at := i + j
		end := at + 1 + len(name)
		if end <= len(s) && strings.EqualFold(s[at+1:end], name) {
			if r, _ := utf8.DecodeRuneInString(s[end:]); end == len(s) || !nameRune(r) {
				return at
			}
		}
		i = at + 1
	}
}

// nameRune reports whether r may continue a user name.
func nameRune(r rune) bool {
	return r == '_' || r == '-' || isWordRune(r)
}

// highlight styles the user's "@name" in a line of text shown.
func (m *Model) highlight(text string) string {
	if m.self.Name == "" {
		return text
	}
	var b strings.Builder
	for {
		i := mentionAt(text, m.self.Name)
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		n := 1 + len(m.self.Name)
		b.WriteString(text[:i])
		b.WriteString(mentionStyle.Render(text[i : i+n]))
		text = text[i+n:]
	}
}

// bell is a command that rings the terminal's bell.
func (m *Model) bell() tea.Cmd {
	if m.ring == nil {
		return nil
	}
	ring := m.ring
	return func() tea.Msg {
		ring()
		return nil
	}
}

// completion is what Tab completed last: the input line it left, where
// the name starts in it, the "na" typed, and which of the names that start
// so it put there.
type completion struct {
	value string
	at    int
	word  string
	n     int
}

// completeMention completes the "@na" the input line ends with (the
// cursor at the end) to the first name, in sorted order, of a member of
// the shown room other than the user that starts so, in any case; Tab
// again, with nothing typed in between, puts the next such name in its
// place (and after the last, the first), rather than showing the next
// room, where Enter would send the line. It reports whether the input
// ended with a mention to complete.
func (m *Model) completeMention() bool {
	v := m.inputText() // a rune for a rune as the input holds it
	if m.input.Position() != len([]rune(v)) {
		return false
	}
	c := m.completed
	if v == "" || v != c.value {
		i := strings.LastIndexAny(v, " \n") + 1
		word, ok := strings.CutPrefix(v[i:], "@")
		if !ok {
			return false
		}
		c = completion{at: i, word: word, n: -1}
	}
	var names []string
	for _, u := range m.current().memberList() {
		if u != m.self.Name && strings.HasPrefix(strings.ToLower(u), strings.ToLower(c.word)) {
			names = append(names, u)
		}
	}
	if len(names) == 0 {
		return true // nothing to complete: Tab does not switch rooms mid-word
	}
	c.n = (c.n + 1) % len(names)
	c.value = v[:c.at] + "@" + names[c.n] + " "
	m.completed = c
	m.setInput(c.value)
	return true
}
