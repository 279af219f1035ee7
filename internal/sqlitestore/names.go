package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

var _ chat.GuestNames = (*Store)(nil)

// ClaimNames takes or renews the leases of claims until until, in one
// transaction; see [chat.GuestNames.ClaimNames].
func (s *Store) ClaimNames(ctx context.Context, claims []chat.NameClaim, now, until time.Time) ([]string, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	if len(claims) == 0 {
		return nil, nil
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.fail("claim names", err)
	}
	defer tx.Rollback()
	var taken []string
	for _, c := range claims {
		// The update happens only when the lease is free, ended, or
		// already the holder's; otherwise no row changes.
		res, err := tx.ExecContext(ctx,
			`INSERT INTO guest_names (name_key, holder, expires_at) VALUES (?1, ?2, ?3)
			 ON CONFLICT (name_key) DO UPDATE SET holder = ?2, expires_at = ?3
			 WHERE guest_names.holder = ?2 OR guest_names.expires_at <= ?4`,
			c.Key, c.Holder, until.UnixMilli(), now.UnixMilli())
		if err != nil {
			return nil, s.fail("claim names", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, s.fail("claim names", err)
		}
		if n == 0 {
			taken = append(taken, c.Key)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, s.fail("claim names", err)
	}
	return taken, nil
}

// ReleaseName ends holder's lease on key.
func (s *Store) ReleaseName(ctx context.Context, key, holder string) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	if _, err := s.writer.ExecContext(ctx,
		`DELETE FROM guest_names WHERE name_key = ? AND holder = ?`, key, holder); err != nil {
		return s.fail("release name", err)
	}
	return nil
}

// NameHolder returns who holds key's lease at now, or "".
func (s *Store) NameHolder(ctx context.Context, key string, now time.Time) (string, error) {
	if s.closed.Load() {
		return "", chat.ErrClosed
	}
	var holder string
	err := s.reader.QueryRowContext(ctx,
		`SELECT holder FROM guest_names WHERE name_key = ? AND expires_at > ?`, key, now.UnixMilli()).Scan(&holder)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", s.fail("name holder", err)
	}
	return holder, nil
}
