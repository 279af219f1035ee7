package sqlitestore

import (
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// waitingClaims returns the ids of the uploads in uploads_claimed: the
// claims whose message ExpireUploads does not know to be stored.
func waitingClaims(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT id FROM uploads INDEXED BY uploads_claimed
		WHERE complete = 1 AND room <> '' AND sent = 0 AND purged = 0 AND updated_at < ? ORDER BY id`,
		time.Now().Add(time.Hour).UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestAppendMarksFilesSent: the message that carries a file takes its file
// out of uploads_claimed in the transaction that stores it, so that the
// hourly expiry reads only the claims still waiting for their message;
// a resend (stored already) and a refused message mark nothing.
func TestAppendMarksFilesSent(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	if err := s.CreateRoom(ctx, chat.Room{Name: "books"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"f_sent", "f_waiting", "f_refused"} {
		u := chat.Upload{ID: id, Owner: "alice", Name: id, Size: 2, SHA256: "sum"}
		if err := s.CreateUpload(ctx, u, chat.Quota{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AppendChunk(ctx, id, 0, []byte("ok")); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteUpload(ctx, id, chat.FileInfo{Type: "text/plain"}); err != nil {
			t.Fatal(err)
		}
		if err := s.ClaimFile(ctx, id, "alice", "books", "c-"+id); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := waitingClaims(t, s.reader), []string{"f_refused", "f_sent", "f_waiting"}; !slices.Equal(got, want) {
		t.Fatalf("claims waiting before the sends = %v, want %v", got, want)
	}
	res, err := s.Append(ctx, []chat.NewMessage{
		{Room: "books", Author: "alice", Body: "sent", CMID: "c-f_sent", FileID: "f_sent"},
		{Room: "books", Author: "alice", Body: "refused", CMID: "c-f_refused", FileID: "f_refused", ReplyTo: 99},
	})
	if err != nil || res[0].Err != nil || res[1].Err == nil {
		t.Fatalf("Append = %+v, %v; want the first stored and the reply to nothing refused", res, err)
	}
	if got, want := waitingClaims(t, s.reader), []string{"f_refused", "f_waiting"}; !slices.Equal(got, want) {
		t.Errorf("claims waiting after the sends = %v, want %v", got, want)
	}
}

// TestMigrateMarksFilesSent: the step to version 20 marks sent the files
// that messages carry, and no other, so that the first expiry after the
// upgrade deletes the claims whose message was never stored and keeps
// every file a message carries.
func TestMigrateMarksFilesSent(t *testing.T) {
	ctx := t.Context()
	path := oldDatabase(t, append(slices.Clone(migrations[:19]), "PRAGMA user_version = 19")...)
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
	exec(`INSERT INTO rooms (name, created_at, last_seq) VALUES ('books', 1000, 2)`)
	exec(`INSERT INTO messages (room, seq, author, guest, body, cmid, ts, file_id)
		VALUES ('books', 1, 'alice', 0, 'a file', 'c-live', 2000, 'f_live'),
		       ('books', 2, 'alice', 0, 'no file', 'c-plain', 2000, '')`)
	for _, f := range []struct{ id, room, cmid string }{
		{"f_live", "books", "c-live"}, // a message carries it
		{"f_lost", "books", "c-lost"}, // claimed; its message was never stored
		{"f_unsent", "", ""},          // never claimed
	} {
		exec(`INSERT INTO uploads (id, owner, name, size, sha256, received, complete, created_at, updated_at, room, cmid)
			VALUES (?, 'alice', 'a name', 2, 'sum', 2, 1, 1000, 1000, ?, ?)`, f.id, f.room, f.cmid)
		exec(`INSERT INTO upload_chunks (upload, pos, data) VALUES (?, 0, ?)`, f.id, []byte("ok"))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open of a version 19 database: %v", err)
	}
	defer s.Close()
	if got, want := waitingClaims(t, s.reader), []string{"f_lost"}; !slices.Equal(got, want) {
		t.Errorf("claims waiting after the migration = %v, want %v", got, want)
	}
	if n, err := s.ExpireUploads(ctx, time.Now()); err != nil || n != 2 {
		t.Errorf("ExpireUploads = %d, %v; want 2 (f_lost, f_unsent)", n, err)
	}
	kept := map[string]bool{}
	for _, id := range []string{"f_live", "f_lost", "f_unsent"} {
		_, err := s.Upload(ctx, id)
		kept[id] = err == nil
	}
	if diff := cmp.Diff(map[string]bool{"f_live": true, "f_lost": false, "f_unsent": false}, kept); diff != "" {
		t.Errorf("files kept after the expiry (-want +got):\n%s", diff)
	}
}
