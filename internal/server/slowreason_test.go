package server

import (
	"strings"
	"testing"
)

// TestSlowReasons: every reason a slow consumer is closed for has a close
// reason of its own that says it, short enough for a close frame (123
// bytes).
func TestSlowReasons(t *testing.T) {
	seen := map[string]string{}
	for _, r := range []string{slowBySize, slowByAge, slowByLag} {
		got := slowReasons[r]
		if !strings.HasPrefix(got, "slow consumer: ") || len(got) > 123 {
			t.Errorf("close reason for %s = %q, want \"slow consumer: …\" of at most 123 bytes", r, got)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%s and %s share the close reason %q", r, other, got)
		}
		seen[got] = r
	}
}
