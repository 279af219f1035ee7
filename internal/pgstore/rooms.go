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
		`INSERT INTO rooms (name, topic, private, owner, guest_owner, created_at, active_at, last_seq)
		 VALUES ($1, $2, $3, $4, $5, `+nowMS+`, `+nowMS+`, 0) ON CONFLICT (name) DO NOTHING`,
		r.Name, r.Topic, r.Private, r.Owner, r.GuestOwner)
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

// RoomWithOuts returns the room called name, as Room does, and the kick
// and ban entries after seq after (chat.Outs), about anyone and about the
// user (an account's name, with userKey ""; or a guest's identity,
// userKey), in one read. The entries after after are scanned by the
// messages' primary key: after must be close to the room's head.
func (s *Store) RoomWithOuts(ctx context.Context, name string, after int64, user, userKey string) (chat.Room, chat.Outs, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return chat.Room{}, chat.Outs{}, err
	}
	defer end()
	var (
		r     chat.Room
		o     chat.Outs
		until *time.Time
	)
	err = s.pool.QueryRow(ctx, roomWithOutsSQL, name, after, userKey, user).Scan(
		&r.Name, &r.Topic, &r.Private, &r.Owner, &r.CreatedAt, &r.LastSeq, &r.GuestOwner, &r.Archived,
		&o.Last, &o.Of.Seq, &o.Of.Kind, &o.Of.Author, &o.Of.Body, &until, &o.Of.User, &o.Of.UserKey)
	if isNoRows(err) {
		return chat.Room{}, chat.Outs{}, chat.ErrNoSuchRoom
	}
	if err != nil {
		return chat.Room{}, chat.Outs{}, s.fail("room with outs", err)
	}
	r.CreatedAt = r.CreatedAt.UTC()
	if o.Of.Seq != 0 {
		o.Of.Room = r.Name
		if until != nil {
			o.Of.Until = until.UTC()
		}
	}
	return r, o, nil
}

// roomWithOutsSQL is RoomWithOuts's read: $1 the room, $2 after, $3 the
// guest identity (empty for an account), $4 the account's name.
const roomWithOutsSQL = `SELECT r.name, r.topic, r.private, r.owner, r.created_at, r.last_seq, r.guest_owner, r.archived,
	coalesce((SELECT max(m.seq) FROM messages m
		WHERE m.room = r.name AND m.seq > $2 AND m.kind IN ('kick', 'ban')), 0),
	coalesce(u.seq, 0), coalesce(u.kind, ''), coalesce(u.author, ''), coalesce(u.body, ''), u.until,
	coalesce(u.subject, ''), coalesce(u.subject_key, '')
	FROM rooms r
	LEFT JOIN messages u ON u.room = r.name AND u.seq = (SELECT max(m.seq) FROM messages m
		WHERE m.room = r.name AND m.seq > $2 AND m.kind IN ('kick', 'ban')
		  AND m.subject_key = $3::text AND ($3::text <> '' OR m.subject = $4::text))
	WHERE r.name = $1`

// Heads returns the Head of each named room that exists, in one query.
func (s *Store) Heads(ctx context.Context, rooms []string) (map[string]chat.Head, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	rows, err := s.pool.Query(ctx, `SELECT name, last_seq, created_at FROM rooms WHERE name = ANY($1)`, rooms)
	if err != nil {
		return nil, s.fail("heads", err)
	}
	defer rows.Close()
	out := make(map[string]chat.Head, len(rooms))
	for rows.Next() {
		var name string
		var h chat.Head
		if err := rows.Scan(&name, &h.Seq, &h.Created); err != nil {
			return nil, s.fail("heads", err)
		}
		h.Created = h.Created.UTC()
		out[name] = h
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

// SetArchived archives or unarchives a room, or returns
// [chat.ErrNoSuchRoom].
func (s *Store) SetArchived(ctx context.Context, room string, archived bool) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	tag, err := s.pool.Exec(ctx, `UPDATE rooms SET archived = $1 WHERE name = $2`, archived, room)
	if err != nil {
		return s.fail("set archived", err)
	}
	if tag.RowsAffected() == 0 {
		return chat.ErrNoSuchRoom
	}
	return nil
}

// DeleteRoom removes a room, its messages, roles and sanctions, and purges
// the files its messages carry, in one transaction, or returns
// [chat.ErrNoSuchRoom]. It locks the room's row first, as Append does, so
// an Append is wholly before or after it.
func (s *Store) DeleteRoom(ctx context.Context, room string) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	n, err := s.deleteRooms(ctx, `SELECT name FROM rooms WHERE name = $1 FOR UPDATE`, room)
	if err != nil {
		return s.fail("delete room", err)
	}
	if len(n) == 0 {
		return chat.ErrNoSuchRoom
	}
	return nil
}

// deleteRooms locks the rooms that lockQuery (a SELECT name ... FOR
// UPDATE) returns, deletes them and what refers to them in one
// transaction, and returns their names. The lock comes first and is what
// keeps a room's messages with it (no foreign key does, migration 8): an
// Append to the room either committed before it, and its messages are
// deleted here, or waits for it and then finds no room.
func (s *Store) deleteRooms(ctx context.Context, lockQuery string, args ...any) ([]string, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, lockQuery, args...)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, nil
	}
	b := &pgx.Batch{}
	// The files their messages carry, while those are there to find
	// them, unless a message of another room carries one too.
	b.Queue(`UPDATE uploads SET `+purgeFileSet+`
		WHERE purged = 0
		  AND id IN (SELECT file_id FROM messages WHERE room = ANY($1) AND file_id <> '')
		  AND NOT EXISTS (SELECT 1 FROM messages m
		                  WHERE m.file_id = uploads.id AND m.file_id <> '' AND NOT m.room = ANY($1))`, names)
	// Reactions point at messages (a foreign key): first.
	b.Queue(`DELETE FROM reactions WHERE room = ANY($1)`, names)
	b.Queue(`DELETE FROM messages WHERE room = ANY($1)`, names)
	b.Queue(`DELETE FROM room_roles WHERE room = ANY($1)`, names)
	b.Queue(`DELETE FROM sanctions WHERE room = ANY($1)`, names)
	b.Queue(`DELETE FROM rooms WHERE name = ANY($1)`, names)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return names, nil
}

// MarkActive sets active_at of the named rooms to at, where at is later.
func (s *Store) MarkActive(ctx context.Context, rooms []string, at time.Time) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	if _, err := s.pool.Exec(ctx,
		`UPDATE rooms SET active_at = $1 WHERE active_at < $1 AND name = ANY($2)`,
		at.Truncate(time.Millisecond), rooms); err != nil {
		return s.fail("mark active", err)
	}
	return nil
}

// DeleteIdleGuestRooms deletes up to limit guest-made rooms idle since
// before, and returns their names. Rows another node is deleting at the
// same moment are skipped (SKIP LOCKED), so each room is reported by one
// caller only.
func (s *Store) DeleteIdleGuestRooms(ctx context.Context, before time.Time, limit int) ([]string, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	names, err := s.deleteRooms(ctx,
		`SELECT r.name FROM rooms r
		 WHERE r.guest_owner AND r.created_at < $1 AND r.active_at < $1
		   AND NOT EXISTS (SELECT 1 FROM messages m
		                   WHERE m.room = r.name AND m.seq = r.last_seq AND m.ts >= $1)
		 ORDER BY r.name LIMIT $2 FOR UPDATE SKIP LOCKED`,
		before.Truncate(time.Millisecond), limit)
	if err != nil {
		return nil, s.fail("delete idle rooms", err)
	}
	return names, nil
}

// roomColumns are the columns scanRoom reads, in its order.
const roomColumns = `name, topic, private, owner, created_at, last_seq, guest_owner, archived`

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

// roomExists reports whether the room called name exists now.
func (s *Store) roomExists(ctx context.Context, name string) (bool, error) {
	var exists bool
	err := s.pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM rooms WHERE name = $1)`, name).Scan(&exists)
	return exists, err
}

func scanRoom(row pgx.Row) (chat.Room, error) {
	var r chat.Room
	err := row.Scan(&r.Name, &r.Topic, &r.Private, &r.Owner, &r.CreatedAt, &r.LastSeq, &r.GuestOwner, &r.Archived)
	r.CreatedAt = r.CreatedAt.UTC()
	return r, err
}

// millis returns t at millisecond precision, the precision of every time the
// store keeps, in UTC.
func millis(t time.Time) time.Time { return t.Truncate(time.Millisecond).UTC() }
