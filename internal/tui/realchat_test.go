package tui

import (
	"net/http"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/servertest"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestDMOpenedToYouRealServer: when another account opens a
// direct-message room with the user, the room joins the room list at once
// (as in the browser), without being shown; what is written there counts
// as unread, a mention rings the bell. Before, only a line in the status
// window told of it, and the messages went unseen. A blocked account's
// room is not opened.
func TestDMOpenedToYouRealServer(t *testing.T) {
	srv := servertest.Start(t, nil)
	ctx := t.Context()
	adaTok := srv.SignUp(t, "ada")
	bob := dialReal(t, srv.WSURL, client.Options{Token: srv.SignUp(t, "bob")})
	mallory := dialReal(t, srv.WSURL, client.Options{Token: srv.SignUp(t, "mallory")})

	term := dialReal(t, srv.WSURL, client.Options{Token: adaTok})
	h := newRealHarness(t, term, 100, 30, "lobby")
	h.pumpUntil(term, "the join of lobby", func() bool { w := h.m.find("lobby"); return w != nil && w.joined })
	if err := term.Block(ctx, "mallory"); err != nil {
		t.Fatal(err)
	}
	h.pumpUntil(term, "the block of mallory", func() bool { return h.m.blocked["mallory"] })

	room := protocol.DMRoom("ada", "bob")
	if _, err := bob.DM(ctx, "ada"); err != nil {
		t.Fatal(err)
	}
	h.pumpUntil(term, "the DM room with bob in the room list", func() bool { w := h.m.find(room); return w != nil && w.joined })
	if got := h.m.current().room; got != "lobby" {
		t.Errorf("shown: %q, want lobby still", got)
	}
	if _, _, err := bob.Join(ctx, room); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Send(ctx, room, "are you there @ada?"); err != nil {
		t.Fatal(err)
	}
	h.pumpUntil(term, "bob's message unread", func() bool { w := h.m.find(room); return w.unread == 1 && w.mentioned == 1 })
	if got := h.bells.Load(); got != 1 {
		t.Errorf("the bell rang %d times, want 1", got)
	}
	h.wantView("@bob", "@1 (1)", "lobby")

	// Shown, it reads as any room.
	h.m.show(h.m.index(room))
	h.wantView("are you there", "bob  ")

	// mallory, blocked, cannot open one (the server refuses her), and the
	// client would not open it either.
	if _, err := mallory.DM(ctx, "ada"); err == nil {
		t.Errorf("mallory opened a DM with ada, who blocks her")
	}
	if w := h.m.find(protocol.DMRoom("ada", "mallory")); w != nil {
		t.Errorf("the room with mallory is in the list")
	}
	if strings.Contains(h.view(), "@mallory") {
		t.Errorf("mallory in the view:\n%s", h.view())
	}
}

// TestSendRateLimitedRealServer: of messages sent faster than the server
// takes them, the note for one refused says which it was, and its text
// comes back to the empty input, for Enter to send again; before, a
// column of the same "Not sent: too many messages; slow down" said
// neither, and the text was gone from the screen.
func TestSendRateLimitedRealServer(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) { c.MsgRate, c.MsgBurst = 0.01, 2 })
	term := dialReal(t, srv.WSURL, client.Options{Name: "ada"})
	h := newRealHarness(t, term, 100, 30, "lobby")
	h.pumpUntil(term, "the join of lobby", func() bool { w := h.m.find("lobby"); return w != nil && w.joined })
	for _, text := range []string{"one", "two", "three"} {
		h.typeText(text, true)
	}
	h.wantView("one", "two", `Not sent: too many messages; slow down: "three"`)
	if got := h.m.input.Value(); got != "three" {
		t.Errorf("input = %q, want the refused %q", got, "three")
	}
}

// TestSessionEndedRealServer: when the account's session ends while the
// chat is open (logged out elsewhere, the password changed), the status
// bar and the note give the server's reason, not the WebSocket close
// frame, and say how to sign in again.
func TestSessionEndedRealServer(t *testing.T) {
	srv := servertest.Start(t, nil)
	tok := srv.SignUp(t, "ada")
	term := dialReal(t, srv.WSURL, client.Options{Token: tok})
	h := newRealHarness(t, term, 120, 30, "lobby")
	h.pumpUntil(term, "the join of lobby", func() bool { w := h.m.find("lobby"); return w != nil && w.joined })

	apiPost(t, srv.URL+"/api/logout", tok, []byte("{}"), http.StatusNoContent)
	h.pumpUntil(term, "the close", func() bool { return h.m.state == client.Closed })
	h.wantView(`disconnected: logged out; to sign in again: /quit, then "hubbub login"`, "✕ disconnected: logged out ")
	h.wantNotView("1008", "policy violation")
}

// TestMultilineRealServer: a message of several lines, pasted into the
// terminal client (with CR line ends, as a terminal pastes them) and sent,
// arrives at another client with its lines, and shows them in the sender's
// view once stored; before, it went as one line.
func TestMultilineRealServer(t *testing.T) {
	srv := servertest.Start(t, nil)
	grace := dialReal(t, srv.WSURL, client.Options{Name: "grace"})
	if _, _, err := grace.Join(t.Context(), "lobby"); err != nil {
		t.Fatal(err)
	}
	term := dialReal(t, srv.WSURL, client.Options{Name: "ada"})
	h := newRealHarness(t, term, 100, 30, "lobby")
	h.pumpUntil(term, "the join of lobby", func() bool { w := h.m.find("lobby"); return w != nil && w.joined })

	h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("roses are red\rviolets are blue\r\r  — ada"), Paste: true})
	h.key(tea.KeyEnter)
	const want = "roses are red\nviolets are blue\n\n  — ada"
	deadline := time.After(10 * time.Second)
	for got := ""; got != want; {
		select {
		case ev := <-grace.Events():
			if e, ok := ev.(client.MessageEvent); ok {
				if got = e.Message.Body; got != want {
					t.Fatalf("grace got %q, want %q", got, want)
				}
			}
		case <-deadline:
			t.Fatal("grace got no message")
		}
	}
	h.pumpUntil(term, "the message stored", func() bool { return len(h.m.find("lobby").pending) == 0 })
	h.wantView("│   roses are red   ", "│   violets are blue   ", "│     — ada   ") // each a line of its own
}
