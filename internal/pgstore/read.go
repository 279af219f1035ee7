package pgstore

import (
	"context"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

var _ chat.Reads = (*Store)(nil)

// MarkRead moves user's read position in room forward to seq; see
// [chat.Reads.MarkRead]. A seq of 0 or less never moves a position and
// stores nothing.
func (s *Store) MarkRead(ctx context.Context, user, room string, seq int64) (bool, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return false, err
	}
	defer end()
	if seq > 0 {
		// Inserts nothing when the room is missing; updates only forward.
		tag, err := s.pool.Exec(ctx,
			`INSERT INTO read_positions (username, room, seq)
			 SELECT $1::text, name, $2::bigint FROM rooms WHERE name = $3
			 ON CONFLICT (username, room) DO UPDATE SET seq = excluded.seq
			 WHERE excluded.seq > read_positions.seq`,
			user, seq, room)
		if err != nil {
			return false, s.fail("mark read", err)
		}
		if tag.RowsAffected() > 0 {
			return true, nil
		}
	}
	// Nothing moved: the position was ahead already, or the room is
	// missing.
	ok, err := s.roomExists(ctx, room)
	if err != nil {
		return false, s.fail("mark read", err)
	}
	if !ok {
		return false, chat.ErrNoSuchRoom
	}
	return false, nil
}

// ReadPosition returns user's read position in room, 0 if none.
func (s *Store) ReadPosition(ctx context.Context, user, room string) (int64, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return 0, err
	}
	defer end()
	var seq int64
	err = s.pool.QueryRow(ctx,
		`SELECT seq FROM read_positions WHERE username = $1 AND room = $2`, user, room).Scan(&seq)
	if isNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, s.fail("read position", err)
	}
	return seq, nil
}

// ReadPositions returns every read position of user.
func (s *Store) ReadPositions(ctx context.Context, user string) (map[string]int64, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	rows, err := s.pool.Query(ctx, `SELECT room, seq FROM read_positions WHERE username = $1`, user)
	if err != nil {
		return nil, s.fail("read positions", err)
	}
	defer rows.Close()
	out := make(map[string]int64)
	for rows.Next() {
		var room string
		var seq int64
		if err := rows.Scan(&room, &seq); err != nil {
			return nil, s.fail("read positions", err)
		}
		out[room] = seq
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("read positions", err)
	}
	return out, nil
}
