package web_test

import (
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestBrowserMentionEdited: a mention counts by the message as it is now.
// Edited not to name the user any more, it leaves the mention count and
// its highlight; edited to name the user, it joins them.
func TestBrowserMentionEdited(t *testing.T) {
	b := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	carol := dialWS(t, n.addr, "carol")
	carol.join("lobby")
	carol.do(protocol.Command{Op: protocol.OpCreate, Room: "side"})

	alice := newUser(t, b, "alice")
	alice.login(n.url(), "alice")
	alice.run(chromedp.Click(chromedp.CSS(`#browse-rooms li[data-key="side"] button`)))
	alice.wait("#side to open", `document.getElementById("room-name").textContent === "side"`)

	lobbyBtn := `document.querySelector('#joined-rooms li[data-key="lobby"] button')`
	counts := func(unread, mentions string) string {
		return lobbyBtn + `.querySelector(".badge").textContent === ` + js(unread) +
			` && ` + lobbyBtn + `.querySelector(".mention-badge").textContent === ` + js(mentions)
	}
	edit := func(seq int64, body string) {
		t.Helper()
		carol.do(protocol.Command{Op: protocol.OpEdit, Room: "lobby", Seq: seq, Body: body})
	}
	hey := carol.say("lobby", "hey @alice, look")
	alice.wait("one unread, one mention", counts("1", "@1"))
	edit(hey.Seq, "hey all, look")
	alice.wait("the mention to go", counts("1", ""))
	plain := carol.say("lobby", "just chatting")
	alice.wait("two unread", counts("2", ""))
	edit(plain.Seq, "just chatting, @alice")
	alice.wait("a mention by the edit", counts("2", "@1"))

	alice.openRoom("lobby")
	alice.wait("the edited message marked", `(() => {
		const marked = [...document.querySelectorAll("#message-host li.msg.mentions-me .body")].map(b => b.textContent);
		return marked.length === 1 && marked[0] === "just chatting, @alice";
	})()`)
}
