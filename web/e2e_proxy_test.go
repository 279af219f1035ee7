package web_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// behindProxy serves hubbub (configured by mut) behind a reverse proxy
// that rewrites Host to the backend's address, as nginx does by default,
// and returns the proxy's URL.
func behindProxy(t *testing.T, mut func(c *server.Config, proxyURL string)) string {
	t.Helper()
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	broker := membroker.New()
	backLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxyLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxyURL := "http://" + proxyLn.Addr().String()
	cfg := server.Config{Store: store, Broker: broker, Accounts: store, Access: store, Reads: store, Search: store, Logger: slog.New(slog.DiscardHandler)}
	if mut != nil {
		mut(&cfg, proxyURL)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	back := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	target := &url.URL{Scheme: "http", Host: backLn.Addr().String()}
	// Rewrite sets the outgoing Host to the target's, like nginx's
	// default proxy_set_header Host $proxy_host.
	proxy := &http.Server{Handler: &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
	}}, ReadHeaderTimeout: 5 * time.Second}
	go back.Serve(backLn)
	go proxy.Serve(proxyLn)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		proxy.Close()
		back.Close()
		broker.Close()
		store.Close()
	})
	return proxyURL
}

// TestBrowserBehindProxy: behind a proxy that rewrites Host, the page says
// plainly that the server refused its origin (instead of reconnecting
// forever); with --public-url set to what users open, it connects.
func TestBrowserBehindProxy(t *testing.T) {
	browser := newBrowser(t)
	t.Run("without public URL", func(t *testing.T) {
		u := newUser(t, browser, "ann")
		proxyURL := behindProxy(t, nil)
		u.run(
			chromedp.Navigate(proxyURL+"/"),
			chromedp.WaitVisible(chromedp.ID("guest-name")),
			chromedp.SendKeys(chromedp.ID("guest-name"), "ann"),
			chromedp.Click(chromedp.CSS(`#guest-form button[type="submit"]`)),
		)
		u.wait("the origin refusal", `document.getElementById("banner")?.textContent.includes("does not accept pages from `+proxyURL+`")
			&& document.getElementById("conn").dataset.state === "stopped"`)
	})
	t.Run("with public URL", func(t *testing.T) {
		u := newUser(t, browser, "bea")
		proxyURL := behindProxy(t, func(c *server.Config, proxyURL string) { c.PublicURL = proxyURL })
		u.login(proxyURL+"/", "bea")
	})
}

// TestBrowserKeepsGuestIdentity: the browser stores the hubbub_guest
// cookie the server sets on the 101 response, so a guest is the same
// guest after a reload: its name is still its own, and another browser
// cannot take it meanwhile.
func TestBrowserKeepsGuestIdentity(t *testing.T) {
	browser := newBrowser(t)
	n := startNode(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "hubbub.db"), false)
	u := newUser(t, browser, "gus")
	u.login(n.url(), "gus")
	res, err := chromedp.Call(u.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{n.url()}})
	if err != nil {
		t.Fatal(err)
	}
	var guest *network.Cookie
	for _, c := range res.Cookies {
		if c.Name == "hubbub_guest" {
			guest = c
		}
	}
	if guest == nil || !guest.HTTPOnly {
		t.Fatalf("cookies after a guest's handshake: %+v, want an HttpOnly hubbub_guest", res.Cookies)
	}
	// Another person cannot be gus while gus is online.
	d := websocket.Dialer{Subprotocols: []string{protocol.Subprotocol}, HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial("ws://"+n.addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.WriteMessage(websocket.TextMessage, []byte(`{"id":"1","op":"hello","name":"gus"}`))
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if ev, _ := protocol.DecodeEvent(data); ev.Code != protocol.CodeNameTaken {
		t.Errorf("another client as gus: %s, want name_taken", data)
	}
	// The same browser, reloaded, is still gus.
	u.run(chromedp.Reload())
	u.waitConnected()
}
