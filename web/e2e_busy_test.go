package web_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserBusyRoomStaysBounded: a tab left open at the bottom of a busy
// room does not keep every message it was ever sent in its page: past a
// bound, the oldest messages the user has seen leave the list, and come
// back as older pages when the user scrolls up to them, with no gap.
func TestBrowserBusyRoomStaysBounded(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	alice := newUser(t, browser, "alice")
	alice.run(chromedp.EmulateViewport(1000, 700))
	alice.login(n.url(), "alice")

	// Writers that each stay within the burst of messages the server allows.
	const writers, each = 22, 30 // 30: within the burst the server allows
	var wg sync.WaitGroup
	for w := range writers {
		c := dialWS(t, n.addr, fmt.Sprintf("w%d", w))
		c.join("lobby")
		wg.Go(func() {
			for i := range each {
				c.say("lobby", fmt.Sprintf("w%d says %d", w, i))
			}
		})
	}
	wg.Wait()
	const total = writers * each
	alice.wait("the last message", fmt.Sprintf(`document.querySelectorAll("#message-host li.msg[data-seq]").length > 0 && Math.max(...[...document.querySelectorAll("#message-host li.msg[data-seq]")].map(li => Number(li.dataset.seq))) === %d`, total))

	contiguous := func(seqs []int64) bool {
		for i := 1; i < len(seqs); i++ {
			if seqs[i] != seqs[i-1]+1 {
				return false
			}
		}
		return len(seqs) > 0
	}
	for _, tc := range []struct {
		what      string
		got, want bool
	}{
		{"at most 500 messages in the page", len(alice.seqs()) <= 500, true},
		{"at most 520 list items in the page", eval[int](alice, `document.querySelectorAll("#message-host li").length`) <= 520, true},
		{"the messages shown are contiguous and end at the newest", contiguous(alice.seqs()) && alice.seqs()[len(alice.seqs())-1] == total, true},
		{"Load older messages is offered", eval[bool](alice, `!document.getElementById("load-older").hidden`), true},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %v, want %v (%d shown)", tc.what, tc.got, tc.want, len(alice.seqs()))
		}
	}

	// Scrolling up brings the rest back, without a gap, down to the first.
	for range 20 {
		if eval[bool](alice, `document.getElementById("load-older").hidden`) {
			break
		}
		alice.run(chromedp.Evaluate[chromedp.Void](`document.getElementById("scroller").scrollTop = 0`))
		alice.wait("a page to load", `!document.getElementById("load-older").disabled`)
	}
	alice.wait("the start of the room", `!document.getElementById("history-start").hidden`)
	seqs := alice.seqs()
	if len(seqs) != total || !contiguous(seqs) || seqs[0] != 1 {
		t.Errorf("after scrolling up: %d seqs, contiguous %v, first %d; want 1..%d", len(seqs), contiguous(seqs), seqs[0], total)
	}
}
