package tui

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestDrawnLinesAsFresh: the lines the view keeps for each message
// (entry.drawn) and for author lines (Model.authors) must be what drawing
// from nothing gives, after any change: new messages, edits, deletions,
// reactions, replies to a message that changes later, mentions of the
// user, a resize, message numbers shown while a command is typed. Random
// steps; DRAWN_SEED=n replays a run.
func TestDrawnLinesAsFresh(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("DRAWN_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("DRAWN_SEED=%d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	f := newFake("ada", false)
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 80, 30, "lobby")
	w := h.m.current()
	authors := []string{"ada", "grace", "linus", "margaret-hamilton-of-apollo"}
	bodies := []string{"hello", "a **bold** word and *some* italics", "hey @ada, look", "`code` and [a link](https://example.com)",
		"/me waves", "a long line that goes on and on and on so that it has to be wrapped over more than one line of the view"}
	emoji := []string{"👍", "❤️", "🎉"}
	var seq int64
	var plain []int64 // seqs of plain messages
	entry := func(kind, from, body string, target int64) protocol.Message {
		seq++
		return protocol.Message{Room: "lobby", Seq: seq, Kind: kind, From: from, Body: body, Target: target,
			TS: t0.Add(time.Duration(seq) * 20 * time.Second).UnixMilli()}
	}
	for step := range 300 {
		var what string
		switch n := rng.IntN(10); {
		case n < 4 || len(plain) == 0:
			m := entry("", authors[rng.IntN(len(authors))], bodies[rng.IntN(len(bodies))], 0)
			if len(plain) > 0 && rng.IntN(3) == 0 {
				m.ReplyTo = plain[rng.IntN(len(plain))]
			}
			plain = append(plain, m.Seq)
			what = fmt.Sprintf("message %d (reply to %d)", m.Seq, m.ReplyTo)
			h.events(client.MessageEvent{Message: m})
		case n == 4:
			target := plain[rng.IntN(len(plain))]
			what = fmt.Sprintf("edit of %d", target)
			h.events(client.MessageEvent{Message: entry(protocol.KindEdit, "grace", bodies[rng.IntN(len(bodies))], target)})
		case n == 5:
			target := plain[rng.IntN(len(plain))]
			what = fmt.Sprintf("deletion of %d", target)
			h.events(client.MessageEvent{Message: entry(protocol.KindDelete, "grace", "", target)})
		case n == 6:
			kind := protocol.KindReact
			if rng.IntN(2) == 0 {
				kind = protocol.KindUnreact
			}
			target := plain[rng.IntN(len(plain))]
			what = fmt.Sprintf("%s on %d", kind, target)
			h.events(client.MessageEvent{Message: entry(kind, authors[rng.IntN(len(authors))], emoji[rng.IntN(len(emoji))], target)})
		case n == 7:
			width := 20 + rng.IntN(100)
			what = fmt.Sprintf("resize to %d", width)
			h.send(tea.WindowSizeMsg{Width: width, Height: 30})
		case n == 8:
			what = "numbers on"
			h.typeText("/edit ", false)
		default:
			what = "input cleared"
			h.m.input.SetValue("")
			h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'x'}})
			h.m.input.SetValue("")
			h.m.dirty = true
		}
		got := h.m.windowLines(w, h.m.vp.Width)
		for i := range w.entries {
			w.entries[i].drawn = nil
		}
		h.m.authors = nil
		want := h.m.windowLines(w, h.m.vp.Width)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("step %d, after the %s: the kept lines differ from fresh ones (-fresh +kept):\n%s", step, what, diff)
		}
	}
}

// BenchmarkWindowLines draws a window of 3000 messages (the most a window
// keeps while its end is shown) from four speakers, as the view does
// after every event in the room.
func BenchmarkWindowLines(b *testing.B) {
	f := newFake("ada", false)
	f.addRoom("lobby", "", 0)
	h := newHarness(b, f, 100, 40, "lobby")
	var evs []client.Event
	for i := range maxEntries {
		evs = append(evs, client.MessageEvent{Message: protocol.Message{
			Room: "lobby", Seq: int64(i + 1), From: fmt.Sprintf("user%d", i%4), TS: t0.Add(time.Duration(i) * time.Second).UnixMilli(),
			Body: fmt.Sprintf("message %d: the quick brown fox jumps over the **lazy** dog, see https://example.com/%d, @ada", i, i),
		}})
	}
	h.events(evs...)
	w := h.m.current()
	for b.Loop() {
		h.m.windowLines(w, 100)
	}
}
