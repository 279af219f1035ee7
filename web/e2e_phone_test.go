package web_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserMentionOfMeInline: a mention of the reader is marked inside
// the line it is written in. Its class once matched the sidebar footer's
// (.me, a flex box with padding and a border), which made "@alice" a bar
// as wide as the message with the rest of the text pushed under it.
func TestBrowserMentionOfMeInline(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	alice := newUser(t, browser, "alice")
	alice.login(n.url(), "alice")
	bob := dialWS(t, n.addr, "bob")
	bob.join("lobby")
	bob.say("lobby", "@alice are you there?")
	alice.wait("the mention", shows("@alice are you there?", ".mentions-me"))
	got := eval[map[string]any](alice, `(() => {
		const li = [...document.querySelectorAll("#message-host li.msg")].pop();
		const m = li.querySelector(".body .mention"), p = m.closest("p");
		const r = m.getBoundingClientRect(), pr = p.getBoundingClientRect();
		const cs = getComputedStyle(m);
		return {display: cs.display, borderTop: cs.borderTopWidth, oneLine: pr.height < 2 * r.height, narrow: r.width < pr.width / 2};
	})()`)
	want := map[string]any{"display": "inline", "borderTop": "0px", "oneLine": true, "narrow": true}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("the mention of alice: %s = %v, want %v", k, got[k], v)
		}
	}
}

// TestBrowserPhoneHeaderFits: on a phone (390×844), or a tablet held
// upright, the header keeps every control on the screen and some of the
// room's name, however many buttons the user has. The owner of a room gets Manage and the room menu besides
// the people chip, the notification button and Leave; in one row these
// were wider than the screen, so the room's name shrank to nothing and
// Leave and the room menu (Archive, Delete) were pushed off the right edge.
func TestBrowserPhoneHeaderFits(t *testing.T) {
	b := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	registerAccount(t, n, "alice", "correct horse battery")
	alice := newUser(t, b, "alice")
	// Notifications granted: the button reads "Notifications on", its
	// longest label.
	grantNotifications(t, alice, n)
	alice.run(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	alice.signIn(n.url(), "alice", "correct horse battery")
	const fits = `(() => {
		const w = document.documentElement.clientWidth;
		const out = [...document.querySelectorAll(".chat-head button, .chat-head [role=button]")].filter(e => e.offsetParent !== null)
			.filter(e => { const r = e.getBoundingClientRect(); return r.left < 0 || r.right > w || r.width < 24; }).map(e => e.id);
		return {Out: out, Name: document.getElementById("room-title").getBoundingClientRect().width};
	})()`
	type fit struct {
		Out  []string
		Name float64
	}
	check := func(what string) {
		t.Helper()
		got := eval[fit](alice, fits)
		if len(got.Out) > 0 {
			t.Errorf("%s: header controls off the screen or squeezed: %v", what, got.Out)
		}
		if got.Name < 60 {
			t.Errorf("%s: the room's name is %.0f px wide, want at least 60", what, got.Name)
		}
	}
	alice.wait("the notification button", `document.getElementById("notify-room").textContent === "Notifications on"`)
	check("a member of #lobby")

	eval[chromedp.Void](alice, `document.getElementById("open-drawer").click()`)
	alice.wait("the drawer", `document.getElementById("sidebar").classList.contains("open")`)
	eval[chromedp.Void](alice, `document.getElementById("open-create").click()`)
	alice.run(
		chromedp.WaitVisible(chromedp.ID("create-name")),
		chromedp.SendKeys(chromedp.ID("create-name"), "my-room"),
		chromedp.Click(chromedp.CSS(`#create-form button[type=submit]`)),
	)
	alice.wait("the owner's buttons", `document.getElementById("room-name").textContent === "my-room" &&
		!document.getElementById("manage-room").hidden && !document.getElementById("room-menu-btn").hidden`)
	check("the owner of #my-room")
	if got := eval[string](alice, `document.getElementById("toggle-members").textContent.trim()`); got != "1 person here" {
		t.Errorf("the people button reads %q, want %q", got, "1 person here")
	}
	alice.screenshot("phone-header-owner.png")

	// The room menu opens with a tap, and Leave asks.
	alice.run(chromedp.Click(chromedp.ID("room-menu-btn")))
	alice.wait("the room menu", `!document.getElementById("room-menu").hidden`)
	alice.run(chromedp.KeyEvent("\x1b"))
	alice.run(chromedp.Click(chromedp.ID("leave-room")))
	alice.wait("Leave to ask", `document.getElementById("leave-room").textContent === "Really leave?"`)
	check("Leave asking")

	// A tablet held upright: the sidebar is back, and the header has what
	// is left of 768 px.
	alice.run(chromedp.EmulateViewport(768, 1024))
	alice.wait("the sidebar", `getComputedStyle(document.getElementById("open-drawer")).display === "none"`)
	check("the owner of #my-room at 768 px")
}

// TestBrowserDrawerHoldsFocus: on a phone the room list is a drawer over
// the chat, behind a backdrop. While it is open, Tab goes round the
// drawer's controls rather than on to the chat's under the backdrop
// (where a keyboard user could type into a composer they cannot see
// clearly, with the drawer still covering it); closing it gives the chat
// back, as does the window growing wide enough for a sidebar.
func TestBrowserDrawerHoldsFocus(t *testing.T) {
	b := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	alice := newUser(t, b, "alice")
	alice.run(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	alice.login(n.url(), "alice")
	const where = `(() => { const e = document.activeElement; return (document.getElementById("sidebar").contains(e) ? "drawer " : "outside ") + e.tagName + "#" + e.id; })()`

	alice.run(chromedp.Focus(chromedp.ID("open-drawer")), chromedp.KeyEvent("\r"))
	alice.wait("the drawer", `document.getElementById("sidebar").classList.contains("open")`)
	for i := 0; i < 12; i++ {
		alice.run(chromedp.KeyEvent("\t"))
		if got := eval[string](alice, where); !strings.HasPrefix(got, "drawer ") {
			t.Fatalf("Tab %d with the drawer open: focus on %s, want in the drawer", i+1, got)
		}
	}
	alice.run(chromedp.KeyEvent("\x1b"))
	alice.wait("the drawer to close", `!document.getElementById("sidebar").classList.contains("open")`)
	if got := eval[string](alice, where); got != "outside BUTTON#open-drawer" {
		t.Errorf("after Escape focus is on %s, want the button that opened the drawer", got)
	}
	alice.run(chromedp.KeyEvent("\t"))
	if got := eval[string](alice, where); got != "outside DIV#chat-title" {
		t.Errorf("Tab after the drawer closed: focus on %s, want the room's title", got)
	}

	// Choosing a room closes the drawer and the composer takes keys again.
	alice.run(chromedp.Focus(chromedp.ID("open-drawer")), chromedp.KeyEvent("\r"))
	alice.wait("the drawer", `document.getElementById("sidebar").classList.contains("open")`)
	alice.run(chromedp.KeyEvent("\r")) // on the open room, which has the focus
	alice.wait("the drawer to close", `!document.getElementById("sidebar").classList.contains("open")`)
	alice.say("typed after the drawer")
	alice.wait("the message", shows("typed after the drawer", `[data-state="sent"]`))

	// Open, then the window grows to a desktop's: the chat is usable.
	alice.run(chromedp.Focus(chromedp.ID("open-drawer")), chromedp.KeyEvent("\r"))
	alice.wait("the drawer", `document.getElementById("sidebar").classList.contains("open")`)
	alice.run(chromedp.EmulateViewport(1280, 800))
	alice.wait("the chat to be usable", `!document.getElementById("chat").inert && !document.getElementById("chat").closest("[inert]")`)
	alice.say("typed on a wide screen")
	alice.wait("the message", shows("typed on a wide screen", `[data-state="sent"]`))
}

// TestBrowserPhoneSearchShowsResults: on a phone the search box is in the
// drawer, and the results in the chat under it. A search closes the drawer
// so that its results are seen (they were left behind the drawer and its
// backdrop, the user seeing nothing happen), and takes the focus to them.
func TestBrowserPhoneSearchShowsResults(t *testing.T) {
	b := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	bob := dialWS(t, n.addr, "bob")
	bob.join("lobby")
	bob.say("lobby", "the vault code is 1234")
	alice := newUser(t, b, "alice")
	alice.run(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	alice.login(n.url(), "alice")
	alice.run(chromedp.Focus(chromedp.ID("open-drawer")), chromedp.KeyEvent("\r"))
	alice.wait("the drawer", `document.getElementById("sidebar").classList.contains("open")`)
	alice.run(
		chromedp.Focus(chromedp.ID("search-input")),
		chromedp.SendKeys(chromedp.ID("search-input"), "vault"),
		chromedp.KeyEvent("\r"),
	)
	alice.wait("the result", `!!document.querySelector("#search-results .search-hit")`)
	// The result is what a tap at its middle reaches: not under the drawer.
	alice.wait("the result on top", `(() => {
		const hit = document.querySelector("#search-results .search-hit"), r = hit.getBoundingClientRect();
		return hit.contains(document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2));
	})()`)
	if got := eval[string](alice, `document.getElementById("search-panel").contains(document.activeElement) ? "results" : document.activeElement.id`); got != "results" {
		t.Errorf("focus after the search on %q, want the results", got)
	}
	alice.run(chromedp.KeyEvent("\x1b"))
	alice.wait("the results to close", `document.getElementById("search-panel").hidden`)
	if got := eval[string](alice, `document.activeElement.id`); got != "open-drawer" {
		t.Errorf("focus after Escape on %q, want open-drawer (the search box is in the closed drawer)", got)
	}
}

// TestBrowserLongPasteKept: text pasted into the composer beyond the
// message limit is kept, for the user to cut down, rather than silently
// cut at 4096 characters (the textarea's maxlength did that, and Enter
// then sent the first part as if it were all). The count shows how far
// over it is, Enter says why it does not send, and once short enough it
// goes.
func TestBrowserLongPasteKept(t *testing.T) {
	b := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	alice := newUser(t, b, "alice")
	alice.login(n.url(), "alice")
	log := strings.Repeat("0123456789abcdef\n", 300) + "THE END" // 5107 bytes
	paste := func(s string) {
		t.Helper()
		eval[chromedp.Void](alice, `(() => { const i = document.getElementById("composer-input"); i.focus(); i.select(); document.execCommand("insertText", false, `+js(s)+`); })()`)
	}
	paste(log)
	if got := eval[int](alice, `document.getElementById("composer-input").value.length`); got != len(log) {
		t.Fatalf("after pasting %d characters the composer holds %d", len(log), got)
	}
	if got := eval[string](alice, `document.getElementById("composer-count").textContent + (document.getElementById("composer-count").classList.contains("over") ? " over" : "")`); got != " · 5107/4096 over" {
		t.Errorf("count = %q, want %q", got, " · 5107/4096 over")
	}
	alice.run(chromedp.Focus(chromedp.ID("composer-input")), pressEnter)
	alice.wait("the toast", toastSays("at most 4096 bytes"))
	if got := eval[int](alice, `document.querySelectorAll("#message-host li.msg").length`); got != 0 {
		t.Errorf("%d messages sent, want none", got)
	}
	if got := eval[int](alice, `document.getElementById("composer-input").value.length`); got != len(log) {
		t.Errorf("after Enter the composer holds %d characters, want %d", got, len(log))
	}

	short := log[len(log)-4000:]
	paste(short)
	alice.run(chromedp.Focus(chromedp.ID("composer-input")), pressEnter)
	alice.wait("the message", `[...document.querySelectorAll('#message-host li.msg[data-state="sent"] .body')].some(b => b.textContent.endsWith("THE END"))`)
}
