// Package web serves hubbub's browser client: plain HTML, CSS and JavaScript
// modules under static/, embedded in the binary with go:embed. There is no
// build step; what is in static/ is what the browser runs.
//
// [Handler] serves the files at the root of the site ("/" is index.html)
// with a strict Content-Security-Policy and the other security headers on
// every response, including errors. The client speaks protocol v1 to /ws on
// the same host; the server mounts the handler beside its other routes.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// ContentSecurityPolicy is the policy sent with every response of
// [Handler]. It allows scripts, styles and connections (the WebSocket
// included) to the page's own origin only, images also from data: URLs, and
// nothing else; the client therefore has no inline script or style.
const ContentSecurityPolicy = "default-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// contentTypes maps the extensions used in static/ to their media types, so
// that the answer does not depend on the host's MIME tables.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".ico":         "image/x-icon",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".txt":         "text/plain; charset=utf-8",
}

// asset is one embedded file, ready to serve. Immutable after load.
type asset struct {
	body        []byte
	contentType string
	etag        string // strong validator: a hash of body
}

// Handler returns an http.Handler that serves the browser client: GET and
// HEAD of "/" (index.html) and of every file in static/ by its name, and 404
// for any other path. Every response carries [ContentSecurityPolicy],
// X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer and
// X-Frame-Options: DENY. Files are served with Cache-Control: no-cache and a
// content-hash ETag, so browsers revalidate cheaply and never run stale code
// after an upgrade. The handler is safe for concurrent use.
func Handler() http.Handler {
	assets, err := load(static, "static")
	if err != nil {
		// The files are compiled into the binary; failing to read them
		// is a build defect, not a runtime condition.
		panic("web: reading embedded assets: " + err.Error())
	}
	return &handler{assets: assets}
}

type handler struct {
	assets map[string]*asset // URL path → file. Immutable after Handler.
}

func load(fsys fs.FS, root string) (map[string]*asset, error) {
	assets := make(map[string]*asset)
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		ext := path.Ext(p)
		ct, ok := contentTypes[ext]
		if !ok {
			ct = mime.TypeByExtension(ext)
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		assets[strings.TrimPrefix(p, root)] = &asset{
			body:        body,
			contentType: ct,
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if a, ok := assets["/index.html"]; ok {
		assets["/"] = a
	}
	return assets, nil
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", ContentSecurityPolicy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Frame-Options", "DENY")

	a, ok := h.assets[r.URL.Path]
	if !ok {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("ETag", a.etag)
	// ServeContent answers If-None-Match with 304 and handles HEAD and
	// Range; the zero modtime keeps Last-Modified out of it.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}
