package pgstore

import (
	"context"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

var _ chat.Blocks = (*Store)(nil)

// blockLockKey is the first key of the advisory lock that Block takes per
// blocker (the second is a hash of the blocker's name), so that a
// blocker's blocks are counted and added one at a time. ("bloc" in ASCII.)
const blockLockKey = 0x626c6f63

// Block records that blocker blocks blocked; see [chat.Blocks.Block]. The
// blocked account's row is read FOR SHARE, so that a DeleteUser of it
// running at once either comes first (ErrNoSuchUser) or waits and removes
// the new block too.
func (s *Store) Block(ctx context.Context, blocker, blocked string, at time.Time, max int) (bool, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return false, err
	}
	defer end()
	const op = "block"
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, s.fail(op, err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(blockLockKey), blocker); err != nil {
		return false, s.fail(op, err)
	}
	var n int64
	err = tx.QueryRow(ctx, `SELECT 1 FROM blocks WHERE blocker = $1 AND blocked = $2`, blocker, blocked).Scan(&n)
	if err == nil {
		return false, nil
	}
	if !isNoRows(err) {
		return false, s.fail(op, err)
	}
	err = tx.QueryRow(ctx, `SELECT 1 FROM users WHERE name = $1 AND NOT deleted FOR SHARE`, blocked).Scan(&n)
	if isNoRows(err) {
		return false, chat.ErrNoSuchUser
	}
	if err != nil {
		return false, s.fail(op, err)
	}
	if max > 0 {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM blocks WHERE blocker = $1`, blocker).Scan(&n); err != nil {
			return false, s.fail(op, err)
		}
		if n >= int64(max) {
			return false, chat.ErrBlockLimit
		}
	}
	if _, err := tx.Exec(ctx,
		`INSERT INTO blocks (blocker, blocked, created_at) VALUES ($1, $2, $3)`,
		blocker, blocked, at.Truncate(time.Millisecond)); err != nil {
		return false, s.fail(op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, s.fail(op, err)
	}
	return true, nil
}

// Unblock removes blocker's block of blocked, if there is one.
func (s *Store) Unblock(ctx context.Context, blocker, blocked string) (bool, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return false, err
	}
	defer end()
	tag, err := s.pool.Exec(ctx, `DELETE FROM blocks WHERE blocker = $1 AND blocked = $2`, blocker, blocked)
	if err != nil {
		return false, s.fail("unblock", err)
	}
	return tag.RowsAffected() > 0, nil
}

// Blocked reports whether blocker blocks blocked.
func (s *Store) Blocked(ctx context.Context, blocker, blocked string) (bool, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return false, err
	}
	defer end()
	var n int
	err = s.pool.QueryRow(ctx, `SELECT 1 FROM blocks WHERE blocker = $1 AND blocked = $2`, blocker, blocked).Scan(&n)
	if isNoRows(err) {
		return false, nil
	}
	if err != nil {
		return false, s.fail("blocked", err)
	}
	return true, nil
}

// BlockList returns the accounts blocker blocks, sorted by bytes.
func (s *Store) BlockList(ctx context.Context, blocker string) ([]string, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	var out []string
	err = s.pool.QueryRow(ctx,
		`SELECT coalesce(array_agg(blocked ORDER BY blocked), '{}') FROM blocks WHERE blocker = $1`, blocker).Scan(&out)
	if err != nil {
		return nil, s.fail("block list", err)
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}
