package sqlitestore

import (
	"context"
	"database/sql"
	"sync"
)

// readStmts prepares each read query once, on the reader pool, the first
// time it runs. Without it modernc.org/sqlite parses the SQL text on every
// call: in a storm of joins that parsing was 15% of the server's CPU.
// Only queries with a fixed text belong here; a text built per call (an
// IN list of varying length) would fill the cache.
type readStmts struct {
	mu    sync.Mutex // guards bySQL
	bySQL map[string]*sql.Stmt
}

// get returns the statement for q, preparing it on db the first time.
func (r *readStmts) get(ctx context.Context, db *sql.DB, q string) (*sql.Stmt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st := r.bySQL[q]; st != nil {
		return st, nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if r.bySQL == nil {
		r.bySQL = make(map[string]*sql.Stmt)
	}
	r.bySQL[q] = st
	return st, nil
}

func (r *readStmts) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, st := range r.bySQL {
		st.Close()
	}
	r.bySQL = nil
}

// queryRow runs q, a query of fixed text, on the reader pool through its
// prepared statement.
//
// Every caller reads one row by a key its index finds at once, which
// takes microseconds, so the query does not watch ctx once it has
// started, nor while it waits for one of the reader connections, which
// only reads of milliseconds hold (an already ended ctx still fails it at
// once): for a ctx that
// can end, database/sql and the driver would each start a goroutine per
// query only to be able to interrupt it, and a join or a hello makes
// several such reads (storm profile: 3% of the server's CPU in those
// goroutines, and more in the scheduler).
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := s.reads.get(ctx, s.reader, q)
	if err != nil {
		// Let database/sql report the error the usual way.
		return s.reader.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(uncancelable(ctx), args...)
}

// uncancelable returns ctx without its cancellation, unless it has
// already ended: a statement run with it is not watched by a goroutine
// of the driver's, and an ended ctx still fails it at once.
func uncancelable(ctx context.Context) context.Context {
	if ctx.Err() != nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// query is queryRow for many rows.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.reads.get(ctx, s.reader, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}
