package web_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestBrowserModeratorSparesStaff: in a public room a moderator learns the
// owner, the other moderators and the server's administrators from the
// join reply (info.staff). The member list badges them (an administrator
// "admin") and lists them first, the member menu greys out Moderate… on them
// with the reason (clicking it says so, and opens nothing), and the Manage
// dialog offers no Kick, Ban or Mute of them; an ordinary member stays
// fully offered. Role entries keep it current: a member promoted is
// spared at once, a moderator demoted is offered again.
func TestBrowserModeratorSparesStaff(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	ctx := context.Background()
	const pw = "correct horse battery"
	for _, name := range []string{"sam", "moe", "max", "tom", "root"} {
		registerAccount(t, n, name, pw)
	}
	// root is a server administrator (hubbubd user admin root).
	u, err := n.store.User(ctx, "root")
	if err != nil {
		t.Fatal(err)
	}
	u.Admin = true
	if err := n.store.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := n.store.CreateRoom(ctx, chat.Room{Name: "den", Owner: "sam"}); err != nil {
		t.Fatal(err)
	}
	for user, role := range map[string]string{"sam": "owner", "moe": "moderator", "max": "moderator"} {
		if err := n.store.SetRole(ctx, "den", user, role); err != nil {
			t.Fatal(err)
		}
	}
	sam := dialAccount(t, n, "sam", pw)
	for _, name := range []string{"max", "tom", "root"} {
		dialAccount(t, n, name, pw).join("den")
	}
	sam.join("den")

	moe := newUser(t, browser, "moe")
	moe.run(chromedp.EmulateViewport(1280, 800))
	moe.signIn(n.url(), "moe", pw)
	moe.joinFromBrowse("den")

	// tags is a JavaScript expression: the member list in its order, each
	// name with its tags.
	const tags = `JSON.stringify([...document.querySelectorAll("#member-list li")].map(li =>
		[li.dataset.key, [...li.querySelectorAll(".tag")].map(t => t.textContent).join(",")]))`
	wantTags := func(want ...[2]string) string {
		b, _ := json.Marshal(want)
		return tags + ` === ` + js(string(b))
	}
	// The staff first (administrators, owner, moderators), then by name.
	moe.wait("the staff badged", wantTags([2]string{"root", "admin"}, [2]string{"sam", "owner"}, [2]string{"max", "mod"}, [2]string{"moe", "you,mod"}, [2]string{"tom", ""}))

	// moderate opens the member menu on who and returns why Moderate… is
	// greyed out ("" when it is offered).
	moderate := func(who string) string {
		t.Helper()
		moe.run(
			chromedp.Click(chromedp.CSS(`#member-list li[data-key="`+who+`"] .member-btn`)),
			chromedp.WaitVisible(chromedp.ID("mm-moderate")),
		)
		return eval[string](moe, `(() => { const b = document.getElementById("mm-moderate");
			return b.getAttribute("aria-disabled") === "true" ? b.title : ""; })()`)
	}
	closeMenu := func() {
		t.Helper()
		moe.run(chromedp.KeyEvent("\x1b")) // Escape
		moe.wait("the menu closed", `document.getElementById("member-menu").hidden`)
	}
	// offered opens Manage with target typed in and returns which of its
	// kick, ban and mute may be pressed, and the titles of those that may not.
	offered := func(target string) (map[string]bool, map[string]string) {
		t.Helper()
		moe.run(
			chromedp.Click(chromedp.ID("manage-room")),
			chromedp.WaitVisible(chromedp.ID("mod-user")),
			clearField("mod-user"),
			chromedp.SendKeys(chromedp.ID("mod-user"), target),
		)
		raw := eval[string](moe, `JSON.stringify([...document.querySelectorAll("#mod-form button[data-op]")]
			.filter(b => ["kick", "ban", "mute"].includes(b.dataset.op)).map(b => [b.dataset.op, !b.disabled, b.title]))`)
		moe.run(chromedp.Click(chromedp.ID("manage-close")))
		var rows [][]any
		if err := json.Unmarshal([]byte(raw), &rows); err != nil {
			t.Fatal(err)
		}
		on, why := map[string]bool{}, map[string]string{}
		for _, r := range rows {
			on[r[0].(string)] = r[1].(bool)
			if t := r[2].(string); t != "" {
				why[r[0].(string)] = t
			}
		}
		return on, why
	}
	all := func(v bool) map[string]bool { return map[string]bool{"kick": v, "ban": v, "mute": v} }

	tests := []struct {
		target  string
		menu    string          // why Moderate… is greyed out; "" offered
		dialog  map[string]bool // kick, ban, mute offered
		muteWhy string          // the title of Mute when refused
	}{
		{"sam", "You may not moderate sam: they are the owner here.", all(false), "You may not do that to sam: they are the owner here."},
		{"max", "You may not moderate max: they are a moderator here.", all(false), "You may not do that to max: they are a moderator here."},
		{"root", "You may not moderate root: they are a server administrator here.", all(false), "You may not do that to root: they are a server administrator here."},
		{"tom", "", all(true), ""},
	}
	for _, tt := range tests {
		if got := moderate(tt.target); got != tt.menu {
			t.Errorf("member menu on %s: Moderate… greyed out for %q, want %q", tt.target, got, tt.menu)
		}
		closeMenu()
		on, why := offered(tt.target)
		for op, want := range tt.dialog {
			if on[op] != want {
				t.Errorf("Manage on %s: %s offered = %v, want %v", tt.target, op, on[op], want)
			}
		}
		if why["mute"] != tt.muteWhy {
			t.Errorf("Manage on %s: Mute's title = %q, want %q", tt.target, why["mute"], tt.muteWhy)
		}
	}

	// A greyed-out Moderate… says why when clicked, and opens nothing.
	moderate("sam")
	moe.run(chromedp.Click(chromedp.ID("mm-moderate")))
	moe.wait("the reason in a toast", toastSays("You may not moderate sam"))
	if eval[bool](moe, `document.getElementById("manage-dialog").open`) {
		t.Error("Manage opened from a greyed-out Moderate…")
	}
	closeMenu()

	// Role entries keep it current.
	sam.do(protocol.Command{Op: protocol.OpPromote, Room: "den", User: "tom"})
	sam.do(protocol.Command{Op: protocol.OpDemote, Room: "den", User: "max"})
	// A role entry about an administrator leaves their badge as it is.
	sam.do(protocol.Command{Op: protocol.OpPromote, Room: "den", User: "root"})
	moe.wait("the badges moved", wantTags([2]string{"root", "admin"}, [2]string{"sam", "owner"}, [2]string{"moe", "you,mod"}, [2]string{"tom", "mod"}, [2]string{"max", ""}))
	if got := moderate("tom"); got != "You may not moderate tom: they are a moderator here." {
		t.Errorf("promoted tom: Moderate… greyed out for %q, want the moderator's reason", got)
	}
	closeMenu()
	if got := moderate("max"); got != "" {
		t.Errorf("demoted max: Moderate… greyed out for %q, want offered", got)
	}
	closeMenu()
}
