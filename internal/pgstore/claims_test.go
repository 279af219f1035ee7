package pgstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// waitingClaims returns the ids of the uploads that uploads_claimed holds:
// the claims whose message ExpireUploads does not know to be stored.
func waitingClaims(ctx context.Context, t *testing.T, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) []string {
	t.Helper()
	rows, err := q.Query(ctx, `SELECT id FROM uploads
		WHERE complete AND room <> '' AND NOT sent AND purged = 0 ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if ids == nil {
		ids = []string{}
	}
	return ids
}

// TestAppendMarksFilesSent: as sqlitestore's test of the same name.
func TestAppendMarksFilesSent(t *testing.T) {
	ctx := t.Context()
	s := open(t, newSchema(t))
	defer s.Close()
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
	if got, want := waitingClaims(ctx, t, s.pool), []string{"f_refused", "f_sent", "f_waiting"}; !slices.Equal(got, want) {
		t.Fatalf("claims waiting before the sends = %v, want %v", got, want)
	}
	res, err := s.Append(ctx, []chat.NewMessage{
		{Room: "books", Author: "alice", Body: "sent", CMID: "c-f_sent", FileID: "f_sent"},
		{Room: "books", Author: "alice", Body: "refused", CMID: "c-f_refused", FileID: "f_refused", ReplyTo: 99},
		{Room: "books", Author: "alice", Body: "no file", CMID: "c-plain"},
	})
	if err != nil || res[0].Err != nil || res[1].Err == nil || res[2].Err != nil {
		t.Fatalf("Append = %+v, %v; want the first and last stored and the reply to nothing refused", res, err)
	}
	if got, want := waitingClaims(ctx, t, s.pool), []string{"f_refused", "f_waiting"}; !slices.Equal(got, want) {
		t.Errorf("claims waiting after the sends = %v, want %v", got, want)
	}
}

// TestMigrateMarksFilesSent: as sqlitestore's test of the same name, for
// migration 17.
func TestMigrateMarksFilesSent(t *testing.T) {
	ctx := t.Context()
	// The schema as a binary of version 16 left it.
	dsn, conn, exec := schemaAt(t, 16)
	then := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	exec(`INSERT INTO rooms (name, created_at, last_seq) VALUES ('books', $1, 2)`, then)
	exec(`INSERT INTO messages (room, seq, author, guest, body, cmid, ts, file_id)
		VALUES ('books', 1, 'alice', false, 'a file', 'c-live', $1, 'f_live'),
		       ('books', 2, 'alice', false, 'no file', 'c-plain', $1, '')`, then)
	for _, f := range []struct{ id, room, cmid string }{
		{"f_live", "books", "c-live"}, // a message carries it
		{"f_lost", "books", "c-lost"}, // claimed; its message was never stored
		{"f_unsent", "", ""},          // never claimed
	} {
		exec(`INSERT INTO uploads (id, owner, name, size, sha256, received, complete, created_at, updated_at, room, cmid)
			VALUES ($1, 'alice', 'a name', 2, 'sum', 2, true, $2, $2, $3, $4)`, f.id, then, f.room, f.cmid)
		exec(`INSERT INTO upload_chunks (upload, pos, data) VALUES ($1, 0, $2)`, f.id, []byte("ok"))
	}
	if err := conn.Close(ctx); err != nil {
		t.Fatal(err)
	}

	s := open(t, dsn)
	defer s.Close()
	if got, want := waitingClaims(ctx, t, s.pool), []string{"f_lost"}; !slices.Equal(got, want) {
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
