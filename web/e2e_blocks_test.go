package web_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserBlock: alice blocks mallory from the member list. mallory's
// messages in #lobby fold into one line per run, "show" reveals a run,
// mallory's mention raises no badge, the DM with mallory is marked and its
// composer held, a second tab of alice follows through the events, and
// unblocking shows everything again.
func TestBrowserBlock(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	users := signedIn(t, browser, n, "alice", "mallory")
	alice, mallory := users[0], users[1]
	// alice's second tab is connected before the block: only the blocked
	// event can tell it.
	alice2 := newUser(t, browser, "alice2")
	alice2.signIn(n.url(), "alice", "correct horse battery")
	bob := dialWS(t, n.addr, "bob")
	bob.join("lobby")

	// folds lists the text of the fold lines of the open room (without
	// the day divider of the first); hidden and visible list the bodies of
	// the messages hidden and shown.
	folds := `[...document.querySelectorAll("#message-host li.blocked-fold .system-text")].map(s => s.textContent)`
	bodies := func(hidden bool) string {
		return `[...document.querySelectorAll("#message-host li.msg")].filter(li => li.hidden === ` + map[bool]string{true: "true", false: "false"}[hidden] + `).map(li => li.querySelector(".body").textContent)`
	}
	sameList := func(expr string, want []string) string {
		return `JSON.stringify(` + expr + `) === ` + js(mustJSON(want))
	}
	memberMenu := func(u *user, who, item string) {
		t.Helper()
		u.wait(who+" in the member list", `!!document.querySelector('#member-list li[data-key="`+who+`"] .member-btn')`)
		u.run(
			chromedp.Click(chromedp.CSS(`#member-list li[data-key="`+who+`"] .member-btn`)),
			chromedp.WaitVisible(chromedp.ID(item)),
		)
	}
	blockedTag := `!!document.querySelector('#member-list li[data-key="mallory"] .tag-blocked')`

	mallory.say("first from mallory")
	alice.wait("mallory's first message", shows("first from mallory", ":not([hidden])"))

	memberMenu(alice, "mallory", "mm-block")
	if got := eval[string](alice, `document.getElementById("mm-block").textContent`); got != "Block mallory" {
		t.Errorf("menu item = %q, want %q", got, "Block mallory")
	}
	alice.run(chromedp.Click(chromedp.ID("mm-block")))
	alice.wait("the toast", toastSays("You blocked mallory."))
	alice.wait("the blocked tag", blockedTag)
	alice.wait("the message folded", sameList(folds, []string{"1 message from a blocked user — show"})+" && "+sameList(bodies(true), []string{"first from mallory"}))
	alice2.wait("the blocked event in the second tab", blockedTag+" && "+sameList(folds, []string{"1 message from a blocked user — show"}))

	// A run grows; another author ends it.
	mallory.say("second from mallory")
	alice.wait("a run of two", sameList(folds, []string{"2 messages from blocked users — show"}))
	bob.say("lobby", "bob in between")
	mallory.say("third from mallory")
	alice.wait("two runs", sameList(folds, []string{"2 messages from blocked users — show", "1 message from a blocked user — show"})+
		" && "+sameList(bodies(false), []string{"bob in between"}))
	alice.run(chromedp.Click(chromedp.CSS(`#message-host li.blocked-fold .blocked-show`)))
	alice.wait("the first run shown", sameList(folds, []string{"1 message from a blocked user — show"})+
		" && "+sameList(bodies(false), []string{"first from mallory", "second from mallory", "bob in between"})+
		" && "+sameList(bodies(true), []string{"third from mallory"}))
	if got := eval[[]string](alice2, folds); len(got) != 2 {
		t.Errorf("the second tab's fold lines = %q, want two (show is one tab's)", got)
	}

	// The DM with mallory is marked, its composer held.
	memberMenu(alice, "mallory", "mm-message")
	alice.run(chromedp.Click(chromedp.ID("mm-message")))
	dm := `document.querySelector('#dm-list li[data-key="dm:alice:mallory"]')`
	alice.wait("the DM, marked blocked", `document.getElementById("room-name").textContent === "mallory" && !!`+dm+` && !`+dm+`.querySelector(".tag-blocked").hidden`)
	alice.wait("the composer held", `document.getElementById("composer-input").disabled && document.getElementById("muted-note").textContent.includes("You block mallory")`)

	// While alice is in the DM, mallory mentions her in #lobby and bob
	// writes: one unread message, no mention. (Her second tab looks at
	// another room meanwhile: with #lobby open there, it would read bob's
	// message for her, whenever its read reached the first tab.)
	alice2.createRoom("elsewhere")
	mallory.say("@alice look at this")
	bob.say("lobby", "bob after")
	lobbyBtn := `document.querySelector('#joined-rooms li[data-key="lobby"] button')`
	alice.wait("one unread in #lobby", lobbyBtn+`.querySelector(".badge").textContent === "1"`)
	if got := eval[string](alice, lobbyBtn+`.querySelector(".mention-badge").textContent`); got != "" {
		t.Errorf("mention badge of #lobby = %q, want none for a blocked account's mention", got)
	}

	// Unblocking shows everything again, in both tabs.
	alice.openRoom("lobby")
	// The mention follows "third from mallory", but alice had read that
	// one: the "New messages" line splits the run.
	one := "1 message from a blocked user — show"
	alice.wait("the mention folded", sameList(folds, []string{one, one})+
		` && document.querySelector("#message-host .unread-line + li.blocked-fold") !== null`)
	memberMenu(alice, "mallory", "mm-block")
	if got := eval[string](alice, `document.getElementById("mm-block").textContent`); got != "Unblock mallory" {
		t.Errorf("menu item = %q, want %q", got, "Unblock mallory")
	}
	alice.run(chromedp.Click(chromedp.ID("mm-block")))
	all := []string{"first from mallory", "second from mallory", "bob in between", "third from mallory", "@alice look at this", "bob after"}
	alice.wait("everything shown", `!`+blockedTag+` && `+sameList(folds, nil)+` && `+sameList(bodies(true), nil)+` && `+sameList(bodies(false), all))
	alice2.openRoom("lobby")
	alice2.wait("the unblocked event in the second tab", `!`+blockedTag+` && `+sameList(folds, nil)+` && `+sameList(bodies(false), all))
	alice.wait("the DM unmarked", `!!`+dm+` && `+dm+`.querySelector(".tag-blocked").hidden`)
	alice.run(chromedp.Click(chromedp.CSS(`#dm-list li[data-key="dm:alice:mallory"] button`)))
	alice.wait("the DM's composer free", `document.getElementById("room-name").textContent === "mallory" && !document.getElementById("composer-input").disabled`)
}

// mustJSON encodes a list of strings as JSON; nil is [].
func mustJSON(list []string) string {
	if list == nil {
		list = []string{}
	}
	b, err := json.Marshal(list)
	if err != nil {
		panic(err)
	}
	return string(b)
}
