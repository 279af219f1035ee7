package web_test

// End-to-end tests of accounts, direct messages, private rooms and
// moderation in the browser client, against the real server with accounts
// enabled.

import (
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAccounts: register through the form, stay signed in across a
// reload (the cookie), change the password (which signs the other session
// out), log out, and log in again; a wrong password and a guest taking an
// account's name get the server's refusals.
func TestBrowserAccounts(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	const pw1, pw2 = "correct horse battery", "battery staple 42"

	alice := newUser(t, browser, "alice")
	alice.openWelcome(n.url())
	// Client-side rules first: a short password never leaves the page.
	alice.submitAccount("register", "alice", "short")
	alice.wait("the password hint", `document.getElementById("register-error").textContent === "Passwords have at least 8 characters."`)
	alice.screenshot("register.png")
	// Typed in capitals, lower-cased as typed.
	alice.submitAccount("register", "Alice", pw1)
	alice.waitSignedIn("alice")
	if got := eval[string](alice, `document.getElementById("register-user").value`); got != "alice" {
		t.Errorf("the user name field holds %q, want it lower-cased to alice", got)
	}
	alice.wait("the direct messages section", `!document.getElementById("dm-section").hidden`)
	alice.wait("the lobby", `document.getElementById("room-name").textContent === "lobby"`)
	alice.say("Signed in, with a name nobody else can take.")
	alice.wait("the message", shows("Signed in, with a name nobody else can take.", `[data-state="sent"]`))
	if got := eval[string](alice, `document.querySelector("#message-host li.msg .author").textContent + "|" + !!document.querySelector("#message-host li.msg .meta .tag")`); got != "alice|false" {
		t.Errorf("message author and guest tag: %q, want alice without a guest tag", got)
	}

	// The cookie survives a reload: no welcome screen, straight back in.
	alice.run(chromedp.Reload())
	alice.waitSignedIn("alice")
	alice.wait("the lobby history", shows("Signed in, with a name nobody else can take.", ""))
	if eval[bool](alice, `!document.getElementById("welcome").hidden`) {
		t.Error("the welcome screen shows after a reload while signed in")
	}

	// A guest may not take an account's name.
	guest := newUser(t, browser, "guest")
	guest.openWelcome(n.url())
	guest.wait("the guest form", `!document.getElementById("guest-form").hidden`)
	guest.run(
		chromedp.SendKeys(chromedp.ID("guest-name"), "Alice"),
		chromedp.Click(chromedp.CSS(`#guest-form button[type="submit"]`)),
	)
	guest.wait("name_taken on the name form", `!document.getElementById("welcome").hidden && !document.getElementById("guest-form").hidden && document.getElementById("guest-error").textContent.includes("account")`)

	// Guessing passwords is slowed down: after five failures the form says
	// how long to wait (Retry-After), not the server's sentence.
	registerAccount(t, n, "eve", pw1)
	for range 5 {
		res, err := http.Post("http://"+n.addr+"/api/login", "application/json", strings.NewReader(`{"username":"eve","password":"guess guess"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong login: status %d, want 401", res.StatusCode)
		}
	}
	guest.submitAccount("login", "eve", "guess again")
	guest.wait("the wait", `/^Too many attempts\. Try again in \d+ s\.$/.test(document.getElementById("login-error").textContent)`)

	// A second session of alice, in another browser.
	other := newUser(t, browser, "alice-elsewhere")
	other.signIn(n.url(), "alice", pw1)

	// Changing the password ends the other session: it is told, and does
	// not try to reconnect.
	alice.menu("menu-password")
	alice.run(
		chromedp.WaitVisible(chromedp.ID("password-old")),
		chromedp.SendKeys(chromedp.ID("password-old"), "not my password"),
		chromedp.SendKeys(chromedp.ID("password-new"), pw2),
		chromedp.Click(chromedp.CSS(`#password-form button[type="submit"]`)),
	)
	alice.wait("the refusal", `document.getElementById("password-error").textContent === "The old password is wrong."`)
	alice.run(
		clearField("password-old"),
		chromedp.SendKeys(chromedp.ID("password-old"), pw1),
		chromedp.Click(chromedp.CSS(`#password-form button[type="submit"]`)),
	)
	alice.wait("the confirmation", toastSays("Password changed"))
	other.wait("the other session to be signed out", `!document.getElementById("welcome").hidden && document.getElementById("welcome-notice").textContent.startsWith("You were signed out") && document.getElementById("tab-login").getAttribute("aria-selected") === "true"`)
	alice.waitConnected() // the session that changed it stays
	if got := eval[string](other, `document.getElementById("login-user").value`); got != "alice" {
		t.Errorf("after being signed out the login form holds %q, want alice", got)
	}

	// Log out: the welcome screen, and this account's rooms are forgotten
	// by the browser.
	alice.menu("menu-logout")
	alice.wait("the welcome screen", `!document.getElementById("welcome").hidden && document.getElementById("app").hidden && document.getElementById("welcome-notice").textContent === "You are logged out."`)
	if v := eval[bool](alice, `localStorage.getItem("hubbub.v1.account.alice") === null`); !v {
		t.Error("the account's saved rooms are still in localStorage after logout")
	}
	if got := eval[string](alice, `document.getElementById("login-user").value`); got != "" {
		t.Errorf("after logging out the login form holds %q, want it empty", got)
	}
	alice.run(chromedp.Reload())
	alice.wait("the login form after a reload", `!document.getElementById("welcome").hidden && !document.getElementById("login-form").hidden`)

	// A wrong password gets the server's answer; the right one signs in.
	alice.submitAccount("login", "alice", pw1)
	alice.wait("the refusal", `document.getElementById("login-error").textContent === "Wrong user name or password."`)
	alice.screenshot("login-refused.png")
	alice.submitAccount("login", "alice", pw2)
	alice.waitSignedIn("alice")
	alice.wait("the lobby history", shows("Signed in, with a name nobody else can take.", ""))
	if got := eval[[]string](alice, `window.__csp`); len(got) != 0 {
		t.Errorf("CSP violations: %q", got)
	}
}

// TestBrowserDirectMessages: alice opens a DM with bob and writes; bob is
// told, finds it in his sidebar under alice's name and reads it; carol sees
// neither it nor alice's private room, to which bob is invited. The
// screenshot for the README comes from here.
func TestBrowserDirectMessages(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	const pw = "correct horse battery"
	for _, name := range []string{"alice", "bob", "carol", "erin"} {
		registerAccount(t, n, name, pw)
	}
	dave := dialWS(t, n.addr, "dave")
	dave.join("lobby")
	dave.say("lobby", "Morning! The new build has accounts: a name nobody else can take.")

	alice := newUser(t, browser, "alice")
	alice.run(chromedp.EmulateViewport(1280, 800))
	bob := newUser(t, browser, "bob")
	carol := newUser(t, browser, "carol")
	alice.signIn(n.url(), "alice", pw)
	bob.signIn(n.url(), "bob", pw)
	carol.signIn(n.url(), "carol", pw)

	// alice: New message → bob.
	alice.run(
		chromedp.Click(chromedp.ID("open-dm")),
		chromedp.WaitVisible(chromedp.ID("dm-user")),
		chromedp.SendKeys(chromedp.ID("dm-user"), "Bob"),
		chromedp.Click(chromedp.CSS(`#dm-form button[type="submit"]`)),
	)
	alice.wait("the DM to open", `document.getElementById("room-name").textContent === "bob" && document.getElementById("room-icon").textContent === "@"`)
	alice.wait("the DM in the sidebar", `document.querySelector('#dm-list li[data-key="dm:alice:bob"] .room-label')?.textContent === "bob"`)
	alice.say("Hi bob, this one is just between us.")
	alice.wait("the DM message to be sent", shows("Hi bob, this one is just between us.", `[data-state="sent"]`))

	// bob is told, and the DM is in his sidebar, by alice's name, unread.
	bob.wait("the invitation", toastSays("alice started a conversation with you"))
	bob.wait("the DM in bob's sidebar", `document.querySelector('#dm-list li[data-key="dm:alice:bob"] .room-label')?.textContent === "alice"`)
	bob.wait("1 unread", `document.querySelector('#dm-list li[data-key="dm:alice:bob"] .badge').textContent === "1"`)
	bob.run(chromedp.Click(chromedp.CSS(`#dm-list li[data-key="dm:alice:bob"] button`)))
	bob.wait("the DM to open", `document.getElementById("room-name").textContent === "alice"`)
	bob.wait("alice's message", shows("Hi bob, this one is just between us.", ""))
	bob.say("Got it. Nobody else can read this?")
	alice.wait("bob's answer", shows("Got it. Nobody else can read this?", ""))
	if got := eval[string](bob, `document.title`); got != "alice — hubbub" {
		t.Errorf("bob's title = %q, want the peer's name, never the room's", got)
	}
	for _, u := range []*user{alice, bob} {
		if eval[bool](u, `document.body.textContent.includes("dm:")`) {
			t.Errorf("%s: the page shows a raw DM room name", u.name)
		}
	}

	// A private room: alice creates it and invites bob from Manage.
	alice.run(
		chromedp.Click(chromedp.ID("open-create")),
		chromedp.WaitVisible(chromedp.ID("create-private")),
		chromedp.SendKeys(chromedp.ID("create-name"), "plans"),
		chromedp.SendKeys(chromedp.ID("create-topic"), "Invite only"),
		chromedp.Click(chromedp.ID("create-private")),
		chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
	)
	alice.wait("#plans to open, locked", `document.getElementById("room-name").textContent === "plans" && document.getElementById("room-icon").classList.contains("lock")`)
	alice.wait("the lock in the sidebar", `!!document.querySelector('#joined-rooms li[data-key="plans"] .room-icon.lock')`)
	alice.run(
		chromedp.Click(chromedp.ID("manage-room")),
		chromedp.WaitVisible(chromedp.ID("invite-user")),
		chromedp.SendKeys(chromedp.ID("invite-user"), "bob"),
		chromedp.Click(chromedp.CSS(`#invite-form button[type="submit"]`)),
	)
	alice.wait("the invitation to be done", `document.getElementById("manage-status").textContent.startsWith("bob was invited")`)
	alice.run(chromedp.Click(chromedp.ID("manage-close")))
	// The member list of a private room shows who belongs to it: erin, who
	// never signed in, is listed after those online, greyed out.
	alice.run(
		chromedp.Click(chromedp.ID("manage-room")),
		chromedp.WaitVisible(chromedp.ID("invite-user")),
		chromedp.SendKeys(chromedp.ID("invite-user"), "erin"),
		chromedp.Click(chromedp.CSS(`#invite-form button[type="submit"]`)),
	)
	alice.wait("erin's invitation to be done", `document.getElementById("manage-status").textContent.startsWith("erin was invited")`)
	alice.run(chromedp.Click(chromedp.ID("manage-close")))
	alice.wait("erin in #plans' member list, away and last", `(() => {
		const items = [...document.querySelectorAll("#member-list li")];
		const last = items[items.length - 1];
		return items[0]?.dataset.key === "alice" && !items[0].classList.contains("away") &&
			last?.dataset.key === "erin" && last.classList.contains("away");
	})()`)
	bob.wait("#plans in bob's sidebar, new", `document.querySelector('#joined-rooms li[data-key="plans"] .badge')?.textContent === "new" && !!document.querySelector('#joined-rooms li[data-key="plans"] .room-icon.lock')`)

	// carol: a room made after both shows up in her list; the DM and the
	// private room do not.
	alice.run(
		chromedp.Click(chromedp.ID("open-create")),
		chromedp.WaitVisible(chromedp.ID("create-name")),
		chromedp.SendKeys(chromedp.ID("create-name"), "design"),
		chromedp.SendKeys(chromedp.ID("create-topic"), "Pixels and the new client"),
		chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
	)
	alice.wait("#design to open", `document.getElementById("room-name").textContent === "design"`)
	eval[chromedp.Void](carol, `document.getElementById("open-drawer").click()`) // refreshes the room list
	carol.wait("#design in carol's list", `!!document.querySelector('#browse-rooms li[data-key="design"]')`)
	if got := carol.roomKeys("dm-list"); len(got) != 0 {
		t.Errorf("carol's direct messages: %q, want none", got)
	}
	for _, list := range []string{"joined-rooms", "browse-rooms"} {
		for _, k := range carol.roomKeys(list) {
			if k == "plans" || k == "dm:alice:bob" {
				t.Errorf("carol's %s lists %q", list, k)
			}
		}
	}

	// The README's picture: alice in a lively lobby, with her rooms and
	// two conversations, one of them unread.
	carol.openRoom("lobby")
	bob.openRoom("lobby")
	bob.say("And direct messages: only the two of you can read them.")
	carol.say("Private rooms too. Invite only, with a lock in the sidebar.")
	dave.say("lobby", "Moderators can mute and ban now. Please nobody make me find out how that feels.")
	alice.openRoom("lobby")
	alice.wait("dave's message", shows("Moderators can mute and ban now. Please nobody make me find out how that feels.", ""))
	alice.say("Trying it all out. Signed in, and the reconnect still catches up by itself.")
	carol.run(
		chromedp.Click(chromedp.ID("open-dm")),
		chromedp.WaitVisible(chromedp.ID("dm-user")),
		chromedp.SendKeys(chromedp.ID("dm-user"), "alice"),
		chromedp.Click(chromedp.CSS(`#dm-form button[type="submit"]`)),
	)
	carol.wait("the DM to open", `document.getElementById("room-name").textContent === "alice"`)
	carol.say("Lunch at one?")
	alice.wait("carol's DM, unread", `document.querySelector('#dm-list li[data-key="dm:alice:carol"] .badge')?.textContent === "1"`)
	if got := alice.roomKeys("dm-list"); !slices.Equal(got, []string{"dm:alice:bob", "dm:alice:carol"}) {
		t.Errorf("alice's direct messages: %q", got)
	}
	alice.wait("the invitation", toastSays("carol started a conversation with you"))
	alice.run(chromedp.KeyEvent("\x1b")) // Escape dismisses it
	alice.wait("the toast to go", `!document.getElementById("toast").matches(":popover-open")`)
	bob.run(chromedp.SendKeys(chromedp.ID("composer-input"), "Looks great"))
	alice.wait("bob is typing", `document.getElementById("typing").textContent === "bob is typing…"`)
	alice.screenshot("browser.png")
	alice.darkScreenshot("browser-dark.png")
}

// TestBrowserModeration: the owner of a room promotes and demotes bob,
// sets the topic, mutes bob (his composer is disabled, with the end time),
// unmutes him, bans him (the room leaves his sidebar, with a notice, and
// he cannot join again), and lifts the ban (he is told, and joins again).
func TestBrowserModeration(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	users := signedIn(t, browser, n, "alice", "bob")
	alice, bob := users[0], users[1]

	alice.run(
		chromedp.Click(chromedp.ID("open-create")),
		chromedp.WaitVisible(chromedp.ID("create-name")),
		chromedp.SendKeys(chromedp.ID("create-name"), "ops"),
		chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
	)
	alice.wait("#ops to open, with Manage", `document.getElementById("room-name").textContent === "ops" && !document.getElementById("manage-room").hidden`)
	eval[chromedp.Void](bob, `document.getElementById("open-drawer").click()`)
	bob.wait("#ops under Browse", `!!document.querySelector('#browse-rooms li[data-key="ops"] button')`)
	bob.run(chromedp.Click(chromedp.CSS(`#browse-rooms li[data-key="ops"] button`)))
	bob.wait("#ops to open", `document.getElementById("room-name").textContent === "ops" && document.getElementById("manage-room").hidden`)
	bob.waitConnected()

	// A name in the presence list offers a DM (and, to bob, nothing else).
	bob.wait("alice in the member list", `!!document.querySelector('#member-list li[data-key="alice"] .member-btn')`)
	bob.run(
		chromedp.Click(chromedp.CSS(`#member-list li[data-key="alice"] .member-btn`)),
		chromedp.WaitVisible(chromedp.ID("mm-message")),
	)
	if eval[bool](bob, `!document.getElementById("mm-moderate").hidden`) {
		t.Error("a plain member is offered Moderate…")
	}
	bob.run(chromedp.Click(chromedp.ID("mm-message")))
	bob.wait("the DM to open", `document.getElementById("room-name").textContent === "alice" && !!document.querySelector('#dm-list li[data-key="dm:alice:bob"]')`)
	alice.wait("the DM in alice's sidebar", `!!document.querySelector('#dm-list li[data-key="dm:alice:bob"]')`)
	bob.openRoom("ops")

	// moderate opens Manage for bob from the presence list and clicks op,
	// with a reason if one is given.
	moderate := func(op, reason string) {
		t.Helper()
		alice.wait("bob in the member list", `!!document.querySelector('#member-list li[data-key="bob"] .member-btn')`)
		alice.run(
			chromedp.Click(chromedp.CSS(`#member-list li[data-key="bob"] .member-btn`)),
			chromedp.WaitVisible(chromedp.ID("mm-moderate")),
			chromedp.Click(chromedp.ID("mm-moderate")),
			chromedp.WaitVisible(chromedp.ID("mod-user")),
		)
		if got := eval[string](alice, `document.getElementById("mod-user").value`); got != "bob" {
			t.Fatalf("Manage opened for %q, want bob", got)
		}
		if reason != "" {
			alice.run(chromedp.SendKeys(chromedp.ID("mod-reason"), reason))
		}
		alice.run(chromedp.Click(chromedp.CSS(`#mod-form button[data-op="` + op + `"]`)))
		alice.wait(op+" to be done", `document.getElementById("manage-status").textContent !== "" && !document.getElementById("manage-status").classList.contains("error")`)
		alice.screenshot("manage-" + op + ".png")
		alice.run(chromedp.Click(chromedp.ID("manage-close")))
	}

	// Roles: a moderator gets Manage, a member loses it again.
	moderate("promote", "")
	bob.wait("Manage for a moderator", `!document.getElementById("manage-room").hidden`)
	bob.wait("the role line", systemLine("alice made you a moderator"))
	moderate("demote", "")
	bob.wait("no Manage for a member", `document.getElementById("manage-room").hidden`)

	// The topic, from Manage.
	alice.run(
		chromedp.Click(chromedp.ID("manage-room")),
		chromedp.WaitVisible(chromedp.ID("topic-input")),
		chromedp.SendKeys(chromedp.ID("topic-input"), "Incidents and on-call"),
		chromedp.Click(chromedp.CSS(`#topic-form button[type="submit"]`)),
	)
	alice.wait("the topic to be saved", `document.getElementById("manage-status").textContent === "Topic saved."`)
	alice.run(chromedp.Click(chromedp.ID("manage-close")))
	bob.wait("the new topic", `document.getElementById("room-topic").textContent === "Incidents and on-call"`)
	bob.wait("the topic line", systemLine("alice set the topic: Incidents and on-call"))

	// Mute for 10 minutes: bob's composer is disabled and says until when.
	bob.say("Can I still write here?")
	alice.wait("bob's message", shows("Can I still write here?", ""))
	moderate("mute", "")
	bob.wait("the composer disabled", `document.getElementById("composer-input").disabled && !document.getElementById("muted-note").hidden && /^You are muted in #ops until .+\. You can still read along\.$/.test(document.getElementById("muted-note").textContent)`)
	bob.wait("the mute line", systemLine("You were muted until"))
	alice.wait("the mute line", systemLine("bob was muted until"))
	alice.wait("the muted tag", `!!document.querySelector('#member-list li[data-key="bob"] .tag-muted')`)
	bob.screenshot("muted.png")
	alice.screenshot("moderator.png")
	moderate("unmute", "")
	bob.wait("the composer enabled", `!document.getElementById("composer-input").disabled && document.getElementById("muted-note").hidden`)

	// Kick: the room leaves bob's sidebar with a notice; he may come back.
	moderate("kick", "take a break")
	bob.wait("#ops to leave the sidebar", `!document.querySelector('#joined-rooms li[data-key="ops"]')`)
	bob.wait("the notice", toastSays("You were removed from #ops by alice: take a break"))
	alice.wait("the kick line", systemLine("bob was kicked by you: take a break"))
	eval[chromedp.Void](bob, `document.getElementById("open-drawer").click()`)
	bob.wait("#ops under Browse", `!!document.querySelector('#browse-rooms li[data-key="ops"] button')`)
	bob.run(chromedp.Click(chromedp.CSS(`#browse-rooms li[data-key="ops"] button`)))
	bob.wait("#ops again", `document.getElementById("room-name").textContent === "ops" && !!document.querySelector('#joined-rooms li[data-key="ops"]')`)

	// Ban: the room leaves bob's sidebar with a notice, and stays closed.
	moderate("ban", "spam")
	bob.wait("#ops to leave the sidebar", `!document.querySelector('#joined-rooms li[data-key="ops"]')`)
	bob.wait("the notice", toastSays("You were banned from #ops by alice until"))
	bob.wait("the reason", toastSays(": spam"))
	bob.screenshot("banned.png")
	alice.wait("the ban line", systemLine("bob was banned until"))
	alice.wait("bob to leave the member list", `!document.querySelector('#member-list li[data-key="bob"]')`)
	eval[chromedp.Void](bob, `document.getElementById("open-drawer").click()`)
	bob.wait("#ops under Browse", `!!document.querySelector('#browse-rooms li[data-key="ops"] button')`)
	bob.run(chromedp.Click(chromedp.CSS(`#browse-rooms li[data-key="ops"] button`)))
	bob.wait("the refusal", toastSays("Could not join #ops"))
	// The server's reason carries the end of the ban in UTC; it is shown
	// as a local time, like every other time.
	if toast := eval[string](bob, `document.getElementById("toast").textContent`); !strings.Contains(toast, "until") ||
		regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d`).MatchString(toast) {
		t.Errorf("the refusal reads %q, want the end of the ban as a local time", toast)
	}
	bob.wait("#ops not joined", `!document.querySelector('#joined-rooms li[data-key="ops"]')`)

	// A reload does not bring it back.
	bob.run(chromedp.Reload())
	bob.waitSignedIn("bob")
	if got := bob.roomKeys("joined-rooms"); slices.Contains(got, "ops") {
		t.Errorf("after a reload bob is in %q", got)
	}

	// Unban, from Manage (bob is no longer in the member list): the room
	// hears of it, bob is told, and he may join again from Browse.
	alice.run(
		chromedp.Click(chromedp.ID("manage-room")),
		chromedp.WaitVisible(chromedp.ID("mod-user")),
		chromedp.SendKeys(chromedp.ID("mod-user"), "bob"),
		chromedp.Click(chromedp.CSS(`#mod-form button[data-op="unban"]`)),
	)
	alice.wait("unban to be done", `document.getElementById("manage-status").textContent === "bob may join again."`)
	alice.run(chromedp.Click(chromedp.ID("manage-close")))
	alice.wait("the unban line", systemLine("bob may join again — you lifted the ban."))
	bob.wait("the unban notice", toastSays("You may join #ops again."))
	bob.screenshot("unbanned.png")
	eval[chromedp.Void](bob, `document.getElementById("open-drawer").click()`)
	bob.wait("#ops under Browse", `!!document.querySelector('#browse-rooms li[data-key="ops"] button')`)
	bob.run(chromedp.Click(chromedp.CSS(`#browse-rooms li[data-key="ops"] button`)))
	bob.wait("#ops joined again", `document.getElementById("room-name").textContent === "ops" && !!document.querySelector('#joined-rooms li[data-key="ops"]')`)
	bob.waitConnected()
	alice.wait("bob back in the member list", `!!document.querySelector('#member-list li[data-key="bob"]')`)
	bob.say("Thanks, I will behave.")
	alice.wait("bob's message", shows("Thanks, I will behave.", ""))
}
