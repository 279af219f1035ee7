package web_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestBrowserHistoryPastFoldedEntries: history pages count every entry of
// the room, and edits and reactions take no line of their own. A page
// made only of them (a burst of reactions to an announcement, a message
// edited many times) must not stop the client: the room still shows its
// messages, newest page or older ones, and paging goes on past it.
func TestBrowserHistoryPastFoldedEntries(t *testing.T) {
	tests := []struct {
		name  string
		after int // reaction toggles after the second message: more than a page hides it
	}{
		// The newest page (50) holds only reactions.
		{"newest page", 60},
		// The newest page holds the second message; the page before it
		// (50 more) only reactions, and the next the first message.
		{"older page", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			browser := newBrowser(t)
			n := startNodeWith(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false,
				func(c *server.Config) { c.MsgRate, c.MsgBurst, c.CmdRate, c.CmdBurst = 1000, 1000, 1000, 1000 })
			dave := dialWS(t, n.addr, "dave")
			dave.join("lobby")
			first := dave.say("lobby", "the first announcement")
			react := func(n int) {
				for i := range n {
					emoji := []string{"👍", "🎉"}[i%4/2] // 👍 on, 👍 off, 🎉 on, 🎉 off …
					dave.do(protocol.Command{Op: protocol.OpReact, Room: "lobby", Seq: first.Seq, Emoji: emoji})
				}
			}
			if tt.after == 0 {
				react(120)
			}
			dave.say("lobby", "the second announcement")
			react(tt.after)

			u := newUser(t, browser, "alice")
			u.run(chromedp.EmulateViewport(1000, 700))
			u.login(n.url(), "alice")
			u.wait("the second announcement", shows("the second announcement", ""))
			// One click on "Load older messages" is enough: the pages that
			// show nothing come with the one that does.
			if !eval[bool](u, shows("the first announcement", "")) {
				u.wait("the button", `!document.getElementById("load-older").hidden`)
				u.run(chromedp.Click(chromedp.ID("load-older")))
			}
			u.wait("the first announcement", shows("the first announcement", ""))
			u.wait("the start of the room", `!document.getElementById("history-start").hidden`)
			if got, want := fmt.Sprint(u.bodies()), "[the first announcement the second announcement]"; got != want {
				t.Errorf("shows %s, want %s", got, want)
			}
		})
	}
}
