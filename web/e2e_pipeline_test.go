package web_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hubbub-chat/hubbub/internal/servertest"
)

// TestBrowserRejoinsPipelined: after a reconnect the page sends hello and
// the re-join of every room together, without waiting for hello's reply
// (one round trip instead of two), and is back in every room. The gate
// between the page and the server holds the server's replies on the new
// socket until the page has sent hello and all its joins: a page that
// waits for hello's reply first gets it only when the gate gives up, and
// the test fails.
func TestBrowserRejoinsPipelined(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	rooms := []string{"lobby", "garden", "kitchen"}
	gate := servertest.NewBurstGate(t, n.addr, servertest.Burst{"hello": 1, "join": len(rooms)})

	alice := newUser(t, browser, "alice")
	alice.login("http://"+gate.Addr()+"/", "alice")
	for _, room := range rooms[1:] {
		alice.createRoom(room)
	}
	if got := alice.roomKeys("joined-rooms"); len(got) != len(rooms) {
		t.Fatalf("joined rooms before the reconnect: %q, want %q", got, rooms)
	}

	// The page may be back within one poll of the state (a backoff of
	// full jitter can be a few milliseconds): note every change instead.
	eval[chromedp.Void](alice, `window.leftReady = false;
		new MutationObserver(() => { window.leftReady = true; }).observe(document.getElementById("conn"), {attributes: true, attributeFilter: ["data-state"]});`)
	gate.DropAll()
	alice.wait("the client to notice", `window.leftReady === true`)
	// Skip the backoff, as a user would with "Retry now".
	eval[chromedp.Void](alice, `document.getElementById("conn-retry").click()`)
	alice.waitConnected()

	// Back in every room: what carol says in each reaches alice.
	carol := dialWS(t, n.addr, "carol")
	for _, room := range rooms {
		carol.join(room)
		carol.say(room, "hello in "+room)
	}
	for _, room := range rooms {
		alice.openRoom(room)
		alice.wait("carol's message in #"+room, shows("hello in "+room, ""))
	}
	if f := gate.Failures(); len(f) > 0 {
		t.Errorf("hello and the re-joins not pipelined: %s", strings.Join(f, "; "))
	}
}
