package web_test

import (
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserBanKeepsRoster: banned from a private room, a member keeps
// their membership (the server keeps their role, to give it back when the
// ban ends), so the owner's member list goes on showing them, away, as it
// does after a reload; a kick ends the membership and takes them off it.
// Before, the ban entry took bob off the list until the next reload put
// him back.
func TestBrowserBanKeepsRoster(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	alice := signedIn(t, browser, n, "alice", "bob")[0] // bob's tab keeps him online

	alice.run(
		chromedp.Click(chromedp.ID("open-create")),
		chromedp.WaitVisible(chromedp.ID("create-name")),
		chromedp.SendKeys(chromedp.ID("create-name"), "den"),
		chromedp.Click(chromedp.ID("create-private")),
		chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
	)
	alice.wait("#den to open, with Manage", `document.getElementById("room-name").textContent === "den" && !document.getElementById("manage-room").hidden`)
	alice.waitConnected()

	// manage runs op on bob from Manage, and waits for bob's line.
	manage := func(op, line string) {
		t.Helper()
		alice.run(chromedp.Click(chromedp.ID("manage-room")))
		if op == "invite" {
			alice.run(
				chromedp.WaitVisible(chromedp.ID("invite-user")),
				chromedp.SendKeys(chromedp.ID("invite-user"), "bob"),
				chromedp.Click(chromedp.CSS(`#invite-form button[type="submit"]`)),
			)
		} else {
			alice.run(
				chromedp.WaitVisible(chromedp.ID("mod-user")),
				clearField("mod-user"),
				chromedp.SendKeys(chromedp.ID("mod-user"), "bob"),
				chromedp.Click(chromedp.CSS(`#mod-form button[data-op="`+op+`"]`)),
			)
		}
		alice.wait(op+" to be done", `document.getElementById("manage-status").textContent !== "" && !document.getElementById("manage-status").classList.contains("error")`)
		alice.run(chromedp.Click(chromedp.ID("manage-close")))
		alice.wait("the "+op+" line", systemLine(line))
	}
	onList := `!!document.querySelector('#member-list li[data-key="bob"]')`
	away := `!!document.querySelector('#member-list li[data-key="bob"].away')`

	manage("invite", "invited bob")
	alice.wait("bob on the member list", onList)
	manage("ban", "bob was banned")
	alice.wait("bob on the member list, away", away)
	alice.run(chromedp.Reload())
	alice.waitSignedIn("alice")
	alice.openRoom("den")
	alice.wait("bob on the member list after a reload", away)

	manage("unban", "bob may join again")
	manage("kick", "bob was kicked")
	alice.wait("bob off the member list", `!`+onList[2:])
}
