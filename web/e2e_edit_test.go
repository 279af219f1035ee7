package web_test

import (
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserEditKeptWhileDisconnected: an edit saved while the connection
// is down is not thrown away. The composer stays in edit mode with the
// edited text (a toast says why it was not sent), and Enter once connected
// again saves it.
func TestBrowserEditKeptWhileDisconnected(t *testing.T) {
	browser := newBrowser(t)
	db := filepath.Join(t.TempDir(), "hubbub.db")
	n1 := startNode(t, "127.0.0.1:0", db, false)
	addr := n1.addr
	alice := newUser(t, browser, "alice")
	alice.login(n1.url(), "alice")
	alice.say("see you at 10")
	alice.wait("the message to be sent", shows("see you at 10", `[data-state="sent"]`))

	n1.stop()
	alice.wait("the client to notice", `document.getElementById("conn").dataset.state !== "ready"`)
	alice.run(
		chromedp.Focus(chromedp.ID("composer-input")),
		chromedp.KeyEvent(kb.ArrowUp),
	)
	alice.wait("edit mode", `!document.getElementById("compose-bar").hidden && document.getElementById("composer-input").value === "see you at 10"`)
	alice.run(
		chromedp.SendKeys(chromedp.ID("composer-input"), kb.Backspace+kb.Backspace+"11"),
		pressEnter,
	)
	alice.wait("the toast", toastSays("not sent"))
	for _, tc := range []struct {
		what, expr, want string
	}{
		{"composer", `document.getElementById("composer-input").value`, "see you at 11"},
		{"compose bar", `document.getElementById("compose-bar").hidden ? "hidden" : document.getElementById("compose-text").textContent`, "Editing your message · Enter to save, Escape to cancel"},
	} {
		if got := eval[string](alice, tc.expr); got != tc.want {
			t.Errorf("%s after saving while disconnected = %q, want %q", tc.what, got, tc.want)
		}
	}

	startNode(t, addr, db, false)
	eval[chromedp.Void](alice, `document.getElementById("conn-retry").click()`)
	alice.waitConnected()
	alice.run(chromedp.Focus(chromedp.ID("composer-input")), pressEnter)
	alice.wait("the edit", shows("see you at 11", ""))
	if got := eval[string](alice, `document.getElementById("composer-input").value`); got != "" {
		t.Errorf("composer after the edit = %q, want empty", got)
	}
}
