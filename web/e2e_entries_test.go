package web_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/protocol"
)

// msgLI is a JavaScript expression: the list item of the message with
// this body in the open room (or undefined).
func msgLI(body string) string {
	return `[...document.querySelectorAll("#message-host li.msg")].find(li => li.querySelector(".body").textContent === ` + js(body) + `)`
}

// clickIn clicks the element sel inside the message with body. The
// message toolbar shows on hover; click() reaches it all the same. It
// waits until the message is stored: the actions ignore a message of one's
// own still sending, and another member may see it before its author's
// browser has the ack.
func (u *user) clickIn(body, sel string) {
	u.t.Helper()
	u.wait("the message "+body+", stored", `((li) => !!li && li.dataset.state !== "sending" && li.dataset.state !== "failed")(`+msgLI(body)+`)`)
	eval[chromedp.Void](u, msgLI(body)+`.querySelector(`+js(sel)+`).click()`)
}

// TestBrowserMessageEntries: editing (Up on an empty composer), the
// "(edited)" mark, reactions (picker, counts, who, toggling), replies (the
// composer says what is answered, the reply quotes it, a click on the
// quote goes to it, loading older pages), deleting one's own message and,
// as a room's owner, someone else's (with confirmation), and history
// showing all of it after a reload.
func TestBrowserMessageEntries(t *testing.T) {
	browser := newBrowser(t)
	// dave's history below goes past the default burst of sends.
	n := startNodeWith(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false, func(c *server.Config) { c.MsgBurst = 100 })
	const pw = "correct horse battery"
	registerAccount(t, n, "alice", pw)
	registerAccount(t, n, "bob", pw)

	// An old question, a page and more of chatter, then an answer to it:
	// the question is not in the first page a browser loads.
	dave := dialWS(t, n.addr, "dave")
	dave.join("lobby")
	q := dave.say("lobby", "Which port does hubbub listen on?")
	for i := range 60 {
		dave.say("lobby", fmt.Sprintf("chatter %d", i))
	}
	dave.do(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: "8080 by default, on loopback", CMID: "answer1", ReplyTo: q.Seq})

	alice := newUser(t, browser, "alice")
	alice.run(chromedp.EmulateViewport(1280, 800))
	bob := newUser(t, browser, "bob")
	alice.signIn(n.url(), "alice", pw)
	bob.signIn(n.url(), "bob", pw)
	for _, u := range []*user{alice, bob} {
		u.openRoom("lobby")
		u.waitConnected()
	}

	// The reply quotes the question, fetched on its own.
	const answer = "8080 by default, on loopback"
	alice.wait("the quote of the question", `(() => { const q = `+msgLI(answer)+`?.querySelector(".reply-quote"); return !!q && !q.hidden && q.querySelector(".quote-author")?.textContent === "dave" && q.querySelector(".quote-text")?.textContent === "Which port does hubbub listen on?"; })()`)
	if eval[bool](alice, shows("Which port does hubbub listen on?", "")) {
		t.Fatal("the question is in the list already; the test needs it beyond the first page")
	}
	// A click on the quote loads older pages until the question is there.
	alice.clickIn(answer, ".reply-quote")
	alice.wait("the question, shown and marked", `!!`+msgLI("Which port does hubbub listen on?")+`?.classList.contains("highlight")`)

	// Edit: Up on an empty composer edits the last own message.
	alice.say("Typo hre")
	alice.wait("alice's message to be sent", shows("Typo hre", `.mine[data-state="sent"]`))
	bob.wait("alice's message", shows("Typo hre", ""))
	alice.run(chromedp.Focus(chromedp.ID("composer-input")), chromedp.KeyEvent(kb.ArrowUp))
	alice.wait("the edit mode", `!document.getElementById("compose-bar").hidden && document.getElementById("composer-input").value === "Typo hre"`)
	eval[chromedp.Void](alice, `document.getElementById("composer-input").value = ""`)
	alice.say("Typo here")
	bob.wait("the edited message", shows("Typo here", ""))
	bob.wait("the (edited) mark", `!`+msgLI("Typo here")+`.querySelector(".edited").hidden`)
	if eval[bool](bob, shows("Typo hre", "")) {
		t.Error("bob still sees the old body")
	}
	if m := dave.waitMessage("Typo here"); m.Kind != protocol.KindEdit {
		t.Errorf("the edit reached dave as %+v, want an edit entry", m)
	}
	alice.wait("the composer back to normal", `document.getElementById("compose-bar").hidden && document.getElementById("composer-input").value === ""`)

	// React: bob picks 👍; alice sees it, not as hers, and adds hers.
	bob.clickIn("Typo here", ".act-pick")
	bob.wait("the picker", `!document.getElementById("reaction-picker").hidden`)
	bob.run(chromedp.Click(chromedp.CSS(`#reaction-picker button[data-emoji="👍"]`)))
	reaction := func(body string) string {
		return msgLI(body) + `?.querySelector('.reaction[data-emoji="👍"]')`
	}
	bob.wait("bob's reaction, his", reaction("Typo here")+`?.classList.contains("mine")`)
	alice.wait("bob's reaction", reaction("Typo here")+`?.textContent === "👍1" && !`+reaction("Typo here")+`.classList.contains("mine")`)
	if got := eval[string](alice, reaction("Typo here")+`.title`); got != "bob reacted with 👍" {
		t.Errorf("the reaction's title = %q", got)
	}
	alice.clickIn("Typo here", `.reaction[data-emoji="👍"]`)
	bob.wait("two reactions", reaction("Typo here")+`?.textContent === "👍2"`)
	bob.clickIn("Typo here", `.reaction[data-emoji="👍"]`) // toggles his off
	alice.wait("one reaction, hers", reaction("Typo here")+`?.textContent === "👍1" && `+reaction("Typo here")+`.classList.contains("mine")`)
	if got := eval[string](alice, reaction("Typo here")+`.title`); got != "you reacted with 👍" {
		t.Errorf("the reaction's title = %q", got)
	}

	// Reply: the composer says what bob answers; the reply quotes it.
	bob.clickIn("Typo here", ".act-reply")
	bob.wait("the reply bar", `document.getElementById("compose-text").textContent === "Replying to alice: Typo here"`)
	bob.say("Thanks for fixing it")
	alice.wait("bob's reply, quoting", `(() => { const q = `+msgLI("Thanks for fixing it")+`?.querySelector(".reply-quote"); return !!q && !q.hidden && q.querySelector(".quote-text").textContent === "Typo here"; })()`)
	bob.wait("the reply bar gone", `document.getElementById("compose-bar").hidden`)

	// Delete one's own, after confirming: everyone sees a tombstone.
	bob.say("I should not have said this")
	alice.wait("bob's message", shows("I should not have said this", ""))
	if eval[bool](alice, `getComputedStyle(`+msgLI("I should not have said this")+`.querySelector(".act-delete")).display !== "none"`) {
		t.Error("alice may delete bob's message in the lobby, where she has no role")
	}
	bob.clickIn("I should not have said this", ".act-delete")
	bob.wait("the confirmation", `document.getElementById("delete-dialog").open && document.getElementById("delete-preview").textContent === "bob: I should not have said this"`)
	bob.screenshot("delete-confirm.png")
	bob.run(chromedp.Click(chromedp.ID("delete-confirm")))
	alice.wait("the tombstone", shows("message deleted", ".deleted"))
	if eval[bool](alice, shows("I should not have said this", "")) {
		t.Error("alice still sees the deleted body")
	}
	alice.screenshot("entries.png")

	// An owner deletes someone else's message in her room.
	alice.run(
		chromedp.Click(chromedp.ID("open-create")),
		chromedp.WaitVisible(chromedp.ID("create-name")),
		chromedp.SendKeys(chromedp.ID("create-name"), "team"),
		chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
	)
	alice.wait("#team to open", `document.getElementById("room-name").textContent === "team"`)
	eval[chromedp.Void](bob, `document.getElementById("open-drawer").click()`)
	bob.wait("#team under Browse", `!!document.querySelector('#browse-rooms li[data-key="team"] button')`)
	bob.run(chromedp.Click(chromedp.CSS(`#browse-rooms li[data-key="team"] button`)))
	bob.wait("#team to open", `document.getElementById("room-name").textContent === "team"`)
	bob.waitConnected()
	bob.say("buy cheap watches")
	alice.wait("bob's spam", shows("buy cheap watches", ""))
	if eval[bool](alice, `getComputedStyle(`+msgLI("buy cheap watches")+`.querySelector(".act-delete")).display === "none"`) {
		t.Fatal("the owner is not offered Delete on bob's message")
	}
	alice.clickIn("buy cheap watches", ".act-delete")
	alice.wait("the confirmation", `document.getElementById("delete-dialog").open`)
	alice.run(chromedp.Click(chromedp.ID("delete-confirm")))
	bob.wait("the tombstone", shows("message deleted", ".deleted"))

	// History after a reload: the edit, the reaction, the tombstone.
	alice.run(chromedp.Reload())
	alice.waitSignedIn("alice")
	alice.openRoom("lobby")
	alice.wait("the edited message, from history", shows("Typo here", "")+` && !`+msgLI("Typo here")+`.querySelector(".edited").hidden`)
	alice.wait("the reaction, from history", reaction("Typo here")+`?.textContent === "👍1" && `+reaction("Typo here")+`.classList.contains("mine")`)
	alice.wait("the tombstone, from history", shows("message deleted", ".deleted"))
	if eval[bool](alice, shows("I should not have said this", "")+` || `+shows("Typo hre", "")) {
		t.Error("history shows a deleted or replaced body")
	}
}
