package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"tagged", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}},
			"hubbubd v1.4.0 (go1.26.8)"},
		{"checkout", debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "1a2b3c4d5e6f7a8b9c0d"},
				{Key: "vcs.modified", Value: "true"},
				{Key: "vcs.time", Value: "2026-12-04T16:00:00Z"},
			}},
			"hubbubd (devel) commit 1a2b3c4d5e6f, modified, 2026-12-04T16:00:00Z (go1.26.8)"},
		{"no vcs", debug.BuildInfo{GoVersion: "go1.26.8"}, "hubbubd (devel) (go1.26.8)"},
	}
	for _, tt := range tests {
		if got := format("hubbubd", &tt.bi); got != tt.want {
			t.Errorf("%s: format = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestString checks the test binary's own build information is read.
func TestString(t *testing.T) {
	got := String("prog")
	if !strings.HasPrefix(got, "prog ") || !strings.Contains(got, "(go1.") {
		t.Errorf("String = %q, want the program name and the Go release", got)
	}
}
