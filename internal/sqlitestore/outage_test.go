package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// TestLockedDatabaseIsErrUnavailable: another process holding the write
// lock past the busy timeout is an outage (chat.ErrUnavailable), and a
// refused statement is not.
func TestLockedDatabaseIsErrUnavailable(t *testing.T) {
	s, path := openOutageStore(t)
	ctx := t.Context()
	unlock := lockFromElsewhere(t, path)
	start := time.Now()
	_, err := s.Append(ctx, []chat.NewMessage{{Room: chat.DefaultRoom, Author: "ann", Body: "locked out", CMID: "c1"}})
	if !errors.Is(err, chat.ErrUnavailable) {
		t.Errorf("Append while another connection holds the write lock = %v, want chat.ErrUnavailable", err)
	}
	t.Logf("Append failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	unlock()

	_, err = s.writer.ExecContext(ctx, "INSERT INTO no_such_table VALUES (1)")
	if err == nil {
		t.Fatal("a bad statement succeeded")
	}
	if outage(err) {
		t.Errorf("outage(%v) = true, want false", err)
	}
	if _, err := s.Append(context.Background(), []chat.NewMessage{{Room: chat.DefaultRoom, Author: "ann", Body: "back", CMID: "c1"}}); err != nil {
		t.Errorf("Append after the lock was released: %v", err)
	}
}

// TestSearchWhileLocked: while another process holds the write lock past
// the busy timeout, so that what is not indexed yet cannot be, a search
// still answers from the index as it is.
func TestSearchWhileLocked(t *testing.T) {
	s, path := openOutageStore(t)
	ctx := t.Context()
	send := func(body string) {
		t.Helper()
		if _, err := s.Append(ctx, []chat.NewMessage{{Room: chat.DefaultRoom, Author: "ann", Body: body}}); err != nil {
			t.Fatal(err)
		}
	}
	send("alpha indexed")
	if err := s.indexAll(ctx); err != nil {
		t.Fatal(err)
	}
	s.indexLag = time.Hour
	send("alpha pending")

	unlock := lockFromElsewhere(t, path)
	got, err := s.Search(ctx, chat.SearchQuery{Rooms: []string{chat.DefaultRoom}, Words: []string{"alpha"}, Limit: 10})
	if err != nil {
		t.Fatalf("Search while the database is locked: %v", err)
	}
	if len(got) != 1 || got[0].Body != "alpha indexed" {
		t.Errorf("Search while the database is locked = %+v, want the indexed message", got)
	}
	unlock()
	got, err = s.Search(ctx, chat.SearchQuery{Rooms: []string{chat.DefaultRoom}, Words: []string{"alpha"}, Limit: 10})
	if err != nil || len(got) != 2 {
		t.Errorf("Search once the lock is gone = %d messages, %v; want both", len(got), err)
	}
}

// lockFromElsewhere takes the write lock of the database at path on a
// connection of its own, as another process would, and returns what
// gives it back.
func lockFromElsewhere(t *testing.T, path string) (unlock func()) {
	t.Helper()
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
	}
}

// openOutageStore opens a store on a new file for a test that holds the
// write lock from elsewhere past the busy timeout (lockFromElsewhere),
// closed when t ends; it skips t with -short, as that takes seconds.
func openOutageStore(t *testing.T) (*Store, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("waits out the busy timeout")
	}
	path := filepath.Join(t.TempDir(), "hubbub.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}
