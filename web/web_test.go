package web

import (
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandlerServesAssets(t *testing.T) {
	h := Handler()
	tests := []struct {
		path     string
		wantType string
		wantBody string // a substring
	}{
		{"/", "text/html; charset=utf-8", "<!doctype html>"},
		{"/index.html", "text/html; charset=utf-8", `<script type="module" src="/app.js">`},
		{"/app.js", "text/javascript; charset=utf-8", "import "},
		{"/conn.js", "text/javascript; charset=utf-8", "hubbub.v1"},
		{"/style.css", "text/css; charset=utf-8", ":root"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res := get(t, h, http.MethodGet, tt.path, nil)
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", res.StatusCode)
			}
			if got := res.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if got := res.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control = %q, want no-cache", got)
			}
			if res.Header.Get("ETag") == "" {
				t.Error("no ETag")
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body does not contain %q", tt.wantBody)
			}
		})
	}
}

func TestHandlerSecurityHeaders(t *testing.T) {
	h := Handler()
	want := map[string]string{
		"Content-Security-Policy": ContentSecurityPolicy,
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
	}
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/", http.StatusOK},
		{http.MethodGet, "/app.js", http.StatusOK},
		{http.MethodHead, "/", http.StatusOK},
		{http.MethodGet, "/nope", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			res := get(t, h, tc.method, tc.path, nil)
			if res.StatusCode != tc.status {
				t.Errorf("status = %d, want %d", res.StatusCode, tc.status)
			}
			for k, v := range want {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
	if !strings.Contains(ContentSecurityPolicy, "script-src 'self'") || strings.Contains(ContentSecurityPolicy, "unsafe") {
		t.Errorf("policy %q is not strict", ContentSecurityPolicy)
	}
}

func TestHandlerNotFound(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/nope", "/static/app.js", "/app.js/", "/../web.go", "/web.go", "/index.htm", "/.well-known/x"} {
		res := get(t, h, http.MethodGet, p, nil)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status = %d, want 404", p, res.StatusCode)
		}
	}
}

func TestHandlerHeadAndMethods(t *testing.T) {
	h := Handler()
	res := get(t, h, http.MethodHead, "/app.js", nil)
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || len(body) != 0 {
		t.Errorf("HEAD: status %d, %d body bytes; want 200 and none", res.StatusCode, len(body))
	}
	if res.Header.Get("Content-Length") == "" {
		t.Error("HEAD: no Content-Length")
	}
	res = get(t, h, http.MethodDelete, "/app.js", nil)
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: status = %d, want 405", res.StatusCode)
	}
	if got := res.Header.Get("Allow"); got != "GET, HEAD" {
		t.Errorf("DELETE: Allow = %q, want %q", got, "GET, HEAD")
	}
}

func TestHandlerConditionalGet(t *testing.T) {
	h := Handler()
	first := get(t, h, http.MethodGet, "/style.css", nil)
	etag := first.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("ETag = %q, want a quoted strong validator", etag)
	}
	res := get(t, h, http.MethodGet, "/style.css", map[string]string{"If-None-Match": etag})
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match current: status = %d, want 304", res.StatusCode)
	}
	res = get(t, h, http.MethodGet, "/style.css", map[string]string{"If-None-Match": `"stale"`})
	if res.StatusCode != http.StatusOK {
		t.Errorf("If-None-Match stale: status = %d, want 200", res.StatusCode)
	}
	other := get(t, h, http.MethodGet, "/app.js", nil).Header.Get("ETag")
	if other == etag {
		t.Errorf("two files share ETag %s", etag)
	}
}

// TestModuleImportsAreServed checks that every module a script imports
// ("./name.js") is served by the handler as JavaScript, so that the client
// loads from its one entry point however it is split into files.
func TestModuleImportsAreServed(t *testing.T) {
	h := Handler()
	importRE := regexp.MustCompile(`(?m)^import\s[^;]*?\sfrom\s+"\./([^"]+)";`)
	imported := 0
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		for _, m := range importRE.FindAllStringSubmatch(string(b), -1) {
			imported++
			res := get(t, h, http.MethodGet, "/"+m[1], nil)
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s imports ./%s: status = %d, want 200", p, m[1], res.StatusCode)
				continue
			}
			if got, want := res.Header.Get("Content-Type"), "text/javascript; charset=utf-8"; got != want {
				t.Errorf("%s imports ./%s: Content-Type = %q, want %q", p, m[1], got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if imported == 0 {
		t.Error("found no imports; is the pattern stale?")
	}
}

// TestModuleImportsFormATree checks that the modules of the client import
// each other without a cycle: state.js owns what the client knows, views
// subscribe to it, and no two modules depend on each other both ways.
// A cycle is reported as the path that closes it.
func TestModuleImportsFormATree(t *testing.T) {
	graph := moduleImports(t)
	if len(graph) < 10 {
		t.Fatalf("found imports in %d modules; is the pattern stale?", len(graph))
	}
	if cycle := findCycle(graph); cycle != nil {
		t.Errorf("import cycle: %s", strings.Join(cycle, " → "))
	}
}

// TestFindCycle checks the cycle finder itself on small graphs.
func TestFindCycle(t *testing.T) {
	tests := []struct {
		name  string
		graph map[string][]string
		want  []string
	}{
		{"empty", map[string][]string{}, nil},
		{"tree", map[string][]string{"a": {"b", "c"}, "b": {"c"}, "c": nil}, nil},
		{"self", map[string][]string{"a": {"a"}}, []string{"a", "a"}},
		{"two", map[string][]string{"a": {"b"}, "b": {"a"}}, []string{"a", "b", "a"}},
		{"deep", map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"d"}, "d": {"b"}}, []string{"b", "c", "d", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := findCycle(tt.graph)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("findCycle = %v, want %v", got, tt.want)
			}
		})
	}
}

// moduleImports reads the `import … from "./x.js"` lines of every module
// in static/: module name → the modules it imports.
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	importRE := regexp.MustCompile(`(?m)^import\s[^;]*?\sfrom\s+"\./([^"]+)";`)
	graph := map[string][]string{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		b, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		name := path.Base(p)
		graph[name] = nil
		for _, m := range importRE.FindAllStringSubmatch(string(b), -1) {
			graph[name] = append(graph[name], m[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return graph
}

// findCycle returns a cycle of graph as the path that closes it (first
// node repeated at the end), or nil. Nodes are visited in sorted order, so
// the answer is stable.
func findCycle(graph map[string][]string) []string {
	const (
		unseen = iota
		open   // on the current path
		done
	)
	mark := map[string]int{}
	var stack []string
	var visit func(n string) []string
	visit = func(n string) []string {
		mark[n] = open
		stack = append(stack, n)
		for _, next := range graph[n] {
			switch mark[next] {
			case open:
				i := slices.Index(stack, next)
				return append(slices.Clone(stack[i:]), next)
			case unseen:
				if c := visit(next); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		mark[n] = done
		return nil
	}
	for _, n := range slices.Sorted(maps.Keys(graph)) {
		if mark[n] == unseen {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

// TestAssetsStayInsideThePolicy guards the rules that keep the client safe
// under its Content-Security-Policy and against injected markup: no inline
// script, style or event handler in the HTML, and no API in the JavaScript
// that parses strings as HTML or code.
func TestAssetsStayInsideThePolicy(t *testing.T) {
	forbiddenJS := []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute(\"on", "srcdoc"}
	inlineHandler := regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	styleAttr := regexp.MustCompile(`(?i)<[^>]*\sstyle\s*=`)
	inlineScript := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]`)
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		src := string(b)
		switch {
		case strings.HasSuffix(p, ".js"):
			for _, f := range forbiddenJS {
				if strings.Contains(src, f) {
					t.Errorf("%s uses %s", p, f)
				}
			}
		case strings.HasSuffix(p, ".html"):
			if m := inlineHandler.FindString(src); m != "" {
				t.Errorf("%s has an inline event handler: %s", p, m)
			}
			if m := styleAttr.FindString(src); m != "" {
				t.Errorf("%s has a style attribute: %s", p, m)
			}
			if strings.Contains(src, "<style") {
				t.Errorf("%s has a <style> element", p)
			}
			if m := inlineScript.FindString(src); m != "" {
				t.Errorf("%s has an inline script: %s", p, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
