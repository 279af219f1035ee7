package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
)

// TestWrapKeepsText: a line cut inside a word — a run of CJK, which has no
// spaces, or a long URL — goes on on the next line as it is: no space is
// put in at the cut, and the lines after the first are full, not cut
// again one cell short of the first's width (a lone 界 on every other
// line at 40 columns).
func TestWrapKeepsText(t *testing.T) {
	cjk := strings.Repeat("你好世界", 23)
	url := "https://example.com/" + strings.Repeat("abcdefghij", 12) + "?q=1"
	words := "a line of words that goes on and on and on so that it has to be wrapped over several lines of the view"
	for _, width := range []int{40, 60, 80, 100} {
		f := newFake("ada", false)
		f.addRoom("lobby", "", 0)
		h := newHarness(t, f, width, 60, "lobby")
		h.events(
			msgAt("lobby", 1, "grace", cjk, t0),
			msgAt("lobby", 2, "grace", url, t0),
			msgAt("lobby", 3, "grace", words, t0),
		)
		h.view()
		vw := h.m.vp.Width
		lines := h.m.windowLines(h.m.current(), vw)
		for i, body := range []string{cjk, url, words} {
			start, end := h.m.lineOf[int64(i+1)], len(lines)
			if next, ok := h.m.lineOf[int64(i+2)]; ok {
				end = next
			}
			var got []string
			for _, l := range lines[start:end] {
				got = append(got, strings.TrimLeft(l, " "))
			}
			sep := ""
			if body == words {
				sep = " "
			}
			if joined := strings.Join(got, sep); joined != body {
				t.Errorf("width %d: message %d is shown as\n%s\nwhich reads %q, want %q", width, i+1, strings.Join(lines[start:start+len(got)], "\n"), joined, body)
			}
			for j, l := range got[:max(0, len(got)-1)] {
				// Every line but the last is full: at most one wide
				// character's worth short of the width it was given.
				indent := 2
				if j > 0 {
					indent = 4
				}
				if w := lipgloss.Width(l); body != words && w < vw-indent-1 {
					t.Errorf("width %d: message %d, line %d is %d cells, want %d: %q", width, i+1, j+1, w, vw-indent, l)
				}
			}
		}
	}
}

// TestAuthorLineKeepsTime: a long name is cut to leave room for the guest
// mark and the time (or "sending…"), which it used to cut to "0…".
func TestAuthorLineKeepsTime(t *testing.T) {
	f := newFake("ada", false)
	h := newHarness(t, f, 40, 12)
	long := "averyveryverylongguestname_abcd"
	tests := []struct {
		from  string
		guest bool
		when  string
		width int
		want  string
	}{
		{long, true, "09:26", 38, "averyveryverylongguest… (guest)  09:26"},
		{long, false, "sending…", 30, "averyveryverylonggu…  sending…"},
		{"grace", true, "09:26", 38, "grace (guest)  09:26"},
		{long, true, "09:26", 16, "averyveryverylo…"}, // too narrow: the line is cut
	}
	for _, tt := range tests {
		got := h.m.drawAuthorLine(tt.from, tt.guest, tt.when, tt.width)
		if got != tt.want {
			t.Errorf("drawAuthorLine(%q, %v, %q, %d) = %q, want %q", tt.from, tt.guest, tt.when, tt.width, got, tt.want)
		}
		if w := lipgloss.Width(got); w > tt.width {
			t.Errorf("%q is %d cells, more than %d", got, w, tt.width)
		}
	}
}

// TestCodeWrapKeepsIndent: a code line too long for the view goes on
// under its own start, not two cells to the left of it, where it read as
// text after the block.
func TestCodeWrapKeepsIndent(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 40, 20, "lobby")
	h.events(msgAt("lobby", 1, "grace", "```\nfunc main() { fmt.Println(\"hello, world, from a long line\") }\n\tx := 1\n```\nafter", t0))
	v := h.view()
	want := []string{
		"     func main() { fmt.Println(\"hello, w",
		"     orld, from a long line\") }",
		"         x := 1",
	}
	for _, l := range want {
		if !strings.Contains(v, l+" ") && !strings.Contains(v, l+"\n") {
			t.Errorf("view has no line %q:\n%s", l, v)
		}
	}
}
