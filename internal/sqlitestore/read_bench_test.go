package sqlitestore_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
)

// BenchmarkJoinReads: the reads a guest's join makes (the room, a ban, a
// mute, the room again).
func BenchmarkJoinReads(b *testing.B) {
	s, err := sqlitestore.Open(filepath.Join(b.TempDir(), "hubbub.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := b.Context()
	for b.Loop() {
		if _, err := s.Room(ctx, chat.DefaultRoom); err != nil {
			b.Fatal(err)
		}
		for _, k := range []string{chat.Ban, chat.Mute} {
			if _, _, err := s.ActiveSanction(ctx, chat.DefaultRoom, "alice", k, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.Room(ctx, chat.DefaultRoom); err != nil {
			b.Fatal(err)
		}
	}
}
