package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

var _ chat.Access = (*Store)(nil)

// SetRole gives user role in room, replacing any role they had; role ""
// removes it, and removing a role the user does not have is not an error.
// It returns [chat.ErrNoSuchRoom] if the room does not exist, whatever the
// role. SetRole validates neither the role nor the user name: a role names
// a user without requiring an account.
func (s *Store) SetRole(ctx context.Context, room, user, role string) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	if role != "" {
		// Inserts nothing when the room is missing.
		res, err := s.writer.ExecContext(ctx,
			`INSERT INTO room_roles (room, user, role)
			 SELECT name, ?, ? FROM rooms WHERE name = ?
			 ON CONFLICT (room, user) DO UPDATE SET role = excluded.role`,
			user, role, room)
		if err != nil {
			return s.fail("set role", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return s.fail("set role", err)
		}
		if n == 0 {
			return chat.ErrNoSuchRoom
		}
		return nil
	}

	res, err := s.writer.ExecContext(ctx,
		`DELETE FROM room_roles WHERE room = ? AND user = ?`, room, user)
	if err != nil {
		return s.fail("set role", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail("set role", err)
	}
	if n > 0 {
		return nil
	}
	// Nothing removed: the user had no role, or the room is missing.
	// Rooms are never deleted, so asking afterwards is sound.
	ok, err := s.roomExists(ctx, room)
	if err != nil {
		return s.fail("set role", err)
	}
	if !ok {
		return chat.ErrNoSuchRoom
	}
	return nil
}

// Role returns user's role in room, "" if none. A room that does not exist
// has no roles: Role returns "" and no error for it.
func (s *Store) Role(ctx context.Context, room, user string) (string, error) {
	if s.closed.Load() {
		return "", chat.ErrClosed
	}
	var role string
	err := s.queryRow(ctx,
		`SELECT role FROM room_roles WHERE room = ? AND user = ?`, room, user).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", s.fail("role", err)
	}
	return role, nil
}

// Members returns the users with a role in room, ordered by name comparing
// bytes, or [chat.ErrNoSuchRoom] if the room does not exist. A room without
// members gives an empty slice.
func (s *Store) Members(ctx context.Context, room string) ([]chat.Member, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	rows, err := s.reader.QueryContext(ctx,
		`SELECT user, role FROM room_roles WHERE room = ? ORDER BY user`, room)
	if err != nil {
		return nil, s.fail("members", err)
	}
	defer rows.Close()
	members := []chat.Member{}
	for rows.Next() {
		var m chat.Member
		if err := rows.Scan(&m.User, &m.Role); err != nil {
			return nil, s.fail("members", err)
		}
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("members", err)
	}
	if len(members) > 0 {
		return members, nil
	}
	ok, err := s.roomExists(ctx, room)
	if err != nil {
		return nil, s.fail("members", err)
	}
	if !ok {
		return nil, chat.ErrNoSuchRoom
	}
	return members, nil
}

// VisibleRooms returns every public room and the private rooms in which
// user has a role, ordered by name comparing bytes, each with its LastSeq.
// An empty user sees the public rooms only. Being a room's Owner does not
// make a private room visible: only a role does.
func (s *Store) VisibleRooms(ctx context.Context, user string) ([]chat.Room, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	if user == "" {
		// Not the query below with "": SetRole does not refuse an
		// empty user name, and such a role must not show a private room
		// to everyone.
		return s.queryRooms(ctx, "visible rooms",
			`SELECT `+roomColumns+` FROM rooms
			 WHERE private = 0 ORDER BY name`)
	}
	return s.queryRooms(ctx, "visible rooms",
		`SELECT `+roomColumns+` FROM rooms
		 WHERE private = 0 OR name IN (SELECT room FROM room_roles WHERE user = ?)
		 ORDER BY name`, user)
}

// SetSanction creates or replaces the sanction of s.Kind for (s.Room,
// s.User). A zero Until stores a sanction that lasts until it is cleared;
// other times are stored in milliseconds. It returns [chat.ErrNoSuchRoom] if
// the room does not exist. It validates neither the kind nor the names:
// kinds other than [chat.Ban] and [chat.Mute] are stored like them, and a
// guest can be sanctioned as well as a user with an account.
func (s *Store) SetSanction(ctx context.Context, sn chat.Sanction) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	var until sql.NullInt64
	if !sn.Until.IsZero() {
		until = sql.NullInt64{Int64: sn.Until.UnixMilli(), Valid: true}
	}
	res, err := s.writer.ExecContext(ctx,
		`INSERT INTO sanctions (room, user, kind, until, by_user, reason, subject_name)
		 SELECT name, ?, ?, ?, ?, ?, ? FROM rooms WHERE name = ?
		 ON CONFLICT (room, user, kind) DO UPDATE SET
		 	until = excluded.until, by_user = excluded.by_user, reason = excluded.reason,
		 	subject_name = excluded.subject_name`,
		sn.User, sn.Kind, until, sn.By, sn.Reason, sn.Name, sn.Room)
	if err != nil {
		return s.fail("set sanction", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail("set sanction", err)
	}
	if n == 0 {
		return chat.ErrNoSuchRoom
	}
	return nil
}

// ClearSanction removes the sanction of kind for (room, user); a missing
// sanction, or room, is not an error.
func (s *Store) ClearSanction(ctx context.Context, room, user, kind string) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	if _, err := s.writer.ExecContext(ctx,
		`DELETE FROM sanctions WHERE room = ? AND user = ? AND kind = ?`, room, user, kind); err != nil {
		return s.fail("clear sanction", err)
	}
	return nil
}

// ActiveSanction returns the sanction of kind for (room, user) and true if
// one exists that lasts until cleared or whose Until is after now, compared
// in milliseconds; otherwise a zero Sanction and false. It does not remove
// sanctions that have ended: they stay until replaced or cleared.
func (s *Store) ActiveSanction(ctx context.Context, room, user, kind string, now time.Time) (chat.Sanction, bool, error) {
	if s.closed.Load() {
		return chat.Sanction{}, false, chat.ErrClosed
	}
	sn := chat.Sanction{Room: room, User: user, Kind: kind}
	var until sql.NullInt64
	err := s.queryRow(ctx,
		`SELECT until, by_user, reason, subject_name FROM sanctions
		 WHERE room = ? AND user = ? AND kind = ? AND (until IS NULL OR until > ?)`,
		room, user, kind, now.UnixMilli()).Scan(&until, &sn.By, &sn.Reason, &sn.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Sanction{}, false, nil
	}
	if err != nil {
		return chat.Sanction{}, false, s.fail("active sanction", err)
	}
	if until.Valid {
		sn.Until = fromMillis(until.Int64)
	}
	return sn, true, nil
}

// EndBans removes up to limit bans whose Until is at or before now (never
// those that last until lifted) and returns them. Each ended ban is
// returned once: to one caller, on one of the processes sharing the
// database, so a server announces each ban's end once.
func (s *Store) EndBans(ctx context.Context, now time.Time, limit int) ([]chat.Sanction, error) {
	return s.endSanctions(ctx, chat.Ban, now, limit)
}

// EndMutes is EndBans for mutes.
func (s *Store) EndMutes(ctx context.Context, now time.Time, limit int) ([]chat.Sanction, error) {
	return s.endSanctions(ctx, chat.Mute, now, limit)
}

// endSanctions removes and returns up to limit sanctions of kind that
// have ended by now, each to one caller (EndBans, EndMutes).
func (s *Store) endSanctions(ctx context.Context, kind string, now time.Time, limit int) ([]chat.Sanction, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	what := "end " + kind + "s"
	// Every node asks every few seconds, and there is mostly nothing:
	// a read (sanctions_until) spares the single writer a transaction.
	var n int
	err := s.queryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM sanctions
		WHERE until IS NOT NULL AND until <= ? AND kind = ? LIMIT 1)`, now.UnixMilli(), kind).Scan(&n)
	if err != nil {
		return nil, s.fail(what, err)
	}
	if n == 0 {
		return nil, nil
	}
	rows, err := s.writer.QueryContext(ctx,
		`DELETE FROM sanctions WHERE rowid IN (
			SELECT rowid FROM sanctions WHERE kind = ? AND until IS NOT NULL AND until <= ? LIMIT ?)
		 RETURNING room, user, until, by_user, reason, subject_name`,
		kind, now.UnixMilli(), limit)
	if err != nil {
		return nil, s.fail(what, err)
	}
	defer rows.Close()
	var out []chat.Sanction
	for rows.Next() {
		sn := chat.Sanction{Kind: kind}
		var until int64
		if err := rows.Scan(&sn.Room, &sn.User, &until, &sn.By, &sn.Reason, &sn.Name); err != nil {
			return nil, s.fail(what, err)
		}
		sn.Until = fromMillis(until)
		out = append(out, sn)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(what, err)
	}
	return out, nil
}

// RoomSanctions implements chat.Access.
func (s *Store) RoomSanctions(ctx context.Context, room string, now time.Time, limit int) ([]chat.Sanction, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	rows, err := s.query(ctx,
		`SELECT user, kind, until, by_user, reason, subject_name FROM sanctions
		 WHERE room = ? AND (until IS NULL OR until > ?) LIMIT ?`,
		room, now.UnixMilli(), limit)
	if err != nil {
		return nil, s.fail("room sanctions", err)
	}
	defer rows.Close()
	var out []chat.Sanction
	for rows.Next() {
		sn := chat.Sanction{Room: room}
		var until sql.NullInt64
		if err := rows.Scan(&sn.User, &sn.Kind, &until, &sn.By, &sn.Reason, &sn.Name); err != nil {
			return nil, s.fail("room sanctions", err)
		}
		if until.Valid {
			sn.Until = fromMillis(until.Int64)
		}
		out = append(out, sn)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("room sanctions", err)
	}
	return out, nil
}
