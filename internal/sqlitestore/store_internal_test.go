package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"

	"modernc.org/sqlite"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPragmas checks the settings on several connections of each pool at
// once, so that connections the pools open later are checked too.
func TestPragmas(t *testing.T) {
	s := openTemp(t)
	want := map[string]string{
		"journal_mode":  "wal",
		"synchronous":   "2", // FULL
		"foreign_keys":  "1",
		"busy_timeout":  "5000",
		"secure_delete": "1", // ON, not FAST (2): see secureDelete
	}
	ctx := t.Context()
	for _, pool := range []struct {
		name  string
		db    *sql.DB
		conns int
		extra map[string]string
	}{
		{"writer", s.writer, 1, map[string]string{"query_only": "0"}},
		{"reader", s.reader, 3, map[string]string{"query_only": "1"}},
	} {
		for i := range pool.conns {
			conn, err := pool.db.Conn(ctx)
			if err != nil {
				t.Fatalf("%s: Conn: %v", pool.name, err)
			}
			defer conn.Close() // held until the end, so the next Conn is another one
			for name, w := range mergeMaps(want, pool.extra) {
				var got string
				if err := conn.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
					t.Fatalf("%s conn %d: PRAGMA %s: %v", pool.name, i, name, err)
				}
				if got != w {
					t.Errorf("%s conn %d: PRAGMA %s = %q, want %q", pool.name, i, name, got, w)
				}
			}
		}
	}
}

func mergeMaps(a, b map[string]string) map[string]string {
	m := make(map[string]string)
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubbub.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.ExecContext(t.Context(), fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a newer schema succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open error = %v, want one that says the schema is newer", err)
	}
}

func TestSchemaVersion(t *testing.T) {
	s := openTemp(t)
	var v int
	if err := s.reader.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != len(migrations) {
		t.Errorf("user_version = %d, want %d", v, len(migrations))
	}
}

// TestQueryPlans checks that the statements Append and history run on every
// message, and the lookups of sessions, roles and sanctions, use an index
// rather than scan a table. (VisibleRooms scans rooms, in name order: most
// rooms are public.)
func TestQueryPlans(t *testing.T) {
	s := openTemp(t)
	tests := []struct {
		name  string
		query string
		args  []any
		index string // or several, space-separated: the plan uses each
	}{
		{"find cmid", `SELECT seq, guest, body, ts FROM messages
			WHERE room = ? AND author = ? AND cmid = ? AND cmid <> ''`, []any{"r", "a", "c"}, "messages_cmid"},
		{"room tail", roomTailSQL, []any{"r"}, "sqlite_autoindex_messages_1"},
		// The few administrators, not every account, and in order.
		{"admins", adminsSQL, []any{1000}, "users_admins"},
		{"history after", `SELECT room, seq, author, guest, body, cmid, ts FROM messages
			WHERE room = ? AND seq > ? ORDER BY seq ASC LIMIT ?`, []any{"r", 1, 10}, "sqlite_autoindex_messages_1"},
		{"history before", `SELECT room, seq, author, guest, body, cmid, ts FROM messages
			WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, []any{"r", 1, 10}, "sqlite_autoindex_messages_1"},
		{"session", `SELECT user, created_at, last_seen, expires_at FROM sessions WHERE token_hash = ?`,
			[]any{"h"}, "sqlite_autoindex_sessions_1"},
		{"user sessions", `DELETE FROM sessions WHERE user = ? AND token_hash <> ? RETURNING token_hash`,
			[]any{"u", "h"}, "sessions_user"},
		{"members", `SELECT user, role FROM room_roles WHERE room = ? ORDER BY user`,
			[]any{"r"}, "sqlite_autoindex_room_roles_1"},
		{"visible rooms", `SELECT name, topic, private, owner, created_at, last_seq FROM rooms
			WHERE private = 0 OR name IN (SELECT room FROM room_roles WHERE user = ?)
			ORDER BY name`, []any{"u"}, "room_roles_user"},
		{"active sanction", `SELECT until, by_user, reason FROM sanctions
			WHERE room = ? AND user = ? AND kind = ? AND (until IS NULL OR until > ?)`,
			[]any{"r", "u", "k", 1}, "sqlite_autoindex_sanctions_1"},
		// Every download asks which message carries the file (one does).
		{"file message", `SELECT room, seq FROM messages WHERE file_id = ? AND file_id <> '' AND kind = '' AND deleted = 0
			ORDER BY room, seq LIMIT 1`, []any{"f"}, "messages_file"},
		{"file carried", `SELECT 1 FROM messages WHERE file_id = ? AND file_id <> ''`, []any{"f"}, "messages_file"},
		// The hourly expiry reads only the uploads it may delete, each
		// kind through its partial index, and asks the messages about
		// the claimed ones through messages_file, never reading every
		// file sent.
		{"expire uploads", `DELETE FROM uploads WHERE id IN (` + expirable + `)`, []any{1},
			"uploads_stale uploads_unsent uploads_claimed messages_file"},
		{"expire chunks", `DELETE FROM upload_chunks WHERE upload IN (` + expirable + `)`, []any{1},
			"sqlite_autoindex_upload_chunks_1 uploads_stale uploads_unsent uploads_claimed messages_file"},
	}
	// Sorting what the index finds is fine for these: a row or two.
	sorts := map[string]bool{"file message": true}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The writer, because the reader refuses to plan a DELETE.
			plan := queryPlan(t.Context(), t, s.writer, tt.query, tt.args...)
			indexed := true
			words := strings.ReplaceAll(plan, ";", " ;") + " " // an index name, whole, is followed by a space
			for _, index := range strings.Fields(tt.index) {
				indexed = indexed && (strings.Contains(words, "USING INDEX "+index+" ") ||
					strings.Contains(words, "USING COVERING INDEX "+index+" "))
			}
			if !indexed || strings.Contains(plan, "TEMP B-TREE") && !sorts[tt.name] {
				t.Errorf("plan = %q, want a search using index %s and no sort", plan, tt.index)
			}
		})
	}
}

func queryPlan(ctx context.Context, t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "; ")
}

// oldDatabase makes a database file as an older hubbubd left it, by
// running stmts on a fresh one, and returns its path.
func oldDatabase(t *testing.T, stmts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hubbub.db")
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			db.Close()
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMigrateFromV1 opens a database that has only the first schema version,
// with a room and a message in it, and checks that Open brings it up to date
// and keeps what it held.
func TestMigrateFromV1(t *testing.T) {
	ctx := t.Context()
	path := oldDatabase(t,
		migrations[0],
		"PRAGMA user_version = 1",
		`INSERT INTO rooms (name, private, created_at) VALUES ('old', 1, 1000)`,
		`INSERT INTO messages (room, seq, author, guest, body, ts) VALUES ('old', 1, 'alice', 0, 'hi', 2000)`,
		`UPDATE rooms SET last_seq = 1 WHERE name = 'old'`,
	)

	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open of a version 1 database: %v", err)
	}
	defer s.Close()
	var v int
	if err := s.reader.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != len(migrations) {
		t.Errorf("user_version = %d, want %d", v, len(migrations))
	}
	msgs, err := s.HistoryAfter(ctx, "old", 0, 10)
	if err != nil || len(msgs) != 1 || msgs[0].Body != "hi" {
		t.Errorf("HistoryAfter(old) = %+v, %v; want the message stored before the migration", msgs, err)
	}
	// The messages stored before are indexed (migration 4), and the
	// mark of migration 12 says so.
	if upto, last := ftsMark(t, s); upto != last || last == 0 {
		t.Errorf("after the migrations the index is complete up to rowid %d, the last message is %d", upto, last)
	}
	found, err := s.Search(ctx, chat.SearchQuery{Rooms: []string{"old"}, Words: []string{"hi"}, Limit: 10})
	if err != nil || len(found) != 1 {
		t.Errorf("Search(hi) = %+v, %v; want the message stored before the migration", found, err)
	}
	if err := s.SetRole(ctx, "old", "alice", "owner"); err != nil {
		t.Fatalf("SetRole in a room from version 1: %v", err)
	}
	rooms, err := s.VisibleRooms(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(rooms) != 2 || rooms[1].Name != "old" || rooms[1].LastSeq != 1 {
		t.Errorf("VisibleRooms(alice) = %+v, want lobby and old with LastSeq 1", rooms)
	}
}

// TestVisibleRoomsEmptyUser checks that a role stored for the empty user
// name, which SetRole does not refuse, does not show a private room to
// VisibleRooms(""), which means "no user".
func TestVisibleRoomsEmptyUser(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	if err := s.CreateRoom(ctx, chat.Room{Name: "secret", Private: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetRole(ctx, "secret", "", "member"); err != nil {
		t.Fatal(err)
	}
	rooms, err := s.VisibleRooms(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		if r.Private {
			t.Errorf("VisibleRooms(\"\") holds private room %q", r.Name)
		}
	}
}

// TestAppendAfterTailTime: a new message's time is never before the time of
// its room's last message (loadTail), even when that time is ahead of the
// clock (a clock stepped back since).
func TestAppendAfterTailTime(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	ahead := time.Now().Add(time.Hour).UnixMilli()
	for _, q := range []string{
		fmt.Sprintf(`INSERT INTO messages (room, seq, author, guest, body, ts) VALUES ('%s', 1, 'alice', 0, 'early', %d)`, chat.DefaultRoom, ahead),
		fmt.Sprintf(`UPDATE rooms SET last_seq = 1 WHERE name = '%s'`, chat.DefaultRoom),
	} {
		if _, err := s.writer.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	res, err := s.Append(ctx, []chat.NewMessage{{Room: chat.DefaultRoom, Author: "bob", Body: "later"}})
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("Append = %+v, %v", res, err)
	}
	if got := res[0].Message; got.Seq != 2 || got.Time.UnixMilli() < ahead {
		t.Errorf("appended #%d at %d ms, want #2 at %d ms or later (the last message's time)", got.Seq, got.Time.UnixMilli(), ahead)
	}
}

// TestMigrateFTSWithoutSizes: migration 9 rebuilds the full-text index
// without per-row sizes (columnsize=0) and keeps what it held: the plain
// messages, not a deleted one nor an edit entry; messages appended after
// it are found too.
func TestMigrateFTSWithoutSizes(t *testing.T) {
	ctx := t.Context()
	stmts := append([]string{}, migrations[:8]...)
	stmts = append(stmts,
		"PRAGMA user_version = 8",
		`INSERT INTO rooms (name, created_at) VALUES ('old', 1000)`,
		`INSERT INTO messages (room, seq, author, guest, body, ts) VALUES ('old', 1, 'alice', 0, 'zebra crossing', 2000)`,
		`INSERT INTO messages (room, seq, author, guest, body, ts, deleted) VALUES ('old', 2, 'alice', 0, 'zebra gone', 2001, 1)`,
		`INSERT INTO messages (room, seq, kind, author, guest, body, ts, target) VALUES ('old', 3, 'edit', 'alice', 0, 'zebra edit', 2002, 1)`,
		`UPDATE rooms SET last_seq = 3 WHERE name = 'old'`,
		// What syncFTS does at the end of every transaction.
		`INSERT INTO messages_fts (messages_fts, rowid, body)
		 SELECT CASE op WHEN 'del' THEN 'delete' END, rid, body FROM fts_queue ORDER BY id`,
		`DELETE FROM fts_queue`,
	)
	path := oldDatabase(t, stmts...)

	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open of a version 8 database: %v", err)
	}
	defer s.Close()
	var sizes int
	if err := s.reader.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_schema WHERE name = 'messages_fts_docsize'`).Scan(&sizes); err != nil {
		t.Fatal(err)
	}
	if sizes != 0 {
		t.Error("messages_fts_docsize still exists: the index keeps per-row sizes")
	}
	if _, err := s.Append(ctx, []chat.NewMessage{{Room: "old", Author: "bob", Body: "zebra later"}}); err != nil {
		t.Fatal(err)
	}
	msgs, err := s.Search(ctx, chat.SearchQuery{Rooms: []string{"old"}, Words: []string{"zebra"}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.Body)
	}
	if want := []string{"zebra later", "zebra crossing"}; !slices.Equal(got, want) {
		t.Errorf("Search(zebra) = %q, want %q", got, want)
	}
}

// TestQueryRowContext: a point read does not watch its context once
// started (no goroutine per query), but a context that has already ended
// still fails it at once, and one that ends later does not spoil it.
func TestQueryRowContext(t *testing.T) {
	s := openTemp(t)
	live, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	// The first read also prepares the statement; the second runs it.
	for range 2 {
		if r, err := s.Room(live, chat.DefaultRoom); err != nil || r.Name != chat.DefaultRoom {
			t.Errorf("Room = %+v, %v; want the default room", r, err)
		}
	}
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Room(ended, chat.DefaultRoom); !errors.Is(err, context.Canceled) {
		t.Errorf("Room with an ended context: %v, want context.Canceled", err)
	}
}

// TestWriterCheckpointPages: the writer checkpoints at walCheckpointPages,
// also on a connection database/sql opens later (the pragma is in the
// DSN).
func TestWriterCheckpointPages(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	for i := range 2 {
		var pages int
		if err := s.writer.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&pages); err != nil {
			t.Fatal(err)
		}
		if pages != walCheckpointPages {
			t.Errorf("connection %d: the writer checkpoints at %d pages, want %d", i+1, pages, walCheckpointPages)
		}
		// The pool's connection replaced, as after a driver error: it
		// has outlived a lifetime of 1 ns by the next query.
		s.writer.SetConnMaxLifetime(time.Nanosecond)
	}
}

// TestCommitsWithFdatasync: where the system has fdatasync(2), an opened
// store commits with it.
func TestCommitsWithFdatasync(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("fdatasync is checked on Linux only")
	}
	s, err := Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !sqlite.FdatasyncEnabled() {
		t.Error("the store commits with fsync, want fdatasync")
	}
}

// TestTailCache: Append continues each room from its tail as the
// database has it, also after the room was deleted and made again, and
// after another connection (another process, say) wrote to the room.
func TestTailCache(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hubbub.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	send := func(room string) int64 {
		t.Helper()
		res, err := s.Append(ctx, []chat.NewMessage{{Room: room, Author: "ada", Body: "hi"}})
		if err != nil {
			t.Fatalf("Append to %s: %v", room, err)
		}
		if res[0].Err != nil {
			t.Fatalf("Append to %s: %v", room, res[0].Err)
		}
		return res[0].Message.Seq
	}
	other, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	tests := []struct {
		name    string
		room    string
		between func() // runs after the first two sends to room
		want    int64  // the seq of the third
	}{
		{"nothing between", "plain", func() {}, 3},
		{"room deleted and made again", "again", func() {
			if err := s.DeleteRoom(ctx, "again"); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateRoom(ctx, chat.Room{Name: "again"}); err != nil {
				t.Fatal(err)
			}
		}, 1},
		{"another connection wrote", "shared", func() {
			for _, q := range []string{
				`INSERT INTO messages (room, seq, author, guest, body, ts) VALUES ('shared', 3, 'bob', 0, 'from elsewhere', 1)`,
				`UPDATE rooms SET last_seq = 3 WHERE name = 'shared'`,
			} {
				if _, err := other.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
		}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.CreateRoom(ctx, chat.Room{Name: tc.room}); err != nil {
				t.Fatal(err)
			}
			send(tc.room)
			send(tc.room)
			tc.between()
			if got := send(tc.room); got != tc.want {
				t.Errorf("third message got seq %d, want %d", got, tc.want)
			}
		})
	}
}

// TestTailCacheOrder: a map put back after another Append took one, or
// after a room was forgotten, is dropped, since the writer was free
// between that Append's commit and its put.
func TestTailCacheOrder(t *testing.T) {
	tail := func(seq int64) map[string]roomTail {
		return map[string]roomTail{"r": {exists: true, lastSeq: seq}}
	}
	tests := []struct {
		name string
		run  func(c *tailCache)
		want int64 // r's cached seq afterwards, 0 if none
	}{
		{"put after take", func(c *tailCache) {
			_, g := c.take(1)
			c.put(tail(5), g)
		}, 5},
		{"late put after a newer Append", func(c *tailCache) {
			_, a := c.take(1)
			_, b := c.take(1)
			c.put(tail(9), b)
			c.put(tail(5), a)
		}, 9},
		{"put after a forget", func(c *tailCache) {
			_, a := c.take(1)
			c.forget("r")
			c.put(tail(5), a)
		}, 0},
		{"forget of a kept tail", func(c *tailCache) {
			_, a := c.take(1)
			c.put(tail(5), a)
			c.forget("r")
		}, 0},
		{"another connection wrote", func(c *tailCache) {
			_, a := c.take(1)
			c.put(tail(5), a)
			m, b := c.take(2)
			c.put(m, b)
		}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c tailCache
			tc.run(&c)
			m, _ := c.take(c.version)
			if got := m["r"].lastSeq; got != tc.want {
				t.Errorf("cached seq of r = %d, want %d", got, tc.want)
			}
		})
	}
}
