package server

import (
	"bytes"
	"log/slog"
	"testing"
)

// TestConnLogger: a connection's logger writes what base.With("conn", id)
// (then .With("user", name)) wrote, attribute for attribute, through
// With and WithGroup too, and drops what base's level drops.
func TestConnLogger(t *testing.T) {
	tests := []struct {
		name string
		user string
		log  func(l *slog.Logger)
	}{
		{"before hello", "", func(l *slog.Logger) { l.Info("slow consumer closed", "reason", "size", "queued", 3) }},
		{"after hello", "alice", func(l *slog.Logger) { l.Warn("command failed", "err", "boom") }},
		{"below the level", "alice", func(l *slog.Logger) { l.Debug("peer silent; dropped") }},
		{"with", "bob", func(l *slog.Logger) { l.With("trace", true).Info("frame", "dir", "in") }},
		{"with group", "bob", func(l *slog.Logger) { l.WithGroup("g").Info("frame", "dir", "in") }},
		{"no attributes", "", func(l *slog.Logger) { l.Error("encode reply") }},
	}
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got, want bytes.Buffer
			newBase := func(w *bytes.Buffer) *slog.Logger {
				return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{ReplaceAttr: noTime})).With("node", "n1")
			}
			base := newBase(&want)
			ref := base.With("conn", uint64(42))
			if tt.user != "" {
				ref = ref.With("user", tt.user)
			}
			tt.log(ref)
			tt.log(connLogger(newBase(&got), 42, tt.user))
			if got.String() != want.String() {
				t.Errorf("got  %q\nwant %q", got.String(), want.String())
			}
		})
	}
}
