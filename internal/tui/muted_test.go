package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/servertest"
)

// TestMutedRealServer: muted in a room, the terminal client says so where
// the user types, before they type; a message entered there is not sent
// and stays in the input (before, it went to the server, was refused, and
// the text was gone); a timed mute that ends lets the user write again
// without a word from the server; a join of a room one is muted in says
// so too; and a send the server refuses as muted before the client heard
// of the mute gives the text back.
func TestMutedRealServer(t *testing.T) {
	srv := servertest.Start(t, nil)
	ctx := t.Context()
	grace := dialReal(t, srv.WSURL, client.Options{Token: srv.SignUp(t, "grace")})
	if _, err := grace.Create(ctx, "ops", ""); err != nil {
		t.Fatal(err)
	}
	adaTok := srv.SignUp(t, "ada")
	term := dialReal(t, srv.WSURL, client.Options{Token: adaTok})
	h := newRealHarness(t, term, 100, 20, "ops")
	h.pump(term, "#ops")
	h.wantView("> message, or /help")

	if err := grace.Mute(ctx, "ops", "ada", "cool down", time.Minute); err != nil {
		t.Fatal(err)
	}
	h.pump(term, "> you are muted in #ops until ")
	h.typeText("hello there", true)
	if got := h.m.input.Value(); got != "hello there" {
		t.Errorf("input after Enter while muted = %q, want the text kept", got)
	}
	h.wantView("Not sent: you are muted in #ops until ", "Your text stays")
	if msgs, _, err := grace.HistoryBefore(ctx, "ops", 0, 50); err != nil {
		t.Fatal(err)
	} else {
		for _, m := range msgs {
			if m.From == "ada" {
				t.Errorf("a message of ada's reached the room: %+v", m)
			}
		}
	}

	// The mute ends by itself: the input takes messages again.
	h.clock.advance(2 * time.Minute)
	h.send(tickMsg(h.clock.now()))
	h.wantView("> hello there")
	h.m.input.Reset()
	h.send(tickMsg(h.clock.now()))
	h.wantView("> message, or /help")

	// A second device joins while the mute holds (on the server's clock):
	// it says so at once.
	h.clock.advance(-2 * time.Minute)
	term2 := dialReal(t, srv.WSURL, client.Options{Token: adaTok})
	h2 := newRealHarness(t, term2, 100, 20, "ops")
	h2.pump(term2, "> you are muted in #ops until ")
	h2.wantView("You are muted in #ops until ")

	// Lifted: both write again.
	if err := grace.Unmute(ctx, "ops", "ada"); err != nil {
		t.Fatal(err)
	}
	h.pump(term, "grace lifted the mute of you")
	h.send(tickMsg(h.clock.now()))
	h.wantView("> message, or /help")
	h.typeText("thanks", true)
	h.pump(term, "thanks")

	// Muted again before the terminal hears of it: the server refuses the
	// send, and the text comes back to the input.
	if err := grace.Mute(ctx, "ops", "ada", "", 0); err != nil {
		t.Fatal(err)
	}
	h2.pumpUntil(term2, "the mute on the second device", func() bool { return strings.Contains(h2.view(), "until a moderator lifts it") })
	h.typeText("one more", true)
	if got := h.m.input.Value(); got != "one more" {
		t.Errorf("input after a send refused as muted = %q, want the text back", got)
	}
	h.wantView("Not sent: you are muted in ops")
}
