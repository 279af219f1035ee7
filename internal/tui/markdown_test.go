package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestHostileMarkdownRendersFast: bodies of the longest size made of
// Markdown markers, which any user can send, must not make rendering the
// room slow: the view is rendered again for every event.
func TestHostileMarkdownRendersFast(t *testing.T) {
	bodies := []string{
		strings.Repeat("*", protocol.MaxBodyBytes),
		strings.Repeat("_", protocol.MaxBodyBytes),
		strings.Repeat("_*", protocol.MaxBodyBytes/2),
		strings.Repeat("**a ", protocol.MaxBodyBytes/4),
		strings.Repeat(" *a", protocol.MaxBodyBytes/3),
		strings.Repeat("[", protocol.MaxBodyBytes-4) + "](x)",
	}
	f := newFake("ada", false)
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 80, 24, "lobby")
	var evs []client.Event
	for i := range 100 {
		evs = append(evs, client.MessageEvent{Message: protocol.Message{
			Room: "lobby", Seq: int64(i + 1), From: "mallory", Body: bodies[i%len(bodies)], TS: t0.UnixMilli(),
		}})
	}
	h.events(evs...)
	w := h.m.current()
	// The best of three, against a busy machine. About 0.1s, 0.5s with
	// -race; it took 3s without -race when a span search went to the end
	// of the line for each marker and spans nested without bound.
	best := time.Duration(1<<63 - 1)
	for range 3 {
		start := time.Now()
		h.m.windowLines(w, 80)
		best = min(best, time.Since(start))
	}
	limit := time.Second
	if raceEnabled {
		limit = 4 * time.Second
	}
	if best > limit {
		t.Errorf("rendering 100 bodies of Markdown markers took %v, want under %v", best, limit)
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
