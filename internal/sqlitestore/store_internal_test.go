package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
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
		"journal_mode": "wal",
		"synchronous":  "2", // FULL
		"foreign_keys": "1",
		"busy_timeout": "5000",
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
// message use an index rather than scan a table.
func TestQueryPlans(t *testing.T) {
	s := openTemp(t)
	tests := []struct {
		name  string
		query string
		args  []any
		index string
	}{
		{"find cmid", `SELECT seq, guest, body, ts FROM messages
			WHERE room = ? AND author = ? AND cmid = ? AND cmid <> ''`, []any{"r", "a", "c"}, "messages_cmid"},
		{"last time", `SELECT ts FROM messages WHERE room = ? AND seq = ?`, []any{"r", 1}, "sqlite_autoindex_messages_1"},
		{"history after", `SELECT room, seq, author, guest, body, cmid, ts FROM messages
			WHERE room = ? AND seq > ? ORDER BY seq ASC LIMIT ?`, []any{"r", 1, 10}, "sqlite_autoindex_messages_1"},
		{"history before", `SELECT room, seq, author, guest, body, cmid, ts FROM messages
			WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?`, []any{"r", 1, 10}, "sqlite_autoindex_messages_1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := queryPlan(t.Context(), t, s.reader, tt.query, tt.args...)
			if !strings.Contains(plan, "USING INDEX "+tt.index) || strings.Contains(plan, "TEMP B-TREE") {
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
