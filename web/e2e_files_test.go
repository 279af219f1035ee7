package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/hubbub-chat/hubbub/internal/server"
)

// countChunks, run in a page before its scripts, counts the binary
// messages the page sends on a WebSocket and the file bytes they carry
// (window.__chunks), and closes the socket right after the message
// numbered window.__chunks.cutAt: a connection lost in the middle of an
// upload.
const countChunks = `window.__chunks = { sent: 0, bytes: 0, cutAt: 0 };
(() => {
	const send = WebSocket.prototype.send;
	WebSocket.prototype.send = function (d) {
		if (typeof d === "string") return send.call(this, d);
		const c = window.__chunks;
		const u8 = d instanceof Uint8Array ? d : new Uint8Array(d.buffer || d);
		c.sent++;
		c.bytes += u8.length - (2 + u8[1] + 8);
		send.call(this, d);
		if (c.sent === c.cutAt) this.close();
	};
})();`

var (
	regexpFileHref = regexp.MustCompile(`^/files/(f_[A-Za-z0-9_-]+)/[^/]+$`)
	regexpTooLarge = regexp.MustCompile(`too large.*1048576 bytes`)
)

// evalAwait evaluates a JavaScript expression that gives a promise in
// u's page and returns what it resolves to.
func evalAwait[T any](u *user, expr string) T {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, waitTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		u.t.Fatalf("%s: evaluate %s: %v", u.name, expr, err)
	}
	return v
}

// sha256Of is a JavaScript expression: the SHA-256, in hex, of what url
// serves to the page.
func sha256Of(url string) string {
	return `fetch(` + url + `).then(r => r.ok ? r.arrayBuffer() : Promise.reject(new Error("status " + r.status)))
		.then(b => crypto.subtle.digest("SHA-256", b))
		.then(s => [...new Uint8Array(s)].map(x => x.toString(16).padStart(2, "0")).join(""))`
}

// fileMsg is a JavaScript expression: the li of the message whose body
// is caption.
func fileMsg(caption string) string {
	return `[...document.querySelectorAll("#message-host li.msg")].find(li => li.querySelector(".body").textContent === ` + js(caption) + `)`
}

// TestBrowserFiles: a file goes from one browser to another. An image
// attached with the button uploads in chunks, survives a connection lost
// midway (resuming from where the server stands, sending no byte twice),
// and shows in the other browser as a thumbnail of the right size that
// opens the full image, whose bytes are the file's; a file dropped on the
// room shows as a download link; a pasted image is sent too; a file over
// the server's limit is refused in words and sends nothing.
func TestBrowserFiles(t *testing.T) {
	browser := newBrowser(t)
	const maxBytes = 1 << 20
	n := startNodeWith(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false, func(c *server.Config) { c.FileMaxBytes = maxBytes })
	dir := t.TempDir()

	// An 800×500 PNG, a gradient with grain: over 600 KB, a dozen chunks.
	img := image.NewRGBA(image.Rect(0, 0, 800, 500))
	rng := rand.New(rand.NewPCG(1, 2))
	grain := func(v int) uint8 { return uint8(min(255, v+int(rng.Uint32()%48))) }
	for y := range 500 {
		for x := range 800 {
			img.Set(x, y, color.RGBA{grain(60 + x/5), grain(90 + y/4), grain(200 - x/8), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if buf.Len() < 10*60<<10 {
		t.Fatalf("the test image has %d bytes; it needs more than 10 chunks", buf.Len())
	}
	cover := filepath.Join(dir, "cover art.png")
	if err := os.WriteFile(cover, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	coverSHA := hex.EncodeToString(sum[:])
	big := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(big, bytes.Repeat([]byte{7}, maxBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}

	alice := newUser(t, browser, "alice")
	_, err := chromedp.Call(alice.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: countChunks})
	if err != nil {
		t.Fatal(err)
	}
	bob := newUser(t, browser, "bob")
	alice.login(n.url(), "alice")
	bob.login(n.url(), "bob")
	for _, u := range []*user{alice, bob} {
		u.wait("#lobby", `document.getElementById("room-name").textContent === "lobby"`)
	}

	// The image, with the button; the socket is cut after the 6th chunk.
	eval[chromedp.Void](alice, `window.__chunks.cutAt = 6`)
	alice.run(chromedp.SetUploadFiles(chromedp.ID("attach-input"), []string{cover}))
	alice.wait("the attachment bar", `!document.getElementById("attach-tray").hidden && document.querySelector("#attach-tray .attach-file").textContent === "cover art.png"`)
	alice.say("the cover") // sent with the file once it is up
	bob.wait("the image in bob's browser", `(() => {
		const img = `+fileMsg("the cover")+`?.querySelector(".attachment a.file-image img");
		return !!img && img.complete && img.naturalWidth === 320 && img.naturalHeight === 200;
	})()`)
	if got := eval[int](alice, `window.__chunks.sent`); got <= 6 {
		t.Errorf("alice sent %d chunks; the upload did not go on after the cut", got)
	}
	// After the cut the upload goes on from where the server stands. The
	// server may still be storing the chunks the old socket carried when
	// the new one asks (they are then refused as bad_offset and not
	// stored twice), so at most the 4 chunks in flight go again; starting
	// over would send the 6 sent before the cut again.
	if got, max := eval[int](alice, `window.__chunks.bytes`), buf.Len()+4*60<<10; got < buf.Len() || got > max {
		t.Errorf("alice sent %d bytes of file for a file of %d, want at most %d: the upload did not resume from where the server stood", got, buf.Len(), max)
	}
	type shown struct {
		Width, Height, Alt, Href, Target, Src string
	}
	got := eval[shown](bob, `(() => {
		const a = `+fileMsg("the cover")+`.querySelector(".attachment a.file-image");
		const img = a.querySelector("img");
		return { width: img.getAttribute("width"), height: img.getAttribute("height"), alt: img.alt,
			href: a.getAttribute("href"), target: a.target, src: img.getAttribute("src") };
	})()`)
	id := ""
	if m := regexpFileHref.FindStringSubmatch(got.Href); m != nil {
		id = m[1]
	}
	want := shown{Width: "320", Height: "200", Alt: "cover art.png", Href: "/files/" + id + "/cover%20art.png", Target: "_blank", Src: "/thumbs/" + id}
	if id == "" || got != want {
		t.Errorf("bob's image = %+v, want %+v", got, want)
	}
	if got := evalAwait[string](bob, sha256Of(js(got.Href))); got != coverSHA {
		t.Errorf("the image's link serves bytes of SHA-256 %s, want %s (the file's)", got, coverSHA)
	}
	alice.wait("the image in alice's own message", fileMsg("the cover")+`?.dataset.state === "sent" && !!`+fileMsg("the cover")+`.querySelector("img")`)
	alice.wait("the attachment bar gone", `document.getElementById("attach-tray").hidden`)

	// A text file dropped on the room, sent without a caption.
	eval[chromedp.Void](alice, `(() => {
		const dt = new DataTransfer();
		dt.items.add(new File(["hello notes\n"], "notes.txt", { type: "text/plain" }));
		const chat = document.getElementById("chat");
		chat.dispatchEvent(new DragEvent("dragenter", { dataTransfer: dt, bubbles: true, cancelable: true }));
		chat.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
	})()`)
	alice.wait("notes.txt attached", `document.querySelector("#attach-tray .attach-file")?.textContent === "notes.txt"`)
	alice.run(chromedp.Focus(chromedp.ID("composer-input")), pressEnter)
	link := `[...document.querySelectorAll("#message-host li.msg .attachment a.file-link")].find(a => a.querySelector(".file-name").textContent === "notes.txt")`
	bob.wait("the link to notes.txt", `!!`+link)
	type linkShown struct{ Size, Download, Href string }
	gotLink := eval[linkShown](bob, `(() => { const a = `+link+`; return { size: a.querySelector(".file-size").textContent, download: a.getAttribute("download"), href: a.getAttribute("href") }; })()`)
	if gotLink.Size != "12 bytes" || gotLink.Download != "notes.txt" || !regexpFileHref.MatchString(gotLink.Href) || eval[bool](bob, `!!`+link+`.closest("li").querySelector("img")`) {
		t.Errorf("bob's link to notes.txt = %+v, want 12 bytes, download notes.txt, a /files/ URL, and no image", gotLink)
	}
	if got := evalAwait[string](bob, `fetch(`+js(gotLink.Href)+`).then(r => r.text())`); got != "hello notes\n" {
		t.Errorf("notes.txt downloads as %q", got)
	}

	// Names the server refuses as they are, sent cleaned: a bidi override
	// (which makes "gnp.exe" read as "exe.png") and the zero-width joiners
	// of an emoji are dropped, and a name over 255 bytes is cut before its
	// extension.
	oddNames := []struct{ name, want string }{
		{"invoice\u202Egnp.exe", "invoicegnp.exe"},
		{"\U0001F468\u200D\U0001F469\u200D\U0001F467 family.txt", "\U0001F468\U0001F469\U0001F467 family.txt"},
		{strings.Repeat("ü", 200) + ".txt", strings.Repeat("ü", 125) + ".txt"},
	}
	for _, tt := range oddNames {
		eval[chromedp.Void](alice, `(() => {
			const dt = new DataTransfer();
			dt.items.add(new File(["odd\n"], `+js(tt.name)+`, { type: "text/plain" }));
			const chat = document.getElementById("chat");
			chat.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
		})()`)
		alice.wait("the odd name attached", `document.querySelector("#attach-tray .attach-file")?.textContent === `+js(tt.want))
		alice.run(chromedp.Focus(chromedp.ID("composer-input")), pressEnter)
		link := `[...document.querySelectorAll("#message-host li.msg .attachment a.file-link")].find(a => a.querySelector(".file-name").textContent === ` + js(tt.want) + `)`
		alice.wait("the odd name sent or refused", `document.getElementById("attach-tray").dataset.phase === "failed" || `+link+`?.closest("li").dataset.state === "sent"`)
		if eval[string](alice, `document.getElementById("attach-tray").dataset.phase`) == "failed" {
			t.Fatalf("a file named %q was refused: %q", tt.name, eval[string](alice, `document.getElementById("attach-status").textContent`))
		}
		bob.wait("the link to "+tt.want, `!!`+link)
	}

	// An image pasted into the composer.
	evalAwait[chromedp.Void](alice, `new Promise(resolve => {
		const c = document.createElement("canvas");
		c.width = 40; c.height = 30;
		const g = c.getContext("2d"); g.fillStyle = "#c33"; g.fillRect(0, 0, 40, 30);
		c.toBlob(blob => {
			const dt = new DataTransfer();
			dt.items.add(new File([blob], "image.png", { type: "image/png" }));
			const input = document.getElementById("composer-input");
			input.focus();
			input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
			resolve();
		}, "image/png");
	})`)
	alice.wait("the pasted image attached", `document.querySelector("#attach-tray .attach-file")?.textContent === "image.png"`)
	alice.say("pasted")
	bob.wait("the pasted image", `(() => {
		const img = `+fileMsg("pasted")+`?.querySelector(".attachment img");
		return !!img && img.complete && img.naturalWidth === 40 && img.getAttribute("width") === "40" && img.getAttribute("height") === "30";
	})()`)

	bob.screenshot("files.png")

	// Too large: refused in words, and nothing is sent.
	before := len(bob.bodies())
	alice.run(chromedp.SetUploadFiles(chromedp.ID("attach-input"), []string{big}))
	alice.wait("the refusal", `document.getElementById("attach-tray").dataset.phase === "failed"`)
	if got := eval[string](alice, `document.getElementById("attach-status").textContent`); !regexpTooLarge.MatchString(got) {
		t.Errorf("the refusal says %q, want it to say the file is too large and the limit", got)
	}
	alice.say("after the refusal")
	bob.wait("alice's next message", shows("after the refusal", ""))
	if got := len(bob.bodies()); got != before+1 {
		t.Errorf("bob shows %d messages after the refusal, want %d: the refused file was sent", got, before+1)
	}
	alice.screenshot("files-refused.png")
	alice.run(chromedp.Click(chromedp.ID("attach-cancel")))
	alice.wait("the bar dismissed", `document.getElementById("attach-tray").hidden`)

	for _, u := range []*user{alice, bob} {
		if v := eval[[]string](u, `window.__csp`); len(v) != 0 {
			t.Errorf("%s: CSP violations: %v", u.name, v)
		}
	}
}
