package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{10, 10, 1}, 10},
	} {
		if got := median(tc.xs); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}

func TestFormatFigure(t *testing.T) {
	for _, tc := range []struct {
		v      float64
		digits int
		want   string
	}{
		{0, 0, "0"}, {999, 0, "999"}, {1000, 0, "1,000"}, {1234567.891, 1, "1,234,567.9"},
		{-9876.5, 0, "-9,876"}, {12.345, 2, "12.35"}, {100000, 0, "100,000"},
	} {
		if got := formatFigure(tc.v, tc.digits); got != tc.want {
			t.Errorf("formatFigure(%v, %d) = %q, want %q", tc.v, tc.digits, got, tc.want)
		}
	}
}

func TestPrintTable(t *testing.T) {
	cfg := &compareConfig{bins: map[string]string{targetHubbub: "h", columnHubbubPG: "h", targetGorilla: "g", targetCentrifugo: "c"}, runs: 3,
		cases: []string{workloadStorm, workloadDurable}}
	cfg.storm.n, cfg.storm.workers = 100, 10
	cfg.durable.n, cfg.durable.rates = 10, []float64{1000}
	storm := cfg.benchCases()[0].name
	durable := cfg.benchCases()[1].name
	results := caseResults{
		storm: {
			targetHubbub:     {{ConnectsPerSec: 100}, {ConnectsPerSec: 300}, {ConnectsPerSec: 200}},
			targetGorilla:    {{ConnectsPerSec: 1000}, {ConnectsPerSec: 800}, {ConnectsPerSec: 900}},
			targetCentrifugo: {{ConnectsPerSec: 450}, {ConnectsPerSec: 450}},
		},
		durable: {
			targetHubbub:   {{AckedPerSec: 1000, AckP99: 20}, {AckedPerSec: 900, AckP99: 30}, {AckedPerSec: 950, AckP99: 25}},
			columnHubbubPG: {{AckedPerSec: 800, AckP99: 300}, {AckedPerSec: 700, AckP99: 500}, {AckedPerSec: 750, AckP99: 400}},
		},
	}
	var b strings.Builder
	printTable(&b, cfg, results)
	for _, want := range []string{
		"| workload | figure | hubbub | hubbub-pg | gorilla-chat | centrifugo |\n|---|---|---|---|---|---|\n",
		"| storm 100, 10 at a time | connections/s | 200 (0.22×) | no result | 900 | 450 (0.50×) [2 of 3 runs] |\n",
		"| storm 100, 10 at a time | server CPU per connection (µs) | 0 | no result | 0 | 0 [2 of 3 runs] |\n",
		"| durable, 10 senders at 1k messages/s | acked messages/s | 950 | 750 | n/a | n/a |\n",
		"| durable, 10 senders at 1k messages/s | ack p99 (ms) | 25.0 | 400.0 | n/a | n/a |\n",
		"durable on gorilla-chat (the gorilla chat example persists nothing",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

func TestCompareFlags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "server")
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, err := compareFlags([]string{"--hubbubd", bin, "--workloads", "fanout,durable", "--fanout-n", "10, 20", "--durable-rate", "2000, 20000", "--runs", "5"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.bins[targetHubbub] != bin || len(cfg.bins) != 1 || cfg.runs != 5 || len(cfg.fanout.ns) != 2 || cfg.fanout.ns[1] != 20 {
		t.Errorf("compareFlags = %+v", cfg)
	}
	var names []string
	for _, bc := range cfg.benchCases() {
		names = append(names, bc.name)
	}
	if got, want := strings.Join(names, "; "), "fanout room of 10 at 100k deliveries/s; fanout room of 20 at 100k deliveries/s; durable, 100 senders at 2k messages/s; durable, 100 senders at 20k messages/s"; got != want {
		t.Errorf("cases = %q, want %q", got, want)
	}
	if got := strings.Join(cfg.benchCases()[1].args, " "); !strings.Contains(got, "-n 20 --publishers 10 --rate 5000 ") {
		t.Errorf("fanout of 20 args = %q; want -n 20 --publishers 10 --rate 5000 (100k deliveries/s)", got)
	}
	cfg, err = compareFlags([]string{"--hubbubd", bin, "--postgres", "postgres://u@db:5432/test?sslmode=disable"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.bins[columnHubbubPG] != bin || cfg.bins[targetHubbub] != bin || cfg.postgres != "postgres://u@db:5432/test?sslmode=disable" {
		t.Errorf("compareFlags with --postgres: bins %v, postgres %q; want hubbub and hubbub-pg both %s", cfg.bins, cfg.postgres, bin)
	}
	for _, args := range [][]string{
		{"--postgres", "postgres://db/test"},                // hubbub-pg without hubbubd
		{"--hubbubd", bin, "--postgres", "mysql://db/test"}, // not PostgreSQL
		{},                                       // no server
		{"--hubbubd", bin + ".missing"},          // no such binary
		{"--hubbubd", bin, "--workloads", "nap"}, // no such workload
		{"--hubbubd", bin, "--fanout-n", "0"},
		{"--hubbubd", bin, "--durable-rate", "2000,fast"},
		{"--hubbubd", bin, "--durable-rate", "-1"},
		{"--hubbubd", bin, "--runs", "0"},
		{"--hubbubd", bin, "extra"},
	} {
		if _, err := compareFlags(args, io.Discard); err == nil {
			t.Errorf("compareFlags(%q) = nil error, want one", args)
		}
	}
}

// TestCompareFromColumns: --from finds which columns ran from the result
// files' names, and hubbub's pattern does not take hubbub-pg's files.
func TestCompareFromColumns(t *testing.T) {
	for _, tc := range []struct {
		files []string
		want  []string
	}{
		{[]string{"durable_10_senders-hubbub-pg-1.json"}, []string{columnHubbubPG}},
		{[]string{"durable_10_senders-hubbub-1.json"}, []string{targetHubbub}},
		{[]string{"storm-hubbub-2.json", "storm-hubbub-pg-2.json", "storm-gorilla-chat-1.json"}, []string{targetHubbub, columnHubbubPG, targetGorilla}},
	} {
		dir := t.TempDir()
		for _, f := range tc.files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cfg, err := compareFlags([]string{"--from", dir}, io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", tc.files, err)
		}
		var got []string
		for _, col := range compareColumns {
			if cfg.bins[col] != "" {
				got = append(got, col)
			}
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("files %v: columns %v, want %v", tc.files, got, tc.want)
		}
	}
}
