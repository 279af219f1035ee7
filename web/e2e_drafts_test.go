package web_test

import (
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserDraftsSurviveReload: what the user typed and has not sent
// yet comes back after a reload, in each room, with the message it
// answers; once sent it is gone (and was sent once), a message waiting
// for the reconnect is not offered again as a draft, and after signing
// out nobody who signs in at the same tab, the user included, finds any.
func TestBrowserDraftsSurviveReload(t *testing.T) {
	b := newBrowser(t)
	db := filepath.Join(t.TempDir(), "hubbub.db")
	n := startNode(t, "127.0.0.1:0", db, false)
	addr := n.addr
	const pw = "correct horse battery"
	registerAccount(t, n, "alice", pw)
	registerAccount(t, n, "bob", pw)
	u := newUser(t, b, "tab") // one tab: alice's, then bob's
	u.signIn(n.url(), "alice", pw)
	u.run(
		chromedp.Click(chromedp.ID("open-create")),
		chromedp.WaitVisible(chromedp.ID("create-name")),
		chromedp.SendKeys(chromedp.ID("create-name"), "side"),
		chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
	)
	u.wait("#side to open", `document.getElementById("room-name").textContent === "side"`)
	u.say("who has the vault key?")
	u.clickIn("who has the vault key?", ".act-reply")
	const replyBar = "Replying to alice: who has the vault key?"
	u.wait("the reply bar", `document.getElementById("compose-text").textContent === `+js(replyBar))

	const lobbyDraft, sideDraft = "half a thought in the lobby", "carol has it, I think"
	typeIn := func(room, text string) {
		t.Helper()
		u.openRoom(room)
		u.run(clearField("composer-input"), chromedp.Focus(chromedp.ID("composer-input")), chromedp.SendKeys(chromedp.ID("composer-input"), text))
	}
	typeIn("side", sideDraft)
	typeIn("lobby", lobbyDraft)

	type composer struct{ Text, Bar string }
	const composerNow = `({Text: document.getElementById("composer-input").value,
		Bar: document.getElementById("compose-bar").hidden ? "" : document.getElementById("compose-text").textContent})`
	// composerOf opens room and waits for its composer to hold want.
	composerOf := func(what, room string, want composer) {
		t.Helper()
		u.openRoom(room)
		u.wait(what+": the composer of #"+room+" holding "+js(want.Text)+" "+js(want.Bar), `(() => { const c = `+composerNow+`;
			return c.Text === `+js(want.Text)+` && c.Bar === `+js(want.Bar)+`; })()`)
	}
	reload := func(name string) {
		t.Helper()
		u.run(chromedp.Reload())
		u.waitSignedIn(name)
	}

	reload("alice")
	composerOf("after a reload", "lobby", composer{Text: lobbyDraft})
	composerOf("after a reload", "side", composer{Text: sideDraft, Bar: replyBar})

	// Sent: gone from the composer for good, and stored once.
	u.openRoom("lobby")
	u.run(chromedp.Focus(chromedp.ID("composer-input")), pressEnter)
	u.wait("the draft sent", shows(lobbyDraft, `[data-state="sent"]`))
	reload("alice")
	composerOf("after sending and a reload", "lobby", composer{})
	u.wait("the message sent", shows(lobbyDraft, ""))
	if got := eval[int](u, `[...document.querySelectorAll("#message-host li.msg .body")].filter(b => b.textContent === `+js(lobbyDraft)+`).length`); got != 1 {
		t.Errorf("after a reload the sent draft shows %d times, want once", got)
	}
	composerOf("after sending the other room's and a reload", "side", composer{Text: sideDraft, Bar: replyBar})

	// Sent while the server is away: the message waits for the reconnect,
	// and a reload does not put it back in the composer as well.
	const offline = "sent while the server is away"
	typeIn("lobby", offline)
	reload("alice")
	composerOf("before sending while disconnected", "lobby", composer{Text: offline})
	n.stop()
	u.wait("the client to notice", `document.getElementById("conn").dataset.state !== "ready"`)
	u.run(chromedp.Focus(chromedp.ID("composer-input")), pressEnter)
	u.wait("the message waiting", shows(offline, `[data-state="failed"]`))
	n = startNode(t, addr, db, true) // pages load, the socket waits
	u.run(chromedp.Reload())
	u.wait("the chat as alice", `!document.getElementById("app").hidden && document.getElementById("me-name").textContent === "alice"`)
	composerOf("after sending while disconnected and a reload", "lobby", composer{})
	n.closedToBrowsers.Store(false)
	eval[chromedp.Void](u, `document.getElementById("conn-retry").click()`)
	u.waitConnected()
	composerOf("connected again", "lobby", composer{})
	composerOf("connected again", "side", composer{Text: sideDraft, Bar: replyBar})

	// An edit of a sent message in progress is not kept over a reload (it
	// would come back as a new message to send); the draft it set aside is.
	typeIn("lobby", "set aside for an edit")
	u.clickIn(lobbyDraft, ".act-edit")
	u.wait("edit mode", `document.getElementById("composer-input").value === `+js(lobbyDraft))
	reload("alice")
	composerOf("after a reload while editing", "lobby", composer{Text: "set aside for an edit"})

	// Signing out forgets the drafts: neither bob after alice nor alice
	// again finds one.
	typeIn("lobby", "alice's plan for the surprise")
	typeIn("side", "alice's other plan")
	reload("alice") // written for sure
	composerOf("before signing out", "lobby", composer{Text: "alice's plan for the surprise"})
	signOut := func() {
		t.Helper()
		u.menu("menu-logout")
		u.wait("the welcome screen", `!document.getElementById("welcome").hidden`)
	}
	signOut()
	u.submitAccount("login", "bob", pw)
	u.waitSignedIn("bob")
	composerOf("bob after alice signed out", "lobby", composer{})
	joinSide := func() {
		t.Helper()
		u.wait("#side under Browse", `!!document.querySelector('#browse-rooms li[data-key="side"] button')`)
		eval[chromedp.Void](u, `document.querySelector('#browse-rooms li[data-key="side"] button').click()`)
		u.wait("#side joined", `!!document.querySelector('#joined-rooms li[data-key="side"]')`)
	}
	joinSide()
	composerOf("bob after alice signed out", "side", composer{})
	signOut()
	// Signing out forgot alice's rooms in this browser too: she joins
	// #side again.
	u.submitAccount("login", "alice", pw)
	u.waitSignedIn("alice")
	composerOf("alice after signing out and in", "lobby", composer{})
	joinSide()
	composerOf("alice after signing out and in", "side", composer{})
}
