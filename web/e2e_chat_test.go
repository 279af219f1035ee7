package web_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestBrowserMarkdown feeds markdown.js hostile and ordinary bodies in the
// browser and checks the DOM it builds: the tags, the text and the link
// attributes, and that no markup in a body ever becomes an element.
func TestBrowserMarkdown(t *testing.T) {
	b := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	u := newUser(t, b, "alice")
	u.run(chromedp.Navigate(n.url()), chromedp.WaitVisible(chromedp.ID("guest-name")))

	// The DOM as a string: text escaped (& and <), elements with their
	// class and, for links, href; a link without target=_blank and
	// rel=noopener noreferrer, or an element or attribute that is not
	// allowed, is an error.
	const serialize = `
		const allowed = new Set(["P", "STRONG", "EM", "CODE", "PRE", "BLOCKQUOTE", "A", "SPAN"]);
		const ser = (n) => {
			if (n.nodeType === Node.TEXT_NODE) return n.data.replace(/&/g, "&amp;").replace(/</g, "&lt;");
			if (!allowed.has(n.tagName)) throw new Error("element " + n.tagName);
			for (const a of n.attributes) {
				if (!["class", "href", "target", "rel", "title"].includes(a.name)) throw new Error("attribute " + a.name);
			}
			let open = n.tagName.toLowerCase();
			if (n.className) open += ' class="' + n.className + '"';
			if (n.tagName === "A") {
				if (n.target !== "_blank" || !/\bnoopener\b/.test(n.rel) || !/\bnoreferrer\b/.test(n.rel)) throw new Error("link attributes " + n.target + " " + n.rel);
				open += ' href="' + n.getAttribute("href") + '"';
			}
			return "<" + open + ">" + [...n.childNodes].map(ser).join("") + "</" + n.tagName.toLowerCase() + ">";
		};`
	md := func(body, me string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(u.ctx, waitTimeout)
		defer cancel()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
			const { parse, render } = await import("/markdown.js");
			`+serialize+`
			const div = document.createElement("div");
			div.append(render(parse(`+js(body)+`), `+js(me)+`));
			try {
				return [...div.childNodes].map(ser).join("");
			} catch (err) {
				return "ERROR " + err.message;
			}
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("evaluate: %v", err)
		}
		return got
	}

	tests := []struct {
		name, body, me, want string
	}{
		{"plain", "just text\nand a second line", "", `<p class="md-p">just text
and a second line</p>`},
		{"inline", "**bold**, *it*, _also_ and `code`", "", `<p class="md-p"><strong>bold</strong>, <em>it</em>, <em>also</em> and <code class="md-code">code</code></p>`},
		{"nested", "**bold *and it***", "", `<p class="md-p"><strong>bold <em>and it</em></strong></p>`},
		{"nested em", "*a **b** c*", "", `<p class="md-p"><em>a <strong>b</strong> c</em></p>`},
		{"img onerror", `<img src=x onerror="alert(1)">`, "", `<p class="md-p">&lt;img src=x onerror="alert(1)"></p>`},
		{"script", "<script>alert(1)</script> **<b>x</b>**", "", `<p class="md-p">&lt;script>alert(1)&lt;/script> <strong>&lt;b>x&lt;/b></strong></p>`},
		{"javascript link", "[click](javascript:alert(1))", "", `<p class="md-p">[click](javascript:alert(1))</p>`},
		{"data link", "[x](data:text/html,<b>hi</b>)", "", `<p class="md-p">[x](data:text/html,&lt;b>hi&lt;/b>)</p>`},
		{"spaced javascript", "[x]( javascript:alert(1) )", "", `<p class="md-p">[x]( javascript:alert(1) )</p>`},
		{"https link", "see [the docs](https://example.com/a?b=1) now", "", `<p class="md-p">see <a href="https://example.com/a?b=1">the docs</a> now</p>`},
		{"mailto link", "[mail me](mailto:ada@example.com)", "", `<p class="md-p"><a href="mailto:ada@example.com">mail me</a></p>`},
		{"no link in a link", "[go https://x.test/ **now**](https://y.test/)", "", `<p class="md-p"><a href="https://y.test/">go https://x.test/ <strong>now</strong></a></p>`},
		{"bare url keeps underscores", "https://example.com/a_b_c_ ok", "", `<p class="md-p"><a href="https://example.com/a_b_c_">https://example.com/a_b_c_</a> ok</p>`},
		{"snake_case", "snake_case_name and 2*3*4", "", `<p class="md-p">snake_case_name and 2<em>3</em>4</p>`},
		{"unclosed", "*unclosed and **also `tick", "", `<p class="md-p">*unclosed and **also ` + "`" + `tick</p>`},
		{"spaces", "* not a list * and ** not bold **", "", `<p class="md-p">* not a list * and ** not bold **</p>`},
		{"code keeps markers", "`**not bold** <i>`", "", `<p class="md-p"><code class="md-code">**not bold** &lt;i></code></p>`},
		{"fence", "before\n```js\nconst a = \"<b>\";\n**x**\n```\nafter", "", `<p class="md-p">before</p><pre class="md-pre"><code>const a = "&lt;b>";
**x**</code></pre><p class="md-p">after</p>`},
		{"unclosed fence", "```\nno end", "", `<p class="md-p">` + "```" + `
no end</p>`},
		{"quote", "> quoted\n> **two**\nafter", "", `<blockquote class="md-quote"><p class="md-p">quoted
<strong>two</strong></p></blockquote><p class="md-p">after</p>`},
		{"deep quote", ">>>>>>>> deep", "", `<blockquote class="md-quote"><blockquote class="md-quote"><blockquote class="md-quote"><blockquote class="md-quote"><p class="md-p">>>>> deep</p></blockquote></blockquote></blockquote></blockquote>`},
		{"emoji", ":smile: :+1: :heart: :tada: :nope: a:b:c", "", `<p class="md-p"><span class="emoji">😄</span> <span class="emoji">👍</span> <span class="emoji">❤️</span> <span class="emoji">🎉</span> :nope: a:b:c</p>`},
		{"proto emoji", ":constructor: :hasOwnProperty: :toString:", "", `<p class="md-p">:constructor: :hasOwnProperty: :toString:</p>`},
		{"mentions", "hi @alice and @bob, mail bob@example.com", "alice", `<p class="md-p">hi <span class="mention me">@alice</span> and <span class="mention">@bob</span>, mail bob@example.com</p>`},
		{"mention case", "@Alice!", "alice", `<p class="md-p"><span class="mention me">@Alice</span>!</p>`},
		{"mention in code", "`@alice`", "alice", `<p class="md-p"><code class="md-code">@alice</code></p>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := md(tt.body, tt.me); got != tt.want {
				t.Errorf("render(%q):\n got %s\nwant %s", tt.body, got, tt.want)
			}
		})
	}

	t.Run("deep nesting", func(t *testing.T) {
		// Thousands of markers: bounded depth, no exception, all text kept.
		body := strings.Repeat("**", 2000) + "x" + strings.Repeat("**", 2000) + strings.Repeat("[", 1000) + strings.Repeat("> ", 500)
		got := md(body, "")
		if strings.HasPrefix(got, "ERROR") {
			t.Fatal(got)
		}
		depth, deepest := 0, 0
		for rest := got; rest != ""; {
			i := strings.Index(rest, "strong>")
			if i < 0 {
				break
			}
			if i > 0 && rest[i-1] == '/' {
				depth--
			} else {
				depth++
				deepest = max(deepest, depth)
			}
			rest = rest[i+len("strong>"):]
		}
		if deepest > 4 {
			t.Errorf("<strong> nested %d deep, want at most 4", deepest)
		}
	})

	t.Run("mentionsUser and actions", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(u.ctx, waitTimeout)
		defer cancel()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
			const { mentionsUser, actionOf } = await import("/markdown.js");
			return JSON.stringify([
				mentionsUser("hey @alice", "alice"), mentionsUser("hey @alicex", "alice"), mentionsUser("`+"`@alice`"+`", "alice"),
				mentionsUser("mail alice@x.test", "alice"), mentionsUser("> @ALICE", "alice"), mentionsUser("@alice", ""),
				actionOf("/me waves"), actionOf("/me"), actionOf("/meh"), actionOf(" /me x"),
			]);
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if want := `[true,false,false,false,true,false,"waves",null,null,null]`; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})
}

// TestBrowserMentions checks mentions end to end: a mention of the user is
// highlighted, counted apart from unread in the sidebar, and raises a
// desktop notification (permission granted through CDP) unless the room's
// notifications are off; Tab completes @names from the room's members; and
// /me shows as an action line, sent as the terminal client sends it.
func TestBrowserMentions(t *testing.T) {
	b := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	alice := newUser(t, b, "alice")

	// Notifications: granted for the page's origin, and recorded.
	_, err := chromedp.CallBrowser(alice.ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission:       &browser.PermissionDescriptor{Name: "notifications"},
		Setting:          browser.PermissionSettingGranted,
		Origin:           "http://" + n.addr,
		BrowserContextID: chromedp.FromContext(alice.ctx).BrowserContextID,
	})
	if err != nil {
		t.Fatalf("grant notifications: %v", err)
	}
	_, err = chromedp.Call(alice.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__notified = [];
if (window.Notification) {
	const Real = window.Notification;
	window.Notification = class extends Real {
		constructor(title, opts) {
			super(title, opts);
			window.__notified.push(title + " | " + (opts && opts.body));
		}
	};
}`,
	})
	if err != nil {
		t.Fatalf("add script: %v", err)
	}

	carol := dialWS(t, n.addr, "carol")
	carol.join("lobby")
	carol.do(protocol.Command{Op: protocol.OpCreate, Room: "side"})

	alice.login(n.url(), "alice")
	alice.wait("carol in the member list", `[...document.querySelectorAll("#member-list .member-name")].some(e => e.textContent === "carol")`)
	alice.wait("the notification button", `document.getElementById("notify-room").textContent === "Notifications on"`)

	// Tab completes @ca to @carol.
	alice.run(chromedp.Focus(chromedp.ID("composer-input")), chromedp.SendKeys(chromedp.ID("composer-input"), "thanks @ca"), pressTab)
	if got := eval[string](alice, `document.getElementById("composer-input").value`); got != "thanks @carol " {
		t.Errorf("after Tab the composer holds %q, want %q", got, "thanks @carol ")
	}
	alice.run(chromedp.SendKeys(chromedp.ID("composer-input"), "hi"), pressEnter)
	carol.waitMessage("thanks @carol hi")

	// /me is sent as the body "/me …" and shown as an action.
	alice.say("/me waves")
	if m := carol.waitMessage("/me waves"); m.From != "alice" {
		t.Errorf("the action came from %q", m.From)
	}
	alice.wait("the action line", `[...document.querySelectorAll("#message-host li.msg.action .body")].some(b => b.textContent === "* alice waves")`)

	// Away in #side, alice is mentioned once in #lobby among two messages.
	alice.run(chromedp.Click(chromedp.CSS(`#browse-rooms li[data-key="side"] button`)))
	alice.wait("#side to open", `document.getElementById("room-name").textContent === "side"`)
	carol.say("lobby", "just chatting")
	carol.say("lobby", "**hey** @alice, look")
	lobbyBtn := `document.querySelector('#joined-rooms li[data-key="lobby"] button')`
	alice.wait("two unread in #lobby", lobbyBtn+`.querySelector(".badge").textContent === "2"`)
	alice.wait("one mention in #lobby", lobbyBtn+`.querySelector(".mention-badge").textContent === "@1"`)
	if got := eval[string](alice, lobbyBtn+`.getAttribute("aria-label")`); got != "lobby, 2 unread, 1 mentioning you" {
		t.Errorf("aria-label = %q", got)
	}
	alice.wait("a notification", `window.__notified.length === 1`)
	if got := eval[[]string](alice, `window.__notified`); len(got) != 1 || got[0] != "carol in #lobby | **hey** @alice, look" {
		t.Errorf("notifications: %q", got)
	}

	// In #lobby the mention is highlighted and the counts are gone.
	alice.openRoom("lobby")
	alice.wait("the highlighted mention", `[...document.querySelectorAll("#message-host li.msg.mentions-me")].some(li =>
		li.querySelector(".body strong")?.textContent === "hey" && li.querySelector(".mention.me")?.textContent === "@alice")`)
	if got := eval[int](alice, `document.querySelectorAll("#message-host li.mentions-me").length`); got != 1 {
		t.Errorf("%d messages marked as mentioning alice, want 1", got)
	}
	alice.wait("the counts to clear", lobbyBtn+`.querySelector(".mention-badge").textContent === "" && `+lobbyBtn+`.querySelector(".badge").textContent === ""`)

	// Notifications off for #lobby: a new mention there raises none, and
	// the choice survives a reload.
	alice.run(chromedp.Click(chromedp.ID("notify-room")))
	alice.wait("notifications off", `document.getElementById("notify-room").textContent === "Notifications off" && document.getElementById("notify-room").getAttribute("aria-pressed") === "false"`)
	alice.openRoom("side")
	carol.say("lobby", "@alice again")
	alice.wait("the second mention counted", lobbyBtn+`.querySelector(".mention-badge").textContent === "@1"`)
	if got := eval[int](alice, `window.__notified.length`); got != 1 {
		t.Errorf("%d notifications with #lobby's off, want still 1", got)
	}
	alice.run(chromedp.Reload())
	alice.waitConnected()
	alice.openRoom("lobby")
	alice.wait("notifications still off", `document.getElementById("notify-room").textContent === "Notifications off"`)
}

// pressTab presses Tab as a keyboard does.
var pressTab = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
			Type: typ, Key: "Tab", Code: "Tab", WindowsVirtualKeyCode: 9, NativeVirtualKeyCode: 9,
		})
		if err != nil {
			return err
		}
	}
	return nil
})

// TestBrowserReconnectsWhenVisible: a tab waiting out its reconnect backoff
// (whose timer a browser throttles while the tab is in the background)
// reconnects at once when it becomes visible again, not when the wait ends.
func TestBrowserReconnectsWhenVisible(t *testing.T) {
	b := newBrowser(t)
	db := filepath.Join(t.TempDir(), "hubbub.db")
	n1 := startNode(t, "127.0.0.1:0", db, false)
	alice := newUser(t, b, "alice")
	alice.login(n1.url(), "alice")

	// The server restarts and refuses browsers for a while: the dials
	// fail and the waits between them grow.
	n1.stop()
	n2 := startNode(t, n1.addr, db, true)
	alice.wait("a wait of 3 s or more", `document.getElementById("conn").dataset.state === "waiting" && /^Reconnecting in [3-9]s$/.test(document.getElementById("conn-text").textContent)`)

	n2.closedToBrowsers.Store(false)
	// The tab comes back to the front (in a headless browser it never
	// left, so the event is all there is to send). It must be connected
	// well before the 2 s or more of wait left.
	ctx, cancel := context.WithTimeout(alice.ctx, waitTimeout)
	defer cancel()
	ms, err := chromedp.Run(ctx, chromedp.Evaluate[int](`new Promise((resolve) => {
		const start = performance.now();
		document.dispatchEvent(new Event("visibilitychange"));
		const check = () => {
			if (document.getElementById("conn").dataset.state === "ready") resolve(Math.round(performance.now() - start));
			else if (performance.now() - start > 5000) resolve(-1);
			else setTimeout(check, 20);
		};
		check();
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if ms < 0 || ms > 1500 {
		t.Errorf("connected %d ms after the tab became visible, want within 1500 ms (-1: not in 5 s)", ms)
	}
}
