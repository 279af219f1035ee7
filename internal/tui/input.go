package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hubbub-chat/hubbub/protocol"
)

// key handles a key press.
func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if msg.Type == tea.KeyRunes && !msg.Alt {
		// Text, never a key. Text that arrives in one read (fast typing
		// over ssh, a paste without bracketed paste) comes as one
		// message per word, and a word's String is the word: "down",
		// "tab" or "ctrl+c" would act as that key, here and in the
		// input's own bindings ("home", "ctrl+w"). Marked as a paste,
		// its String is "[down]", which names no key, and the input
		// inserts it as typed.
		msg.Paste = true
	}
	if msg.Paste {
		// A paste keeps its lines, as the input holds them (newline.go).
		msg.Runes = []rune(toInput(string(msg.Runes)))
	}
	switch msg.String() {
	case "ctrl+c":
		return m.quit()
	case "enter":
		return m.submit()
	case "tab", "ctrl+n":
		if msg.String() == "tab" && m.completeMention() {
			return nil
		}
		m.show((m.cur + 1) % len(m.wins))
		return nil
	case "shift+tab", "ctrl+p":
		m.show((m.cur + len(m.wins) - 1) % len(m.wins))
		return nil
	case "pgup":
		m.vp.PageUp()
		return m.scrolled()
	case "pgdown":
		m.vp.PageDown()
		return m.scrolled()
	case "esc":
		m.vp.GotoBottom()
		return m.scrolled()
	case "up", "down":
		m.recallLine(msg.String() == "up")
		return nil
	case "alt+1", "alt+2", "alt+3", "alt+4", "alt+5", "alt+6", "alt+7", "alt+8", "alt+9":
		if i := int(msg.String()[4] - '1'); i < len(m.wins) {
			m.show(i)
		}
		return nil
	case "alt+enter", "ctrl+j":
		// A new line in the message, typed (newline.go). A terminal
		// sends Ctrl+J as a line feed, and Alt+Enter as ESC and Enter.
		msg = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{newlineMark}, Paste: true}
	}
	before, numbered := m.input.Value(), m.numbering()
	cmd := m.updateInput(msg)
	if m.numbering() != numbered {
		m.dirty = true
	}
	if m.input.Value() != before {
		return tea.Batch(cmd, m.typed())
	}
	return cmd
}

// mouse handles the wheel (when Options.Mouse turned mouse reporting on).
func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	if msg.Action != tea.MouseActionPress {
		return nil
	}
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		m.vp.ScrollUp(3)
	case tea.MouseButtonWheelDown:
		m.vp.ScrollDown(3)
	default:
		return nil
	}
	return m.scrolled()
}

// scrolled remembers where the shown window is scrolled to, and loads
// older messages when the view reached the top.
func (m *Model) scrolled() tea.Cmd {
	w := m.current()
	w.yOffset, w.atBottom = m.vp.YOffset, m.vp.AtBottom()
	if !m.vp.AtTop() || !w.joined || !w.more || w.loading {
		return nil
	}
	w.loading = true
	m.touch(w)
	return m.historyCmd(w.room, w.oldestSeq(), true)
}

// typed sends a typing command for the shown room, at most every
// typingEvery, while the user types a message (not a command).
func (m *Model) typed() tea.Cmd {
	w := m.current()
	v := m.input.Value()
	if !w.joined || v == "" || strings.HasPrefix(v, "/") || m.blockedPeer(w) != "" {
		return nil
	}
	now := m.now()
	if last, ok := m.lastTyping[w.room]; ok && now.Sub(last) < typingEvery {
		return nil
	}
	m.lastTyping[w.room] = now
	c, room := m.c, w.room
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		_ = c.Typing(ctx, room) // advisory: a lost typing is not worth a word
		return nil
	}
}

// submit handles Enter: a command, or a message to the shown room.
func (m *Model) submit() tea.Cmd {
	text := m.inputText()
	if w := m.current(); w.joined && w.mutedAt(m.now()) && strings.TrimSpace(text) != "" &&
		(!strings.HasPrefix(text, "/") || strings.HasPrefix(text, "//")) {
		// Refused before it goes, and kept for when the mute ends.
		m.note("Not sent: " + mutedText(w, m.loc) + " Your text stays here.")
		return nil
	}
	if w := m.current(); w.joined && m.blockedPeer(w) != "" && strings.TrimSpace(text) != "" &&
		(!strings.HasPrefix(text, "/") || strings.HasPrefix(text, "//")) {
		// Kept, as in the browser, for after an /unblock.
		m.note(blockedText(m.blockedPeer(w)))
		return nil
	}
	if _, ok := messageText(text); ok && !m.current().joined && strings.TrimSpace(text) != "" {
		// Kept, as for a mute: Tab to a room and Enter sends it there.
		m.note("You are not in a room here: /join ROOM first. Your text stays here.")
		return nil
	}
	if body, ok := messageText(text); ok && m.current().joined && len(body) > protocol.MaxBodyBytes {
		// Kept, to be shortened: the input takes more than a message
		// may have (maxInputRunes).
		m.note(tooLongText(body))
		return nil
	}
	m.input.Reset()
	m.dirty = true // message numbers go when the command is entered
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if n := len(m.recall); n == 0 || m.recall[n-1] != text {
		m.recall = append(m.recall, text)
		if len(m.recall) > maxRecall {
			m.recall = slices.Delete(m.recall, 0, len(m.recall)-maxRecall)
		}
	}
	m.recallAt, m.draft = len(m.recall), ""
	if strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "//") {
		return m.command(text)
	}
	text = strings.TrimPrefix(text, "/") // "//x" sends "/x"
	return m.send(text)
}

// messageText returns the message that entering text sends, and false if
// text is a command.
func messageText(text string) (string, bool) {
	if strings.HasPrefix(text, "//") {
		return text[1:], true
	}
	return text, !strings.HasPrefix(text, "/")
}

// maxInputRunes is the most characters the input line takes: room for
// more than protocol.MaxBodyBytes, so that a longer text, pasted, is
// refused whole, with its length, rather than cut to fit and sent short.
const maxInputRunes = 4 * protocol.MaxBodyBytes

// tooLongText says that body is too long to send, by how much.
func tooLongText(body string) string {
	more := ""
	if utf8.RuneCountInString(body) >= maxInputRunes {
		more = " or more" // the input took no more than that
	}
	return fmt.Sprintf("Not sent: the message is %d bytes%s, more than the %d a message may have. Your text stays here to shorten.",
		len(body), more, protocol.MaxBodyBytes)
}

// recallLine puts the line entered before (older) or after the one shown
// into the input, as shells do.
func (m *Model) recallLine(older bool) {
	switch {
	case older && m.recallAt > 0:
		if m.recallAt == len(m.recall) {
			m.draft = m.inputText()
		}
		m.recallAt--
	case !older && m.recallAt < len(m.recall):
		m.recallAt++
	default:
		return
	}
	line := m.draft
	if m.recallAt < len(m.recall) {
		line = m.recall[m.recallAt]
	}
	m.setInput(line)
}

func (m *Model) quit() tea.Cmd {
	m.quitting = true
	return tea.Quit
}

// mutedText says that the user is muted in w, and until when.
func mutedText(w *window, loc *time.Location) string {
	if w.mutedUntil.IsZero() {
		return "you are muted in " + w.title() + " until a moderator lifts it."
	}
	return "you are muted in " + w.title() + " until " + w.mutedUntil.In(loc).Format(untilLayout) + "."
}

// inputPlaceholder is what the empty input says.
const inputPlaceholder = "message, or /help"

// syncPlaceholder makes the empty input say so while the user is muted in
// the shown room, and take messages again once the mute ends (a timed one
// by itself: the tick every second brings it back).
func (m *Model) syncPlaceholder() {
	ph := inputPlaceholder
	if w := m.current(); w.joined && w.mutedAt(m.now()) {
		ph = mutedText(w, m.loc) + " You can read along; /help"
	} else if peer := m.blockedPeer(w); w.joined && peer != "" {
		ph = blockedText(peer)
	}
	m.input.Placeholder = ph
}
