package web_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/domdebugger"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
)

// TestBrowserConnectionListenersReleased: each change of identity makes
// a new connection; the old one's window and document listeners (online,
// offline, focus, pageshow, visibilitychange) must go with it, or every
// old connection stays in memory for the life of the tab.
func TestBrowserConnectionListenersReleased(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	ada := newUser(t, browser, "ada")
	ada.login(n.url(), "ada")

	// listeners counts the listeners of each type on window and document.
	listeners := func() map[string]int {
		t.Helper()
		got := map[string]int{}
		for _, target := range []string{"window", "document"} {
			obj, err := chromedp.Call(ada.ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: target})
			if err != nil || obj.Result == nil {
				t.Fatalf("evaluate %s: %v", target, err)
			}
			ls, err := chromedp.Call(ada.ctx, domdebugger.GetEventListeners, domdebugger.GetEventListenersParams{ObjectID: obj.Result.ObjectID})
			if err != nil {
				t.Fatalf("listeners of %s: %v", target, err)
			}
			for _, l := range ls.Listeners {
				got[target+" "+l.Type]++
			}
		}
		return got
	}
	before := listeners()
	if before["window online"] == 0 || before["document visibilitychange"] == 0 {
		t.Fatalf("found no connection listeners to watch: %v", before)
	}
	for i := range 3 {
		name := fmt.Sprintf("ada%d", i)
		ada.menu("menu-change-name")
		ada.wait("the welcome screen", `!document.getElementById("welcome").hidden`)
		ada.run(
			clearField("guest-name"),
			chromedp.SendKeys(chromedp.ID("guest-name"), name),
			chromedp.Click(chromedp.CSS(`#guest-form button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.ID("composer-input")),
		)
		ada.waitConnected()
		ada.wait("the new name", `document.getElementById("me-name").textContent === `+js(name))
	}
	if diff := cmp.Diff(before, listeners()); diff != "" {
		t.Errorf("window and document listeners after three changes of name (-before +after):\n%s", diff)
	}
}
