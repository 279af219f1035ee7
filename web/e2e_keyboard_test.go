package web_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// pressKey presses key (a DOM key name with its code and key code) as a
// keyboard does.
func pressKey(key, code string, keyCode int64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: key, Code: code, WindowsVirtualKeyCode: keyCode, NativeVirtualKeyCode: keyCode,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// TestBrowserMessageActionsByKeyboard: with the keyboard alone (the mouse
// never over the list), a user reaches a message and its actions: Tab from
// the message list goes to the newest message in view, ↑ and ↓ move between
// messages, Tab then reaches the message's actions, and Enter on one acts.
func TestBrowserMessageActionsByKeyboard(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	bob := dialWS(t, n.addr, "bob")
	bob.join("lobby")
	bob.say("lobby", "first from bob")
	bob.say("lobby", "second from bob")
	alice := newUser(t, browser, "alice")
	alice.run(chromedp.EmulateViewport(1280, 800))
	alice.login(n.url(), "alice")
	alice.wait("bob's messages", shows("second from bob", ""))

	focused := func() string {
		return eval[string](alice, `(() => {
			const a = document.activeElement;
			const li = a.closest("li.msg");
			const body = li ? li.querySelector(".body").textContent : "";
			return (a.matches("li.msg") ? "message" : a.getAttribute("aria-label") || a.id || a.tagName) + (body ? " of " + body : "");
		})()`)
	}
	tab := pressKey("Tab", "Tab", 9)
	steps := []struct {
		what string
		keys []chromedp.Action[chromedp.Void]
		want string
	}{
		// A click on a message's text leaves the focus on the list, where
		// the arrow keys scroll, as before.
		{"click on a message", []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS("#message-host li.msg .body"))}, "Messages"},
		{"focus the message list, the mouse away", []chromedp.Action[chromedp.Void]{chromedp.MouseClickXY(5, 790), chromedp.Focus(chromedp.ID("scroller"))}, "Messages"},
		{"Tab: the newest message", []chromedp.Action[chromedp.Void]{tab}, "message of second from bob"},
		{"↑: the one before", []chromedp.Action[chromedp.Void]{pressKey("ArrowUp", "ArrowUp", 38)}, "message of first from bob"},
		{"↓: back down", []chromedp.Action[chromedp.Void]{pressKey("ArrowDown", "ArrowDown", 40)}, "message of second from bob"},
		{"↑ then Tab: its first action", []chromedp.Action[chromedp.Void]{pressKey("ArrowUp", "ArrowUp", 38), tab}, "Add a reaction of first from bob"},
		{"Tab: reply", []chromedp.Action[chromedp.Void]{tab}, "Reply of first from bob"},
	}
	for _, s := range steps {
		alice.run(s.keys...)
		if got := focused(); got != s.want {
			t.Fatalf("%s: focus on %q, want %q", s.what, got, s.want)
		}
	}
	// Enter on Reply (a key press that types, as a button needs) answers
	// that message.
	alice.run(chromedp.KeyEvent("\r"))
	alice.wait("the reply bar", `!document.getElementById("compose-bar").hidden && document.getElementById("compose-text").textContent === "Replying to bob: first from bob"`)
}
