package web_test

import (
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserInspector: a user opens the inspector panel and sees their
// own socket as the server sees it: the handshake with the
// Sec-WebSocket-Accept derivation, their masked send command and the
// server's unmasked reply carrying the ok event.
func TestBrowserInspector(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	alice := newUser(t, browser, "alice")
	alice.run(chromedp.EmulateViewport(1280, 800))
	alice.login(n.url(), "alice")

	alice.menu("menu-inspector")
	alice.wait("the handshake in the inspector", `[...document.querySelectorAll("#inspector-log li[data-kind=handshake]")].some(li =>
		li.textContent.includes("101 Switching Protocols") && li.textContent.includes("matches"))`)
	alice.say("inspect me, please")
	alice.wait("her send command, masked, in the inspector", `[...document.querySelectorAll("#inspector-log li[data-op=text][data-dir=in]")].some(li =>
		li.textContent.includes("inspect me, please") && li.textContent.includes("MASK=1") && li.textContent.includes("client → server"))`)
	alice.wait("the server's ok, unmasked, in the inspector", `[...document.querySelectorAll("#inspector-log li[data-op=text][data-dir=out]")].some(li =>
		li.textContent.includes("MASK=0") && [...li.querySelectorAll(".insp-events strong")].some(s => s.textContent === "ok"))`)
	alice.screenshot("inspector")
}
