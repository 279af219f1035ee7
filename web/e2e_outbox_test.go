package web_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestBrowserOutboxSurvivesReload: a message the user sent that the
// server has not acknowledged survives a reload and is stored once. Sent
// while the server is away, two messages come back after a reload and go
// out, in order, when it is back; one the server stored before the reload
// (its acknowledgement lost) shows once and is not stored again; one
// refused for good comes back failed, with Retry and Discard, and is not
// sent again by itself; and after signing out no reload sends any of the
// user's, whoever signs in next.
func TestBrowserOutboxSurvivesReload(t *testing.T) {
	b := newBrowser(t)
	db := filepath.Join(t.TempDir(), "hubbub.db")
	n := startNode(t, "127.0.0.1:0", db, false)
	addr := n.addr
	const pw = "correct horse battery"
	registerAccount(t, n, "alice", pw)
	registerAccount(t, n, "bob", pw)
	u := newUser(t, b, "tab") // one tab: alice's, then bob's, then alice's again
	u.signIn(n.url(), "alice", pw)
	u.say("before the outage")
	u.wait("the first message stored", shows("before the outage", `[data-state="sent"]`))

	// stored returns the bodies of lobby's messages from alice that the
	// server holds, in order, as another client reads them.
	watchers := 0
	stored := func() []string {
		t.Helper()
		watchers++
		c := dialWS(t, n.addr, fmt.Sprintf("watcher%d", watchers))
		c.join("lobby")
		ev := c.do(protocol.Command{Op: protocol.OpHistory, Room: "lobby", Limit: protocol.MaxHistoryLimit})
		var got []string
		for _, m := range ev.Messages {
			if m.From == "alice" && m.Kind == "" {
				got = append(got, m.Body)
			}
		}
		c.c.Close()
		return got
	}
	// cmidOf returns the cmid of alice's stored message with body.
	cmidOf := func(body string) string {
		t.Helper()
		watchers++
		c := dialWS(t, n.addr, fmt.Sprintf("watcher%d", watchers))
		c.join("lobby")
		ev := c.do(protocol.Command{Op: protocol.OpHistory, Room: "lobby", Limit: protocol.MaxHistoryLimit})
		c.c.Close()
		for _, m := range ev.Messages {
			if m.From == "alice" && m.Body == body {
				return m.CMID
			}
		}
		t.Fatalf("no stored message %q from alice", body)
		return ""
	}
	const outboxKey = `"hubbub.v1.outbox account:alice"`
	kept := func() int {
		t.Helper()
		return eval[int](u, `JSON.parse(sessionStorage.getItem(`+outboxKey+`) || "[]").length`)
	}
	// inject keeps entry (a JavaScript object) in alice's outbox, as if
	// sent and not acknowledged before a reload.
	inject := func(entry string) {
		t.Helper()
		eval[chromedp.Void](u, `(() => {
			const list = JSON.parse(sessionStorage.getItem(`+outboxKey+`) || "[]");
			list.push(`+entry+`);
			sessionStorage.setItem(`+outboxKey+`, JSON.stringify(list));
		})()`)
	}
	// times counts the messages shown with body.
	times := func(body string) int {
		t.Helper()
		return eval[int](u, `[...document.querySelectorAll("#message-host li.msg .body")].filter(b => b.textContent === `+js(body)+`).length`)
	}

	// 1. Sent while the server is away, then a reload: both come back at
	// once, waiting, and go out in order when the server is back.
	n.stop()
	u.wait("the client to notice", `document.getElementById("conn").dataset.state !== "ready"`)
	const first, second = "first while away", "second while away"
	u.say(first)
	u.say(second)
	u.wait("both waiting", shows(first, `[data-state="failed"]`)+" && "+shows(second, `[data-state="failed"]`))
	if got := kept(); got != 2 {
		t.Errorf("outbox before the reload holds %d messages, want 2", got)
	}
	n = startNode(t, addr, db, true) // pages load, the socket waits
	u.run(chromedp.Reload())
	u.wait("the chat as alice", `!document.getElementById("app").hidden && document.getElementById("me-name").textContent === "alice"`)
	u.wait("both back after the reload, not sent", shows(first, `:not([data-seq])`)+" && "+shows(second, `:not([data-seq])`))
	n.closedToBrowsers.Store(false)
	eval[chromedp.Void](u, `document.getElementById("conn-retry").click()`)
	u.waitConnected()
	u.wait("both stored", shows(first, `[data-state="sent"]`)+" && "+shows(second, `[data-state="sent"]`))
	want := []string{"before the outage", first, second}
	if diff := cmp.Diff(want, u.bodies()); diff != "" {
		t.Errorf("shown after the reload and the reconnect (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, stored()); diff != "" {
		t.Errorf("stored on the server (-want +got):\n%s", diff)
	}
	u.wait("the outbox emptied", `sessionStorage.getItem(`+outboxKey+`) === null`)
	u.run(chromedp.Reload())
	u.waitSignedIn("alice")
	u.wait("the messages after another reload", shows(second, `[data-state="sent"]`))
	if diff := cmp.Diff(want, u.bodies()); diff != "" {
		t.Errorf("shown after another reload (-want +got):\n%s", diff)
	}

	// 2. Stored, but the acknowledgement lost before the reload (the
	// outbox still holds it): after the reload it shows once, and the
	// server holds it once.
	const acked = "stored, its ok lost"
	u.say(acked)
	u.wait("the message stored", shows(acked, `[data-state="sent"]`))
	inject(`{room: "lobby", cmid: ` + js(cmidOf(acked)) + `, body: ` + js(acked) + `, ts: Date.now()}`)
	u.run(chromedp.Reload())
	u.waitSignedIn("alice")
	u.wait("the outbox emptied", `sessionStorage.getItem(`+outboxKey+`) === null`)
	u.wait("the message after the reload", shows(acked, `[data-state="sent"]`))
	if got := times(acked); got != 1 {
		t.Errorf("after the reload the message stored before it shows %d times, want once", got)
	}
	want = append(want, acked)
	if diff := cmp.Diff(want, stored()); diff != "" {
		t.Errorf("stored on the server (-want +got):\n%s", diff)
	}

	// The same, with more messages since than the room's first page
	// after a reload: the history fetched does not hold it, so it goes
	// again and the server answers with the copy stored. It shows in its
	// place when scrolled to, not above a gap in what the room shows.
	const longAgo = "stored long ago, its ok lost"
	u.say(longAgo)
	u.wait("the message stored", shows(longAgo, `[data-state="sent"]`))
	inject(`{room: "lobby", cmid: ` + js(cmidOf(longAgo)) + `, body: ` + js(longAgo) + `, ts: Date.now()}`)
	var writers []*wsClient // three, so that none trips the rate limit
	for _, name := range []string{"carol", "dave", "erin"} {
		w := dialWS(t, n.addr, name)
		w.join("lobby")
		writers = append(writers, w)
	}
	const since = 60
	for i := 1; i <= since; i++ {
		writers[i%len(writers)].say("lobby", fmt.Sprintf("message %d since", i))
	}
	u.run(chromedp.Reload())
	u.waitSignedIn("alice")
	u.wait("the newest page", shows(fmt.Sprintf("message %d since", since), ""))
	u.wait("the outbox emptied", `sessionStorage.getItem(`+outboxKey+`) === null`)
	if got := times(longAgo); got != 0 {
		t.Errorf("after the reload the message stored long ago shows %d times among the newest, want not yet", got)
	}
	if seqs := u.seqs(); len(seqs) == 0 || seqs[len(seqs)-1]-seqs[0] != int64(len(seqs)-1) {
		t.Errorf("after the reload the room shows seqs %v, want a run without gaps", seqs)
	}
	want = append(want, longAgo)
	if diff := cmp.Diff(want, stored()); diff != "" {
		t.Errorf("stored on the server (-want +got):\n%s", diff)
	}

	// 3. Refused for good (its file is gone): failed, and after a reload
	// failed still, with Retry and Discard, not sent again by itself;
	// Discard lets it go for good.
	const refused = "the file that is gone"
	inject(`{room: "lobby", cmid: "outboxTestRefused00001", body: ` + js(refused) + `, file: {id: "f_gone0000000", name: "gone.txt", size: 1, type: "text/plain"}, ts: Date.now()}`)
	u.run(chromedp.Reload())
	u.waitSignedIn("alice")
	u.wait("the refusal", shows(refused, `[data-state="failed"]`)) // the outbox says so at once
	u.run(chromedp.Reload())
	u.waitSignedIn("alice")
	u.wait("the refused message after a reload, failed, Retry and Discard offered", `[...document.querySelectorAll("#message-host li.msg[data-state='failed']")].some(li =>
		li.querySelector(".body").textContent === `+js(refused)+` && li.querySelector(".retry").offsetParent !== null && li.querySelector(".discard").offsetParent !== null
		&& li.querySelector(".status-text").textContent !== "Sending…")`)
	u.say("after the refused one")
	u.wait("a later message stored", shows("after the refused one", `[data-state="sent"]`))
	if got := eval[string](u, msgLI(refused)+`.dataset.state`); got != "failed" {
		t.Errorf("the refused message is %q after a later message was sent, want failed", got)
	}
	eval[chromedp.Void](u, msgLI(refused)+`.querySelector(".discard").click()`)
	u.wait("the refused message discarded", `!(`+shows(refused, "")+`)`)
	u.wait("the outbox emptied", `sessionStorage.getItem(`+outboxKey+`) === null`)
	want = append(want, "after the refused one")

	// 4. The room deleted while the tab was away: what waited to go there
	// is dropped with it, and the toast that says it could not be joined
	// counts it.
	u.run(
		chromedp.Click(chromedp.ID("open-create")),
		chromedp.WaitVisible(chromedp.ID("create-name")),
		chromedp.SendKeys(chromedp.ID("create-name"), "side"),
		chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)),
	)
	u.wait("#side to open", `document.getElementById("room-name").textContent === "side"`)
	n.stop()
	u.wait("the client to notice", `document.getElementById("conn").dataset.state !== "ready"`)
	u.say("into a room about to go")
	u.wait("the message waiting", shows("into a room about to go", `[data-state="failed"]`))
	store, err := sqlitestore.Open(db)
	if err != nil {
		t.Fatalf("sqlitestore.Open: %v", err)
	}
	if err := store.DeleteRoom(t.Context(), "side"); err != nil {
		t.Fatalf("DeleteRoom: %v", err)
	}
	if err := store.Close(); err != nil {
		t.Fatalf("store.Close: %v", err)
	}
	n = startNode(t, addr, db, false)
	u.run(chromedp.Reload())
	u.waitSignedIn("alice")
	u.wait("the toast", toastSays("Could not join #side")+" && "+toastSays("(1 unsent message discarded)"))
	u.wait("the outbox emptied", `sessionStorage.getItem(`+outboxKey+`) === null`)
	if got := u.roomKeys("joined-rooms"); !cmp.Equal(got, []string{"lobby"}) {
		t.Errorf("joined rooms = %q, want lobby only", got)
	}

	// 5. Signing out forgets the outbox: neither bob after alice nor alice
	// again sends what alice's held.
	const secret = "alice's, never to be sent"
	inject(`{room: "lobby", cmid: "outboxTestSignedOut001", body: ` + js(secret) + `, ts: Date.now()}`)
	signOut := func() {
		t.Helper()
		u.menu("menu-logout")
		u.wait("the welcome screen", `!document.getElementById("welcome").hidden`)
	}
	signOut()
	if got := eval[int](u, `Object.keys(sessionStorage).filter(k => k.startsWith("hubbub.v1.outbox ")).length`); got != 0 {
		t.Errorf("after signing out the tab keeps %d outboxes, want none", got)
	}
	u.submitAccount("login", "bob", pw)
	u.waitSignedIn("bob")
	u.run(chromedp.Reload())
	u.waitSignedIn("bob")
	signOut()
	u.submitAccount("login", "alice", pw)
	u.waitSignedIn("alice")
	u.run(chromedp.Reload())
	u.waitSignedIn("alice")
	// Sends go out in order, after whatever was put back: once this one
	// is stored, anything put back would be too.
	u.say("alice is back")
	u.wait("alice's new message stored", shows("alice is back", `[data-state="sent"]`))
	if got := times(secret); got != 0 {
		t.Errorf("after signing out and in, alice's kept message shows %d times, want never", got)
	}
	want = append(want, "alice is back")
	if diff := cmp.Diff(want, stored()); diff != "" {
		t.Errorf("stored on the server after signing out and in (-want +got):\n%s", diff)
	}
}
