package web_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserRebindingRefused is DNS rebinding in a real browser.
// Chromium resolves rebind.test to 127.0.0.1, as an attacker's DNS server
// would once the attacker's page has loaded, so a page of
// http://rebind.test:PORT is, to the browser, the origin of the hubbubd
// listening there, and the Origin check alone would let its WebSocket in.
// The server refuses the name: the page gets 403, and a WebSocket from it
// never opens. The same browser reaches the same server as localhost.
func TestBrowserRebindingRefused(t *testing.T) {
	browser := newBrowser(t, chromedp.Flag("host-resolver-rules", "MAP rebind.test 127.0.0.1"))
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	port := n.addr[strings.LastIndexByte(n.addr, ':'):]

	// dial opens a WebSocket to the page's own server and reports "open"
	// or how it closed.
	dial := func(u *user) string {
		t.Helper()
		eval[chromedp.Void](u, `window.wsResult = "";
			{ const ws = new WebSocket("ws://" + location.host + "/ws", "hubbub.v1");
			  ws.onopen = () => { window.wsResult = "open"; ws.close(); };
			  ws.onclose = (e) => { if (!window.wsResult) window.wsResult = "closed " + e.code; }; }`)
		u.wait("the WebSocket to open or close", `!!window.wsResult`)
		return eval[string](u, `window.wsResult`)
	}

	mallory := newUser(t, browser, "mallory")
	mallory.run(chromedp.Navigate("http://rebind.test" + port + "/"))
	if body := eval[string](mallory, `document.body.innerText`); !strings.Contains(body, "does not answer to the name") {
		t.Errorf("the page at rebind.test shows %q, want the server's refusal", body)
	}
	if got := dial(mallory); got != "closed 1006" {
		t.Errorf("a WebSocket from the page at rebind.test: %s, want closed 1006 (refused)", got)
	}

	alice := newUser(t, browser, "alice")
	alice.run(chromedp.Navigate("http://localhost" + port + "/"))
	if got := dial(alice); got != "open" {
		t.Errorf("a WebSocket from the page at localhost: %s, want open", got)
	}
}
