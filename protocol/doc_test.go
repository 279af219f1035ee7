package protocol_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestProtocolDoc keeps docs/protocol.md in step with the package: it must
// quote every golden file verbatim, and its Error codes and Close codes
// tables must have one row for each code declared in codes.go, and no other,
// its Operations table must list each op with the fields it takes, and its
// Limits table must name each constant of limits.go.
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

	// Each code has a row in its own table, and each row of those tables
	// is a code the package declares: a code documented only in passing,
	// or a row left behind by a removed code, fails here.
	codes, closes := codeConstants(t)
	compareRows(t, "Error codes", tableKeys(t, doc, "Error codes", "`"), codes)
	// 1006 is never sent: RFC 6455 reserves it for a library to report a
	// connection that dropped without a close frame; the table explains it.
	compareRows(t, "Close codes", tableKeys(t, doc, "Close codes", ""), append(closes, "1006"))

	checkOperationsTable(t, doc)
	checkLimitsTable(t, doc)
}

// checkLimitsTable wants the constant column of the Limits table to name
// every constant of limits.go, and no other.
func checkLimitsTable(t *testing.T, doc string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "limits.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.CONST {
			for _, s := range gd.Specs {
				for _, n := range s.(*ast.ValueSpec).Names {
					declared[n.Name] = true
				}
			}
		}
	}
	_, sec, ok := strings.Cut(doc, "\n## Limits\n")
	if !ok {
		t.Fatal("docs/protocol.md has no section Limits")
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	named := map[string]bool{}
	constant := regexp.MustCompile("`([A-Z][A-Za-z]+)`")
	for _, l := range strings.Split(sec, "\n") {
		cells := strings.Split(l, "|")
		if len(cells) != 5 { // | limit | value | constant |
			continue
		}
		for _, m := range constant.FindAllStringSubmatch(cells[3], -1) {
			named[m[1]] = true
			if !declared[m[1]] {
				t.Errorf("docs/protocol.md, Limits: %s is no constant of limits.go", m[1])
			}
		}
	}
	for name := range declared {
		if !named[name] {
			t.Errorf("docs/protocol.md, Limits: no row names %s of limits.go", name)
		}
	}
}

// opsRow is a row of the Operations table:
// | [`op`](#anchor) | fields (required in **bold**) | ok reply carries |
var opsRow = regexp.MustCompile("^\\| \\[`([a-z_]+)`\\]\\([^)]*\\) \\|([^|]*)\\|")

// checkOperationsTable wants one row of the Operations table for each op
// the decoder knows, naming exactly the fields it takes, the required ones
// in bold.
func checkOperationsTable(t *testing.T, doc string) {
	t.Helper()
	field := regexp.MustCompile("(\\*\\*)?`([a-z0-9_]+)`(\\*\\*)?")
	rows := map[string]string{}
	for _, l := range strings.Split(doc, "\n") {
		if m := opsRow.FindStringSubmatch(l); m != nil {
			if _, dup := rows[m[1]]; dup {
				t.Errorf("docs/protocol.md, Operations: two rows for %s", m[1])
			}
			rows[m[1]] = m[2]
		}
	}
	ops := protocol.Ops()
	sort.Strings(ops)
	for _, op := range ops {
		cell, ok := rows[op]
		if !ok {
			t.Errorf("docs/protocol.md, Operations: no row for %s", op)
			continue
		}
		delete(rows, op)
		var req, opt []string
		for _, m := range field.FindAllStringSubmatch(cell, -1) {
			if m[1] != "" && m[3] != "" {
				req = append(req, m[2])
			} else {
				opt = append(opt, m[2])
			}
		}
		wantReq, wantOpt, _ := protocol.OpFields(op)
		if !sameSet(req, wantReq) || !sameSet(opt, wantOpt) {
			t.Errorf("docs/protocol.md, Operations: %s takes required %v, optional %v; the decoder: required %v, optional %v", op, req, opt, wantReq, wantOpt)
		}
	}
	for op := range rows {
		t.Errorf("docs/protocol.md, Operations: row for %s, which is no operation of v1", op)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// tableKeys returns the first cell of every row of the first table in the
// "## heading" section of doc, with quote (such as "`") trimmed around it.
func tableKeys(t *testing.T, doc, heading, quote string) []string {
	t.Helper()
	_, sec, ok := strings.Cut(doc, "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("docs/protocol.md has no section %q", heading)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var keys []string
	inTable := false
	for _, l := range strings.Split(sec, "\n") {
		if !strings.HasPrefix(l, "|") {
			if inTable {
				break // the first table ended
			}
			continue
		}
		inTable = true
		cells := strings.Split(l, "|")
		if len(cells) < 3 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		key := strings.TrimSpace(cells[1])
		if key == "code" {
			continue // the header
		}
		if quote != "" {
			unq, ok := strings.CutPrefix(key, quote)
			unq, ok2 := strings.CutSuffix(unq, quote)
			if !ok || !ok2 {
				t.Errorf("docs/protocol.md, %s: row %q does not start with a %s-quoted code", heading, l, quote)
				continue
			}
			key = unq
		}
		keys = append(keys, key)
	}
	return keys
}

// compareRows reports codes without a row, and rows that are no code.
func compareRows(t *testing.T, heading string, rows, codes []string) {
	t.Helper()
	want := map[string]bool{}
	for _, c := range codes {
		want[c] = true
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r] {
			t.Errorf("docs/protocol.md, %s: two rows for %s", heading, r)
		}
		seen[r] = true
		if !want[r] {
			t.Errorf("docs/protocol.md, %s: row for %s, which codes.go does not declare", heading, r)
		}
	}
	for _, c := range codes {
		if !seen[c] {
			t.Errorf("docs/protocol.md, %s: no row for %s", heading, c)
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
