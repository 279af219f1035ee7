// Package pgstore implements [chat.Store], [chat.Accounts] and
// [chat.Access] on PostgreSQL, using pgx and its connection pool. It is the
// store for deployments of several hubbubd nodes: every node opens the same
// database, and together they keep the promises of the contracts, per-room
// sequence numbers without gaps or duplicates included.
//
// # Schema
//
// [Open] brings the schema up to date: an ordered list of migrations, the
// applied ones recorded in the table schema_version. The migrations run in
// one transaction that first takes a transaction-level advisory lock
// (pg_advisory_xact_lock), keyed by the schema, so nodes that start at the
// same time wait for each other instead of racing; the second finds the work
// done. The tables go into the first schema of the connection's search_path
// (set it with the DSN parameter search_path to share a database between
// deployments).
//
// Every name column uses the "C" collation: names are compared and sorted
// byte for byte, as Go compares strings, whatever the database's locale.
// Times are timestamptz at millisecond precision.
//
// # Appends from several nodes
//
// An Append is one transaction. It first locks the rows of the rooms it
// writes to (SELECT … FOR NO KEY UPDATE, in name order, so two batches that
// share rooms cannot deadlock), then numbers its messages after each room's
// last_seq and advances last_seq. Appends to one room are so serialized
// across every node, and sequence numbers stay gap-free. Message times come
// from the database's clock, the one clock every node shares, clamped so that
// they never decrease within a room.
//
// A store opened with the default query execution mode prepares its
// statements on each connection; behind a transaction-pooling proxy such as
// PgBouncer, set default_query_exec_mode in the DSN as pgx documents.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

var _ chat.Store = (*Store)(nil)

// Store is a [chat.Store], [chat.Accounts] and [chat.Access] backed by a
// PostgreSQL database. It is safe for concurrent use, and several Stores,
// in one process or in many, may share a database. Create it with [Open];
// the zero value is not usable.
type Store struct {
	// Immutable after Open.
	pool *pgxpool.Pool
	// done is canceled by Close; every call's context ends with it, so
	// that Close does not wait for calls in progress (a call waiting for
	// a lock held by another node, say).
	done   context.Context
	cancel context.CancelFunc

	closed    atomic.Bool
	closeOnce sync.Once
}

// Open connects to the PostgreSQL database that dsn names, a URL
// (postgres://user@host/db?sslmode=disable) or keyword/value string as pgx
// parses it, brings its schema up to date and makes sure the default room
// exists. It fails if the schema was written by a newer version of hubbub
// whose migrations this one does not know. ctx bounds the connecting and the
// migrations, not the Store's life.
//
// Connections are pooled; pool_max_conns and the other pgxpool parameters
// in dsn size the pool.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// ParseConfig's error can hold the DSN, password included.
		return nil, fmt.Errorf("pgstore: open: cannot parse the DSN")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	s := &Store{pool: pool}
	s.done, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	if err := s.pool.Ping(ctx); err != nil {
		return s.fail("ping", err)
	}
	return nil
}

// Close closes the store's connections. It does not wait for calls in
// progress: it cancels them, and they return [chat.ErrClosed], as every later
// call does. Close waits only for their connections to close. A call that
// was committing when Close came may or may not have committed. Close may
// be called more than once; it always returns nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.cancel()
		s.pool.Close()
	})
	return nil
}

// enter starts a method call: it returns [chat.ErrClosed] after Close, and
// otherwise a context derived from ctx that Close cancels, and end, which the
// call must call when it returns.
func (s *Store) enter(ctx context.Context) (_ context.Context, end func(), _ error) {
	if s.closed.Load() {
		return nil, nil, chat.ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.done, cancel)
	return ctx, func() {
		stop()
		cancel()
	}, nil
}

// fail turns err from operation op into the error a method returns:
// [chat.ErrClosed] when the store was closed, err wrapped with op
// otherwise, and with [chat.ErrUnavailable] too when it is an outage.
func (s *Store) fail(op string, err error) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	if outage(err) {
		return fmt.Errorf("pgstore: %s: %w: %w", op, chat.ErrUnavailable, err)
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

// outage reports whether err means PostgreSQL could not be reached or
// could not answer in time, rather than that it refused the statement:
// a dial, read or write that failed or timed out, a connection lost
// mid-call, a deadline that ran out, or a server error of the classes
// 08 (connection exception), 53 (insufficient resources: too many
// connections, disk full), 57P (shutting down, starting up) or 58
// (system error: I/O). Constraint violations, syntax errors and the like
// are not outages.
func outage(err error) bool {
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		c := pe.Code
		return strings.HasPrefix(c, "08") || strings.HasPrefix(c, "53") || strings.HasPrefix(c, "57P") || strings.HasPrefix(c, "58")
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}
