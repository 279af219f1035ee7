package web_test

import (
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserTooBigGets1009: a browser that sends a message over the read
// limit (70000 bytes; the limit is 64 KiB) is told why, on both echo
// endpoints: onclose reports 1009 and a clean close. A server that closed
// its socket with the rest of the message unread sent a reset, and
// Chromium reported 1006 without a close handshake (tour step 5).
func TestBrowserTooBigGets1009(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	u := newUser(t, browser, "ada")
	u.run(chromedp.Navigate(n.url()))
	for _, path := range []string{"/echo", "/echo/rfc6455"} {
		t.Run(path, func(t *testing.T) {
			for range 3 {
				got, err := chromedp.Run(u.ctx, chromedp.Evaluate[string](`new Promise(done => {
  const ws = new WebSocket("ws://" + location.host + `+js(path)+`);
  ws.onopen = () => ws.send(new Uint8Array(70000));
  ws.onclose = (e) => done(e.code + " " + e.wasClean);
})`, chromedp.EvalAwaitPromise))
				if err != nil {
					t.Fatal(err)
				}
				if want := "1009 true"; got != want {
					t.Errorf("onclose: code and wasClean = %q, want %q", got, want)
				}
			}
		})
	}
}
