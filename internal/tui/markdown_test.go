package tui

import (
	"strings"
	"testing"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestHostileMarkdownRendersFast: bodies of the longest size made of
// Markdown markers, which any user can send, must not make rendering
// slow, since the view renders the room again for every event. The work
// is counted, not timed: the bytes the searches for closing markers look
// at, per body, must stay within a few passes over it. (Before a marker
// found unclosed was remembered and nesting was bounded, a body of 4096
// '*' made them look at about 8 million bytes: 1024 nested spans, each a
// pass, and a search to the end for every marker.) BenchmarkHostileMarkdown
// measures the time.
func TestHostileMarkdownRendersFast(t *testing.T) {
	var scanned int
	spanScanned = func(n int) { scanned += n }
	defer func() { spanScanned = nil }()
	for _, body := range hostileBodies {
		scanned = 0
		plainLines(body)
		// A pass over the line per nesting level (8), and a few more
		// for the marker kinds (*, _, **, __): 9 passes today.
		if limit := 40 * len(body); scanned > limit {
			t.Errorf("rendering %.12q… (%d bytes) looked at %d bytes in span searches, want at most %d", body, len(body), scanned, limit)
		}
	}
}

// hostileBodies are message bodies of the longest size made of Markdown
// markers.
var hostileBodies = []string{
	strings.Repeat("*", protocol.MaxBodyBytes),
	strings.Repeat("_", protocol.MaxBodyBytes),
	strings.Repeat("_*", protocol.MaxBodyBytes/2),
	strings.Repeat("**a ", protocol.MaxBodyBytes/4),
	strings.Repeat(" *a", protocol.MaxBodyBytes/3),
	strings.Repeat("[", protocol.MaxBodyBytes-4) + "](x)",
	strings.Repeat("**a** ", protocol.MaxBodyBytes/6),
	strings.Repeat("*a ", protocol.MaxBodyBytes/6) + strings.Repeat("a* ", protocol.MaxBodyBytes/6),
}

// BenchmarkHostileMarkdown renders a room window of 100 hostile bodies,
// as the view does for every event in that room.
func BenchmarkHostileMarkdown(b *testing.B) {
	f := newFake("ada", false)
	f.addRoom("lobby", "", 0)
	h := newHarness(b, f, 80, 24, "lobby")
	var evs []client.Event
	for i := range 100 {
		evs = append(evs, client.MessageEvent{Message: protocol.Message{
			Room: "lobby", Seq: int64(i + 1), From: "mallory", Body: hostileBodies[i%len(hostileBodies)], TS: t0.UnixMilli(),
		}})
	}
	h.events(evs...)
	w := h.m.current()
	for b.Loop() {
		h.m.windowLines(w, 80)
	}
}

// TestNestedSpans: spans nest (bold in italic in a link), up to
// maxNesting levels; deeper markers stay as text.
func TestNestedSpans(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"**bold _and italic_**", "bold and italic"},
		{"[**a** link](http://x)", "a link (http://x)"},
		{"****", "****"},
		{"**x** *y*", "x y"},
		{strings.Repeat("*", 2*maxNesting+2) + "x" + strings.Repeat("*", 2*maxNesting+2), "**x**"},
	}
	for _, tt := range tests {
		if got := plainInline(tt.in); got != tt.want {
			t.Errorf("plainInline(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
