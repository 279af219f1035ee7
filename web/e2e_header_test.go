package web_test

import (
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestBrowserPhoneHeader: on a phone (390×844) a long room name and topic
// are cut to fit, and a tap on them shows them whole; Leave asks once more
// before leaving; and with no room left open the header names no room.
func TestBrowserPhoneHeader(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	const room = "release-planning-2027"
	const topic = "Where we agree what ships in the spring release, who tests it, and when the freeze starts"
	carol := dialWS(t, n.addr, "carol")
	carol.do(protocol.Command{Op: protocol.OpCreate, Room: room, Topic: topic})

	u := newUser(t, browser, "alice")
	u.run(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	u.login(n.url(), "alice")
	eval[chromedp.Void](u, `document.getElementById("open-drawer").click()`)
	u.wait("the room under Browse", `!!document.querySelector('#browse-rooms li[data-key=`+js(room)+`] button')`)
	// A click by script: the drawer may still be sliding in.
	eval[chromedp.Void](u, `document.querySelector('#browse-rooms li[data-key=`+js(room)+`] button').click()`)
	u.wait("the room to open", `document.getElementById("room-name").textContent === `+js(room))
	u.waitConnected()

	// cut reports whether an element's text is wider than its box.
	const cut = `(id) => { const e = document.getElementById(id); return e.scrollWidth > e.clientWidth; }`
	type cuts struct{ Name, Topic bool }
	got := eval[cuts](u, `(() => { const cut = `+cut+`; return {Name: cut("room-title"), Topic: cut("room-topic")}; })()`)
	if !got.Name || !got.Topic {
		t.Fatalf("before the tap, name cut %v and topic cut %v; want both cut at 390 px (the test needs them long)", got.Name, got.Topic)
	}
	u.run(chromedp.Click(chromedp.ID("chat-title")))
	u.wait("the whole name and topic", `(() => { const cut = `+cut+`; return !cut("room-title") && !cut("room-topic") &&
		document.getElementById("chat-title").getAttribute("aria-expanded") === "true"; })()`)
	type box struct{ Top, Bottom, HeadBottom float64 }
	b := eval[box](u, `(() => { const r = document.getElementById("room-topic").getBoundingClientRect();
		return {Top: r.top, Bottom: r.bottom, HeadBottom: document.querySelector(".chat-head").getBoundingClientRect().bottom}; })()`)
	if b.Bottom > b.HeadBottom {
		t.Errorf("the expanded topic ends at %v, below the header's bottom %v", b.Bottom, b.HeadBottom)
	}
	u.screenshot("phone-header-expanded.png")
	u.run(chromedp.Click(chromedp.ID("chat-title")))
	u.wait("the title folded again", `document.getElementById("chat-title").getAttribute("aria-expanded") === "false"`)

	// Leave: the first tap only asks.
	u.run(chromedp.Click(chromedp.ID("leave-room")))
	u.wait("Leave to ask", `document.getElementById("leave-room").textContent === "Really leave?"`)
	if got := eval[string](u, `document.getElementById("room-name").textContent`); got != room {
		t.Fatalf("after one tap on Leave the room shown is %q, want %q still", got, room)
	}
	u.run(chromedp.Click(chromedp.ID("leave-room")))
	u.wait("the room to be left", `!document.querySelector('#joined-rooms li[data-key=`+js(room)+`]')`)

	// Leave the last room: the header names no room, not "# hubbub".
	u.wait("lobby to be shown", `document.getElementById("room-name").textContent === "lobby"`)
	u.run(chromedp.Click(chromedp.ID("leave-room")))
	u.wait("Leave to ask", `document.getElementById("leave-room").textContent === "Really leave?"`)
	u.run(chromedp.Click(chromedp.ID("leave-room")))
	u.wait("no room open", `document.getElementById("room-name").textContent === "No room open" && document.getElementById("room-icon").hidden`)
	if got := eval[string](u, `document.getElementById("room-title").textContent`); got != "No room open" {
		t.Errorf("header with no room = %q, want %q", got, "No room open")
	}
}

// TestBrowserWideHeaderExpanded: on a desktop, with the people list open
// and a long topic, the unfolded title shows the room's name on its own
// line(s), not broken letter by letter beside a topic that took the
// width (both may break anywhere once unfolded, and side by side the
// name got a column one letter wide).
func TestBrowserWideHeaderExpanded(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	const room = "vault-keepers-long-archive"
	const topic = "Where we decide which of the old threads are worth keeping, who reads them first, and which we let go; bring your lists, your doubts and your tea, and read the pinned notes before you ask"
	carol := dialWS(t, n.addr, "carol")
	carol.do(protocol.Command{Op: protocol.OpCreate, Room: room, Topic: topic})

	u := newUser(t, browser, "alice")
	u.run(chromedp.EmulateViewport(1280, 800))
	u.login(n.url(), "alice")
	u.wait("the room under Browse", `!!document.querySelector('#browse-rooms li[data-key=`+js(room)+`] button')`)
	eval[chromedp.Void](u, `document.querySelector('#browse-rooms li[data-key=`+js(room)+`] button').click()`)
	u.wait("the room to open", `document.getElementById("room-name").textContent === `+js(room))
	u.waitConnected()
	// On a window this wide the people list is open from the start, and
	// its button says so.
	u.wait("the people list open", `getComputedStyle(document.getElementById("members")).display !== "none" &&
		document.getElementById("toggle-members").getAttribute("aria-expanded") === "true"`)
	u.run(chromedp.Click(chromedp.ID("chat-title")))
	u.wait("the title unfolded", `document.getElementById("chat-title").getAttribute("aria-expanded") === "true"`)
	type box struct{ NameWidth, NameHeight, LineHeight, TopicTop, NameBottom float64 }
	b := eval[box](u, `(() => {
		const n = document.getElementById("room-name").getBoundingClientRect(), h = document.getElementById("room-title");
		const line = parseFloat(getComputedStyle(h).fontSize) * 1.6;
		return {NameWidth: n.width, NameHeight: h.getBoundingClientRect().height, LineHeight: line,
			TopicTop: document.getElementById("room-topic").getBoundingClientRect().top, NameBottom: h.getBoundingClientRect().bottom};
	})()`)
	u.screenshot("wide-header-expanded.png")
	if b.NameHeight > 2*b.LineHeight || b.NameWidth < 150 {
		t.Errorf("the unfolded name is %.0f px wide and %.0f px high (a line is about %.0f px): broken letter by letter", b.NameWidth, b.NameHeight, b.LineHeight)
	}
	if b.TopicTop < b.NameBottom-1 {
		t.Errorf("the unfolded topic starts at %.0f px, beside the name (which ends at %.0f px), not under it", b.TopicTop, b.NameBottom)
	}
}
