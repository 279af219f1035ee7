package tui

import (
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// typeChunk feeds s as Bubble Tea reports text that arrives in one read
// (fast typing over ssh, a paste without bracketed paste, an input
// method): each run of non-space characters is one KeyRunes message, each
// space a KeySpace.
func (h *harness) typeChunk(s string) {
	h.t.Helper()
	for i, word := range strings.Split(s, " ") {
		if i > 0 {
			h.send(tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}})
		}
		if word != "" {
			h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(word)})
		}
	}
}

// TestWordsAreNotKeys checks that text typed in a chunk is text, even
// when a word of it is the name of a key ("down", "tab", "ctrl+c",
// "home"): it must neither act as that key nor go missing.
func TestWordsAreNotKeys(t *testing.T) {
	for _, word := range []string{"down", "up", "tab", "ctrl+n", "ctrl+p", "shift+tab", "pgup", "pgdown", "esc", "enter", "ctrl+c", "home", "end", "left", "right", "backspace", "delete", "ctrl+w", "ctrl+u", "ctrl+k", "ctrl+a", "ctrl+v"} {
		t.Run(word, func(t *testing.T) {
			f := newFake("ada", true)
			f.addRoom("lobby", "", 0)
			f.addRoom("books", "", 0)
			h := newHarness(t, f, 80, 24, "lobby", "books")
			h.send(keyAlt('2')) // lobby
			h.typeText("earlier", true)
			h.typeChunk("go " + word + " now")
			if h.quit {
				t.Fatalf("typing %q quit", word)
			}
			if got, want := h.m.current().room, "lobby"; got != want {
				t.Errorf("typing %q: shown room = %q, want %q", word, got, want)
			}
			if got, want := h.m.input.Value(), "go "+word+" now"; got != want {
				t.Errorf("input = %q, want %q", got, want)
			}
			h.key(tea.KeyEnter)
			want := []string{`send lobby "earlier"`, `send lobby "go ` + word + ` now"`}
			if got := f.called("send"); !slices.Equal(got, want) {
				t.Errorf("sends = %q, want %q", got, want)
			}
		})
	}
}
