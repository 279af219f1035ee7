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
		`INSERT INTO rooms (name, topic, private, owner, guest_owner, created_at, active_at, last_seq)
		 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 0) ON CONFLICT (name) DO NOTHING`,
		r.Name, r.Topic, r.Private, r.Owner, r.GuestOwner, time.Now().UnixMilli())
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
	row := s.queryRow(ctx, `SELECT `+roomColumns+` FROM rooms WHERE name = ?`, name)
	r, err := scanRoom(row)
	if errors.Is(err, sql.ErrNoRows) {
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
	if s.closed.Load() {
		return chat.Room{}, chat.Outs{}, chat.ErrClosed
	}
	var (
		r       chat.Room
		o       chat.Outs
		created int64
		until   sql.NullInt64
	)
	err := s.queryRow(ctx, roomWithOutsSQL, name, after, userKey, user).Scan(
		&r.Name, &r.Topic, &r.Private, &r.Owner, &created, &r.LastSeq, &r.GuestOwner, &r.Archived,
		&o.Last, &o.Of.Seq, &o.Of.Kind, &o.Of.Author, &o.Of.Body, &until, &o.Of.User, &o.Of.UserKey)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Room{}, chat.Outs{}, chat.ErrNoSuchRoom
	}
	if err != nil {
		return chat.Room{}, chat.Outs{}, s.fail("room with outs", err)
	}
	r.CreatedAt = fromMillis(created)
	if o.Of.Seq != 0 {
		o.Of.Room = r.Name
		if until.Valid {
			o.Of.Until = fromMillis(until.Int64)
		}
	}
	return r, o, nil
}

// roomWithOutsSQL is RoomWithOuts's read: ?1 the room, ?2 after, ?3 the
// guest identity (empty for an account), ?4 the account's name.
const roomWithOutsSQL = `SELECT r.name, r.topic, r.private, r.owner, r.created_at, r.last_seq, r.guest_owner, r.archived,
	coalesce((SELECT max(m.seq) FROM messages m
		WHERE m.room = r.name AND m.seq > ?2 AND m.kind IN ('kick', 'ban')), 0),
	coalesce(u.seq, 0), coalesce(u.kind, ''), coalesce(u.author, ''), coalesce(u.body, ''), u.until,
	coalesce(u.subject, ''), coalesce(u.subject_key, '')
	FROM rooms r
	LEFT JOIN messages u ON u.room = r.name AND u.seq = (SELECT max(m.seq) FROM messages m
		WHERE m.room = r.name AND m.seq > ?2 AND m.kind IN ('kick', 'ban')
		  AND m.subject_key = ?3 AND (?3 <> '' OR m.subject = ?4))
	WHERE r.name = ?1`

// Heads returns the Head of each named room that exists, with one query
// per 500 names (SQLite's limit on parameters is higher; this keeps each
// statement small).
func (s *Store) Heads(ctx context.Context, rooms []string) (map[string]chat.Head, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	out := make(map[string]chat.Head, len(rooms))
	for chunk := range slices.Chunk(rooms, 500) {
		args := make([]any, len(chunk))
		for i, r := range chunk {
			args[i] = r
		}
		q := `SELECT name, last_seq, created_at FROM rooms WHERE name IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
		rows, err := s.reader.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, s.fail("heads", err)
		}
		for rows.Next() {
			var name string
			var seq, created int64
			if err := rows.Scan(&name, &seq, &created); err != nil {
				rows.Close()
				return nil, s.fail("heads", err)
			}
			out[name] = chat.Head{Seq: seq, Created: fromMillis(created)}
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
		`SELECT `+roomColumns+` FROM rooms ORDER BY name`)
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

// roomColumns are the columns scanRoom reads, in its order.
const roomColumns = `name, topic, private, owner, created_at, last_seq, guest_owner, archived`

func scanRoom(row interface{ Scan(...any) error }) (chat.Room, error) {
	var r chat.Room
	var created int64
	err := row.Scan(&r.Name, &r.Topic, &r.Private, &r.Owner, &created, &r.LastSeq, &r.GuestOwner, &r.Archived)
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
	return s.updateRoom(ctx, "set topic", `UPDATE rooms SET topic = ? WHERE name = ?`, topic, room)
}

// SetArchived archives or unarchives a room, or returns
// [chat.ErrNoSuchRoom].
func (s *Store) SetArchived(ctx context.Context, room string, archived bool) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	return s.updateRoom(ctx, "set archived", `UPDATE rooms SET archived = ? WHERE name = ?`, archived, room)
}

// updateRoom runs q, an UPDATE of one room, and returns
// [chat.ErrNoSuchRoom] if it changed no row; op names it in errors.
func (s *Store) updateRoom(ctx context.Context, op, q string, args ...any) error {
	res, err := s.writer.ExecContext(ctx, q, args...)
	if err != nil {
		return s.fail(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return chat.ErrNoSuchRoom
	}
	return nil
}

// DeleteRoom removes a room, its messages, roles and sanctions, and purges
// the files its messages carry, in one transaction, or returns
// [chat.ErrNoSuchRoom]. Writes go through one
// connection, so an Append is wholly before or after it.
func (s *Store) DeleteRoom(ctx context.Context, room string) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return s.fail("delete room", err)
	}
	defer tx.Rollback()
	n, err := s.deleteRooms(ctx, tx, []string{room})
	if err != nil {
		return s.fail("delete room", err)
	}
	if n == 0 {
		return chat.ErrNoSuchRoom
	}
	if err := tx.Commit(); err != nil {
		return s.fail("delete room", err)
	}
	s.erased()
	return nil
}

// deleteRooms deletes the named rooms and what refers to them, and returns
// how many rooms it deleted.
func (s *Store) deleteRooms(ctx context.Context, tx *sql.Tx, rooms []string) (int64, error) {
	// The delete trigger queues the removal of what was indexed: every
	// message must be (migration 12).
	if err := s.indexPendingTx(ctx, tx); err != nil {
		return 0, err
	}
	var deleted int64
	for _, room := range rooms {
		// Inside the transaction, which holds the writer: no Append can
		// take the old tail between this and the commit.
		s.tails.forget(room)
		// While the messages that carry them are there to find them.
		if err := purgeRoomFiles(ctx, tx, room); err != nil {
			return 0, err
		}
		for _, q := range []string{
			// Reactions point at messages (a foreign key): first.
			`DELETE FROM reactions WHERE room = ?`,
			`DELETE FROM messages WHERE room = ?`,
			`DELETE FROM room_roles WHERE room = ?`,
			`DELETE FROM sanctions WHERE room = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, room); err != nil {
				return 0, err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM rooms WHERE name = ?`, room)
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, err
		}
		deleted += n
	}
	if err := syncFTS(ctx, tx); err != nil {
		return 0, err
	}
	// Every message left is indexed. If the last rows went, the next
	// insert takes their rowids again: the mark comes down to the rows
	// that are left, so that the rows after it are the new ones.
	if _, err := tx.StmtContext(ctx, s.stmts.setMark).ExecContext(ctx); err != nil {
		return 0, err
	}
	return deleted, nil
}

// MarkActive sets active_at of the named rooms to at, where at is later.
func (s *Store) MarkActive(ctx context.Context, rooms []string, at time.Time) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	for chunk := range slices.Chunk(rooms, 500) {
		args := make([]any, 0, len(chunk)+2)
		args = append(args, at.UnixMilli(), at.UnixMilli())
		for _, r := range chunk {
			args = append(args, r)
		}
		q := `UPDATE rooms SET active_at = ? WHERE active_at < ? AND name IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
		if _, err := s.writer.ExecContext(ctx, q, args...); err != nil {
			return s.fail("mark active", err)
		}
	}
	return nil
}

// DeleteIdleGuestRooms deletes up to limit guest-made rooms idle since
// before, in one transaction, and returns their names.
func (s *Store) DeleteIdleGuestRooms(ctx context.Context, before time.Time, limit int) ([]string, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.fail("delete idle rooms", err)
	}
	defer tx.Rollback()
	ms := before.UnixMilli()
	rows, err := tx.QueryContext(ctx,
		`SELECT r.name FROM rooms r
		 WHERE r.guest_owner = 1 AND r.created_at < ?1 AND r.active_at < ?1
		   AND NOT EXISTS (SELECT 1 FROM messages m
		                   WHERE m.room = r.name AND m.seq = r.last_seq AND m.ts >= ?1)
		 ORDER BY r.name LIMIT ?2`, ms, limit)
	if err != nil {
		return nil, s.fail("delete idle rooms", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, s.fail("delete idle rooms", err)
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.fail("delete idle rooms", err)
	}
	if len(names) == 0 {
		return nil, nil
	}
	if _, err := s.deleteRooms(ctx, tx, names); err != nil {
		return nil, s.fail("delete idle rooms", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, s.fail("delete idle rooms", err)
	}
	s.erased()
	return names, nil
}
