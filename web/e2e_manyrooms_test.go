package web_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// TestBrowserCatchesUpManyRooms: a user in many rooms who comes back (a
// reload, a reconnect) catches up every one of them. Joining and catching
// up 120 rooms at once is more commands than the server takes in a burst
// (100, then 50 a second): the joins, history pages and room listings it
// refuses as rate_limited are asked again a moment later, without telling
// the user of a limit they did nothing to reach, instead of leaving rooms
// without their news or Browse empty.
func TestBrowserCatchesUpManyRooms(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	const rooms = 120
	var names, saved []string
	for i := range rooms {
		name := fmt.Sprintf("team-%02d", i)
		if err := n.store.CreateRoom(context.Background(), chat.Room{Name: name, Owner: "carol"}); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
		saved = append(saved, fmt.Sprintf(`{"name":%q,"seen":0}`, name))
	}
	// A room alice is not in, for Browse.
	if err := n.store.CreateRoom(context.Background(), chat.Room{Name: "elsewhere", Owner: "carol"}); err != nil {
		t.Fatal(err)
	}
	// One message in each room, from writers within the message burst.
	for w := range rooms / 10 {
		c := dialWS(t, n.addr, fmt.Sprintf("writer%d", w))
		for _, name := range names[w*10 : w*10+10] {
			c.join(name)
			c.say(name, "news in "+name)
		}
	}

	// alice was in all of them, read nothing since, and comes back.
	alice := newUser(t, browser, "alice")
	alice.run(
		chromedp.Navigate(n.url()),
		chromedp.Evaluate[chromedp.Void](`localStorage.setItem("hubbub.v1.mode", "guest");
localStorage.setItem("hubbub.v1", JSON.stringify({name: "alice", active: "team-00", rooms: [`+strings.Join(saved, ",")+`]}))`),
		chromedp.Reload(),
	)
	alice.waitConnected()
	alice.wait("every room to catch up", fmt.Sprintf(`[...document.querySelectorAll("#joined-rooms li .badge")].filter(b => b.textContent === "1").length === %d`, rooms-1))
	badges := eval[map[string]string](alice, `Object.fromEntries([...document.querySelectorAll("#joined-rooms li")].map(li => [li.dataset.key, li.querySelector(".badge")?.textContent || ""]))`)
	for _, name := range names[1:] { // team-00 is open: read
		if got, want := badges[name], "1"; got != want {
			t.Errorf("%s: unread badge %q, want %q", name, got, want)
		}
	}
	for _, tc := range []struct {
		what, expr string
		want       bool
	}{
		{"Browse lists the room alice is not in", `!!document.querySelector('#browse-rooms li[data-key="elsewhere"]')`, true},
		{"a toast about joining", `document.getElementById("toast").matches(":popover-open") && document.getElementById("toast").textContent.includes("Could not join")`, false},
	} {
		if got := eval[bool](alice, tc.expr); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.what, got, tc.want)
		}
	}
	alice.openRoom(names[rooms-1])
	alice.wait("the news of the last room", shows("news in "+names[rooms-1], ""))
}
