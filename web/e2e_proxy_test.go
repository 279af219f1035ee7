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

	"github.com/chromedp/chromedp"

	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
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
	cfg := server.Config{Store: store, Broker: broker, Accounts: store, Access: store, Logger: slog.New(slog.DiscardHandler)}
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
