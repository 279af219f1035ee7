package web_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestBrowserSearchBelowHeader: the open search results sit below the
// room's header, however tall it is. The panel was placed 60 px from the
// top of the chat, the header's height in one row; a header whose buttons
// wrap onto a second row (a room's owner on a phone or a tablet held
// upright) or whose title is unfolded had its lower part — Leave, the
// room menu — covered by the results.
func TestBrowserSearchBelowHeader(t *testing.T) {
	b := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	registerAccount(t, n, "alice", "correct horse battery")
	alice := newUser(t, b, "alice")
	grantNotifications(t, alice, n) // the notification button too, at its longest
	alice.run(chromedp.EmulateViewport(1280, 800))
	alice.signIn(n.url(), "alice", "correct horse battery")
	// alice owns the room: Manage and the room menu are in the header too.
	alice.run(
		chromedp.Click(chromedp.ID("open-create")),
		chromedp.WaitVisible(chromedp.ID("create-name")),
		chromedp.SendKeys(chromedp.ID("create-name"), "vault-keepers"),
		chromedp.SendKeys(chromedp.ID("create-topic"), strings.Repeat("Who holds which key to the vault, and when the locks are changed. ", 3)),
		chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
	)
	alice.wait("the owner's buttons", `document.getElementById("room-name").textContent === "vault-keepers" &&
		!document.getElementById("manage-room").hidden && !document.getElementById("room-menu-btn").hidden &&
		document.getElementById("notify-room").textContent === "Notifications on"`)
	alice.say("the vault code is 1234")
	alice.wait("the message", shows("the vault code is 1234", `[data-state="sent"]`))

	// layout says how tall the header is, on how many rows its controls
	// are, and which of them the open results cover.
	const layout = `(() => {
		const head = document.querySelector(".chat-head"), panel = document.getElementById("search-panel").getBoundingClientRect();
		const controls = [...head.querySelectorAll("button, [role=button]")].filter(e => e.offsetParent !== null);
		const rows = new Set(controls.filter(e => e.closest(".chat-actions")).map(e => Math.round(e.getBoundingClientRect().top)));
		const covered = controls.filter(e => {
			const r = e.getBoundingClientRect();
			return r.left < panel.right && panel.left < r.right && r.top < panel.bottom && panel.top < r.bottom;
		}).map(e => e.id);
		return {Head: head.getBoundingClientRect().height, Rows: rows.size, Covered: covered, Panel: panel.height};
	})()`
	type box struct {
		Head    float64
		Rows    int
		Covered []string
		Panel   float64
	}
	for _, tc := range []struct {
		name          string
		width, height int64
		phone         bool
		unfold        bool // the room's name and topic unfolded
	}{
		{name: "phone", width: 390, height: 844, phone: true},
		{name: "tablet upright", width: 768, height: 1024},
		{name: "desktop, the title unfolded", width: 1280, height: 800, unfold: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.phone {
				alice.run(chromedp.EmulateViewport(tc.width, tc.height, chromedp.EmulateScale(2), chromedp.EmulateMobile))
			} else {
				alice.run(chromedp.EmulateViewport(tc.width, tc.height))
			}
			if tc.unfold {
				alice.run(chromedp.Click(chromedp.ID("chat-title")))
				alice.wait("the title unfolded", `document.getElementById("chat-title").getAttribute("aria-expanded") === "true"`)
			}
			// The box is in the drawer on a phone: submit it as the drawer
			// would, the drawer is not what is tested.
			eval[chromedp.Void](alice, `(() => {
				document.getElementById("search-input").value = "vault code";
				document.getElementById("search-form").requestSubmit();
			})()`)
			alice.wait("the result", `!!document.querySelector("#search-results .search-hit")`)
			got := eval[box](alice, layout)
			if !tc.unfold && got.Rows < 2 {
				t.Fatalf("the header's buttons are on %d row, want them wrapped onto 2 at %d px (the test needs a tall header)", got.Rows, tc.width)
			}
			if got.Head < 80 {
				t.Fatalf("the header is %.0f px tall, want more than one row's 60 (the test needs a tall header)", got.Head)
			}
			if diff := cmp.Diff([]string(nil), got.Covered, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("header controls covered by the search results (-want +got):\n%s", diff)
			}
			if got.Panel < 200 {
				t.Errorf("the search results are %.0f px tall, want room for some (at least 200)", got.Panel)
			}
			alice.screenshot("search-below-header-" + strings.ReplaceAll(tc.name, " ", "-") + ".png")
			alice.run(chromedp.Click(chromedp.ID("search-close")))
			alice.wait("the results to close", `document.getElementById("search-panel").hidden`)
		})
	}
}
