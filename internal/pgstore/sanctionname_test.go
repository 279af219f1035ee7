package pgstore

import (
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// TestMigrateSanctionName: as sqlitestore's test of the same name, for
// migration 18.
func TestMigrateSanctionName(t *testing.T) {
	ctx := t.Context()
	// The schema as a binary of version 17 left it.
	dsn, conn, exec := schemaAt(t, 17)
	then := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	exec(`INSERT INTO rooms (name, created_at) VALUES ('books', $1)`, then)
	exec(`INSERT INTO sanctions (room, username, kind, until, by_user, reason)
		VALUES ('books', '~gold', 'ban', $1, 'olga', 'spam')`, then)
	if err := conn.Close(ctx); err != nil {
		t.Fatal(err)
	}

	s := open(t, dsn)
	defer s.Close()
	if err := s.SetSanction(ctx, chat.Sanction{Room: "books", User: "~gnew", Kind: chat.Ban, Until: then.Add(time.Second), By: "olga", Name: "Gus"}); err != nil {
		t.Fatal(err)
	}
	ended, err := s.EndBans(ctx, then.Add(time.Minute), 10)
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
