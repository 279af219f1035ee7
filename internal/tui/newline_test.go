package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/protocol"
)

// paste feeds s as Bubble Tea reports a bracketed paste: one message with
// all its characters.
func (h *harness) paste(s string) {
	h.t.Helper()
	h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Paste: true})
}

// inputLine returns the input line of the view, without its trailing
// padding.
func (h *harness) inputLine() string {
	h.t.Helper()
	lines := strings.Split(h.view(), "\n")
	return strings.TrimRight(lines[len(lines)-2], " ")
}

// TestPasteKeepsLines: a paste of several lines is sent with its lines
// (CRLF and CR, as terminals and tmux paste a line break, made "\n"),
// shown as "↵" in the input while it is there; before, each newline
// became a space and the lines one. A control character other than a
// newline in the paste still never reaches the terminal.
func TestPasteKeepsLines(t *testing.T) {
	tests := []struct {
		name, paste   string
		wantInput     string // the input line as drawn
		wantSend      string
		wantInputText string
	}{
		{"LF", "one\ntwo\n\nfour", "> one↵two↵↵four", "one\ntwo\n\nfour", "one\ntwo\n\nfour"},
		{"CRLF", "one\r\ntwo\r\n", "> one↵two↵", "one\ntwo\n", "one\ntwo\n"},
		{"CR", "one\rtwo", "> one↵two", "one\ntwo", "one\ntwo"},
		{"code", "func f() {\n\treturn\n}", "> func f() {↵    return↵}", "func f() {\n    return\n}", "func f() {\n    return\n}"},
		{"escape", "\x1b[31mred\x1b[0m\n\x1b]0;title\x07ok", "> [31mred[0m↵]0;titleok", "[31mred[0m\n]0;titleok", "[31mred[0m\n]0;titleok"},
		{"noncharacter", "a\uFDD0b", "> ab", "ab", "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("ada", true)
			f.addRoom("lobby", "", 0)
			h := newHarness(t, f, 80, 24, "lobby")
			h.paste(tt.paste)
			if got := h.inputLine(); got != tt.wantInput {
				t.Errorf("input line = %q, want %q", got, tt.wantInput)
			}
			if got := h.m.inputText(); got != tt.wantInputText {
				t.Errorf("inputText = %q, want %q", got, tt.wantInputText)
			}
			if v := h.view(); strings.ContainsAny(v, "\x1b\x07") {
				t.Errorf("a control character of the paste reaches the terminal: %q", v)
			}
			h.key(tea.KeyEnter)
			if diff := cmp.Diff([]string{fmt.Sprintf("send lobby %q", tt.wantSend)}, f.called("send")); diff != "" {
				t.Errorf("sends (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNewlineKey: Alt+Enter and Ctrl+J put a new line into the message at
// the cursor; the cursor moves over it and Backspace and Delete take it
// out as any character.
func TestNewlineKey(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 80, 24, "lobby")
	step := func(what, wantText, wantLine string) {
		t.Helper()
		if got := h.m.inputText(); got != wantText {
			t.Errorf("%s: input = %q, want %q", what, got, wantText)
		}
		if got := h.inputLine(); got != wantLine {
			t.Errorf("%s: input line = %q, want %q", what, got, wantLine)
		}
	}
	h.typeText("one", false)
	h.key(tea.KeyCtrlJ)
	h.typeText("two", false)
	h.send(tea.KeyMsg{Type: tea.KeyEnter, Alt: true})
	h.typeText("three", false)
	step("typed", "one\ntwo\nthree", "> one↵two↵three")

	h.key(tea.KeyBackspace) // "thre"
	h.key(tea.KeyHome)
	for range 3 {
		h.key(tea.KeyRight)
	}
	h.key(tea.KeyDelete) // the first newline
	step("Delete", "onetwo\nthre", "> onetwo↵thre")
	h.key(tea.KeyCtrlJ)
	h.key(tea.KeyRight)
	h.key(tea.KeyRight)
	h.key(tea.KeyRight)
	h.key(tea.KeyRight) // past the second newline
	h.key(tea.KeyBackspace)
	step("Backspace", "one\ntwothre", "> one↵twothre")

	h.key(tea.KeyEnter)
	if diff := cmp.Diff([]string{`send lobby "one\ntwothre"`}, f.called("send")); diff != "" {
		t.Errorf("sends (-want +got):\n%s", diff)
	}
	if got := f.called("typing"); len(got) != 1 {
		t.Errorf("typing = %q, want one", got)
	}
}

// TestEditKeepsLines: /edit puts a message of several lines into the
// input with its lines, and Enter edits it with them, its first line's
// indentation and its empty first or last line too (as does a line
// recalled with Up); before, the input made them one line.
func TestEditKeepsLines(t *testing.T) {
	for _, tt := range []struct{ name, body string }{
		{"poem", "roses are red\nviolets are blue\n\n  — anon"},
		{"indented", "    indented()\nnext\n"},
		{"empty first line", "\nafter an empty line"},
	} {
		body := tt.body
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("ada", true)
			f.addRoom("lobby", "", 0)
			h := newHarness(t, f, 80, 24, "lobby")
			h.paste(body)
			h.key(tea.KeyEnter)

			h.typeText("/edit", true)
			if got, want := h.m.inputText(), "/edit 1 "+body; got != want {
				t.Errorf("input after /edit = %q, want %q", got, want)
			}
			h.wantView("> " + strings.ReplaceAll("/edit 1 "+body, "\n", "↵"))
			h.key(tea.KeyEnter)

			// Up brings back the message sent, lines and all.
			for range 3 { // "/edit 1 …", "/edit", the message
				h.key(tea.KeyUp)
			}
			if got := h.m.inputText(); got != body {
				t.Errorf("recalled = %q, want %q", got, body)
			}
			h.key(tea.KeyEnter)
			want := []string{fmt.Sprintf("send lobby %q", body), fmt.Sprintf("send lobby %q", body), fmt.Sprintf("edit lobby 1 %q", body)}
			if diff := cmp.Diff(want, slices.Concat(f.called("send"), f.called("edit"))); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReplyKeepsLines: /reply sends its text as typed, lines, indentation
// and all.
func TestReplyKeepsLines(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 1)
	h := newHarness(t, f, 80, 24, "lobby")
	h.typeText("/reply 1 ", false)
	h.paste("    code()\n    more()")
	h.key(tea.KeyEnter)
	h.typeText("/re ", false)
	h.paste("\tnewest\n")
	h.key(tea.KeyEnter)
	want := []string{`reply lobby 1 "    code()\n    more()"`, `reply lobby 2 "    newest\n"`}
	if diff := cmp.Diff(want, f.called("reply")); diff != "" {
		t.Errorf("replies (-want +got):\n%s", diff)
	}
}

// TestSendTooLongLines: a paste of many lines beyond the message limit
// (in bytes, a newline one) is refused whole and stays in the input with
// its lines.
func TestSendTooLongLines(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 80, 24, "lobby")
	line := strings.Repeat("x", 99) + "\n"
	text := strings.Repeat(line, protocol.MaxBodyBytes/len(line)+1)
	h.paste(text)
	h.key(tea.KeyEnter)
	if got := f.called("send"); len(got) != 0 {
		t.Fatalf("sent %d bytes: %.40q", len(got[0]), got[0])
	}
	if got := h.m.inputText(); got != text {
		t.Errorf("the input holds %q, want the %d bytes pasted", got, len(text))
	}
	h.wantView(fmt.Sprintf("Not sent: the message is %d bytes, more than the 4096", len(text)), "Your text stays")

	// Shortened by a line, it goes with its lines.
	for range len(line) + 1 {
		h.key(tea.KeyBackspace)
	}
	h.key(tea.KeyEnter)
	want := strings.TrimSuffix(strings.Repeat(line, protocol.MaxBodyBytes/len(line)), "\n")
	if diff := cmp.Diff([]string{fmt.Sprintf("send lobby %q", want)}, f.called("send")); diff != "" {
		t.Errorf("sends (-want +got):\n%s", diff)
	}
}

// TestSentLinesLookTheSame: a message of several lines shows the same
// lines while it is sending as once the server stored it and its event
// came.
func TestSentLinesLookTheSame(t *testing.T) {
	const body = "first line\n  indented\n\nafter an empty line\n```go\nfunc f() {}\n```\n**end**"
	f := newFake("ada", true)
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 80, 24, "lobby")
	h.paste(body)
	// messageLines returns the view's lines under the author line.
	messageLines := func(author string) []string {
		t.Helper()
		lines := strings.Split(h.view(), "\n")
		for i, l := range lines {
			if strings.Contains(l, author) {
				var out []string
				for _, l := range lines[i+1 : i+7] {
					_, text, _ := strings.Cut(l, "│")
					out = append(out, strings.TrimRight(text, " "))
				}
				return out
			}
		}
		t.Fatalf("no %q in the view:\n%s", author, h.view())
		return nil
	}
	_, cmd := h.m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	sending := messageLines("ada (guest)  sending…")
	h.run(cmd)
	stored := messageLines("ada (guest)  10:26")
	if diff := cmp.Diff(sending, stored); diff != "" {
		t.Errorf("lines sending and stored differ (-sending +stored):\n%s", diff)
	}
	want := []string{"   first line", "     indented", "", "   after an empty line", "     func f() {}", "   end"}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("lines stored (-want +got):\n%s", diff)
	}
}

// TestNewlineEndsWord: the keys that move or delete by word (Ctrl+W,
// Alt+D, Alt+←, Alt+→) stop at a newline as at a space; before, the
// input took "one↵two" for one word.
func TestNewlineEndsWord(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 80, 24, "lobby")
	h.paste("one\ntwo three\nfour")
	steps := []struct {
		key  tea.KeyMsg
		want string // the input, | the cursor
	}{
		{tea.KeyMsg{Type: tea.KeyCtrlW}, "one\ntwo three\n|"},
		{tea.KeyMsg{Type: tea.KeyLeft, Alt: true}, "one\ntwo |three\n"},
		{tea.KeyMsg{Type: tea.KeyLeft, Alt: true}, "one\n|two three\n"},
		{tea.KeyMsg{Type: tea.KeyRight, Alt: true}, "one\ntwo| three\n"},
		{tea.KeyMsg{Type: tea.KeyRight, Alt: true}, "one\ntwo three|\n"},
		{tea.KeyMsg{Type: tea.KeyCtrlW}, "one\ntwo |\n"},
		{tea.KeyMsg{Type: tea.KeyCtrlW}, "one\n|\n"},
		{tea.KeyMsg{Type: tea.KeyHome}, "|one\n\n"},
		{tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'d'}, Alt: true}, "|\n\n"},
	}
	for i, s := range steps {
		h.send(s.key)
		text := []rune(h.m.inputText())
		pos := h.m.input.Position()
		if got := string(text[:pos]) + "|" + string(text[pos:]); got != s.want {
			t.Errorf("step %d (%s): input = %q, want %q", i+1, s.key, got, s.want)
		}
	}
}

// TestRefusedKeepsLines: a message of several lines the server refuses
// for coming too fast comes back to the input with its lines, for Enter
// to send it again.
func TestRefusedKeepsLines(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 0)
	f.fail["send"] = protocol.Errorf(protocol.CodeRateLimited, "too many messages; slow down")
	h := newHarness(t, f, 80, 24, "lobby")
	h.paste("one\ntwo")
	h.key(tea.KeyEnter)
	if got, want := h.m.inputText(), "one\ntwo"; got != want {
		t.Errorf("input = %q, want %q", got, want)
	}
	h.wantView(`Not sent: too many messages; slow down: "one two"`, "> one↵two")
}
