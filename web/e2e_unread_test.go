package web_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/protocol"
)

// lobbyBadge is a JavaScript expression: the unread badge of #lobby in the
// sidebar.
const lobbyBadge = `document.querySelector('#joined-rooms li[data-key="lobby"] .badge').textContent`

// TestBrowserUnreadAndSearch: an account's read position is the server's —
// reading in one tab clears the unread count in the other — and the "New
// messages" line sits where unread begins; search finds messages in every
// readable room and a click goes to one in context, joining its room and
// loading older pages.
func TestBrowserUnreadAndSearch(t *testing.T) {
	browser := newBrowser(t)
	n := startNodeWith(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false, func(c *server.Config) { c.MsgBurst = 100 })
	const pw = "correct horse battery"
	registerAccount(t, n, "alice", pw)

	dave := dialWS(t, n.addr, "dave")
	dave.join("lobby")
	dave.say("lobby", "The deploy key is in the vault, ask me for access")
	for i := range 70 {
		dave.say("lobby", fmt.Sprintf("standup note %d", i))
	}
	dave.do(protocol.Command{Op: protocol.OpCreate, Room: "archive"})
	dave.join("archive")
	dave.say("archive", "Vault rotation happens monthly")

	// alice in two tabs (two browser profiles), both reading #side.
	tab1 := newUser(t, browser, "alice1")
	tab1.run(chromedp.EmulateViewport(1280, 800))
	tab2 := newUser(t, browser, "alice2")
	tab1.signIn(n.url(), "alice", pw)
	tab1.openRoom("lobby")
	tab1.waitConnected()
	tab1.run(
		chromedp.Click(chromedp.ID("open-create")),
		chromedp.WaitVisible(chromedp.ID("create-name")),
		chromedp.SendKeys(chromedp.ID("create-name"), "side"),
		chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
	)
	tab1.wait("#side to open", `document.getElementById("room-name").textContent === "side"`)
	tab2.signIn(n.url(), "alice", pw)
	tab2.openRoom("lobby")
	tab2.waitConnected()
	eval[chromedp.Void](tab2, `document.getElementById("open-drawer").click()`)
	tab2.wait("#side under Browse", `!!document.querySelector('#browse-rooms li[data-key="side"] button')`)
	tab2.run(chromedp.Click(chromedp.CSS(`#browse-rooms li[data-key="side"] button`)))
	tab2.wait("#side to open", `document.getElementById("room-name").textContent === "side"`)

	dave.say("lobby", "news one")
	dave.say("lobby", "news two")
	for _, tab := range []*user{tab1, tab2} {
		tab.wait("2 unread in #lobby", lobbyBadge+` === "2"`)
	}

	// tab1 reads #lobby: the line is above the first unread message, and
	// tab2 hears from the server that it was read.
	tab1.openRoom("lobby")
	tab1.wait("the new-messages line", `document.querySelector("#message-host .unread-line")?.nextElementSibling?.querySelector(".body")?.textContent === "news one"`)
	tab2.wait("#lobby read in the other tab", lobbyBadge+` === ""`)
	tab1.screenshot("unread.png")
	tab1.openRoom("side")
	tab1.openRoom("lobby")
	if eval[bool](tab1, `!!document.querySelector("#message-host .unread-line")`) {
		t.Error("the new-messages line stays after the room was left and read")
	}
	tab1.openRoom("side")

	// Search across rooms, the one not joined included.
	tab1.run(
		chromedp.SendKeys(chromedp.ID("search-input"), "vault"),
		chromedp.KeyEvent("\r"), // submits the search form
	)
	tab1.wait("two results", `document.querySelectorAll("#search-results .search-hit").length === 2`)
	hits := eval[[]string](tab1, `[...document.querySelectorAll("#search-results .search-hit")].map(h => h.querySelector(".search-room").textContent + " " + h.querySelector(".search-author").textContent + " " + h.querySelector(".search-text").textContent + " " + h.querySelector(".search-text mark").textContent)`)
	want := []string{"#archive dave Vault rotation happens monthly Vault", "#lobby dave The deploy key is in the vault, ask me for access vault"}
	if fmt.Sprint(hits) != fmt.Sprint(want) {
		t.Errorf("results:\n got %q\nwant %q", hits, want)
	}
	tab1.screenshot("search.png")

	// The lobby's hit is older than the page shown: it is loaded and marked.
	tab1.run(chromedp.Click(chromedp.CSS(`#search-results .search-hit[data-room="lobby"]`)))
	tab1.wait("the lobby message in context", `document.getElementById("room-name").textContent === "lobby" && !!`+msgLI("The deploy key is in the vault, ask me for access")+`?.classList.contains("highlight")`)
	if !eval[bool](tab1, shows("standup note 0", "")) {
		t.Error("the message is shown without what follows it")
	}

	// The archive's hit: its room is joined and opened.
	tab1.run(
		chromedp.Focus(chromedp.ID("search-input")),
		chromedp.KeyEvent("\r"), // submits the search form
		chromedp.WaitVisible(chromedp.CSS(`#search-results .search-hit[data-room="archive"]`)),
		chromedp.Click(chromedp.CSS(`#search-results .search-hit[data-room="archive"]`)),
	)
	tab1.wait("#archive joined, the message marked", `document.getElementById("room-name").textContent === "archive" && !!document.querySelector('#joined-rooms li[data-key="archive"]') && !!`+msgLI("Vault rotation happens monthly")+`?.classList.contains("highlight")`)
}
