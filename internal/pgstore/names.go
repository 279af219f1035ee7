package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

var _ chat.GuestNames = (*Store)(nil)

// ClaimNames takes or renews the leases of claims until until, in one
// statement; see [chat.GuestNames.ClaimNames]. Two nodes claiming one key
// at once are serialized by its row: the second sees the first's lease.
func (s *Store) ClaimNames(ctx context.Context, claims []chat.NameClaim, now, until time.Time) ([]string, error) {
	if len(claims) == 0 {
		return nil, nil
	}
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	keys := make([]string, len(claims))
	holders := make([]string, len(claims))
	for i, c := range claims {
		keys[i], holders[i] = c.Key, c.Holder
	}
	// An INSERT ... ON CONFLICT may not touch one row twice: claims name
	// distinct keys (one holder per key on a node), and DISTINCT ON keeps
	// the first if not.
	rows, err := s.pool.Query(ctx,
		`INSERT INTO guest_names AS g (name_key, holder, expires_at)
		 SELECT DISTINCT ON (k) k, h, $3::timestamptz FROM unnest($1::text[], $2::text[]) AS c (k, h)
		 ON CONFLICT (name_key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		 WHERE g.holder = excluded.holder OR g.expires_at <= $4::timestamptz
		 RETURNING name_key`,
		keys, holders, until.Truncate(time.Millisecond), now.Truncate(time.Millisecond))
	if err != nil {
		return nil, s.fail("claim names", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, s.fail("claim names", err)
	}
	ok := make(map[string]bool, len(got))
	for _, k := range got {
		ok[k] = true
	}
	var taken []string
	for _, k := range keys {
		if !ok[k] {
			taken = append(taken, k)
		}
	}
	return taken, nil
}

// ReleaseName ends holder's lease on key.
func (s *Store) ReleaseName(ctx context.Context, key, holder string) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	if _, err := s.pool.Exec(ctx,
		`DELETE FROM guest_names WHERE name_key = $1 AND holder = $2`, key, holder); err != nil {
		return s.fail("release name", err)
	}
	return nil
}

// NameHolder returns who holds key's lease at now, or "".
func (s *Store) NameHolder(ctx context.Context, key string, now time.Time) (string, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return "", err
	}
	defer end()
	var holder string
	err = s.pool.QueryRow(ctx,
		`SELECT holder FROM guest_names WHERE name_key = $1 AND expires_at > $2`, key, now.Truncate(time.Millisecond)).Scan(&holder)
	if isNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", s.fail("name holder", err)
	}
	return holder, nil
}
