package tui

import (
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestUnreadLine checks the "── new ──" line at the server's read
// position, the read sent when the room is shown, and that it stays put
// while the room is shown and goes when it is shown again.
func TestUnreadLine(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("lobby", "", 10, "grace")
	f.rooms["lobby"].info.ReadSeq = 7
	f.addRoom("books", "", 0)
	h := newHarness(t, f, 100, 40, "lobby", "books")
	lines := h.m.windowLines(h.m.current(), 80)
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "── new") })
	if i < 0 || i+2 >= len(lines) || lines[i+2] != "  message 8" {
		t.Errorf("no new line right before message 8:\n%q", lines)
	}
	if got, want := f.called("read"), []string{"read lobby 10"}; !slices.Equal(got, want) {
		t.Errorf("reads = %q, want %q", got, want)
	}
	// More while shown: read at most every second, then on the tick.
	h.events(msgAt("lobby", 11, "grace", "eleven", t0))
	h.clock.advance(readEvery)
	h.events(msgAt("lobby", 12, "grace", "twelve", t0))
	h.events(msgAt("lobby", 13, "grace", "thirteen", t0))
	h.clock.advance(readEvery)
	h.send(tickMsg(h.clock.now()))
	if got, want := f.called("read"), []string{"read lobby 10", "read lobby 12", "read lobby 13"}; !slices.Equal(got, want) {
		t.Errorf("reads = %q, want %q", got, want)
	}
	h.wantView("── new")

	// Shown again with nothing new: no line.
	h.key(tea.KeyTab)
	h.key(tea.KeyShiftTab)
	h.wantNotView("── new")
}

// TestUnreadElsewhere checks that a read position from another session
// clears a room's unread count.
func TestUnreadElsewhere(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("lobby", "", 0)
	f.addRoom("books", "", 0)
	h := newHarness(t, f, 100, 30, "lobby", "books")
	h.events(msgAt("books", 1, "grace", "b1", t0), msgAt("books", 2, "grace", "b2", t0))
	h.wantView("#books           (2)│")
	h.events(client.ReadEvent{Room: "books", Seq: 1})
	h.wantView("#books           (1)│")
	h.events(client.ReadEvent{Room: "books", Seq: 2})
	h.wantView("#books              │")
	if got := f.called("read"); len(got) != 0 {
		t.Errorf("reads sent = %q, want none (the room was not shown)", got)
	}
}

// TestMentions checks that a mention of the user by someone else rings
// the bell, is marked and counted apart from unread, and that the user's
// own mention of themselves or a longer name does not.
func TestMentions(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("lobby", "", 0)
	f.addRoom("books", "", 0)
	h := newHarness(t, f, 100, 30, "lobby", "books")
	h.events(
		msgAt("books", 1, "grace", "hey @Ada, look", t0),
		msgAt("books", 2, "grace", "and @adam too", t0),
		msgAt("books", 3, "ada", "@ada talking to myself", t0),
	)
	if got := h.bells.Load(); got != 1 {
		t.Errorf("bell rang %d times, want 1", got)
	}
	h.wantView("#books        @1 (2)│")
	h.events(msgAt("lobby", 1, "linus", "@ada: here?", t0))
	if got := h.bells.Load(); got != 2 {
		t.Errorf("bell rang %d times, want 2 (a mention in the shown room rings too)", got)
	}
	h.wantView("» @ada: here?")
	// History does not ring.
	w := h.m.find("books")
	before := h.bells.Load()
	h.send(historyMsg{room: "books", msgs: []protocol.Message{msgAt("books", 1, "grace", "hey @Ada, look", t0).Message}})
	if h.bells.Load() != before {
		t.Errorf("a mention in history rang the bell")
	}
	h.key(tea.KeyTab)
	if w.unread != 0 || w.mentioned != 0 {
		t.Errorf("after showing books: unread %d, mentioned %d, want 0", w.unread, w.mentioned)
	}
	lines := h.m.windowLines(w, 80)
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "── new") })
	if i < 0 || i+3 >= len(lines) || lines[i+3] != "» hey @Ada, look" {
		t.Errorf("no new line right before message 1:\n%q", lines)
	}
}

func TestMentionAt(t *testing.T) {
	tests := []struct {
		s, name string
		want    int
	}{
		{"@ada", "ada", 0},
		{"hi @ADA!", "ada", 3},
		{"@adam", "ada", -1},
		{"@adam and @ada", "ada", 10},
		{"mail ada@ada.example", "ada", 8},
		{"@ada_b", "ada", -1},
		{"Grüße @ada", "ada", 8},
		{"no mention", "ada", -1},
		// Lower-casing changes the length of some characters (Ⱥ grows,
		// the ohm and Kelvin signs shrink), here to the same total: the
		// index is still the one in s, which highlight cuts s at.
		{"Ⱥ@ada \u2126", "ada", 2},
		{"ȺȺ@ada \u2126\u2126", "ada", 4},
		{"ȺȺ@ADA \u212a", "ada", 4},
		{"\u212a @ada", "ada", 4},
	}
	for _, tt := range tests {
		if got := mentionAt(tt.s, tt.name); got != tt.want {
			t.Errorf("mentionAt(%q, %q) = %d, want %d", tt.s, tt.name, got, tt.want)
		}
	}
}

// TestCompleteMention checks that Tab completes "@na" from the room's
// members, and switches rooms otherwise.
func TestCompleteMention(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("lobby", "", 0, "grace", "Greg", "linus")
	h := newHarness(t, f, 100, 30, "lobby")
	h.typeText("thanks @li", false)
	h.key(tea.KeyTab)
	if got, want := h.m.input.Value(), "thanks @linus "; got != want {
		t.Errorf("input = %q, want %q", got, want)
	}
	h.typeText("and @gR", false)
	h.key(tea.KeyTab)
	if got, want := h.m.input.Value(), "thanks @linus and @Greg "; got != want {
		t.Errorf("input = %q, want %q", got, want)
	}
	// Tab again: the next name that starts so, then the first again; the
	// room stays (it used to show the next room, the line going with it).
	for _, want := range []string{"thanks @linus and @grace ", "thanks @linus and @Greg "} {
		h.key(tea.KeyTab)
		if got := h.m.input.Value(); got != want {
			t.Errorf("input after Tab again = %q, want %q", got, want)
		}
		if got := h.m.current().room; got != "lobby" {
			t.Fatalf("Tab again showed %q", got)
		}
	}
	h.typeText("@zz", false)
	h.key(tea.KeyTab)
	if got := h.m.current().room; got != "lobby" {
		t.Errorf("Tab on an unknown name switched to %q", got)
	}
	h.typeText(" ", false)
	h.key(tea.KeyTab)
	if got := h.m.current().room; got != "" {
		t.Errorf("Tab after a space showed %q, want the status window", got)
	}
}
