// Package version describes the running binary from the build information
// the Go toolchain embeds in it (runtime/debug.ReadBuildInfo): the module
// version, the commit it was built from and the Go release. It is what
// `hubbubd --version` and `hubbub --version` print.
package version

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// String returns one line naming prog and how it was built, such as
// "hubbubd v1.4.0 (go1.26.8)" for a binary installed with go install at a
// tagged version, or "hubbubd (devel) commit 1a2b3c4d5e6f, modified,
// 2026-12-04T16:00:00Z (go1.26.8)" for one built in a checkout. Parts the
// build did not record are left out.
func String(prog string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return prog + " (no build information)"
	}
	return format(prog, bi)
}

func format(prog string, bi *debug.BuildInfo) string {
	var b strings.Builder
	b.WriteString(prog)
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	b.WriteString(" " + v)
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	var vcs []string
	if rev := settings["vcs.revision"]; rev != "" {
		vcs = append(vcs, "commit "+rev[:min(len(rev), 12)])
		if settings["vcs.modified"] == "true" {
			vcs = append(vcs, "modified")
		}
		if t := settings["vcs.time"]; t != "" {
			vcs = append(vcs, t)
		}
	}
	if len(vcs) > 0 {
		b.WriteString(" " + strings.Join(vcs, ", "))
	}
	fmt.Fprintf(&b, " (%s)", bi.GoVersion)
	return b.String()
}
