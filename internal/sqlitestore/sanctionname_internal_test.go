package sqlitestore

import (
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// TestMigrateSanctionName: a timed ban stored before version 22 has no
// display name (chat.Sanction.Name); after the step it is still there,
// with an empty one, and a ban set since keeps its name.
func TestMigrateSanctionName(t *testing.T) {
	ctx := t.Context()
	stmts := append([]string{}, migrations[:21]...)
	path := oldDatabase(t, append(stmts, "PRAGMA user_version = 21",
		`INSERT INTO rooms (name, created_at) VALUES ('books', 1000)`,
		`INSERT INTO sanctions (room, user, kind, until, by_user, reason)
			VALUES ('books', '~gold', 'ban', 2000, 'olga', 'spam')`)...)
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open of a version 21 database: %v", err)
	}
	defer s.Close()
	if err := s.SetSanction(ctx, chat.Sanction{Room: "books", User: "~gnew", Kind: chat.Ban, Until: time.UnixMilli(3000), By: "olga", Name: "Gus"}); err != nil {
		t.Fatal(err)
	}
	ended, err := s.EndBans(ctx, time.UnixMilli(5000), 10)
	if err != nil {
		t.Fatal(err)
	}
	names := make(map[string]string)
	for _, sn := range ended {
		names[sn.User] = sn.Name
	}
	if len(ended) != 2 || names["~gold"] != "" || names["~gnew"] != "Gus" {
		t.Errorf("ended bans = %+v; want ~gold without a name and ~gnew named Gus", ended)
	}
}
