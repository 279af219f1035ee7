package web_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserDeleteAccount: "Delete account…" in the account menu opens a
// dialog that says what goes and what stays; a wrong password is refused
// in it, and the right one deletes the account and returns to the sign-in
// screen, while the other user's page still shows the message under the
// deleted account's name.
func TestBrowserDeleteAccount(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	users := signedIn(t, browser, n, "alice", "bob")
	alice, bob := users[0], users[1]
	alice.say("Farewell, everyone.")
	bob.wait("alice's message", shows("Farewell, everyone.", ""))

	alice.menu("menu-delete-account")
	alice.run(chromedp.WaitVisible(chromedp.ID("account-delete-password")))
	text := eval[string](alice, `document.getElementById("account-delete-form").textContent.replace(/\s+/g, " ")`)
	for _, want := range []string{"cannot be undone", "Your messages stay", "nobody can ever take that name again"} {
		if !strings.Contains(text, want) {
			t.Errorf("the dialog does not say %q: %q", want, text)
		}
	}
	alice.screenshot("delete-account.png")
	alice.run(
		chromedp.SendKeys(chromedp.ID("account-delete-password"), "not my password"),
		chromedp.Click(chromedp.CSS(`#account-delete-form button[type="submit"]`)),
	)
	alice.wait("the refusal", `document.getElementById("account-delete-error").textContent === "The password is wrong."`)
	alice.waitConnected() // still signed in and back online

	alice.run(
		clearField("account-delete-password"),
		chromedp.SendKeys(chromedp.ID("account-delete-password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS(`#account-delete-form button[type="submit"]`)),
	)
	alice.wait("the sign-in screen", `!document.getElementById("welcome").hidden && document.getElementById("app").hidden && document.getElementById("welcome-notice").textContent.startsWith("Your account was deleted")`)
	if v := eval[bool](alice, `localStorage.getItem("hubbub.v1.account.alice") === null`); !v {
		t.Error("the deleted account's saved rooms are still in localStorage")
	}
	// The name cannot be signed in to again.
	alice.submitAccount("login", "alice", "correct horse battery")
	alice.wait("the login refusal", `document.getElementById("login-error").textContent !== ""`)
	if eval[bool](alice, `!document.getElementById("app").hidden`) {
		t.Error("logging in as the deleted account opened the chat")
	}
	bob.waitConnected()
	bob.wait("alice's message, still under her name", `[...document.querySelectorAll("#message-host li.msg")].some(li => li.textContent.includes("Farewell, everyone.") && li.querySelector(".author").textContent === "alice")`)
}
