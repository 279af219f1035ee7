package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// CreateRoom creates room r, or returns [chat.ErrRoomExists]. The store sets
// CreatedAt to now (millisecond precision) and LastSeq to 0; the values in r
// are ignored. CreateRoom does not validate the name.
func (s *Store) CreateRoom(ctx context.Context, r chat.Room) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	res, err := s.writer.ExecContext(ctx,
		`INSERT INTO rooms (name, topic, private, owner, created_at, last_seq)
		 VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT (name) DO NOTHING`,
		r.Name, r.Topic, r.Private, r.Owner, time.Now().UnixMilli())
	if err != nil {
		return s.fail("create room", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail("create room", err)
	}
	if n == 0 {
		return chat.ErrRoomExists
	}
	return nil
}

// Room returns the room called name, or [chat.ErrNoSuchRoom].
func (s *Store) Room(ctx context.Context, name string) (chat.Room, error) {
	if s.closed.Load() {
		return chat.Room{}, chat.ErrClosed
	}
	row := s.queryRow(ctx,
		`SELECT name, topic, private, owner, created_at, last_seq FROM rooms WHERE name = ?`, name)
	r, err := scanRoom(row)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Room{}, chat.ErrNoSuchRoom
	}
	if err != nil {
		return chat.Room{}, s.fail("room", err)
	}
	return r, nil
}

// Heads returns the LastSeq of each named room that exists, with one query
// per 500 names (SQLite's limit on parameters is higher; this keeps each
// statement small).
func (s *Store) Heads(ctx context.Context, rooms []string) (map[string]int64, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	out := make(map[string]int64, len(rooms))
	for chunk := range slices.Chunk(rooms, 500) {
		args := make([]any, len(chunk))
		for i, r := range chunk {
			args[i] = r
		}
		q := `SELECT name, last_seq FROM rooms WHERE name IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
		rows, err := s.reader.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, s.fail("heads", err)
		}
		for rows.Next() {
			var name string
			var seq int64
			if err := rows.Scan(&name, &seq); err != nil {
				rows.Close()
				return nil, s.fail("heads", err)
			}
			out[name] = seq
		}
		if err := rows.Close(); err != nil {
			return nil, s.fail("heads", err)
		}
		if err := rows.Err(); err != nil {
			return nil, s.fail("heads", err)
		}
	}
	return out, nil
}

// Rooms returns every room ordered by name, comparing bytes.
func (s *Store) Rooms(ctx context.Context) ([]chat.Room, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	return s.queryRooms(ctx, "rooms",
		`SELECT name, topic, private, owner, created_at, last_seq FROM rooms ORDER BY name`)
}

// queryRooms runs q, which selects the columns scanRoom reads, with args on
// the read pool; op names the operation in errors.
func (s *Store) queryRooms(ctx context.Context, op, q string, args ...any) ([]chat.Room, error) {
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.fail(op, err)
	}
	defer rows.Close()
	var rooms []chat.Room
	for rows.Next() {
		r, err := scanRoom(rows)
		if err != nil {
			return nil, s.fail(op, err)
		}
		rooms = append(rooms, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(op, err)
	}
	return rooms, nil
}

// roomExists reports whether the room called name exists.
func (s *Store) roomExists(ctx context.Context, name string) (bool, error) {
	var one int
	err := s.queryRow(ctx, `SELECT 1 FROM rooms WHERE name = ?`, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func scanRoom(row interface{ Scan(...any) error }) (chat.Room, error) {
	var r chat.Room
	var created int64
	err := row.Scan(&r.Name, &r.Topic, &r.Private, &r.Owner, &created, &r.LastSeq)
	r.CreatedAt = fromMillis(created)
	return r, err
}

// fromMillis returns the UTC time ms milliseconds after the Unix epoch.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// SetTopic changes the topic of a room, or returns chat.ErrNoSuchRoom.
func (s *Store) SetTopic(ctx context.Context, room, topic string) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	res, err := s.writer.ExecContext(ctx, `UPDATE rooms SET topic = ? WHERE name = ?`, topic, room)
	if err != nil {
		return s.fail("set topic", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail("set topic", err)
	}
	if n == 0 {
		return chat.ErrNoSuchRoom
	}
	return nil
}
