package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// CreateRoom creates room r, or returns [chat.ErrRoomExists]. The store sets
// CreatedAt to the database's clock (millisecond precision) and LastSeq to
// 0; the values in r are ignored. CreateRoom does not validate the name.
func (s *Store) CreateRoom(ctx context.Context, r chat.Room) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	tag, err := s.pool.Exec(ctx,
		`INSERT INTO rooms (name, topic, private, owner, created_at, last_seq)
		 VALUES ($1, $2, $3, $4, `+nowMS+`, 0) ON CONFLICT (name) DO NOTHING`,
		r.Name, r.Topic, r.Private, r.Owner)
	if err != nil {
		return s.fail("create room", err)
	}
	if tag.RowsAffected() == 0 {
		return chat.ErrRoomExists
	}
	return nil
}

// Room returns the room called name, or [chat.ErrNoSuchRoom].
func (s *Store) Room(ctx context.Context, name string) (chat.Room, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return chat.Room{}, err
	}
	defer end()
	r, err := scanRoom(s.pool.QueryRow(ctx,
		`SELECT `+roomColumns+` FROM rooms WHERE name = $1`, name))
	if isNoRows(err) {
		return chat.Room{}, chat.ErrNoSuchRoom
	}
	if err != nil {
		return chat.Room{}, s.fail("room", err)
	}
	return r, nil
}

// Heads returns the LastSeq of each named room that exists, in one query.
func (s *Store) Heads(ctx context.Context, rooms []string) (map[string]int64, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	rows, err := s.pool.Query(ctx, `SELECT name, last_seq FROM rooms WHERE name = ANY($1)`, rooms)
	if err != nil {
		return nil, s.fail("heads", err)
	}
	defer rows.Close()
	out := make(map[string]int64, len(rooms))
	for rows.Next() {
		var name string
		var seq int64
		if err := rows.Scan(&name, &seq); err != nil {
			return nil, s.fail("heads", err)
		}
		out[name] = seq
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("heads", err)
	}
	return out, nil
}

// Rooms returns every room ordered by name, comparing bytes.
func (s *Store) Rooms(ctx context.Context) ([]chat.Room, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	return s.queryRooms(ctx, "rooms",
		`SELECT `+roomColumns+` FROM rooms ORDER BY name COLLATE "C"`)
}

// SetTopic changes the topic of a room, or returns [chat.ErrNoSuchRoom].
func (s *Store) SetTopic(ctx context.Context, room, topic string) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	tag, err := s.pool.Exec(ctx, `UPDATE rooms SET topic = $1 WHERE name = $2`, topic, room)
	if err != nil {
		return s.fail("set topic", err)
	}
	if tag.RowsAffected() == 0 {
		return chat.ErrNoSuchRoom
	}
	return nil
}

// roomColumns are the columns scanRoom reads, in its order.
const roomColumns = `name, topic, private, owner, created_at, last_seq`

// queryRooms runs q, which selects roomColumns, with args; op names the
// operation in errors.
func (s *Store) queryRooms(ctx context.Context, op, q string, args ...any) ([]chat.Room, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, s.fail(op, err)
	}
	rooms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (chat.Room, error) {
		return scanRoom(row)
	})
	if err != nil {
		return nil, s.fail(op, err)
	}
	return rooms, nil
}

// roomExists reports whether the room called name exists. Rooms are never
// deleted, so a room seen once exists for good.
func (s *Store) roomExists(ctx context.Context, name string) (bool, error) {
	var exists bool
	err := s.pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM rooms WHERE name = $1)`, name).Scan(&exists)
	return exists, err
}

func scanRoom(row pgx.Row) (chat.Room, error) {
	var r chat.Room
	err := row.Scan(&r.Name, &r.Topic, &r.Private, &r.Owner, &r.CreatedAt, &r.LastSeq)
	r.CreatedAt = r.CreatedAt.UTC()
	return r, err
}

// millis returns t at millisecond precision, the precision of every time the
// store keeps, in UTC.
func millis(t time.Time) time.Time { return t.Truncate(time.Millisecond).UTC() }
