package tui

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	// docCommand is a command (or an alias) in the first cell of a row of
	// docs/terminal.md's command tables: | `/join ROOM` (`/j`) | …
	docCommand = regexp.MustCompile("`(/[a-z?]+)")
	// helpCommand is a command (or an alias: "also /j") in a line of /help.
	helpCommand = regexp.MustCompile(`(?:^|[\s(,;])(/[a-z?]+)`)
)

// documentedCommands returns the commands and aliases of the command tables
// of docs/terminal.md ("Commands" and "Managing a room"), sorted.
func documentedCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "terminal.md"))
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		cells := strings.Split(l, "|")
		if !strings.HasPrefix(l, "| `/") || len(cells) < 3 {
			continue
		}
		for _, m := range docCommand.FindAllStringSubmatch(cells[1], -1) {
			set[m[1]] = true
		}
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// TestCommandsDocumented keeps docs/terminal.md's command tables in step
// with the client: every command and alias the tables name is one the
// input line runs (not "Unknown command"), and every command and alias
// that /help and /help mod name is in the tables.
func TestCommandsDocumented(t *testing.T) {
	documented := documentedCommands(t)
	if len(documented) < 30 {
		t.Fatalf("found %d commands in docs/terminal.md's tables, want at least 30; their format changed?", len(documented))
	}

	for _, c := range documented {
		t.Run(c, func(t *testing.T) {
			f := newFake("ada", false)
			f.addRoom("lobby", "", 0, "grace")
			h := newHarness(t, f, 80, 24, "lobby")
			h.typeText(c, true)
			if h.quit {
				return // /quit and its aliases: run, and the view is gone
			}
			h.wantNotView("Unknown command")
		})
	}

	var helped []string
	for _, l := range slices.Concat(Help, PickHelp, ManageHelp) {
		for _, m := range helpCommand.FindAllStringSubmatch(l, -1) {
			if !slices.Contains(helped, m[1]) {
				helped = append(helped, m[1])
			}
		}
	}
	sort.Strings(helped)
	var missing []string
	for _, c := range helped {
		if !slices.Contains(documented, c) {
			missing = append(missing, c)
		}
	}
	if diff := cmp.Diff([]string(nil), missing); diff != "" {
		t.Errorf("commands /help names that docs/terminal.md's tables lack (-want +got):\n%s", diff)
	}
}

// helpKey is a key as /help and docs/terminal.md's key table name it:
// Enter, Alt+Enter, Ctrl+J, Shift+Tab, PgUp, Alt+1.
var helpKey = regexp.MustCompile(`\b(?:(?:Alt|Ctrl|Shift)\+)+(?:Enter|Tab|[A-Z0-9])\b|\b(?:Enter|Tab|Esc|PgUp|PgDn|Up|Down)\b`)

// TestKeysDocumented keeps docs/terminal.md's key table in step with
// /help: every key /help names is in the first column of the table.
func TestKeysDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "terminal.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, keys, _ := strings.Cut(string(b), "\n## Keys\n")
	keys, _, _ = strings.Cut(keys, "\n## ")
	documented := map[string]bool{}
	for _, l := range strings.Split(keys, "\n") {
		if cells := strings.Split(l, "|"); strings.HasPrefix(l, "| ") && len(cells) > 2 {
			for _, k := range helpKey.FindAllString(cells[1], -1) {
				documented[k] = true
			}
		}
	}
	if len(documented) < 10 {
		t.Fatalf("found %d keys in docs/terminal.md's key table, want at least 10; its format changed?", len(documented))
	}
	var missing []string
	for _, l := range Help {
		for _, k := range helpKey.FindAllString(l, -1) {
			if !documented[k] && !slices.Contains(missing, k) {
				missing = append(missing, k)
			}
		}
	}
	if diff := cmp.Diff([]string(nil), missing); diff != "" {
		t.Errorf("keys /help names that docs/terminal.md's key table lacks (-want +got):\n%s", diff)
	}
}
