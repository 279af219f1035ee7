package web_test

// End-to-end tests of the browser client: real headless Chromium against the
// real server (SQLite store, in-process broker). They skip when no Chromium
// is installed.

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/protocol"
	"github.com/hubbub-chat/hubbub/web"
)

const xssImg = `<img src=x onerror=window.__xss=1>`
const xssScript = `<script>window.__xss=1</script>`

// TestBrowserChat: two people in two isolated browser contexts chat both
// ways, see each other's presence and typing, a reload shows the history,
// hostile names and bodies stay text, and links are safe.
func TestBrowserChat(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)

	// Some conversation before anyone opens a browser.
	carol := dialWS(t, n.addr, "carol")
	dave := dialWS(t, n.addr, "dave")
	carol.join("lobby")
	dave.join("lobby")
	carol.say("lobby", "Morning all! Who is trying the new build of hubbub today?")
	dave.say("lobby", "Me. One binary and a SQLite file, and it just runs.")
	dave.say("lobby", "I killed the server twice on purpose: the client reconnected and caught up by itself, no duplicates.")
	carol.say("lobby", "The wire protocol is written up here: https://github.com/hubbub-chat/hubbub/blob/main/docs/protocol.md")

	alice := newUser(t, browser, "alice")
	alice.run(chromedp.EmulateViewport(1280, 800))
	bob := newUser(t, browser, "bob")

	t.Run("chat both ways", func(t *testing.T) {
		alice.login(n.url(), "alice")
		// A new user is put in the lobby and sees what was said before.
		alice.wait("the lobby history", shows("Me. One binary and a SQLite file, and it just runs.", ""))
		bob.login(n.url(), "bob")
		alice.wait("bob in the member list", `[...document.querySelectorAll("#member-list .member-name")].some(e => e.textContent === "bob")`)
		// Guests have no direct messages, and nothing to do with a name.
		if eval[bool](alice, `!document.getElementById("dm-section").hidden || !!document.querySelector("#member-list .member-btn")`) {
			t.Error("a guest is offered direct messages")
		}

		alice.say("Hi everyone, alice here.")
		alice.wait("alice's message to be sent", shows("Hi everyone, alice here.", `.mine[data-state="sent"]`))
		bob.wait("alice's message", shows("Hi everyone, alice here.", ""))

		bob.say("Hey alice! Welcome to the lobby.")
		bob.wait("bob's message to be sent", shows("Hey alice! Welcome to the lobby.", `.mine[data-state="sent"]`))
		alice.wait("bob's message", shows("Hey alice! Welcome to the lobby.", ""))
		m := carol.waitMessage("Hey alice! Welcome to the lobby.")
		if m.From != "bob" || !m.Guest {
			t.Errorf("carol got %+v, want a message from guest bob", m)
		}

		// Shift+Enter is a new line, not a send.
		shiftEnter := chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierShift))
		alice.run(
			chromedp.Focus(chromedp.ID("composer-input")),
			chromedp.SendKeys(chromedp.ID("composer-input"), "Two things I like so far:"),
			shiftEnter,
			chromedp.SendKeys(chromedp.ID("composer-input"), "- the reconnect is invisible"),
			shiftEnter,
			chromedp.SendKeys(chromedp.ID("composer-input"), "- dark mode"),
			pressEnter,
		)
		const multi = "Two things I like so far:\n- the reconnect is invisible\n- dark mode"
		alice.wait("a three-line message", shows(multi, `[data-state="sent"]`))
		bob.wait("the three-line message", shows(multi, ""))

		// Typing: bob types without sending; alice sees it.
		bob.run(chromedp.SendKeys(chromedp.ID("composer-input"), "I am writing a long"))
		alice.wait("bob is typing", `document.getElementById("typing").textContent === "bob is typing…"`)

		// Both see every message once, in seq order, with no gaps.
		for _, u := range []*user{alice, bob} {
			seqs := u.seqs()
			for i, s := range seqs {
				if s != int64(i+1) {
					t.Fatalf("%s shows seqs %v, want 1..%d", u.name, seqs, len(seqs))
				}
			}
		}
	})

	t.Run("rooms and unread counts", func(t *testing.T) {
		// bob creates a room (upper case is lowered as typed) and is in it.
		bob.run(
			chromedp.Click(chromedp.ID("open-create")),
			chromedp.WaitVisible(chromedp.ID("create-name")),
			chromedp.SendKeys(chromedp.ID("create-name"), "Design"),
			chromedp.SendKeys(chromedp.ID("create-topic"), "Colours, pixels and the new client"),
			chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
		)
		bob.wait("#design to open", `document.getElementById("room-name").textContent === "design"`)
		// A taken name is refused with the server's reason.
		bob.run(
			chromedp.Click(chromedp.ID("open-create")),
			chromedp.SendKeys(chromedp.ID("create-name"), "lobby"),
			chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
		)
		bob.wait("the refusal", `document.getElementById("create-error").textContent.includes("exists")`)
		bob.run(chromedp.Click(chromedp.ID("create-cancel")))

		// alice finds it under Browse and joins it, then goes back.
		eval[chromedp.Void](alice, `document.getElementById("open-drawer").click()`) // refreshes the list; a no-op on wide screens
		alice.wait("#design in Browse", `!!document.querySelector('#browse-rooms li[data-key="design"] button')`)
		alice.run(chromedp.Click(chromedp.CSS(`#browse-rooms li[data-key="design"] button`)))
		alice.wait("#design to open", `document.getElementById("room-name").textContent === "design"`)
		alice.wait("the topic", `document.getElementById("room-topic").textContent === "Colours, pixels and the new client"`)
		alice.openRoom("lobby")

		carol.join("design")
		carol.say("design", "Dark mode follows the system setting now.")
		carol.say("design", "And the room list turns into a drawer on phones.")
		alice.wait("2 unread in #design", `document.querySelector('#joined-rooms li[data-key="design"] .badge').textContent === "2"`)
		bob.wait("carol in #design", shows("And the room list turns into a drawer on phones.", ""))

		// A lively lobby.
		dave.say("lobby", "Welcome, both of you. Try leaving and rejoining a room, presence follows.")
		alice.wait("dave's welcome", shows("Welcome, both of you. Try leaving and rejoining a room, presence follows.", ""))
		bob.openRoom("lobby")
		bob.run(chromedp.SendKeys(chromedp.ID("composer-input"), "Looks great"))
		alice.wait("bob is typing", `document.getElementById("typing").textContent === "bob is typing…"`)
		alice.screenshot("chat.png") // the README's picture is TestBrowserDirectMessages's
		alice.darkScreenshot("chat-dark.png")

		// Opening the room clears its count.
		alice.openRoom("design")
		alice.wait("#design to be read", `document.querySelector('#joined-rooms li[data-key="design"] .badge').textContent === ""`)
		alice.openRoom("lobby")
	})

	t.Run("reload shows history", func(t *testing.T) {
		before := bob.bodies()
		bob.run(chromedp.Reload())
		// The name and rooms were remembered: straight back into the chat.
		bob.waitConnected()
		bob.openRoom("lobby")
		bob.wait("the history", shows("Hi everyone, alice here.", ""))
		bob.wait("the history", shows("Welcome, both of you. Try leaving and rejoining a room, presence follows.", ""))
		if got := bob.bodies(); !slices.Equal(got, before) {
			t.Errorf("after reload bob sees\n%q\nwant\n%q", got, before)
		}
		rooms := eval[[]string](bob, `[...document.querySelectorAll("#joined-rooms li")].map(li => li.dataset.key)`)
		if !slices.Equal(rooms, []string{"lobby", "design"}) {
			t.Errorf("after reload bob is in %q, want [lobby design]", rooms)
		}
	})

	t.Run("hostile text stays text", func(t *testing.T) {
		// A guest whose name is markup, writing markup.
		name := `<img src=x onerror=__xss=1>`
		if err := protocol.CheckDisplayName(name); err != nil {
			t.Fatalf("test name is not a valid display name: %v", err)
		}
		mallory := newUser(t, browser, "mallory")
		mallory.login(n.url(), name)
		mallory.say(xssImg)
		mallory.say(xssScript)
		mallory.say("see https://example.com/a_(b), and javascript:alert(1) too")
		for _, u := range []*user{alice, mallory} {
			u.wait("the img body as text", shows(xssImg, ""))
			u.wait("the script body as text", shows(xssScript, ""))
			u.wait("mallory's name as text", `[...document.querySelectorAll("#message-host .author")].some(a => a.textContent === `+js(name)+`)`)
			u.wait("the link message", shows("see https://example.com/a_(b), and javascript:alert(1) too", ""))
			type page struct {
				XSS    bool     `json:"xss"`
				Imgs   int      `json:"imgs"`
				Links  []string `json:"links"`
				Rel    string   `json:"rel"`
				Target string   `json:"target"`
				CSP    []string `json:"csp"`
			}
			got := eval[page](u, `(() => {
				const bodies = [...document.querySelectorAll("#message-host .body")];
				const a = bodies.flatMap(b => [...b.querySelectorAll("a")]);
				return {
					xss: window.__xss !== undefined,
					imgs: document.querySelectorAll("#message-host img, #member-list img, #me-name img").length,
					links: a.map(x => x.href),
					rel: a.length ? a[a.length-1].rel : "",
					target: a.length ? a[a.length-1].target : "",
					csp: window.__csp,
				};
			})()`)
			if got.XSS {
				t.Errorf("%s: window.__xss is set: markup from the network ran", u.name)
			}
			if got.Imgs != 0 {
				t.Errorf("%s: %d img elements in messages or names", u.name, got.Imgs)
			}
			wantLinks := []string{
				"https://github.com/hubbub-chat/hubbub/blob/main/docs/protocol.md",
				"https://example.com/a_(b)",
			}
			if !slices.Equal(got.Links, wantLinks) {
				t.Errorf("%s: links %q, want %q", u.name, got.Links, wantLinks)
			}
			if got.Rel != "noopener noreferrer nofollow" || got.Target != "_blank" {
				t.Errorf("%s: link rel=%q target=%q", u.name, got.Rel, got.Target)
			}
			if len(got.CSP) != 0 {
				t.Errorf("%s: CSP violations: %q", u.name, got.CSP)
			}
		}
	})
}

// TestBrowserSurvivesRestart: the server restarts under a connected
// browser. While it is away a message is sent by another client and the
// browser's user writes one; afterwards the browser shows both exactly
// once, and its own message is stored exactly once.
// dotIsOK is a JavaScript predicate: the first member's presence dot has
// the colour of "online" (--ok).
const dotIsOK = `(() => {
	const a = document.querySelector("#member-list li .avatar");
	const probe = document.createElement("span");
	probe.style.color = getComputedStyle(document.documentElement).getPropertyValue("--ok");
	document.body.append(probe);
	const ok = getComputedStyle(probe).color;
	probe.remove();
	return !!a && getComputedStyle(a, "::after").backgroundColor === ok;
})()`

func TestBrowserSurvivesRestart(t *testing.T) {
	browser := newBrowser(t)
	db := filepath.Join(t.TempDir(), "hubbub.db")
	n1 := startNode(t, "127.0.0.1:0", db, false)
	addr := n1.addr

	alice := newUser(t, browser, "alice")
	alice.login(n1.url(), "alice")
	carol := dialWS(t, addr, "carol")
	carol.join("lobby")
	carol.say("lobby", "before the restart")
	alice.wait("carol's first message", shows("before the restart", ""))

	// Restart. The new node refuses the browser until carol has spoken,
	// so the browser must catch up from history, not from live events.
	n1.stop()
	alice.wait("the client to notice", `["waiting", "connecting"].includes(document.getElementById("conn").dataset.state)`)
	alice.wait("the banner", `!document.getElementById("banner").hidden`)
	// The banner says why in sentences of its own, and after a close with
	// 1001 it is the server restarting, also while the dials fail.
	restarting := `/^The server is restarting\. Reconnecting(…| in \d+s\.)$/.test(document.getElementById("banner").textContent)`
	alice.wait("the restart banner", restarting)
	alice.wait("a failed dial", `document.getElementById("conn").dataset.state === "waiting" && /cannot be reached/.test(document.getElementById("conn").title)`)
	if !eval[bool](alice, restarting) {
		t.Errorf("banner while the server is down = %q, want it to say the server is restarting", eval[string](alice, `document.getElementById("banner").textContent`))
	}
	// Nobody is shown as here while alice herself is not connected.
	if got := eval[string](alice, `document.getElementById("members-title").textContent`); got != "Here when last connected" {
		t.Errorf("members title while disconnected = %q, want %q", got, "Here when last connected")
	}
	if eval[bool](alice, dotIsOK) {
		t.Error("members are shown online (green) while the client is disconnected")
	}
	n2 := startNode(t, addr, db, true)

	alice.say("written while the server was away")
	alice.wait("the unsent message to be marked", shows("written while the server was away", `[data-state="failed"]`))

	carol2 := dialWS(t, addr, "carol")
	carol2.join("lobby")
	missed := carol2.say("lobby", "sent while you were away")

	n2.closedToBrowsers.Store(false)
	// Skip the rest of the backoff wait, as a user would with "Retry now".
	eval[chromedp.Void](alice, `document.getElementById("conn-retry").click()`)
	alice.waitConnected()
	alice.wait("members online again", dotIsOK+` && document.getElementById("members-title").textContent === "Here now"`)
	alice.wait("the missed message", shows("sent while you were away", ""))
	alice.wait("the resent message", shows("written while the server was away", `[data-state="sent"]`))
	carol2.waitMessage("written while the server was away")

	carol2.say("lobby", "live after the restart")
	alice.wait("a live message after the restart", shows("live after the restart", ""))

	// Every message once, in order, no gaps; and the store agrees.
	hist := carol2.do(protocol.Command{Op: protocol.OpHistory, Room: "lobby", After: new(int64), Limit: 100})
	var want []string
	for i, m := range hist.Messages {
		if m.Seq != int64(i+1) {
			t.Fatalf("store history seqs are not 1..n: %+v", hist.Messages)
		}
		want = append(want, m.Body)
	}
	if len(want) != 4 {
		t.Errorf("store holds %d messages %q, want 4 (the resend must not be stored twice)", len(want), want)
	}
	if got := alice.bodies(); !slices.Equal(got, want) {
		t.Errorf("alice sees\n%q\nwant\n%q", got, want)
	}
	if seqs := alice.seqs(); len(seqs) != len(want) || seqs[len(seqs)-1] != int64(len(want)) {
		t.Errorf("alice shows seqs %v", seqs)
	}
	if missed.Seq != 2 {
		t.Errorf("missed message has seq %d, want 2", missed.Seq)
	}
}

// TestBrowserHonoursRetryAfter: a node past its handshake budget upgrades
// a browser's socket and closes it with 1013 "retry after Ns" (a browser
// cannot read a refused handshake's Retry-After); the page then waits about
// that long, not its own short backoff.
func TestBrowserHonoursRetryAfter(t *testing.T) {
	browser := newBrowser(t)
	n := startNodeWith(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false, func(c *server.Config) {
		c.NodeHandshakeRate, c.NodeHandshakeBurst = 0.01, 1 // one handshake, then one per 100 s
	})
	dialWS(t, n.addr, "carol") // takes the only handshake of the budget

	alice := newUser(t, browser, "alice")
	alice.run(
		chromedp.Navigate(n.url()),
		chromedp.WaitVisible(chromedp.ID("guest-name")),
		chromedp.SendKeys(chromedp.ID("guest-name"), "alice"),
		chromedp.Click(chromedp.CSS(`#guest-form button[type="submit"]`)),
	)
	alice.wait("the refusal", `document.getElementById("conn").dataset.state === "waiting"`)
	got := strings.Join(strings.Fields(eval[string](alice, `document.getElementById("conn").textContent`)), " ")
	var secs int
	if _, err := fmt.Sscanf(got, "Reconnecting in %ds", &secs); err != nil || secs < 90 || secs > 102 {
		t.Errorf("connection state says %q, want \"Reconnecting in Ns\" with N about 100 (the server's wait)", got)
	}

	// The page coming back to the front (focus, pageshow) skips a backoff
	// of the page's own, but not the server's wait: the state stays
	// "waiting" (an attempt would make it "connecting" at once).
	for _, ev := range []string{"focus", "pageshow", "online"} {
		if state := eval[string](alice, `window.dispatchEvent(new Event("`+ev+`")), document.getElementById("conn").dataset.state`); state != "waiting" {
			t.Errorf("after a %q event the connection is %q, want still waiting out the server's wait", ev, state)
		}
	}
}

// TestBrowserPhoneWidth: at 375 px the page does not scroll sideways, even
// with a long unbroken word, and the room list is a drawer.
func TestBrowserPhoneWidth(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	carol := dialWS(t, n.addr, "carol")
	carol.join("lobby")
	carol.say("lobby", "Phones get the whole width for the conversation; the rooms live in a drawer.")
	carol.say("lobby", "A very long word must wrap: "+strings.Repeat("supercalifragilistic", 12))
	carol.say("lobby", "And long links too: https://example.com/"+strings.Repeat("path/", 30))

	u := newUser(t, browser, "alice")
	u.run(chromedp.EmulateViewport(375, 800, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	u.login(n.url(), "alice")
	u.wait("the messages", shows("Phones get the whole width for the conversation; the rooms live in a drawer.", ""))
	u.say("Looks good on my phone.")
	u.wait("the message to be sent", shows("Looks good on my phone.", `[data-state="sent"]`))

	noSideScroll := func(when string) {
		t.Helper()
		type widths struct {
			Scroll int `json:"scroll"`
			Client int `json:"client"`
			Body   int `json:"body"`
		}
		w := eval[widths](u, `({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth, body: document.body.scrollWidth})`)
		if w.Scroll > w.Client || w.Body > w.Client {
			t.Errorf("%s: scrollWidth %d (body %d) > clientWidth %d: the page scrolls sideways", when, w.Scroll, w.Body, w.Client)
		}
	}
	noSideScroll("chat")
	sidebarVisible := eval[bool](u, `getComputedStyle(document.getElementById("sidebar")).visibility === "visible"`)
	if sidebarVisible {
		t.Error("the room list is visible at 375 px before it is opened")
	}
	u.screenshot("browser-mobile.png")

	u.run(chromedp.Click(chromedp.ID("open-drawer")))
	u.wait("the drawer", `document.getElementById("sidebar").classList.contains("open") && document.getElementById("open-drawer").getAttribute("aria-expanded") === "true"`)
	noSideScroll("drawer open")
	time.Sleep(300 * time.Millisecond) // the slide-in transition
	u.screenshot("browser-mobile-drawer.png")
	u.run(chromedp.KeyEvent("\x1b")) // Escape closes it
	u.wait("the drawer to close", `!document.getElementById("sidebar").classList.contains("open")`)
}

// TestBrowserHeaders: the page is served with the policy the client was
// written for, and under it the WebSocket to the same host connects.
func TestBrowserHeaders(t *testing.T) {
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	res, err := http.Get(n.url())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("Content-Security-Policy"); got != web.ContentSecurityPolicy {
		t.Errorf("Content-Security-Policy = %q, want %q", got, web.ContentSecurityPolicy)
	}
	if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
	if got := res.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}

	browser := newBrowser(t)
	u := newUser(t, browser, "alice")
	u.run(
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(n.url()),
		chromedp.WaitVisible(chromedp.ID("guest-name")),
	)
	u.screenshot("welcome.png")
	start := time.Now()
	u.login(n.url(), "alice")
	t.Logf("connected under the CSP in %v", time.Since(start).Round(time.Millisecond))
	csp := eval[[]string](u, `window.__csp`)
	if len(csp) != 0 {
		t.Errorf("CSP violations: %q", csp)
	}
}

// TestBrowserHistoryPaging: a long room opens at its newest page; older
// pages come with the button and by scrolling to the top, without gaps or
// duplicates; while the reader is scrolled up, news shows as a pill.
func TestBrowserHistoryPaging(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	// Five writers, so that no one trips the server's per-connection
	// message rate limit.
	var writers []*wsClient
	for _, name := range []string{"carol", "dave", "erin", "frank", "gina"} {
		w := dialWS(t, n.addr, name)
		w.join("lobby")
		writers = append(writers, w)
	}
	carol := writers[0]
	const total = 130
	for i := 1; i <= total; i++ {
		writers[i%len(writers)].say("lobby", fmt.Sprintf("message %d of the backlog", i))
	}

	u := newUser(t, browser, "alice")
	u.run(chromedp.EmulateViewport(1000, 700))
	u.login(n.url(), "alice")
	u.wait("the newest page", shows(fmt.Sprintf("message %d of the backlog", total), ""))
	checkSeqs := func(from, to int64) {
		t.Helper()
		seqs := u.seqs()
		if len(seqs) != int(to-from+1) || seqs[0] != from || seqs[len(seqs)-1] != to {
			t.Fatalf("shows %d seqs %v…, want %d..%d", len(seqs), seqs[:min(len(seqs), 3)], from, to)
		}
		for i := 1; i < len(seqs); i++ {
			if seqs[i] != seqs[i-1]+1 {
				t.Fatalf("seqs not contiguous at %d: %v", i, seqs)
			}
		}
	}
	checkSeqs(total-49, total)

	// The button loads the page before.
	u.run(chromedp.Click(chromedp.ID("load-older")))
	u.wait("the second page", `document.querySelectorAll("#message-host li.msg[data-seq]").length === 100`)
	checkSeqs(total-99, total)

	// Scrolling to the top loads the rest, and the start is marked.
	u.run(chromedp.Evaluate[chromedp.Void](`document.getElementById("scroller").scrollTop = 0`))
	u.wait("the first message", shows("message 1 of the backlog", ""))
	u.wait("the start of the room", `!document.getElementById("history-start").hidden && document.getElementById("load-older").hidden`)
	checkSeqs(1, total)

	// Scrolled up, a new message does not move the view; a pill offers it.
	u.run(chromedp.Evaluate[chromedp.Void](`document.getElementById("scroller").scrollTop = 0`))
	carol.say("lobby", "are you still there?")
	u.wait("the pill", `!document.getElementById("new-pill").hidden`)
	if top := eval[float64](u, `document.getElementById("scroller").scrollTop`); top > 200 {
		t.Errorf("the view moved to %v while scrolled up", top)
	}
	u.run(chromedp.Click(chromedp.ID("new-pill")))
	u.wait("the bottom", `(() => { const s = document.getElementById("scroller"); return s.scrollHeight - s.scrollTop - s.clientHeight < 4; })()`)
	u.wait("the pill to go", `document.getElementById("new-pill").hidden`)
	checkSeqs(1, total+1)
}

// TestBrowserModules checks the client's pure functions where they run, in
// the browser: the backoff bounds, client message ids and link splitting.
func TestBrowserModules(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	u := newUser(t, browser, "alice")
	u.run(chromedp.Navigate(n.url()), chromedp.WaitVisible(chromedp.ID("guest-name")))
	module := func(expr string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(u.ctx, waitTimeout)
		defer cancel()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("evaluate: %v", err)
		}
		return got
	}

	t.Run("backoff", func(t *testing.T) {
		got := module(`(async () => {
			const { backoffDelay } = await import("/conn.js");
			for (const [restarting, cap] of [[false, 10000], [true, 4000]]) {
				for (let n = 0; n <= 40; n++) {
					const ceiling = Math.min(cap, 500 * 2 ** n);
					let max = 0;
					for (let i = 0; i < 500; i++) {
						const d = backoffDelay(n, restarting);
						if (!(d >= 0 && d <= ceiling)) return "attempt " + n + (restarting ? " (restarting)" : "") + ": delay " + d + " outside [0, " + ceiling + "]";
						max = Math.max(max, d);
					}
					if (max < ceiling / 2) return "attempt " + n + ": no delay above half the ceiling in 500 draws (" + max + ")";
				}
			}
			return "ok";
		})()`)
		if got != "ok" {
			t.Error(got)
		}
	})

	t.Run("cmid", func(t *testing.T) {
		got := module(`(async () => {
			const { newCMID } = await import("/dom.js");
			const seen = new Set();
			for (let i = 0; i < 2000; i++) {
				const id = newCMID();
				if (!/^[A-Za-z0-9_-]{22}$/.test(id)) return "bad cmid " + id;
				if (seen.has(id)) return "duplicate cmid " + id;
				seen.add(id);
			}
			// Ids made later sort after ids made earlier (the server's
			// index takes them at its end), whatever their random part.
			const times = [0, 1, 63, 64, 1764085497123, 1764085497124, 1764085497379, 1764085497380, 1764089097123, 4102444800000];
			let prev = "";
			for (const t of times) {
				const ids = Array.from({ length: 20 }, () => newCMID(t));
				for (const id of ids) {
					if (!/^[A-Za-z0-9_-]{22}$/.test(id)) return "bad cmid " + id + " at " + t;
					if (id <= prev) return "cmid " + id + " made at " + t + " is not after " + prev;
					if (id.slice(0, 8) !== ids[0].slice(0, 8)) return "time parts differ at " + t + ": " + id + ", " + ids[0];
				}
				prev = ids[0].slice(0, 8) + "z".repeat(14);
			}
			// The Go client's encoding of the same instant (client.newCMID).
			if (newCMID(1764085497123).slice(0, 8) !== "` + cmidTimePrefix(1764085497123) + `") return "time part " + newCMID(1764085497123).slice(0, 8) + ", want the Go client's ` + cmidTimePrefix(1764085497123) + `";
			return "ok";
		})()`)
		if got != "ok" {
			t.Error(got)
		}
	})

	t.Run("links", func(t *testing.T) {
		tests := []struct {
			body string
			want string // the nodes appendBody makes: text as is, links as [text](href)
		}{
			{"no links here", "no links here"},
			{"see https://example.com.", "see [https://example.com](https://example.com/)."},
			{"(https://example.com/x)", "([https://example.com/x](https://example.com/x))"},
			{"https://en.wikipedia.org/wiki/Go_(game), nice", "[https://en.wikipedia.org/wiki/Go_(game)](https://en.wikipedia.org/wiki/Go_(game)), nice"},
			{"two: http://a.test/1 and https://b.test/2!", "two: [http://a.test/1](http://a.test/1) and [https://b.test/2](https://b.test/2)!"},
			{"javascript:alert(1) stays text", "javascript:alert(1) stays text"},
			{"data:text/html,<b>x</b> too", "data:text/html,<b>x</b> too"},
			{"ftp://example.com/file is text", "ftp://example.com/file is text"},
			{"https://<img src=x>", "https://<img src=x>"},
			{"https://exa mple.com", "[https://exa](https://exa/) mple.com"},
			{"HTTPS://EXAMPLE.COM/A", "[HTTPS://EXAMPLE.COM/A](https://example.com/A)"},
			{"line\nhttps://example.com\nnext", "line\n[https://example.com](https://example.com/)\nnext"},
		}
		for _, tt := range tests {
			got := module(`(async () => {
				const { appendBody } = await import("/dom.js");
				const div = document.createElement("div");
				appendBody(div, ` + js(tt.body) + `);
				for (const a of div.querySelectorAll("a")) {
					if (a.target !== "_blank" || a.rel !== "noopener noreferrer nofollow") return "bad link attributes " + a.outerHTML;
				}
				if (div.querySelector("*:not(a)")) return "an element that is not a link";
				return [...div.childNodes].map(n => n.nodeType === Node.TEXT_NODE ? n.data : "[" + n.textContent + "](" + n.href + ")").join("");
			})()`)
			if got != tt.want {
				t.Errorf("appendBody(%q):\n got %q\nwant %q", tt.body, got, tt.want)
			}
		}
	})
}

// cmidTimePrefix is the first eight characters of a cmid made at Unix
// millisecond ms, as the Go client encodes it (client.NewCMID): the six
// bytes of ms in base64 with its alphabet in ASCII order.
func cmidTimePrefix(ms int64) string {
	enc := base64.NewEncoding("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz").WithPadding(base64.NoPadding)
	b := []byte{byte(ms >> 40), byte(ms >> 32), byte(ms >> 24), byte(ms >> 16), byte(ms >> 8), byte(ms)}
	return enc.EncodeToString(b)
}
