package sqlitestore

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// TestDeletedContentLeavesTheFile: what a user deletes is gone from the
// database's files, not only from its answers: a message's body (short,
// or long enough to spill onto an overflow page), the body an edit
// replaced, the messages of a deleted room, their words in the full-text
// index, and a purged file's chunk and thumbnail. Each holds a
// marker no other content has; once deleted (and, for the file's chunks,
// PurgeFiles), no file in the store's directory holds a marker: with the
// store open once the WAL is truncated (truncateWAL, which the store
// runs when idle), and once the store is closed.
func TestDeletedContentLeavesTheFile(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	var fts string
	if err := s.reader.QueryRowContext(ctx, `SELECT v FROM messages_fts_config WHERE k = 'secure-delete'`).Scan(&fts); err != nil || fts != "1" {
		t.Errorf("the search index's secure-delete = %q, %v; want 1 (migration 21)", fts, err)
	}
	// One FTS token each, sharing no prefix with another word, so that
	// the index would hold each whole.
	markers := map[string]string{
		"short body": "qjxshortbodymarker",
		"long body":  "vkwlongbodymarker",
		"chunk":      "zpgfilechunkmarker",
		"thumbnail":  "bthumbnailmarkerq",
		"edited":     "mhyeditedmarker",
		"room":       "dfroommarkerx",
	}
	fill := func(marker string, n int) []byte {
		return bytes.Repeat([]byte(marker+" "), n/(len(marker)+1))
	}
	for _, room := range []string{"books", "gone"} {
		if err := s.CreateRoom(ctx, chat.Room{Name: room}); err != nil {
			t.Fatal(err)
		}
	}
	chunk := fill(markers["chunk"], 60<<10)
	u := chat.Upload{ID: "f_secret", Owner: "alice", Name: "secret.txt", Size: int64(len(chunk)), SHA256: "sum"}
	if err := s.CreateUpload(ctx, u, chat.Quota{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendChunk(ctx, u.ID, 0, chunk); err != nil {
		t.Fatal(err)
	}
	info := chat.FileInfo{Type: "image/png", Width: 1, Height: 1, Thumb: fill(markers["thumbnail"], 20<<10)}
	if err := s.CompleteUpload(ctx, u.ID, info); err != nil {
		t.Fatal(err)
	}
	if err := s.ClaimFile(ctx, u.ID, "alice", "books", "c-file"); err != nil {
		t.Fatal(err)
	}
	res, err := s.Append(ctx, []chat.NewMessage{
		{Room: "books", Author: "alice", Body: "a short " + markers["short body"]},
		{Room: "books", Author: "alice", Body: string(fill(markers["long body"], 4000))},
		{Room: "books", Author: "alice", Body: "the file", CMID: "c-file", FileID: u.ID},
		{Room: "books", Author: "alice", Body: "was " + markers["edited"]},
		{Room: "gone", Author: "alice", Body: "in a room " + markers["room"]},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Indexed for search, as they would be a moment after the commit.
	searchable := []string{markers["short body"], markers["long body"], markers["edited"], markers["room"]}
	for _, m := range searchable {
		found, err := s.Search(ctx, chat.SearchQuery{Rooms: []string{"books", "gone"}, Words: []string{m}, Limit: 10})
		if err != nil || len(found) != 1 {
			t.Fatalf("Search(%s) before the deletes = %d messages, %v; want 1", m, len(found), err)
		}
	}
	var changes []chat.NewMessage
	for _, r := range res[:3] {
		changes = append(changes, chat.NewMessage{Room: "books", Author: "alice", Kind: chat.KindDelete, Target: r.Message.Seq})
	}
	changes = append(changes, chat.NewMessage{Room: "books", Author: "alice", Kind: chat.KindEdit, Target: res[3].Message.Seq, Body: "what stays"})
	res, err = s.Append(ctx, changes)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("Append of %+v: %v", changes[i], r.Err)
		}
	}
	if err := s.DeleteRoom(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeFiles(ctx, 100); err != nil || n != 1 {
		t.Fatalf("PurgeFiles = %d, %v; want the file's 1 chunk", n, err)
	}
	for _, m := range searchable {
		found, err := s.Search(ctx, chat.SearchQuery{Rooms: []string{"books", "gone"}, Words: []string{m}, Limit: 10})
		if err != nil || len(found) != 0 {
			t.Errorf("Search(%s) after the deletes = %d messages, %v; want none", m, len(found), err)
		}
	}
	// With the store open, once the idle truncation has run (tendWAL
	// calls it after a second of quiet; TestIdleStoreTruncatesItsWAL
	// lets that happen): the WAL is 0 bytes, and the database file holds
	// the zeroed pages.
	wal, err := os.ReadFile(filepath.Join(dir, "hubbub.db-wal"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(wal, []byte(markers["chunk"])) {
		t.Errorf("hubbub.db-wal does not hold the purged chunk before the truncation: the check reads the wrong bytes")
	}
	if err := s.truncateWAL(ctx); err != nil {
		t.Fatalf("truncateWAL: %v", err)
	}
	checkWALEmpty(t, dir)
	checkMarkers(t, dir, markers, "open")
	// Closed: the last connection checkpoints and removes the WAL.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkMarkers(t, dir, markers, "closed")
}

// checkMarkers checks that no file in dir holds one of markers, and that
// hubbub.db holds the message not deleted.
func checkMarkers(t *testing.T, dir string, markers map[string]string, when string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for what, m := range markers {
			if n := bytes.Count(b, []byte(m)); n > 0 {
				t.Errorf("%s: %s holds the deleted %s's marker %d times", when, e.Name(), what, n)
			}
		}
		if e.Name() == "hubbub.db" && !bytes.Contains(b, []byte("what stays")) {
			t.Errorf("%s: hubbub.db does not hold the message not deleted: the check reads the wrong bytes", when)
		}
	}
	t.Logf("%s: files checked: %s", when, strings.Join(names, ", "))
}
