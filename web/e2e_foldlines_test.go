package web_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
	_ "modernc.org/sqlite"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestBrowserFoldKeepsLines: folding a blocked account's messages never
// hides a day divider or the "New messages" line. A run of mallory's
// messages that crosses midnight folds into one line per day, the second
// carrying the day's divider; a run that crosses the point where alice's
// unread messages begin is split there, the line between its halves. So
// it stays when the older page comes in above, when a run is shown, and
// when live messages arrive.
func TestBrowserFoldKeepsLines(t *testing.T) {
	browser := newBrowser(t)
	dbPath := filepath.Join(t.TempDir(), "hubbub.db")
	highRates := func(c *server.Config) { c.MsgRate, c.MsgBurst, c.CmdRate, c.CmdBurst = 1000, 1000, 1000, 1000 }
	n := startNodeWith(t, "127.0.0.1:0", dbPath, false, highRates)
	const pw = "correct horse battery"
	registerAccount(t, n, "alice", pw)
	registerAccount(t, n, "mallory", pw)

	// Yesterday: bob, then mallory twice. Today: mallory, 48 of bob's,
	// mallory: the newest page (50) is exactly today's.
	bob := dialWS(t, n.addr, "bob")
	bob.join("lobby")
	mallory := dialAccount(t, n, "mallory", pw)
	mallory.join("lobby")
	bob.say("lobby", "yesterday bob")
	mallory.say("lobby", "yesterday mallory 1")
	last := mallory.say("lobby", "yesterday mallory 2")
	mallory.say("lobby", "today mallory 1")
	var bobToday []string
	for i := range 48 {
		bobToday = append(bobToday, fmt.Sprintf("today bob %d", i))
		bob.say("lobby", bobToday[i])
	}
	mallory.say("lobby", "today mallory 2")

	// Yesterday's messages are made a day older, with the node down (it
	// keeps recent messages in memory).
	n.stop()
	db, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE messages SET ts = ts - ? WHERE room = 'lobby' AND seq <= ?`, (24 * time.Hour).Milliseconds(), last.Seq); err != nil {
		t.Fatalf("make yesterday: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	n = startNodeWith(t, n.addr, dbPath, false, highRates)
	ctx := context.Background()
	if _, err := n.store.Block(ctx, "alice", "mallory", time.Now(), 1000); err != nil {
		t.Fatal(err)
	}
	if err := n.store.CreateRoom(ctx, chat.Room{Name: "side"}); err != nil {
		t.Fatal(err)
	}

	alice := newUser(t, browser, "alice")
	alice.run(chromedp.EmulateViewport(1280, 800))
	alice.signIn(n.url(), "alice", pw)
	alice.joinFromBrowse("side")
	alice.openRoom("lobby")
	folded := func(k int) string { return fmt.Sprintf("fold %d", k) }
	today := append(append([]string{"day", folded(1)}, bobToday...), folded(1))
	alice.waitLayout("today's page, read", today)

	// alice reads #side while mallory and bob write in #lobby: one unread
	// message (mallory's are not counted).
	alice.openRoom("side")
	bob = dialWS(t, n.addr, "bob")
	bob.join("lobby")
	mallory = dialAccount(t, n, "mallory", pw)
	mallory.join("lobby")
	mallory.say("lobby", "unread mallory")
	bob.say("lobby", "unread bob")
	alice.wait("one unread in #lobby", lobbyBadge+` === "1"`)
	alice.openRoom("lobby")
	// The run of mallory's ("today mallory 2", read, and "unread mallory")
	// is split by the line.
	unread := []string{"new", folded(1), "unread bob"}
	alice.waitLayout("the line between two folds", append(append([]string{}, today...), unread...))

	// The older page: yesterday's run of mallory's folds apart from
	// today's, whose fold line shows today's divider.
	alice.wait("the button", `!document.getElementById("load-older").hidden`)
	alice.run(chromedp.Click(chromedp.ID("load-older")))
	yesterday := []string{"day", "yesterday bob", folded(2)}
	alice.waitLayout("yesterday above", concat(yesterday, today, unread))
	if got := eval[[]string](alice, dayLabels); len(got) != 2 || got[0] == "" || got[1] == "" || got[0] == got[1] {
		t.Errorf("day labels = %q, want two different ones", got)
	}

	// Showing today's first run: its message carries the divider itself.
	// Showing the run before the line leaves the line and the run after.
	alice.showFold(1)
	shownFirst := append([]string{"day", "today mallory 1"}, bobToday...)
	alice.waitLayout("today's first run shown", concat(yesterday, shownFirst, []string{folded(1)}, unread))
	alice.showFold(1)
	shown := concat(yesterday, shownFirst, []string{"today mallory 2"}, unread)
	alice.waitLayout("the run before the line shown", shown)

	// Live messages fold after the rest; the line stays.
	mallory.say("lobby", "live mallory 1")
	mallory.say("lobby", "live mallory 2")
	alice.waitLayout("a live run", concat(shown, []string{folded(2)}))
	bob.say("lobby", "live bob")
	alice.waitLayout("after a live message", concat(shown, []string{folded(2), "live bob"}))
}

// layout is a JavaScript expression: what the open room's list shows,
// line by line: "day" for a day divider shown, "new" for the "New
// messages" line, "fold N" for a fold line of N messages, and the body of
// each message shown.
const layout = `(() => {
	const out = [];
	for (const li of document.querySelectorAll("#message-host ol.messages > li")) {
		if (li.hidden) continue;
		const day = li.querySelector(":scope > .day");
		if (day && getComputedStyle(day).display !== "none") out.push("day");
		if (li.classList.contains("unread-line")) out.push("new");
		else if (li.classList.contains("blocked-fold")) out.push("fold " + li.querySelector(".system-text").textContent.split(" ")[0]);
		else if (li.classList.contains("msg")) out.push(li.querySelector(".body").textContent);
		else out.push("other: " + li.textContent);
	}
	return out;
})()`

// dayLabels is a JavaScript expression: the labels of the day dividers
// shown.
const dayLabels = `[...document.querySelectorAll("#message-host ol.messages > li:not([hidden]) > .day")].filter(d => getComputedStyle(d).display !== "none").map(d => d.textContent)`

// waitLayout waits until the open room's list shows want (see layout).
func (u *user) waitLayout(what string, want []string) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, waitTimeout+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`JSON.stringify(`+layout+`) === `+js(mustJSON(want)),
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout)))
	if err != nil {
		got := eval[[]string](u, layout)
		u.t.Fatalf("%s: waiting for %s: %v\n got %q\nwant %q", u.name, what, err, got, want)
	}
}

// showFold presses "show" on the fold line i (from 0) of the open room.
func (u *user) showFold(i int) {
	u.t.Helper()
	eval[chromedp.Void](u, fmt.Sprintf(`document.querySelectorAll("#message-host li.blocked-fold")[%d].querySelector(".blocked-show").click()`, i))
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// dialAccount connects to n as the account name, with a bearer token as a
// program that is no browser does, and says hello.
func dialAccount(t *testing.T, n *node, name, password string) *wsClient {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"username": name, "password": password, "bearer": true})
	res, err := http.Post("http://"+n.addr+"/api/login", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("log in %s: %v", name, err)
	}
	var reply struct{ Token string }
	err = json.NewDecoder(res.Body).Decode(&reply)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || reply.Token == "" {
		t.Fatalf("log in %s: status %d, %v", name, res.StatusCode, err)
	}
	d := websocket.Dialer{Subprotocols: []string{protocol.Subprotocol}, HandshakeTimeout: 5 * time.Second}
	c, res, err := d.Dial("ws://"+n.addr+"/ws", http.Header{"Authorization": {"Bearer " + reply.Token}})
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	res.Body.Close()
	t.Cleanup(func() { c.Close() })
	wc := &wsClient{t: t, name: name, c: c}
	if self := wc.do(protocol.Command{Op: protocol.OpHello}).Self; self == nil || self.Name != name {
		t.Fatalf("%s: hello answered as %+v", name, self)
	}
	return wc
}
