package pgstore

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// TestMigratePurgesDeletedFiles: as sqlitestore's test of the same name,
// for migration 12.
func TestMigratePurgesDeletedFiles(t *testing.T) {
	ctx := t.Context()
	// The schema as a binary of version 11 left it.
	dsn, conn, exec := schemaAt(t, 11)
	then := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	exec(`INSERT INTO rooms (name, created_at, last_seq) VALUES ('books', $1, 3)`, then)
	for _, m := range []struct {
		seq     int64
		cmid    string
		deleted bool
		file    string
	}{
		{1, "c-deleted", true, ""},
		{2, "c-live", false, "f_live"},
		{3, "", true, ""},
	} {
		exec(`INSERT INTO messages (room, seq, author, guest, body, cmid, ts, deleted, file_id)
			VALUES ('books', $1, 'alice', false, '', $2, $3, $4, $5)`, m.seq, m.cmid, then, m.deleted, m.file)
	}
	files := []struct {
		id, room, cmid string
		kept           bool
	}{
		{"f_deleted", "books", "c-deleted", false}, // its message is deleted
		{"f_gone_room", "films", "c-film", false},  // its room is deleted
		{"f_live", "books", "c-live", true},        // a message carries it
		{"f_sending", "books", "c-sending", true},  // claimed, its message not stored yet
		{"f_nocmid", "books", "", true},            // claimed without a cmid: which message is not known
		{"f_unsent", "", "", true},                 // ExpireUploads's, not this
	}
	for _, f := range files {
		exec(`INSERT INTO uploads (id, owner, name, size, sha256, received, complete, created_at, updated_at,
				type, thumb, room, cmid)
			VALUES ($1, 'alice', 'a name', 2, 'sum', 2, true, $2, $2, 'image/png', $3, $4, $5)`,
			f.id, then, []byte("thumb"), f.room, f.cmid)
		exec(`INSERT INTO upload_chunks (upload, pos, data) VALUES ($1, 0, $2)`, f.id, []byte("ab"))
	}
	if err := conn.Close(ctx); err != nil {
		t.Fatal(err)
	}

	s := open(t, dsn)
	defer s.Close()
	want := make(map[string]bool)
	got := make(map[string]bool)
	for _, f := range files {
		want[f.id] = f.kept
		_, err := s.Upload(ctx, f.id)
		if err != nil && !errors.Is(err, chat.ErrNoSuchFile) {
			t.Fatal(err)
		}
		got[f.id] = err == nil
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files kept after the migration (-want +got):\n%s", diff)
	}
	if n, err := s.PurgeFiles(ctx, 100); err != nil || n != 2 {
		t.Errorf("PurgeFiles = %d, %v; want the 2 chunks of the purged files", n, err)
	}
	var left int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM upload_chunks`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 4 {
		t.Errorf("%d chunks left, want 4 (the files kept)", left)
	}
}
