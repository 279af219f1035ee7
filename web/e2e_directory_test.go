package web_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/protocol"
)

// waitWithin polls a JavaScript expression until it is truthy, failing the
// test when that takes longer than d.
func (u *user) waitWithin(d time.Duration, what, expr string) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, d+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(d)))
	if err != nil {
		u.t.Fatalf("%s: %s did not happen within %v: %v", u.name, what, d, err)
	}
}

// createRoom creates a public room through the browser's dialog; the
// client joins and opens it.
func (u *user) createRoom(name string) {
	u.t.Helper()
	u.run(
		chromedp.Click(chromedp.ID("open-create")),
		chromedp.WaitVisible(chromedp.ID("create-name")),
		chromedp.SendKeys(chromedp.ID("create-name"), name),
		chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
	)
	u.wait("#"+name+" to open", `!document.getElementById("create-dialog").open && document.getElementById("room-name").textContent === `+js(name))
}

// joinFromBrowse opens a room listed under Browse.
func (u *user) joinFromBrowse(room string) {
	u.t.Helper()
	sel := `#browse-rooms li[data-key=` + js(room) + `] button`
	u.wait("#"+room+" under Browse", `!!document.querySelector(`+js(sel)+`)`)
	u.run(chromedp.Click(chromedp.CSS(sel)))
	u.wait("#"+room+" to open", `document.getElementById("room-name").textContent === `+js(room))
	u.waitConnected()
}

// archivedShown is a JavaScript predicate: room, open, is shown archived
// (true) or writable (false): the composer, its note, the header's badge
// and the badge in the room list all agree.
func archivedShown(room string, archived bool) string {
	return fmt.Sprintf(`(() => {
		const note = document.getElementById("muted-note");
		const badge = document.getElementById("room-archived");
		const listed = document.querySelector('#joined-rooms li[data-key=%s] .tag-archived');
		const shown = document.getElementById("composer-input").disabled && !note.hidden && note.textContent.includes("is archived") &&
			!badge.hidden && badge.textContent === "archived" && !!listed && !listed.hidden;
		const writable = !document.getElementById("composer-input").disabled && note.hidden && badge.hidden && !!listed && listed.hidden;
		return document.getElementById("room-name").textContent === %s && (%v ? shown : writable);
	})()`, js(room), js(room), archived)
}

// TestBrowserDirectoryEvents: the room list follows the server's directory
// events without polling. A room created in one browser is under Browse in
// another within a second; the owner archives it from the room menu and
// every member's composer closes with a note and an "archived" badge;
// unarchiving opens it again; deleting it (after typing its name) takes it
// from everyone's list, and whoever had it open is told and taken to the
// lobby.
func TestBrowserDirectoryEvents(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	registerAccount(t, n, "alice", "correct horse")
	registerAccount(t, n, "bob", "battery staple")
	alice := newUser(t, browser, "alice")
	bob := newUser(t, browser, "bob")
	alice.signIn(n.url(), "alice", "correct horse")
	bob.signIn(n.url(), "bob", "battery staple")
	bob.wait("lobby", `document.getElementById("room-name").textContent === "lobby"`)
	if got := bob.roomKeys("browse-rooms"); len(got) != 0 {
		t.Fatalf("before any room is created, Browse lists %q, want nothing", got)
	}

	const room = "garden"
	alice.createRoom(room)
	bob.waitWithin(time.Second, "#garden under Browse", `!!document.querySelector('#browse-rooms li[data-key="garden"]')`)
	// Bob leaves the lobby, so that only the deletion can take him back.
	bob.run(chromedp.Click(chromedp.ID("leave-room")), chromedp.Click(chromedp.ID("leave-room")))
	bob.wait("the lobby left", `!document.querySelector('#joined-rooms li[data-key="lobby"]')`)
	bob.joinFromBrowse(room)

	// The room menu is the owner's.
	alice.wait("the room menu", `!document.getElementById("room-menu-btn").hidden`)
	if eval[bool](bob, `!document.getElementById("room-menu-btn").hidden`) {
		t.Errorf("bob, a member of #garden, is offered the room menu; want it for the owner and administrators only")
	}

	// Archive.
	alice.run(
		chromedp.Click(chromedp.ID("room-menu-btn")),
		chromedp.WaitVisible(chromedp.ID("rm-archive")),
		chromedp.Click(chromedp.ID("rm-archive")),
	)
	bob.wait("#garden archived", archivedShown(room, true))
	alice.wait("#garden archived", archivedShown(room, true))
	bob.screenshot("room-archived.png")
	if got := eval[string](bob, `document.getElementById("composer-input").placeholder`); got != "This room is archived" {
		t.Errorf("composer placeholder in an archived room = %q, want %q", got, "This room is archived")
	}

	// Unarchive.
	alice.run(
		chromedp.Click(chromedp.ID("room-menu-btn")),
		chromedp.WaitVisible(chromedp.ID("rm-unarchive")),
		chromedp.Click(chromedp.ID("rm-unarchive")),
	)
	bob.wait("#garden writable again", archivedShown(room, false))
	bob.say("the roses are out")
	alice.wait("bob's message", shows("the roses are out", "[data-seq]"))

	// Delete: the dialog wants the room's name, exactly.
	alice.run(
		chromedp.Click(chromedp.ID("room-menu-btn")),
		chromedp.WaitVisible(chromedp.ID("rm-delete")),
		chromedp.Click(chromedp.ID("rm-delete")),
		chromedp.WaitVisible(chromedp.ID("room-delete-name")),
		chromedp.SendKeys(chromedp.ID("room-delete-name"), "garde"),
	)
	if !eval[bool](alice, `document.getElementById("room-delete-confirm").disabled`) {
		t.Fatalf("Delete is enabled with %q typed; want it only once the room's name is typed", "garde")
	}
	alice.run(chromedp.SendKeys(chromedp.ID("room-delete-name"), "n"))
	alice.wait("Delete enabled", `!document.getElementById("room-delete-confirm").disabled`)
	alice.run(chromedp.Click(chromedp.ID("room-delete-confirm")))

	gone := `!document.querySelector('#joined-rooms li[data-key="garden"]') && !document.querySelector('#browse-rooms li[data-key="garden"]') &&
		document.getElementById("room-name").textContent === "lobby"`
	bob.wait("#garden gone, lobby open", gone+` && `+toastSays("#garden was deleted by alice."))
	alice.wait("#garden gone, lobby open", gone+` && `+toastSays("You deleted #garden."))
	// The name is free again, and a new #garden starts from nothing.
	carol := dialWS(t, n.addr, "carol")
	carol.do(protocol.Command{Op: protocol.OpCreate, Room: room})
	bob.wait("the new #garden under Browse", `!!document.querySelector('#browse-rooms li[data-key="garden"]')`)
	// This browser forgets the old room (and its last seq) for good.
	bob.wait("#garden forgotten by bob's browser", `!(localStorage.getItem("hubbub.v1.account.bob") || "").includes('"garden"')`)
}

// TestBrowserRoomSearch: the search box of Browse asks the server for the
// rooms whose name or topic holds the text, leaves archived rooms out
// unless asked, pages with "More rooms", and follows directory events
// while it is on screen.
func TestBrowserRoomSearch(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	ctx := t.Context()
	mk := func(name, topic string) {
		t.Helper()
		if err := n.store.CreateRoom(ctx, chat.Room{Name: name, Topic: topic, Owner: "zed"}); err != nil {
			t.Fatalf("CreateRoom %s: %v", name, err)
		}
	}
	mk("bookish", "")
	mk("recipes", "Cook Books and more")
	mk("attic", "old books")
	mk("gardening", "")
	if err := n.store.SetArchived(ctx, "attic", true); err != nil {
		t.Fatalf("SetArchived: %v", err)
	}
	// One more room than a page holds.
	for i := range protocol.MaxRoomsPage + 1 {
		mk(fmt.Sprintf("shelf-%03d", i), "")
	}

	u := newUser(t, browser, "dora")
	u.login(n.url(), "dora")
	results := func() []string {
		t.Helper()
		return u.roomKeys("dir-results")
	}
	search := func(text string) {
		t.Helper()
		u.run(clearField("dir-query"), chromedp.SendKeys(chromedp.ID("dir-query"), text))
	}
	const settled = `!document.getElementById("dir-found").hidden && document.getElementById("dir-status").textContent !== "Searching…"`

	search("BOOK")
	u.wait("results for BOOK", settled+` && document.querySelectorAll("#dir-results li").length === 2`)
	if got, want := results(), []string{"bookish", "recipes"}; !slices.Equal(got, want) {
		t.Errorf("search BOOK = %q, want %q (name or topic, any case, no archived room)", got, want)
	}
	if !eval[bool](u, `document.getElementById("browse-all").hidden`) {
		t.Errorf("the directory is shown beside the search results; want only the results")
	}

	u.run(chromedp.Click(chromedp.ID("dir-archived")))
	u.wait("archived rooms too", settled+` && document.querySelectorAll("#dir-results li").length === 3`)
	if got, want := results(), []string{"attic", "bookish", "recipes"}; !slices.Equal(got, want) {
		t.Errorf("search BOOK with archived = %q, want %q", got, want)
	}
	if !eval[bool](u, `!document.querySelector('#dir-results li[data-key="attic"] .tag-archived').hidden && document.querySelector('#dir-results li[data-key="bookish"] .tag-archived').hidden`) {
		t.Errorf("the archived badge is not on attic alone")
	}

	// A room created meanwhile that matches comes in; one that does not, not.
	carol := dialWS(t, n.addr, "carol")
	carol.do(protocol.Command{Op: protocol.OpCreate, Room: "bookworms"})
	carol.do(protocol.Command{Op: protocol.OpCreate, Room: "pottery"})
	u.wait("bookworms among the results", `!!document.querySelector('#dir-results li[data-key="bookworms"]')`)
	if got, want := results(), []string{"attic", "bookish", "bookworms", "recipes"}; !slices.Equal(got, want) {
		t.Errorf("after two rooms were created, results = %q, want %q", got, want)
	}

	// Pages.
	u.run(chromedp.Click(chromedp.ID("dir-archived")))
	search("shelf")
	u.wait("the first page", settled+` && document.querySelectorAll("#dir-results li").length === `+fmt.Sprint(protocol.MaxRoomsPage)+
		` && !document.getElementById("dir-more").hidden`)
	u.run(chromedp.Click(chromedp.ID("dir-more")))
	u.wait("the second page", settled+` && document.querySelectorAll("#dir-results li").length === `+fmt.Sprint(protocol.MaxRoomsPage+1)+
		` && document.getElementById("dir-more").hidden`)

	// A result opens its room; an empty box shows the directory again.
	search("recipes")
	u.wait("recipes alone", settled+` && document.querySelectorAll("#dir-results li").length === 1`)
	u.run(chromedp.Click(chromedp.CSS(`#dir-results li[data-key="recipes"] button`)))
	u.wait("#recipes open", `document.getElementById("room-name").textContent === "recipes"`)
	search("zzz-nothing")
	u.wait("no results", settled+` && document.getElementById("dir-status").textContent.includes("zzz-nothing")`)
	u.run(chromedp.SendKeys(chromedp.ID("dir-query"), kb.Escape))
	u.wait("the directory again", `document.getElementById("dir-found").hidden && !document.getElementById("browse-all").hidden`)
}

// TestBrowserSendRefusedArchived: when a room is archived and its
// directory event never reaches the browser (lost between nodes), the send
// is refused with the server's reason, shown on the message, and the
// composer closes as for an archived room.
func TestBrowserSendRefusedArchived(t *testing.T) {
	browser := newBrowser(t)
	n := startNodeWith(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false, func(c *server.Config) {
		c.ModerationCheck = time.Millisecond // the server reads the room's row fresh
	})
	carol := dialWS(t, n.addr, "carol")
	carol.do(protocol.Command{Op: protocol.OpCreate, Room: "garden"})
	u := newUser(t, browser, "bob")
	u.login(n.url(), "bob")
	u.joinFromBrowse("garden")
	u.wait("#garden writable", archivedShown("garden", false))

	// Archived in the store alone: no directory event.
	if err := n.store.SetArchived(t.Context(), "garden", true); err != nil {
		t.Fatalf("SetArchived: %v", err)
	}
	u.say("is anyone here?")
	u.wait("the refusal on the message", `[...document.querySelectorAll("#message-host li.msg .status-text")].some(s => s.textContent.includes("archived"))`)
	u.wait("#garden shown archived", archivedShown("garden", true))
}
