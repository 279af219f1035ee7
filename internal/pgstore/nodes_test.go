package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// TestTwoNodesAppend appends to one room from two Stores on one schema, as
// two hubbubd nodes would, and checks that the sequence numbers have neither
// gaps nor duplicates and that each writer's messages keep their order.
func TestTwoNodesAppend(t *testing.T) {
	dsn := newSchema(t)
	nodes := []*Store{open(t, dsn), open(t, dsn)}
	for _, n := range nodes {
		t.Cleanup(func() { n.Close() })
	}
	const (
		writersPerNode = 4
		perWriter      = 40
		batchSize      = 4
	)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		// acked is what Append returned, by writer, in order.
		acked = make(map[string][]chat.Message)
	)
	for ni, node := range nodes {
		for w := range writersPerNode {
			author := fmt.Sprintf("node%d-writer%d", ni, w)
			wg.Go(func() {
				for k := 0; k < perWriter; k += batchSize {
					batch := make([]chat.NewMessage, batchSize)
					for i := range batch {
						batch[i] = chat.NewMessage{
							Room:   chat.DefaultRoom,
							Author: author,
							Body:   fmt.Sprintf("%s %d", author, k+i),
							CMID:   fmt.Sprintf("c%d", k+i),
						}
					}
					res, err := node.Append(t.Context(), batch)
					mu.Lock()
					if err != nil {
						errs = append(errs, fmt.Errorf("%s: Append: %w", author, err))
						mu.Unlock()
						return
					}
					for _, r := range res {
						if r.Err != nil || r.Duplicate {
							errs = append(errs, fmt.Errorf("%s: result {Duplicate: %v, Err: %v}, want a new message", author, r.Duplicate, r.Err))
						}
						acked[author] = append(acked[author], r.Message)
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}

	const total = 2 * writersPerNode * perWriter
	for ni, node := range nodes {
		hist, err := node.HistoryAfter(t.Context(), chat.DefaultRoom, 0, 2*total)
		if err != nil {
			t.Fatalf("node %d: HistoryAfter: %v", ni, err)
		}
		if len(hist) != total {
			t.Fatalf("node %d: room holds %d messages, want %d", ni, len(hist), total)
		}
		for i, m := range hist {
			if m.Seq != int64(i+1) {
				t.Fatalf("node %d: message %d has Seq %d, want %d", ni, i, m.Seq, i+1)
			}
			if i > 0 && m.Time.Before(hist[i-1].Time) {
				t.Errorf("node %d: #%d has Time %v, before #%d's %v", ni, m.Seq, m.Time, i, hist[i-1].Time)
			}
		}
		for author, msgs := range acked {
			for i, m := range msgs {
				if got := hist[m.Seq-1]; got.Author != author || got.Body != m.Body {
					t.Errorf("node %d: #%d is %q by %q, Append said %q by %q", ni, m.Seq, got.Body, got.Author, m.Body, author)
				}
				if i > 0 && m.Seq <= msgs[i-1].Seq {
					t.Errorf("%s: %q got #%d after #%d", author, m.Body, m.Seq, msgs[i-1].Seq)
				}
			}
		}
		r, err := node.Room(t.Context(), chat.DefaultRoom)
		if err != nil {
			t.Fatalf("node %d: Room: %v", ni, err)
		}
		if r.LastSeq != total {
			t.Errorf("node %d: LastSeq = %d, want %d", ni, r.LastSeq, total)
		}
	}
}

// TestTwoNodesResend sends the same messages, with the same CMIDs, through
// two nodes at once, as a client that reconnects to another node might: each
// is stored once, and both nodes answer with the stored message.
func TestTwoNodesResend(t *testing.T) {
	dsn := newSchema(t)
	nodes := []*Store{open(t, dsn), open(t, dsn)}
	for _, n := range nodes {
		t.Cleanup(func() { n.Close() })
	}
	const n = 50
	results := make([][]chat.AppendResult, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for ni, node := range nodes {
		wg.Go(func() {
			for k := range n {
				res, err := node.Append(t.Context(), []chat.NewMessage{{
					Room: chat.DefaultRoom, Author: "alice", Body: fmt.Sprint(k), CMID: fmt.Sprintf("c%d", k),
				}})
				if err != nil {
					errs[ni] = err
					return
				}
				results[ni] = append(results[ni], res[0])
			}
		})
	}
	wg.Wait()
	for ni, err := range errs {
		if err != nil {
			t.Fatalf("node %d: Append: %v", ni, err)
		}
	}
	hist, err := nodes[0].HistoryAfter(t.Context(), chat.DefaultRoom, 0, 2*n)
	if err != nil {
		t.Fatalf("HistoryAfter: %v", err)
	}
	if len(hist) != n {
		t.Fatalf("room holds %d messages, want %d", len(hist), n)
	}
	for k := range n {
		a, b := results[0][k], results[1][k]
		if a.Duplicate == b.Duplicate {
			t.Errorf("c%d: Duplicate = %v on both nodes, want true on exactly one", k, a.Duplicate)
		}
		if !a.Message.Time.Equal(b.Message.Time) || a.Message.Seq != b.Message.Seq {
			t.Errorf("c%d: nodes answered #%d at %v and #%d at %v, want the same message", k,
				a.Message.Seq, a.Message.Time, b.Message.Seq, b.Message.Time)
		}
	}
}

// TestConcurrentOpen opens several Stores on a fresh schema at once, as
// nodes that start together do: the migrations run once, and every Open
// succeeds.
func TestConcurrentOpen(t *testing.T) {
	dsn := newSchema(t)
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open #%d: %v", i, err)
			continue
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	if t.Failed() {
		t.FailNow()
	}
	var versions []int
	rows, err := stores[0].pool.Query(t.Context(), `SELECT version FROM schema_version ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	versions, err = pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != len(migrations) || versions[len(versions)-1] != len(migrations) {
		t.Errorf("schema_version holds %v, want 1 to %d once each", versions, len(migrations))
	}
	rooms, err := stores[n-1].Rooms(t.Context())
	if err != nil || len(rooms) != 1 || rooms[0].Name != chat.DefaultRoom {
		t.Errorf("Rooms = %+v, %v; want the default room only", rooms, err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	s, dsn := openTemp(t)
	if _, err := s.pool.Exec(t.Context(),
		`INSERT INTO schema_version (version) VALUES ($1)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), dsn)
	if err == nil {
		s2.Close()
		t.Fatal("Open of a newer schema succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open error = %v, want one that says the schema is newer", err)
	}
}

func TestOpenBadDSN(t *testing.T) {
	const dsn = "postgres://user:secret@[::1"
	s, err := Open(t.Context(), dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open of a malformed DSN succeeded")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("Open error %q shows the password", err)
	}
}

func TestCloseTwice(t *testing.T) {
	s, _ := openTemp(t)
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
}

// blocker holds a transaction on its own connection to the test database.
type blocker struct {
	conn *pgx.Conn
	tx   pgx.Tx
}

// block begins a transaction on a connection of its own, on dsn, that runs
// stmt and holds what it locks until the test ends or finish is called.
func block(t *testing.T, dsn, stmt string, args ...any) *blocker {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), stmt, args...); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	return &blocker{conn, tx}
}

// waitForLockWait waits until a connection whose application_name is app
// waits for a lock.
func waitForLockWait(t *testing.T, s *Store, app string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		err := s.pool.QueryRow(t.Context(),
			`SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`,
			app).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no connection of %s waits for a lock", app)
}

// TestCloseCancelsCalls checks that Close does not wait for a call that is
// blocked, here an Append waiting for another node's lock on its room, and
// that the call returns ErrClosed.
func TestCloseCancelsCalls(t *testing.T) {
	app := "hubbub_test_" + randomHex(4)
	dsn := withParam(t, newSchema(t), "application_name", app)
	s := open(t, dsn)
	t.Cleanup(func() { s.Close() })
	watcher := open(t, dsn)
	t.Cleanup(func() { watcher.Close() })
	b := block(t, dsn, `SELECT 1 FROM rooms WHERE name = $1 FOR UPDATE`, chat.DefaultRoom)

	done := make(chan error, 1)
	go func() {
		_, err := s.Append(t.Context(), []chat.NewMessage{{Room: chat.DefaultRoom, Author: "alice", Body: "hi"}})
		done <- err
	}()
	waitForLockWait(t, watcher, app)

	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Error("Close did not return while an Append waited for a lock")
		b.tx.Rollback(context.Background()) // let it go, so that the test ends
		<-closed
	}
	if err := <-done; !errors.Is(err, chat.ErrClosed) {
		t.Errorf("blocked Append after Close = %v, want %v", err, chat.ErrClosed)
	}
	b.tx.Rollback(context.Background())

	hist, err := watcher.HistoryAfter(t.Context(), chat.DefaultRoom, 0, 10)
	if err != nil || len(hist) != 0 {
		t.Errorf("HistoryAfter = %d messages, %v; want none: the canceled Append stored nothing", len(hist), err)
	}
}

// TestResendRace plays a writer that does not lock the room (a foreign
// program, say) and commits a message with a CMID after Append looked for
// it: Append's insert skips the message, and Append starts over and returns
// the stored one as a duplicate.
func TestResendRace(t *testing.T) {
	app := "hubbub_test_" + randomHex(4)
	dsn := withParam(t, newSchema(t), "application_name", app)
	s := open(t, dsn)
	t.Cleanup(func() { s.Close() })
	watcher := open(t, dsn)
	t.Cleanup(func() { watcher.Close() })

	// Uncommitted: Append does not see it, but its insert waits for it.
	b := block(t, dsn, `INSERT INTO messages (room, seq, author, guest, body, cmid, ts)
		VALUES ($1, 1, 'alice', false, 'first', 'c1', now())`, chat.DefaultRoom)
	type result struct {
		res []chat.AppendResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := s.Append(t.Context(), []chat.NewMessage{{Room: chat.DefaultRoom, Author: "alice", Body: "again", CMID: "c1"}})
		done <- result{res, err}
	}()
	waitForLockWait(t, watcher, app)
	// Only the message: the room's row is Append's until it commits.
	if err := b.tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("Append: %v", r.err)
	}
	if got := r.res[0]; !got.Duplicate || got.Message.Seq != 1 || got.Message.Body != "first" {
		t.Errorf("Append = %+v, want the committed message #1 as a duplicate", got)
	}
}
