package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// waitTimeout bounds every wait for something to appear in a page.
const waitTimeout = 10 * time.Second

// ---------------------------------------------------------------------------
// A hubbubd on a fixed address, so that it can be restarted under the feet
// of a connected browser.

type node struct {
	t      *testing.T
	addr   string
	store  *sqlitestore.Store
	broker *membroker.Broker
	srv    *server.Server
	hs     *http.Server
	served chan struct{}
	once   sync.Once

	// closedToBrowsers refuses WebSocket upgrades that carry an Origin
	// header (browsers) with 503, while Go clients get through.
	closedToBrowsers atomic.Bool
}

// startNode serves hubbub with the SQLite file dbPath on addr
// ("127.0.0.1:0" for a fresh port). It stops when the test ends.
func startNode(t *testing.T, addr, dbPath string, closedToBrowsers bool) *node {
	t.Helper()
	return startNodeWith(t, addr, dbPath, closedToBrowsers, nil)
}

// startNodeWith is startNode with the server's configuration adjusted by
// mut, if not nil.
func startNodeWith(t *testing.T, addr, dbPath string, closedToBrowsers bool, mut func(*server.Config)) *node {
	t.Helper()
	store, err := sqlitestore.Open(dbPath)
	if err != nil {
		t.Fatalf("sqlitestore.Open: %v", err)
	}
	broker := membroker.New()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// Accounts are on for every test: the client runs against what
	// hubbubd serves.
	cfg := server.Config{Store: store, Broker: broker, Logger: log, Accounts: store, Access: store, Reads: store, Search: store, Files: store, Blocks: store}
	if mut != nil {
		mut(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	var ln net.Listener
	// The old listener's port may take a moment to be free again.
	for i := 0; ; i++ {
		ln, err = net.Listen("tcp", addr)
		if err == nil {
			break
		}
		if i == 50 {
			t.Fatalf("listen %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	n := &node{t: t, addr: ln.Addr().String(), store: store, broker: broker, srv: srv, served: make(chan struct{})}
	n.closedToBrowsers.Store(closedToBrowsers)
	n.hs = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/ws" && r.Header.Get("Origin") != "" && n.closedToBrowsers.Load() {
				http.Error(w, "closed to browsers for the test", http.StatusServiceUnavailable)
				return
			}
			srv.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go func() {
		defer close(n.served)
		if err := n.hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(n.stop)
	return n
}

func (n *node) url() string { return "http://" + n.addr + "/" }

// stop shuts the node down the way hubbubd does: sockets get 1012.
func (n *node) stop() {
	n.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := n.srv.Shutdown(ctx); err != nil {
			n.t.Errorf("server.Shutdown: %v", err)
		}
		if err := n.hs.Shutdown(ctx); err != nil {
			n.t.Errorf("http.Server.Shutdown: %v", err)
		}
		<-n.served
		n.broker.Close()
		if err := n.store.Close(); err != nil {
			n.t.Errorf("store.Close: %v", err)
		}
	})
}

// ---------------------------------------------------------------------------
// A Go-level protocol client, the way a terminal client or a bot talks.

type wsClient struct {
	t      *testing.T
	name   string
	c      *websocket.Conn
	nextID int
	queue  []protocol.Event // decoded from a frame, not read yet
	stash  []protocol.Event // read while waiting for a reply, for waitMessage
}

func dialWS(t *testing.T, addr, name string) *wsClient {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{protocol.Subprotocol}, HandshakeTimeout: 5 * time.Second}
	c, res, err := d.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	res.Body.Close()
	t.Cleanup(func() { c.Close() })
	wc := &wsClient{t: t, name: name, c: c}
	wc.do(protocol.Command{Op: protocol.OpHello, Name: name})
	return wc
}

// do sends cmd and returns its ok reply; an error reply fails the test.
func (c *wsClient) do(cmd protocol.Command) protocol.Event {
	c.t.Helper()
	c.nextID++
	cmd.ID = strconv.Itoa(c.nextID)
	b, err := protocol.EncodeCommand(&cmd)
	if err != nil {
		c.t.Fatalf("%s: encode: %v", c.name, err)
	}
	if err := c.c.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatalf("%s: write %s: %v", c.name, cmd.Op, err)
	}
	for {
		ev := c.next()
		if ev.ID != cmd.ID || (ev.Type != protocol.TypeOK && ev.Type != protocol.TypeError) {
			c.stash = append(c.stash, ev)
			continue
		}
		if ev.Type == protocol.TypeError {
			c.t.Fatalf("%s: %s refused: %s: %s", c.name, cmd.Op, ev.Code, ev.Reason)
		}
		return ev
	}
}

// next returns the next event from the server.
func (c *wsClient) next() protocol.Event {
	c.t.Helper()
	for len(c.queue) == 0 {
		c.c.SetReadDeadline(time.Now().Add(waitTimeout))
		_, data, err := c.c.ReadMessage()
		if err != nil {
			c.t.Fatalf("%s: read: %v", c.name, err)
		}
		err = protocol.SplitFrame(data, func(obj []byte) error {
			ev, err := protocol.DecodeEvent(obj)
			c.queue = append(c.queue, ev)
			return err
		})
		if err != nil {
			c.t.Fatalf("%s: decode %q: %v", c.name, data, err)
		}
	}
	ev := c.queue[0]
	c.queue = c.queue[1:]
	return ev
}

func (c *wsClient) join(room string) {
	c.t.Helper()
	c.do(protocol.Command{Op: protocol.OpJoin, Room: room})
}

func (c *wsClient) say(room, body string) protocol.Message {
	c.t.Helper()
	ev := c.do(protocol.Command{Op: protocol.OpSend, Room: room, Body: body, CMID: fmt.Sprintf("go%d", time.Now().UnixNano())})
	if ev.Message == nil {
		c.t.Fatalf("%s: ok of send has no message", c.name)
	}
	return *ev.Message
}

// waitMessage returns the first message event with body, among the
// events stashed or still to come.
func (c *wsClient) waitMessage(body string) protocol.Message {
	c.t.Helper()
	is := func(ev protocol.Event) bool {
		return ev.Type == protocol.TypeMessage && ev.Message != nil && ev.Message.Body == body
	}
	for i, ev := range c.stash {
		if is(ev) {
			c.stash = append(c.stash[:i], c.stash[i+1:]...)
			return *ev.Message
		}
	}
	for {
		if ev := c.next(); is(ev) {
			return *ev.Message
		}
	}
}

// ---------------------------------------------------------------------------
// Headless Chromium.

// chromePath returns the Chromium to drive. HUBBUB_TEST_CHROMIUM names it
// (.ci/run sets it, so CI fails rather than skips when it is missing);
// without it the tests look on PATH and skip when there is none.
func chromePath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HUBBUB_TEST_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("HUBBUB_TEST_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("HUBBUB_TEST_CHROMIUM not set and no Chromium on PATH (chromium, chromium-browser, google-chrome): skipping the browser tests")
	return ""
}

// newBrowser starts a headless Chromium for the test and returns the context
// of its first tab. Users are opened in their own browser contexts from it.
// extra adds to the command line.
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path := chromePath(t)
	dir := t.TempDir() // removed after the browser, which Cleanup stops first
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(dir),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.WindowSize(1280, 800),
	}
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	// The first Do starts the browser and binds it to bctx, so it gets no
	// deadline of its own; the test binary's timeout bounds it.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// user is one person at one browser tab, in a browser context of its own
// (its own localStorage).
type user struct {
	t    *testing.T
	name string
	ctx  context.Context

	mu         sync.Mutex // guards exceptions
	exceptions []string
}

func newUser(t *testing.T, browser context.Context, name string) *user {
	t.Helper()
	u := &user{t: t, name: name}
	listen := func(ev any) {
		// Runs in the tab's event loop: record, return fast.
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			text := d.Text
			if d.Exception != nil {
				text += " " + d.Exception.Description
			}
			u.mu.Lock()
			u.exceptions = append(u.exceptions, text)
			u.mu.Unlock()
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var parts []string
				for _, a := range ev.Args {
					if len(a.Value) > 0 {
						parts = append(parts, strings.Trim(string(a.Value), `"`))
					} else {
						parts = append(parts, a.Description)
					}
				}
				t.Logf("%s console.%s: %s", name, ev.Type, strings.Join(parts, " "))
			}
		}
	}
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext(), chromedp.WithListener(listen))
	t.Cleanup(cancel)
	u.ctx = ctx
	if err := chromedp.Do(ctx); err != nil { // opens the tab
		t.Fatalf("%s: open tab: %v", name, err)
	}
	// Record CSP violations from the first script on.
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`,
	})
	if err != nil {
		t.Fatalf("%s: add script: %v", name, err)
	}
	t.Cleanup(func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		for _, e := range u.exceptions {
			t.Errorf("%s: uncaught exception in the page: %s", name, e)
		}
	})
	return u
}

// run runs actions in the tab with a deadline.
func (u *user) run(actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, 2*waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		u.t.Fatalf("%s: %v", u.name, err)
	}
}

// eval evaluates a JavaScript expression in u's page.
func eval[T any](u *user, expr string) T {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, waitTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		u.t.Fatalf("%s: evaluate %s: %v", u.name, expr, err)
	}
	return v
}

// wait polls a JavaScript expression until it is truthy.
func (u *user) wait(what, expr string) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, waitTimeout+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout)))
	if err != nil {
		// Say what the page shows, to make the failure readable.
		state, _ := chromedp.Run(u.ctx, chromedp.Evaluate[string](`JSON.stringify({
			conn: document.getElementById("conn-text")?.textContent,
			banner: document.getElementById("banner")?.textContent,
			room: document.getElementById("room-name")?.textContent,
			composer: document.getElementById("composer-input")?.value,
			last: [...document.querySelectorAll("#message-host li.msg, #message-host li.entry")].slice(-4).map(li =>
				(li.dataset.seq || "-") + " " + (li.dataset.state || li.dataset.kind || "") + " " + li.querySelector(".body, .system-text").textContent),
		})`))
		u.t.Fatalf("%s: waiting for %s: %v\npage: %s", u.name, what, err, state)
	}
}

// login opens the client and continues as a guest called name.
func (u *user) login(url, name string) {
	u.t.Helper()
	u.run(
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.ID("guest-name")),
		chromedp.SendKeys(chromedp.ID("guest-name"), name),
		chromedp.Click(chromedp.CSS(`#guest-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("composer-input")),
	)
	u.waitConnected()
}

func (u *user) waitConnected() {
	u.t.Helper()
	u.wait("the connection", `document.getElementById("conn").dataset.state === "ready"`)
}

// say types body into the composer and presses Enter.
func (u *user) say(body string) {
	u.t.Helper()
	u.run(
		chromedp.Focus(chromedp.ID("composer-input")),
		chromedp.SendKeys(chromedp.ID("composer-input"), body),
		pressEnter,
	)
}

// pressEnter presses Enter as a keyboard does. SendKeys("\r") also sends a
// char event, which inserts a line break even when the page cancelled the
// keydown; a real browser does not.
var pressEnter = chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
			Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
		})
		if err != nil {
			return err
		}
	}
	return nil
})

// openRoom clicks a joined room in the sidebar.
func (u *user) openRoom(room string) {
	u.t.Helper()
	u.run(chromedp.Click(chromedp.CSS(`#joined-rooms li[data-key=` + js(room) + `] button`)))
	u.wait("#"+room+" to open", `document.getElementById("room-name").textContent === `+js(room))
}

// bodies returns the text of every message body shown, in order.
func (u *user) bodies() []string {
	u.t.Helper()
	return eval[[]string](u, `[...document.querySelectorAll("#message-host li.msg .body")].map(b => b.textContent)`)
}

// seqs returns the seq of every confirmed message shown, in order.
func (u *user) seqs() []int64 {
	u.t.Helper()
	return eval[[]int64](u, `[...document.querySelectorAll("#message-host li.msg[data-seq]")].map(li => Number(li.dataset.seq))`)
}

// shows is a JavaScript predicate: a message with exactly this body is
// shown (and matches the extra selector on its li, if any).
func shows(body, li string) string {
	return `[...document.querySelectorAll(` + js("#message-host li.msg"+li+" .body") + `)].some(b => b.textContent === ` + js(body) + `)`
}

// published lists the screenshots that go to $HUBBUB_SCREENSHOT_DIR (the
// README's pictures, docs/img); the others are for looking at a failure.
var published = map[string]bool{"browser.png": true, "browser-dark.png": true, "browser-mobile.png": true, "entries.png": true, "search.png": true, "files.png": true}

// screenshot saves the viewport as PNG to the test's temp dir, and to
// $HUBBUB_SCREENSHOT_DIR/name when that is set and name is published.
func (u *user) screenshot(name string) {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(u.ctx, waitTimeout)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		u.t.Fatalf("%s: screenshot: %v", u.name, err)
	}
	dirs := []string{u.t.TempDir()}
	if d := os.Getenv("HUBBUB_SCREENSHOT_DIR"); d != "" && published[name] {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			u.t.Errorf("write screenshot: %v", err)
			continue
		}
		u.t.Logf("screenshot: %s", p)
	}
}

// darkScreenshot is screenshot with prefers-color-scheme: dark.
func (u *user) darkScreenshot(name string) {
	u.t.Helper()
	dark := func(scheme string) {
		u.t.Helper()
		_, err := chromedp.Call(u.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		if err != nil {
			u.t.Fatalf("%s: emulate %s: %v", u.name, scheme, err)
		}
	}
	dark("dark")
	defer dark("")
	time.Sleep(300 * time.Millisecond) // let the colour transitions end
	u.screenshot(name)
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// ---------------------------------------------------------------------------
// Accounts.

// signedIn registers each of names (password "correct horse battery") on
// n and signs each in at a tab of its own in browser, in order.
func signedIn(t *testing.T, browser context.Context, n *node, names ...string) []*user {
	t.Helper()
	const pw = "correct horse battery"
	users := make([]*user, len(names))
	for i, name := range names {
		registerAccount(t, n, name, pw)
		users[i] = newUser(t, browser, name)
		users[i].signIn(n.url(), name, pw)
	}
	return users
}

// registerAccount creates an account through the HTTP API, as a non-browser
// client does (a bearer session, no cookie), for tests whose subject is not
// registration.
func registerAccount(t *testing.T, n *node, name, password string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"username": name, "password": password, "bearer": true})
	res, err := http.Post("http://"+n.addr+"/api/register", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("register %s: status %d, want 201", name, res.StatusCode)
	}
}

// openWelcome loads the client and waits for the welcome screen.
func (u *user) openWelcome(url string) {
	u.t.Helper()
	u.run(chromedp.Navigate(url))
	u.wait("the welcome screen", `!document.getElementById("welcome").hidden`)
}

// submitAccount fills the login or register form (tab "login" or
// "register") and submits it; it does not wait for the outcome.
func (u *user) submitAccount(tab, name, password string) {
	u.t.Helper()
	u.run(
		chromedp.Click(chromedp.ID("tab-"+tab)),
		chromedp.WaitVisible(chromedp.ID(tab+"-user")),
		clearField(tab+"-user"),
		chromedp.SendKeys(chromedp.ID(tab+"-user"), name),
		clearField(tab+"-password"),
		chromedp.SendKeys(chromedp.ID(tab+"-password"), password),
		chromedp.Click(chromedp.CSS("#"+tab+`-form button[type="submit"]`)),
	)
}

// clearField empties the input with id.
func clearField(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`document.getElementById(` + js(id) + `).value = ""`)
}

// signIn opens the client, logs in as name through the login form and
// waits for the connection.
func (u *user) signIn(url, name, password string) {
	u.t.Helper()
	u.openWelcome(url)
	u.submitAccount("login", name, password)
	u.waitSignedIn(name)
}

// waitSignedIn waits for the chat, connected, as the account name.
func (u *user) waitSignedIn(name string) {
	u.t.Helper()
	u.wait("the chat as "+name, `!document.getElementById("app").hidden && document.getElementById("me-name").textContent === `+js(name)+
		` && document.getElementById("me-kind").textContent === "signed in"`)
	u.waitConnected()
}

// menu opens the account menu and chooses item (an element id).
func (u *user) menu(item string) {
	u.t.Helper()
	u.run(
		chromedp.Click(chromedp.ID("me-menu-btn")),
		chromedp.WaitVisible(chromedp.ID(item)),
		chromedp.Click(chromedp.ID(item)),
	)
}

// toastSays is a JavaScript predicate: the toast shows text.
func toastSays(text string) string {
	return `(() => { const t = document.getElementById("toast"); return t.matches(":popover-open") && t.textContent.includes(` + js(text) + `); })()`
}

// systemLine is a JavaScript predicate: the open room shows a system line
// (a room entry's news, or a line that is not stored) containing text.
func systemLine(text string) string {
	return `[...document.querySelectorAll("#message-host .system")].some(li => li.textContent.includes(` + js(text) + `))`
}

// roomKeys returns the keys of a sidebar list ("joined-rooms", "dm-list",
// "browse-rooms").
func (u *user) roomKeys(list string) []string {
	u.t.Helper()
	return eval[[]string](u, `[...document.querySelectorAll("#`+list+` li")].map(li => li.dataset.key)`)
}

// grantNotifications lets n's pages in u's browser context show
// notifications: the room's notification button then reads
// "Notifications on", its longest label.
func grantNotifications(t *testing.T, u *user, n *node) {
	t.Helper()
	_, err := chromedp.CallBrowser(u.ctx, browser.SetPermission, browser.SetPermissionParams{
		Permission:       &browser.PermissionDescriptor{Name: "notifications"},
		Setting:          browser.PermissionSettingGranted,
		Origin:           "http://" + n.addr,
		BrowserContextID: chromedp.FromContext(u.ctx).BrowserContextID,
	})
	if err != nil {
		t.Fatalf("%s: grant notifications: %v", u.name, err)
	}
}
