package learn

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// tourPages returns the tour's Markdown files and their contents.
func tourPages(t *testing.T) map[string]string {
	t.Helper()
	names, err := filepath.Glob("*.md")
	if err != nil || len(names) == 0 {
		t.Fatalf("no Markdown pages in docs/learn (%v)", err)
	}
	pages := make(map[string]string)
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		pages[n] = string(b)
	}
	return pages
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// docPages returns every page a reader of the repository is pointed to,
// keyed by its path from this directory: the tour, ../../README.md and
// ../*.md (docs/).
func docPages(t *testing.T) map[string]string {
	t.Helper()
	pages := tourPages(t)
	more, err := filepath.Glob(filepath.Join("..", "*.md"))
	if err != nil || len(more) == 0 {
		t.Fatalf("no Markdown pages in docs (%v)", err)
	}
	for _, n := range append(more, filepath.Join("..", "..", "README.md")) {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		pages[n] = string(b)
	}
	return pages
}

// TestTourLinks checks every relative link of the tour, of README.md and
// of docs/*.md: the file or directory exists; a fragment after a Go file
// or package directory (path#Symbol, path#Type.Method) names a
// declaration found there by go/parser; and a fragment of a Markdown page
// (page.md#heading, or #heading on the page itself) names one of its
// headings, as GitHub makes their anchors, or an <a id>. Renaming or
// moving a function, a page or a heading that a page links to fails here.
// Links in code (blocks and spans) are not links and are not checked.
func TestTourLinks(t *testing.T) {
	symbols, fragments := 0, 0
	pages := docPages(t)
	for page, text := range pages {
		for _, m := range mdLink.FindAllStringSubmatch(withoutCode(text), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, sym, _ := strings.Cut(target, "#")
			if path == "" {
				path = page
			} else {
				path = filepath.Join(filepath.Dir(page), path)
			}
			if strings.HasPrefix(filepath.Clean(path), "../../../") {
				continue // outside the repository, like ../shared/DESIGN.md beside the clone
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Errorf("%s: link %s: %v", page, target, err)
				continue
			}
			if sym == "" {
				continue
			}
			if strings.HasSuffix(path, ".md") {
				fragments++
				text, ok := pages[filepath.Clean(path)]
				if !ok {
					b, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					text = string(b)
				}
				if !anchors(text)[sym] {
					t.Errorf("%s: link %s: %s has no heading or anchor #%s", page, target, path, sym)
				}
				continue
			}
			files := []string{path}
			if fi.IsDir() {
				files, _ = filepath.Glob(filepath.Join(path, "*.go"))
			}
			symbols++
			if !declared(t, files, sym) {
				t.Errorf("%s: link %s: no declaration of %s in %s", page, target, sym, path)
			}
		}
	}
	// The pages link to dozens of functions and headings; finding few
	// means the link syntax drifted and this test checks nothing.
	t.Logf("checked %d links to Go symbols and %d to headings", symbols, fragments)
	if symbols < 20 || fragments < 50 {
		t.Errorf("found %d links to Go symbols and %d to headings, want at least 20 and 50", symbols, fragments)
	}
}

var (
	codeBlock = regexp.MustCompile("(?ms)^```.*?^```")
	codeSpan  = regexp.MustCompile("``.+?``|`[^`\n]+`")
	heading   = regexp.MustCompile(`(?m)^#{1,6}[ \t]+(.+?)[ \t]*#*$`)
	anchorTag = regexp.MustCompile(`<a id="([^"]+)"`)
)

// withoutCode returns text without its fenced code blocks and code spans.
func withoutCode(text string) string {
	return codeSpan.ReplaceAllString(codeBlock.ReplaceAllString(text, ""), "")
}

// anchors returns the fragments a Markdown page answers to: each heading's
// anchor as GitHub makes it (lower case; letters, digits, '-' and '_'
// kept, spaces made '-', the rest dropped; a repeat gets -1, -2, …), and
// each <a id="…">.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	text = codeBlock.ReplaceAllString(text, "")
	for _, m := range heading.FindAllStringSubmatch(text, -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteByte('-')
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	for _, m := range anchorTag.FindAllStringSubmatch(text, -1) {
		out[m[1]] = true
	}
	return out
}

// declared reports whether one of the files (tests excluded) declares sym:
// a function, type, constant or variable, or Type.Method.
func declared(t *testing.T, files []string, sym string) bool {
	t.Helper()
	recv, name, isMethod := strings.Cut(sym, ".")
	if !isMethod {
		name = recv
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		for _, d := range file.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Name.Name != name {
					continue
				}
				if !isMethod && d.Recv == nil {
					return true
				}
				if isMethod && d.Recv != nil && receiverName(d.Recv.List[0].Type) == recv {
					return true
				}
			case *ast.GenDecl:
				if isMethod {
					continue
				}
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if s.Name.Name == name {
							return true
						}
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.Name == name {
								return true
							}
						}
					}
				}
			}
		}
	}
	return false
}

func receiverName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return receiverName(e.X)
	case *ast.IndexExpr: // generic receiver T[P]
		return receiverName(e.X)
	case *ast.Ident:
		return e.Name
	}
	return ""
}

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// TestTourCode checks that every Go block the tour shows is code that runs
// in this package's tests (tour_test.go), up to indentation.
func TestTourCode(t *testing.T) {
	src, err := os.ReadFile("tour_test.go")
	if err != nil {
		t.Fatal(err)
	}
	tested := normalize(string(src))
	blocks := 0
	for page, text := range tourPages(t) {
		for _, m := range goBlock.FindAllStringSubmatch(text, -1) {
			blocks++
			if !strings.Contains(tested, normalize(m[1])) {
				t.Errorf("%s: this Go block is not in tour_test.go, so it is not tested:\n%s", page, m[1])
			}
		}
	}
	if blocks < 5 {
		t.Errorf("found %d Go blocks in the tour, want at least 5", blocks)
	}
}

// normalize drops indentation and blank lines.
func normalize(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		if l := strings.TrimSpace(line); l != "" {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

var (
	shBlock   = regexp.MustCompile("(?s)```sh\n(ws [^\n]*)\n```\n\n```text\n(.*?)```")
	wsFuncDef = regexp.MustCompile("(?s)\nws\\(\\) \\{.*?\n}\n")
)

// TestTourShell runs the tour's raw-TCP commands — a `ws ...` line in a sh
// block followed by a text block of its output — with the README's ws
// function, against the test server, and compares what they print.
func TestTourShell(t *testing.T) {
	for _, tool := range []string{"bash", "timeout", "od"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
	pages := tourPages(t)
	def := wsFuncDef.FindString(pages["README.md"])
	if def == "" {
		t.Fatal("README.md defines no ws() function")
	}
	def = strings.ReplaceAll(def, "127.0.0.1/8080", strings.Replace(addr, ":", "/", 1))
	runs := 0
	for page, text := range pages {
		for _, m := range shBlock.FindAllStringSubmatch(text, -1) {
			runs++
			cmd, want := m[1], m[2]
			t.Run(page+"/"+cmd, func(t *testing.T) {
				out, err := exec.Command("bash", "-c", def+cmd).Output()
				if err != nil {
					t.Fatalf("%s: %v", cmd, err)
				}
				if got := trimLines(string(out)); got != trimLines(want) {
					t.Errorf("%s printed\n%s\nthe tour says\n%s", cmd, got, want)
				}
			})
		}
	}
	if runs < 5 {
		t.Errorf("found %d raw-TCP commands in the tour, want at least 5", runs)
	}
}

func trimLines(s string) string {
	var b strings.Builder
	for line := range strings.Lines(strings.TrimSpace(s)) {
		b.WriteString(strings.TrimRight(line, " \n"))
		b.WriteByte('\n')
	}
	return b.String()
}

// TestTourFences checks that every code fence of the tour is a fence line
// of its own: "```" alone closes a block, "```lang" opens one. A closing
// fence with text after it is not a fence in Markdown, so the rest of the
// page would render as code (and TestTourShell, whose pattern stops at
// the first "```", would not notice).
func TestTourFences(t *testing.T) {
	for page, text := range tourPages(t) {
		open := false
		for i, line := range strings.Split(text, "\n") {
			fence := strings.TrimSpace(line)
			if !strings.HasPrefix(fence, "```") {
				continue
			}
			info := strings.TrimPrefix(fence, "```")
			switch {
			case open && info != "":
				t.Errorf("%s:%d: %q closes a code block only if nothing follows the backticks", page, i+1, line)
			case !open && strings.ContainsAny(info, " `"):
				t.Errorf("%s:%d: %q: a fence's info string is one word", page, i+1, line)
			}
			if !open || info == "" {
				open = !open
			}
		}
		if open {
			t.Errorf("%s: a code block is never closed", page)
		}
	}
}
