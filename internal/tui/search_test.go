package tui

import (
	"slices"
	"testing"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestSearchAndGoto searches, lists the results with room and time, and
// jumps to one far back in a joined room (loading older pages) and to one
// in a room not joined (joining it).
func TestSearchAndGoto(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("lobby", "", 120)
	f.addRoom("books", "", 3)
	f.rooms["lobby"].msgs[4].Body = "the needle is here"
	f.rooms["books"].msgs[1].Body = "another needle"
	h := newHarness(t, f, 100, 30, "lobby")
	h.typeText("/search needle", true)
	if got, want := f.called("search"), []string{`search "" "needle"`}; !slices.Equal(got, want) {
		t.Errorf("searches = %q, want %q", got, want)
	}
	h.wantView(`2 messages with "needle" (/goto N shows one):`,
		"1. #lobby  Sat 14 Mar 09:30  linus: the needle is here",
		"2. #books  Sat 14 Mar 09:27  linus: another needle")

	h.typeText("/goto 1", true)
	w := h.m.current()
	if w.room != "lobby" || w.found != 5 {
		t.Fatalf("shown room %q, found %d; want lobby, 5", w.room, w.found)
	}
	if got := len(f.called("history lobby")); got != 3 {
		t.Errorf("history pages = %d, want 3 (the join's and two older)", got)
	}
	h.wantView("#5 the needle is here")
	h.wantNotView("message 30")

	h.typeText("/goto 2", true)
	if w := h.m.current(); w.room != "books" || w.found != 2 {
		t.Errorf("shown room %q, found %d; want books, 2", w.room, w.found)
	}
	h.wantView("#2 another needle")

	h.typeText("/goto 3", true)
	h.wantView("Usage: /goto N, N a result of the last /search (1 to 2)")
	f.fail["search"] = protocol.Errorf(protocol.CodeRateLimited, "slow down")
	h.typeText("/s needle", true)
	h.wantView("Cannot search: slow down")
}
