// Package sqlitestore implements [chat.Store], [chat.Accounts] and
// [chat.Access] on a SQLite database file, using the pure-Go driver
// modernc.org/sqlite. It is hubbub's default store: one file, no service to
// run.
//
// The database runs in WAL mode with synchronous=FULL, so a transaction is
// on stable storage when its commit returns (synced with fdatasync(2)
// where the system has it, as SQLite's own builds do on Linux). Writes go through a single
// connection and take the write lock when they begin (BEGIN IMMEDIATE), so
// concurrent Appends queue in the process instead of failing with
// SQLITE_BUSY; reads use a separate pool of read-only connections that WAL
// lets run beside the writer. About five seconds after the last write (one
// or two after a deletion), the store truncates the WAL file to zero bytes,
// so that the old versions of pages, deleted content among them, do not
// stay in it (wal.go).
//
// Only one process should write to a database file at a time. A second
// process is not prevented, but it waits for the write lock for at most the
// busy timeout (5 s) and then fails.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"

	"modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

var _ chat.Store = (*Store)(nil)

// busyTimeoutMS is how long a connection waits for a lock held by another
// process before it fails with SQLITE_BUSY.
const busyTimeoutMS = 5000

// walCheckpointPages is the length of the WAL, in pages, past which the
// writer copies it back into the database file after a commit (SQLite's
// default: 1000). The checkpoint runs inside that commit and copies each
// page once however often the WAL holds it. Under a steady stream of
// messages the same pages (the last leaf of each room in the message
// indexes) are written again and again, so a longer WAL makes the copying
// per message cheaper: at 20,000 messages/s, 4,000 pages instead of 1,000
// took the ack p99 from 168–320 to 98–125 ms (docs/benchmarks.md, round
// 10). Since new messages are indexed for search apart from their commits
// (indexLag), a commit writes about half the pages, so 4,000 pages came
// half as often and each checkpoint copied more distinct pages: at light
// load one commit in a few hundred took 100–400 ms (round 15). At 2,000
// pages neither those stalls nor a loss at 20,000/s showed (rounds 15 and
// 16). The WAL file grows to about 10 MB at the default page size and stays
// that large while the store is busy (SQLite reuses it from the start after
// a checkpoint); once the store is idle, a TRUNCATE checkpoint empties it
// (tendWAL, wal.go), off the commit path. A
// checkpoint on a goroutine of its own instead does not work: beside a
// busy writer it never catches up, and the WAL is never restarted (rounds 6
// and 10).
const walCheckpointPages = 2000

// ErrEmptyFile is returned by [Open] for a database file of zero bytes.
var ErrEmptyFile = errors.New("the database file is empty (0 bytes), not a hubbub database; " +
	"if it was copied or restored, copy it again; to start a new, empty server, remove it")

// Store is a [chat.Store], [chat.Accounts] and [chat.Access] backed by one
// SQLite database file. It is safe for concurrent use. Create it with
// [Open]; the zero value is not usable.
type Store struct {
	// Immutable after Open.
	path   string
	writer *sql.DB // exactly one connection; every write goes through it
	reader *sql.DB // read-only connections for every read
	tails  tailCache
	stmts  writeStmts
	reads  readStmts // the reader's prepared queries
	names  accountNames
	quit   chan struct{}  // closed by Close: stops pollNames and tendWAL
	bg     sync.WaitGroup // pollNames, tendWAL
	// indexLag is how long a new message may wait to be indexed for
	// search (the constant indexLag); indexClock reads the time in
	// milliseconds for it. Tests change both.
	indexLag   time.Duration
	indexClock func() int64

	// ftsPending is when (indexClock) the oldest message that is not
	// indexed yet was committed, 0 if none is: Append's to read and set.
	ftsPending atomic.Int64

	// walCommits counts the writer's commits (writerConnector's commit
	// hook), for tendWAL to tell when the store is idle; walSoon is set
	// by a deletion, for tendWAL to truncate the WAL after a short quiet
	// (see wal.go). walStats counts tendWAL's truncations.
	walCommits atomic.Uint64
	walSoon    atomic.Bool
	walStats   walStats

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error // set by closeOnce
}

// Open opens the database file at path, creating it and its directory if
// needed, and brings its schema up to date. The default room exists when
// Open returns. Open fails if the file was written by a newer version of
// hubbub whose schema this one does not know.
//
// Open refuses a file that exists and is empty (zero bytes), with
// [ErrEmptyFile]: SQLite would take it for a new database and the server
// would start with no users, rooms or messages, while such a file is
// usually a copy or restore that went wrong. Remove the file to start
// afresh.
//
// path names a file; ":memory:" and SQLite URIs are not supported.
func Open(path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlitestore: open %q: need a file path", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %q: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("sqlitestore: open %q: %w", path, err)
	}

	if fi, err := os.Stat(abs); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		return nil, fmt.Errorf("sqlitestore: open %q: %w", path, ErrEmptyFile)
	}

	// What SQLite itself does on Linux and the BSDs (modernc's build
	// keeps fsync unless told): a commit syncs the data and the size of
	// the file but not its timestamps, which on ext4 is often half the
	// time of an fsync, with the same durability. Process-wide; where
	// the call does not exist, commits keep fsync.
	sqlite.Fdatasync(true)

	s := &Store{path: abs, indexLag: indexLag, indexClock: func() int64 { return time.Now().UnixMilli() }}
	// The writer opens first: its first connection switches the file to WAL
	// and the migrations create the schema before any reader looks at it.
	s.writer = sql.OpenDB(newWriterConnector(dsn(abs, false), &s.walCommits))
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	s.writer.SetConnMaxLifetime(0)
	s.writer.SetConnMaxIdleTime(0)

	if err := migrate(context.Background(), s.writer); err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("sqlitestore: open %q: %w", path, err)
	}
	if err := s.stmts.prepare(context.Background(), s.writer); err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("sqlitestore: open %q: %w", path, err)
	}

	s.reader, err = sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		s.stmts.close()
		s.writer.Close()
		return nil, fmt.Errorf("sqlitestore: open %q: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.reader.SetMaxOpenConns(n)
	s.reader.SetMaxIdleConns(n)
	if err := s.reader.Ping(); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlitestore: open %q: %w", path, err)
	}
	// What a crash left to index (Close indexes everything).
	if err := s.indexAll(context.Background()); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlitestore: open %q: %w", path, err)
	}
	s.refreshNames(context.Background())
	s.quit = make(chan struct{})
	s.bg.Go(func() { s.pollNames(s.quit) })
	s.bg.Go(func() {
		tendWAL(s.quit, s.walCommits.Load, &s.walSoon, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), walTruncateIn)
			defer cancel()
			return s.truncateWAL(ctx)
		})
	})
	return s, nil
}

// dsn returns the driver name for the file at abs. The pragmas are DSN
// parameters so that every connection the pools open gets them, not just
// the first one.
func dsn(abs string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Add("_pragma", "secure_delete("+secureDelete+")")
	if readOnly {
		q.Set("_query_only", "1")
	} else {
		q.Set("_txlock", "immediate")
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walCheckpointPages))
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter: file:///C:/...
	}
	// A file: URI escapes '?', '#' and '%' in the path, which a plain name
	// passed to the driver could not.
	u := url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}
	return u.String()
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Ping reports whether the database file can be read.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	var v int64
	if err := s.reader.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return s.fail("ping", err)
	}
	return nil
}

// Close closes the database. Calls in progress may finish or fail; later
// calls return [chat.ErrClosed]. Close may be called more than once; later calls return
// what the first returned.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.quit != nil {
			close(s.quit)
			s.bg.Wait()
		}
		// The last connection to close checkpoints the WAL into the main
		// file, so the writer goes last. Before that, the messages not
		// indexed yet are (Open would do it otherwise).
		var errs []error
		if s.reader != nil {
			errs = append(errs, s.indexAll(context.Background()))
		}
		s.reads.close()
		if s.reader != nil {
			errs = append(errs, s.reader.Close())
		}
		s.stmts.close()
		errs = append(errs, s.writer.Close())
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("sqlitestore: close: %w", err)
		}
	})
	return s.closeErr
}

// fail turns err from operation op into the error a method returns:
// [chat.ErrClosed] when the store was closed, err wrapped with op
// otherwise, and with [chat.ErrUnavailable] too when it is an outage.
func (s *Store) fail(op string, err error) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	if outage(err) {
		return fmt.Errorf("sqlitestore: %s: %w: %w", op, chat.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlitestore: %s: %w", op, err)
}

// outage reports whether err means the database could not do the work
// now, rather than that the work was wrong: a lock held by another
// process for longer than the busy timeout (SQLITE_BUSY, SQLITE_LOCKED), an
// I/O error, a full disk, a file that cannot be opened, or a deadline that
// ran out. Constraint violations and the like are not outages.
func outage(err error) bool {
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		switch e.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL:
			return true
		}
		return false
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// secureDelete is the connections' PRAGMA secure_delete: ON, so that what
// a deletion frees is overwritten with zeros in the same transaction, and
// the bytes of a deleted message, room or account, or of a purged or
// expired file, are gone from the database file once the WAL is
// checkpointed, and from the WAL once the idle store truncates it
// (TestDeletedContentLeavesTheFile, wal.go), not readable there, or
// in a copy of it, until SQLite happens to reuse the space.
//
// Not FAST: FAST zeroes what is deleted inside a b-tree page that is
// written anyway, but leaves the pages a deletion frees as they were, on
// the freelist; and every file chunk (up to 60 KiB), every thumbnail and
// every body longer than about 4 KB lives mostly on overflow pages, which
// a deletion frees whole. Under FAST the test finds a purged file's chunk
// and thumbnail intact. ON costs a write of each page a deletion frees
// (a purge of a file rewrites its pages as zeros, in PurgeFiles' bounded
// batches); a transaction that only inserts frees nothing, except where
// the full-text index merges segments, and the pages those free are
// mostly reused by the merged segment in the same transaction (written
// once either way).
const secureDelete = "ON"
