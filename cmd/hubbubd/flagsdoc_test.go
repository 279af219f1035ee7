package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFlagsDocumented wants every flag of hubbubd -h named as --flag in
// README.md or docs/ (docs/benchmarks.md, a measurement log, does not
// count), so that a flag added without a word in the docs fails here.
func TestFlagsDocumented(t *testing.T) {
	var usage bytes.Buffer
	m := &Main{Stdout: io.Discard, Stderr: &usage}
	if err := m.ParseFlags([]string{"-h"}, func(string) string { return "" }); !errors.Is(err, errHelp) {
		t.Fatalf("ParseFlags(-h) = %v, want errHelp", err)
	}
	flags := regexp.MustCompile(`(?m)^  -([a-z][a-z0-9-]*)`).FindAllStringSubmatch(usage.String(), -1)
	if len(flags) < 20 {
		t.Fatalf("found %d flags in hubbubd -h; its format changed:\n%s", len(flags), usage.String())
	}

	root := filepath.Join("..", "..")
	pages := []string{filepath.Join(root, "README.md")}
	for _, glob := range []string{"docs/*.md", "docs/learn/*.md"} {
		more, err := filepath.Glob(filepath.Join(root, glob))
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, more...)
	}
	var docs strings.Builder
	for _, p := range pages {
		if filepath.Base(p) == "benchmarks.md" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		docs.Write(b)
	}
	for _, f := range flags {
		name := f[1]
		if !regexp.MustCompile(`--` + regexp.QuoteMeta(name) + `([^a-z0-9-]|$)`).MatchString(docs.String()) {
			t.Errorf("hubbubd --%s is named nowhere in README.md or docs/ (benchmarks.md aside)", name)
		}
	}
}
