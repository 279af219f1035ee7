package server

import (
	"bufio"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// metricRow is a row of the metrics table of docs/operations.md:
// | `hubbub_name` or `hubbub_name{label}` | type | ...
var metricRow = regexp.MustCompile("^\\| `(hubbub_[a-z_]+)(?:\\{[a-z_,]+\\})?` \\| ([a-z]+) \\|")

// TestMetricsDocumented keeps the metrics table of docs/operations.md in
// step with what /metrics serves: every hubbub_* series the server
// registers has a row with its type, and every row names a series the
// server registers.
func TestMetricsDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if m := metricRow.FindStringSubmatch(l); m != nil {
			if _, dup := documented[m[1]]; dup {
				t.Errorf("docs/operations.md: two rows for %s", m[1])
			}
			documented[m[1]] = m[2]
		}
	}
	if len(documented) < 10 {
		t.Fatalf("found %d metric rows in docs/operations.md; the table's format changed", len(documented))
	}

	s := newTestServer(t, nil)
	resp, err := http.Get(s.ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	served := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		// # TYPE hubbub_connections gauge
		f := strings.Fields(sc.Text())
		if len(f) == 4 && f[0] == "#" && f[1] == "TYPE" && strings.HasPrefix(f[2], "hubbub_") {
			served[f[2]] = f[3]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	for name, typ := range served {
		switch doc, ok := documented[name]; {
		case !ok:
			t.Errorf("docs/operations.md has no row for the metric %s (%s)", name, typ)
		case doc != typ:
			t.Errorf("docs/operations.md says %s is a %s; /metrics serves a %s", name, doc, typ)
		}
	}
	for name := range documented {
		if _, ok := served[name]; !ok {
			t.Errorf("docs/operations.md documents %s, which /metrics does not serve", name)
		}
	}
}
