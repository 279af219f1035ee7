package protocol_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestProtocolDoc keeps docs/protocol.md in step with the package: it must
// quote every golden file verbatim and name every error and close code.
func TestProtocolDoc(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "protocol.md"))
	if err != nil {
		t.Skipf("docs/protocol.md not found: %v", err)
	}
	doc := string(b)
	lines := map[string]bool{}
	for _, l := range strings.Split(doc, "\n") {
		lines[l] = true
	}

	goldens, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range goldens {
		g, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !lines[string(g)] {
			t.Errorf("docs/protocol.md does not quote %s on a line of its own:\n%s", path, g)
		}
	}

	codes, closes := codeConstants(t)
	for _, c := range codes {
		if !strings.Contains(doc, "| `"+c+"` |") {
			t.Errorf("docs/protocol.md has no row for error code %s", c)
		}
	}
	for _, c := range closes {
		if !strings.Contains(doc, "| "+c+" |") {
			t.Errorf("docs/protocol.md has no row for close code %s", c)
		}
	}
}

// codeConstants returns the values of the Code constants and of the
// Close* constants declared in codes.go.
func codeConstants(t *testing.T) (codes, closes []string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("codes.go: %s is not a literal", name.Name)
				}
				switch {
				case lit.Kind == token.STRING:
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					codes = append(codes, v)
				case strings.HasPrefix(name.Name, "Close"):
					closes = append(closes, lit.Value)
				}
			}
		}
	}
	if len(codes) == 0 || len(closes) == 0 {
		t.Fatal("found no codes in codes.go")
	}
	return codes, closes
}
