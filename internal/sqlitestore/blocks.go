package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

var _ chat.Blocks = (*Store)(nil)

// Block records that blocker blocks blocked; see [chat.Blocks.Block]. It
// counts and inserts in one write transaction, which the single writer
// connection serialises with every other.
func (s *Store) Block(ctx context.Context, blocker, blocked string, at time.Time, max int) (bool, error) {
	if s.closed.Load() {
		return false, chat.ErrClosed
	}
	const op = "block"
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return false, s.fail(op, err)
	}
	defer tx.Rollback()
	var n int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM blocks WHERE blocker = ? AND blocked = ?`, blocker, blocked).Scan(&n)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, s.fail(op, err)
	}
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE name = ? AND deleted = 0`, blocked).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, chat.ErrNoSuchUser
	}
	if err != nil {
		return false, s.fail(op, err)
	}
	if max > 0 {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM blocks WHERE blocker = ?`, blocker).Scan(&n); err != nil {
			return false, s.fail(op, err)
		}
		if n >= max {
			return false, chat.ErrBlockLimit
		}
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO blocks (blocker, blocked, created_at) VALUES (?, ?, ?)`,
		blocker, blocked, at.UnixMilli()); err != nil {
		return false, s.fail(op, err)
	}
	if err := tx.Commit(); err != nil {
		return false, s.fail(op, err)
	}
	return true, nil
}

// Unblock removes blocker's block of blocked, if there is one.
func (s *Store) Unblock(ctx context.Context, blocker, blocked string) (bool, error) {
	if s.closed.Load() {
		return false, chat.ErrClosed
	}
	res, err := s.writer.ExecContext(ctx, `DELETE FROM blocks WHERE blocker = ? AND blocked = ?`, blocker, blocked)
	if err != nil {
		return false, s.fail("unblock", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.fail("unblock", err)
	}
	return n > 0, nil
}

// Blocked reports whether blocker blocks blocked.
func (s *Store) Blocked(ctx context.Context, blocker, blocked string) (bool, error) {
	if s.closed.Load() {
		return false, chat.ErrClosed
	}
	var n int
	err := s.queryRow(ctx, `SELECT 1 FROM blocks WHERE blocker = ? AND blocked = ?`, blocker, blocked).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, s.fail("blocked", err)
	}
	return true, nil
}

// BlockList returns the accounts blocker blocks, sorted.
func (s *Store) BlockList(ctx context.Context, blocker string) ([]string, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	rows, err := s.query(ctx, `SELECT blocked FROM blocks WHERE blocker = ? ORDER BY blocked`, blocker)
	if err != nil {
		return nil, s.fail("block list", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, s.fail("block list", err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("block list", err)
	}
	return out, nil
}
