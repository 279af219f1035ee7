package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// A message may have several lines (a pasted log, code, a poem), and the
// input is one line (bubbles' textinput, which turns a newline it is given
// into a space). So the input holds each newline as newlineMark, one
// character, which its view shows as a dim newlineGlyph, "↵": the cursor
// moves over it and Backspace and Delete remove it as any character, and
// it is as wide as it is drawn (one cell), so that the input scrolls
// right. What the input holds goes in and out only through setInput and
// inputText, which turn the marks back into newlines: a message sent, a
// line recalled with Up, a message loaded by /edit keep their lines.

// newlineMark stands for a newline in the input's value. U+FDD0 is a
// noncharacter, which Unicode sets aside for a program's own use: no text
// has it, no keyboard types it, and the input keeps it (it is no control
// character).
const newlineMark = '\uFDD0'

// newlineGlyph is how the input shows a newline.
const newlineGlyph = "↵"

// toInput turns text into what the input holds: each newline ("\r\n",
// "\r" or "\n") a newlineMark, a tab tabSpaces as a message shows it (the
// input would make it one space); a newlineMark already in the text, which
// would come out as a newline, goes.
func toInput(text string) string {
	if !strings.ContainsAny(text, "\r\n\t"+string(newlineMark)) {
		return text
	}
	return inputReplacer.Replace(text)
}

var inputReplacer = strings.NewReplacer(
	string(newlineMark), "",
	"\r\n", string(newlineMark),
	"\r", string(newlineMark),
	"\n", string(newlineMark),
	"\t", tabSpaces,
)

// inputText returns the text in the input, its newlines as newlines.
func (m *Model) inputText() string {
	return strings.ReplaceAll(m.input.Value(), string(newlineMark), "\n")
}

// setInput puts text into the input, its newlines kept, the cursor at its
// end.
func (m *Model) setInput(text string) {
	m.input.SetValue(toInput(text))
	m.input.CursorEnd()
}

// inputView is the input line as drawn: its newlines as a dim "↵".
func (m *Model) inputView() string {
	return strings.ReplaceAll(m.input.View(), string(newlineMark), dimStyle.Render(newlineGlyph))
}

// updateInput passes msg to the input. A key that moves or deletes by word
// sees each newline as a space, as it would a line's end: the input takes
// only white space for a word's end, and "one↵two" would be one word.
func (m *Model) updateInput(msg tea.KeyMsg) tea.Cmd {
	km := m.input.KeyMap
	value := m.input.Value()
	if !key.Matches(msg, km.WordBackward, km.WordForward, km.DeleteWordBackward, km.DeleteWordForward) ||
		!strings.ContainsRune(value, newlineMark) {
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return cmd
	}
	old := []rune(value)
	m.input.SetValue(strings.ReplaceAll(value, string(newlineMark), " ")) // as long: the cursor stays
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	// These keys delete (if at all) one run of characters, which starts
	// where the cursor is left.
	pos := m.input.Position()
	gone := len(old) - len([]rune(m.input.Value()))
	m.input.SetValue(string(old[:pos]) + string(old[pos+gone:]))
	m.input.SetCursor(pos)
	return cmd
}
