package web_test

import (
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserTitleCountsWhileHidden: the tab's title counts the messages
// the user has not seen, the open room's too while the tab is in the
// background (a user in another tab sees "(2)" when someone answers in the
// room left open); back in front at the bottom of the room, they are seen
// and the count goes.
func TestBrowserTitleCountsWhileHidden(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	alice := newUser(t, browser, "alice")
	alice.login(n.url(), "alice")
	bob := dialWS(t, n.addr, "bob")
	bob.join("lobby")
	bob.say("lobby", "before alice left the tab")
	alice.wait("bob's first message", shows("before alice left the tab", ""))

	// A headless tab never leaves the front: tell the page it did.
	setVisibility := func(state string) {
		t.Helper()
		alice.run(chromedp.Evaluate[chromedp.Void](`Object.defineProperty(document, "visibilityState", {configurable: true, get: () => ` + js(state) + `});
document.dispatchEvent(new Event("visibilitychange"))`))
	}
	title := func() string { return eval[string](alice, `document.title`) }

	steps := []struct {
		what string
		do   func()
		want string
	}{
		{"in front", func() {}, "#lobby — hubbub"},
		{"hidden, two messages in the open room", func() {
			setVisibility("hidden")
			bob.say("lobby", "are you there?")
			bob.say("lobby", "the build is green")
			alice.wait("bob's messages", shows("the build is green", ""))
		}, "(2) #lobby — hubbub"},
		{"back in front", func() { setVisibility("visible") }, "#lobby — hubbub"},
	}
	for _, s := range steps {
		s.do()
		// Give the page a moment to settle on its title, then compare.
		alice.run(chromedp.Evaluate[chromedp.Void](`new Promise(r => setTimeout(r, 300))`, chromedp.EvalAwaitPromise))
		if got := title(); got != s.want {
			t.Errorf("%s: title %q, want %q", s.what, got, s.want)
		}
	}
}
