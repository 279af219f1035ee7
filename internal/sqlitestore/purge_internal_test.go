package sqlitestore

import (
	"database/sql"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// TestMigratePurgesDeletedFiles: before version 15 the file of a deleted
// message, or of a message of a deleted room, was kept for ever. The step
// to 15 purges those files, and no other: not one a message carries, not
// one claimed for a message that is not stored yet (a send in flight), not
// one never sent.
func TestMigratePurgesDeletedFiles(t *testing.T) {
	ctx := t.Context()
	stmts := append([]string{}, migrations[:14]...)
	path := oldDatabase(t, append(stmts, "PRAGMA user_version = 14")...)
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			db.Close()
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO rooms (name, created_at, last_seq) VALUES ('books', 1000, 3)`)
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
			VALUES ('books', ?, 'alice', 0, '', ?, 2000, ?, ?)`, m.seq, m.cmid, m.deleted, m.file)
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
			VALUES (?, 'alice', 'a name', 2, 'sum', 2, 1, 1000, 1000, 'image/png', ?, ?, ?)`,
			f.id, []byte("thumb"), f.room, f.cmid)
		exec(`INSERT INTO upload_chunks (upload, pos, data) VALUES (?, 0, ?)`, f.id, []byte("ab"))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open of a version 14 database: %v", err)
	}
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
	if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM upload_chunks`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 4 {
		t.Errorf("%d chunks left, want 4 (the files kept)", left)
	}
}
