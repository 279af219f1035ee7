package sqlitestore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The WAL is truncated when the store is idle (tendWAL).
//
// Why: secure_delete overwrites what a deletion frees, but the WAL keeps
// the versions of the pages written before it, message bodies and file
// chunks among them, until later writes reuse those frames. SQLite starts
// the WAL over from its first frame after a checkpoint, but never shrinks
// or clears the file (about 10 MB, walCheckpointPages), so on a server
// that goes quiet after a deletion the deleted content stays readable in
// hubbub.db-wal for as long as it stays quiet. PRAGMA
// wal_checkpoint(TRUNCATE) copies the WAL into the database file (where
// the deletion already zeroed it) and truncates the WAL to zero bytes.
//
// When: after walIdleTicks ticks of walTick in a row without a commit,
// if there was one since the last truncation; after walSoonTicks only,
// once a deletion asked for it (walSoon). Five seconds, because a
// truncation is not free for the commits that follow it: the WAL grows
// again from zero, and a commit that grows the file syncs its size too.
// A chat whose messages come every second or two never pays that, and
// one that pauses for five seconds pays it once per pause. What is
// deleted waits one second: a deletion is rare, and its content is what
// the truncation is for. A busy server is never idle that long, and needs
// it less: its WAL comes round to the old frames as it fills again, and
// overwrites them.
//
// The truncation takes the writer connection like any write, so a write
// that arrives during one waits for it, but for no longer than the copy
// of what the WAL holds and not yet in the database file (less than
// walCheckpointPages pages: the autocheckpoint copied the rest) and two
// syncs: 21–24 ms for a WAL of 10.5 MB whose 2,550 pages were all still
// to copy, 0.35 ms after one message (measured on the development
// machine's ext4 disk, without -race).
//
// It does not wait for a lock. SQLite can truncate the WAL only when no
// reader is reading from it; were it to wait for such a reader (the busy
// timeout), it would hold the writer, and every commit, meanwhile.
// Readers here are single queries, milliseconds long: if one is in the
// way, the truncation gives up at once (errWALBusy) and is tried again
// after the next idle period.
const (
	walTick       = time.Second
	walIdleTicks  = 5
	walSoonTicks  = 1
	walTruncateIn = time.Minute // the truncation's deadline; it never waits for a lock
)

// errWALBusy is what truncateWAL returns when a reader was still reading
// from the WAL, which TRUNCATE cannot truncate under it. tendWAL tries
// again at the next idle period.
var errWALBusy = errors.New("sqlitestore: truncate the WAL: a reader is using it")

// walStats counts the idle truncations of the WAL.
type walStats struct {
	truncated atomic.Int64 // the WAL is 0 bytes
	busy      atomic.Int64 // a reader was using the WAL (errWALBusy)
	failed    atomic.Int64 // any other error
}

// WALTruncations returns how many idle truncations of the WAL succeeded,
// gave way to a reader (to be tried again at the next idle period), and
// failed otherwise, since Open. The server exports them as metrics.
func (s *Store) WALTruncations() (done, busy, failed int64) {
	return s.walStats.truncated.Load(), s.walStats.busy.Load(), s.walStats.failed.Load()
}

// walIdle decides, one tick at a time, when to truncate the WAL. Its zero
// value is ready to use, and truncates at the first idle period even
// without a commit: the WAL may hold what a process that crashed wrote.
// It is not safe for concurrent use (tendWAL owns it).
type walIdle struct {
	seen      uint64 // the commit count at the last tick
	quiet     int    // ticks in a row that saw no new commit
	clean     bool   // a truncation succeeded, as of commit count truncated
	truncated uint64
}

// tick takes the commit count at this tick and whether a deletion asked
// for a truncation soon, and reports whether to truncate now: after
// walIdleTicks ticks in a row (walSoonTicks if soon) that saw no commit,
// and only if there was a commit since the last truncation (or there was
// none yet).
func (w *walIdle) tick(commits uint64, soon bool) bool {
	if commits != w.seen {
		w.seen, w.quiet = commits, 0
		return false
	}
	w.quiet++
	need := walIdleTicks
	if soon {
		need = walSoonTicks
	}
	return (!w.clean || commits != w.truncated) && w.quiet >= need
}

// done records how the truncation that tick decided on at commits went:
// if it failed, the next try waits for another idle period.
func (w *walIdle) done(commits uint64, ok bool) {
	if ok {
		w.clean, w.truncated = true, commits
	} else {
		w.quiet = 0
	}
}

// tendWAL calls truncate when walIdle says so, every walTick until quit
// is closed. commits reads the store's commit count; soon is set by a
// deletion that wants a truncation after a short quiet, and is cleared
// when one is done. A truncate in progress holds Close up until it
// returns.
func tendWAL(quit <-chan struct{}, commits func() uint64, soon *atomic.Bool, truncate func() error) {
	t := time.NewTicker(walTick)
	defer t.Stop()
	var w walIdle
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		n := commits()
		if !w.tick(n, soon.Load()) {
			continue
		}
		// Cleared first: a deletion that commits meanwhile sets it again.
		wasSoon := soon.Swap(false)
		err := truncate()
		if err != nil && wasSoon {
			soon.Store(true)
		}
		w.done(n, err == nil)
	}
}

// erased tells tendWAL that a transaction that deleted or overwrote
// content (a message deleted or edited, a room or an account deleted, a
// file's chunks purged, expired or discarded) has committed: the WAL is
// truncated after walSoonTicks of quiet rather than walIdleTicks. An
// atomic store; the deleting methods call it after their commit.
func (s *Store) erased() { s.walSoon.Store(true) }

// truncateWAL runs PRAGMA wal_checkpoint(TRUNCATE) on the writer: the WAL
// is copied into the database file, synced, and truncated to zero bytes.
// It waits for the writer like any write, but not for a lock: with a
// reader still reading from the WAL it returns errWALBusy at once, having
// copied what it could, instead of holding the writer for the busy
// timeout. It counts what happened in s.walStats.
func (s *Store) truncateWAL(ctx context.Context) error {
	err := s.checkpointTruncate(ctx)
	switch {
	case err == nil:
		s.walStats.truncated.Add(1)
	case errors.Is(err, errWALBusy):
		s.walStats.busy.Add(1)
	default:
		s.walStats.failed.Add(1)
	}
	return err
}

func (s *Store) checkpointTruncate(ctx context.Context) error {
	c, err := s.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlitestore: truncate the WAL: %w", err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		return fmt.Errorf("sqlitestore: truncate the WAL: %w", err)
	}
	var busy, frames, copied int64
	err = c.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied)
	if _, rerr := c.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeoutMS)); rerr != nil {
		// A writer without its busy timeout would fail at once on
		// another process's lock: database/sql drops this connection
		// and opens another, with the pragmas of dsn.
		_ = c.Raw(func(any) error { return driver.ErrBadConn })
		return fmt.Errorf("sqlitestore: truncate the WAL: restore the busy timeout: %w", errors.Join(err, rerr))
	}
	if e, ok := errors.AsType[*sqlite.Error](err); ok {
		if code := e.Code() & 0xff; code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED {
			return fmt.Errorf("%w: %w", errWALBusy, err)
		}
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: truncate the WAL: %w", err)
	}
	if busy != 0 {
		return errWALBusy
	}
	return nil
}

// writerConnector opens the writer's connections through a driver of the
// store's own, whose connection hook counts the connection's commits in
// commits: a commit hook, one atomic add per write transaction, which
// tendWAL reads to tell a store that is idle. The driver is otherwise the
// one registered as "sqlite" (hubbub registers no functions on that).
type writerConnector struct {
	drv *sqlite.Driver
	dsn string
}

func newWriterConnector(dsn string, commits *atomic.Uint64) writerConnector {
	drv := &sqlite.Driver{}
	drv.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, _ string) error {
		h, ok := c.(sqlite.HookRegisterer)
		if !ok {
			return errors.New("sqlitestore: the driver's connection takes no commit hook")
		}
		// Runs inside every commit of a write transaction, on the
		// writer (not for a read-only one, nor for a checkpoint).
		h.RegisterCommitHook(func() int32 {
			commits.Add(1)
			return 0 // 0: the commit goes on
		})
		return nil
	})
	return writerConnector{drv: drv, dsn: dsn}
}

// Connect implements driver.Connector.
func (c writerConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.drv.Open(c.dsn)
}

// Driver implements driver.Connector.
func (c writerConnector) Driver() driver.Driver { return c.drv }
