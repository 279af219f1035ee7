package web_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// TestBrowserManageSparesOwner: the Manage dialog does not offer what the
// server refuses. An administrator is offered no Kick or Ban of the room's
// owner (nobody may remove the owner; the join reply names them), but may
// still mute them; a moderator is offered nothing on the owner; nobody on
// themselves; both may act on a member. (A public room's other moderators
// are known from the join reply's staff: TestBrowserModeratorSparesStaff.)
// The server's check stays: a kick sent anyway is refused
// (TestModerationRefused and the server's tests).
func TestBrowserManageSparesOwner(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	ctx := context.Background()
	const pw = "correct horse battery"
	for _, name := range []string{"root", "olga", "moe", "mia"} {
		registerAccount(t, n, name, pw)
	}
	u, err := n.store.User(ctx, "root")
	if err != nil {
		t.Fatal(err)
	}
	u.Admin = true
	if err := n.store.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := n.store.CreateRoom(ctx, chat.Room{Name: "den", Owner: "olga"}); err != nil {
		t.Fatal(err)
	}
	for user, role := range map[string]string{"olga": "owner", "moe": "moderator", "mia": "member"} {
		if err := n.store.SetRole(ctx, "den", user, role); err != nil {
			t.Fatal(err)
		}
	}

	// offered returns, for each op of the mod form, whether its button
	// may be pressed with target typed as the person.
	offered := func(v *user, target string) map[string]bool {
		t.Helper()
		v.run(
			chromedp.Click(chromedp.ID("manage-room")),
			chromedp.WaitVisible(chromedp.ID("mod-user")),
			clearField("mod-user"),
			chromedp.SendKeys(chromedp.ID("mod-user"), target),
		)
		raw := eval[string](v, `JSON.stringify(Object.fromEntries([...document.querySelectorAll("#mod-form button[data-op]")].map((b) => [b.dataset.op, !b.disabled])))`)
		v.run(chromedp.Click(chromedp.ID("manage-close")))
		got := map[string]bool{}
		if err := json.Unmarshal([]byte(raw), &got); err != nil {
			t.Fatal(err)
		}
		return got
	}

	viewers := map[string]*user{}
	for _, name := range []string{"root", "moe"} {
		v := newUser(t, browser, name)
		v.signIn(n.url(), name, pw)
		v.joinFromBrowse("den")
		v.wait("Manage offered", `!document.getElementById("manage-room").hidden`)
		viewers[name] = v
	}
	all := func(on bool) map[string]bool {
		return map[string]bool{"kick": on, "ban": on, "unban": on, "mute": on, "unmute": on}
	}
	tests := []struct {
		viewer, target string
		want           map[string]bool // ops offered; promote and demote are not checked
	}{
		{"root", "olga", map[string]bool{"kick": false, "ban": false, "unban": true, "mute": true, "unmute": true}},
		{"root", "Olga", map[string]bool{"kick": false, "ban": false, "unban": true, "mute": true, "unmute": true}},
		{"root", "mia", all(true)},
		{"root", "root", all(false)},
		{"moe", "olga", all(false)},
		{"moe", "mia", all(true)},
	}
	for _, tt := range tests {
		got := offered(viewers[tt.viewer], tt.target)
		for op, want := range tt.want {
			if got[op] != want {
				t.Errorf("%s managing %s: %s offered = %v, want %v", tt.viewer, tt.target, op, got[op], want)
			}
		}
	}
}
