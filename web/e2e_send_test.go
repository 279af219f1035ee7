package web_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestBrowserSendsThroughRateLimit: a user who sends faster than the
// server's message rate (10/s, burst 30) gets every message through, in the
// order written, without touching Retry: the server asks a client refused
// with rate_limited to wait a moment and resend with the same cmid
// (docs/protocol.md, "Abuse limits").
func TestBrowserSendsThroughRateLimit(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	alice := newUser(t, browser, "alice")
	alice.login(n.url(), "alice")

	for _, tc := range []struct {
		name  string
		count int
	}{
		{"a burst over the limit", 40},
		{"a second burst at once", 35},
	} {
		{
			before := len(alice.bodies())
			var want []string
			for i := 1; i <= tc.count; i++ {
				want = append(want, fmt.Sprintf("%s, line %d", tc.name, i))
			}
			// Written as fast as the page takes them (a paste of lines, a
			// user holding Enter on a macro): one submit each.
			alice.run(chromedp.Evaluate[chromedp.Void](`(() => {
				const input = document.getElementById("composer-input");
				for (const body of ` + jsList(want) + `) {
					input.value = body;
					document.getElementById("composer").requestSubmit();
				}
			})()`))
			alice.wait("every message sent", `document.querySelectorAll('#message-host li.msg.mine[data-state="sent"]').length === `+fmt.Sprint(before+tc.count))
			if failed := eval[int](alice, `document.querySelectorAll('#message-host li.msg[data-state="failed"]').length`); failed != 0 {
				t.Errorf("%s: %d messages shown as failed, want 0", tc.name, failed)
			}
			if got := alice.bodies()[before:]; !slices.Equal(got, want) {
				t.Errorf("%s: alice sees\n%q\nwant\n%q", tc.name, got, want)
			}
		}
	}

	// The server stored each message once, in the order written.
	carol := dialWS(t, n.addr, "carol")
	carol.join("lobby")
	var got []string
	after := int64(0)
	for {
		hist := carol.do(protocol.Command{Op: protocol.OpHistory, Room: "lobby", After: &after, Limit: 100})
		for _, m := range hist.Messages {
			got = append(got, m.Body)
			after = m.Seq
		}
		if !hist.More {
			break
		}
	}
	if want := alice.bodies(); !slices.Equal(got, want) {
		t.Errorf("history holds\n%q\nwant what alice sees\n%q", got, want)
	}
}

// jsList quotes ss as a JavaScript array literal.
func jsList(ss []string) string {
	out := "["
	for i, s := range ss {
		if i > 0 {
			out += ","
		}
		out += js(s)
	}
	return out + "]"
}
