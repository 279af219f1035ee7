package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

var _ chat.Access = (*Store)(nil)

// SetRole gives user role in room, replacing any role they had; role ""
// removes it, and removing a role the user does not have is not an error.
// It returns [chat.ErrNoSuchRoom] if the room does not exist, whatever the
// role. SetRole validates neither the role nor the user name: a role names
// a user without requiring an account.
func (s *Store) SetRole(ctx context.Context, room, user, role string) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	if role != "" {
		// Inserts nothing when the room is missing.
		tag, err := s.pool.Exec(ctx,
			`INSERT INTO room_roles (room, username, role)
			 SELECT name, $2::text, $3::text FROM rooms WHERE name = $1
			 ON CONFLICT (room, username) DO UPDATE SET role = excluded.role`,
			room, user, role)
		if err != nil {
			return s.fail("set role", err)
		}
		if tag.RowsAffected() == 0 {
			return chat.ErrNoSuchRoom
		}
		return nil
	}

	tag, err := s.pool.Exec(ctx,
		`DELETE FROM room_roles WHERE room = $1 AND username = $2`, room, user)
	if err != nil {
		return s.fail("set role", err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	// Nothing removed: the user had no role, or the room is missing.
	// Asking afterwards is sound: a room deleted in between has no
	// role to remove either.
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
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return "", err
	}
	defer end()
	var role string
	err = s.pool.QueryRow(ctx,
		`SELECT role FROM room_roles WHERE room = $1 AND username = $2`, room, user).Scan(&role)
	if isNoRows(err) {
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
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	rows, err := s.pool.Query(ctx,
		`SELECT username, role FROM room_roles WHERE room = $1 ORDER BY username COLLATE "C"`, room)
	if err != nil {
		return nil, s.fail("members", err)
	}
	members, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (chat.Member, error) {
		var m chat.Member
		err := row.Scan(&m.User, &m.Role)
		return m, err
	})
	if err != nil {
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
	return []chat.Member{}, nil
}

// VisibleRooms returns every public room and the private rooms in which
// user has a role, ordered by name comparing bytes, each with its LastSeq.
// An empty user sees the public rooms only. Being a room's Owner does not
// make a private room visible: only a role does.
func (s *Store) VisibleRooms(ctx context.Context, user string) ([]chat.Room, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	if user == "" {
		// Not the query below with "": SetRole does not refuse an
		// empty user name, and such a role must not show a private room
		// to everyone.
		return s.queryRooms(ctx, "visible rooms",
			`SELECT `+roomColumns+` FROM rooms WHERE NOT private ORDER BY name COLLATE "C"`)
	}
	return s.queryRooms(ctx, "visible rooms",
		`SELECT `+roomColumns+` FROM rooms
		 WHERE NOT private OR name IN (SELECT room FROM room_roles WHERE username = $1)
		 ORDER BY name COLLATE "C"`, user)
}

// SetSanction creates or replaces the sanction of sn.Kind for (sn.Room,
// sn.User). A zero Until stores a sanction that lasts until it is cleared;
// other times are stored at millisecond precision. It returns
// [chat.ErrNoSuchRoom] if the room does not exist. It validates neither the
// kind nor the names: kinds other than [chat.Ban] and [chat.Mute] are
// stored like them, and a guest can be sanctioned as well as a user with an
// account.
func (s *Store) SetSanction(ctx context.Context, sn chat.Sanction) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	var until *time.Time
	if !sn.Until.IsZero() {
		u := millis(sn.Until)
		until = &u
	}
	tag, err := s.pool.Exec(ctx,
		`INSERT INTO sanctions (room, username, kind, until, by_user, reason, subject_name)
		 SELECT name, $2::text, $3::text, $4::timestamptz, $5::text, $6::text, $7::text FROM rooms WHERE name = $1
		 ON CONFLICT (room, username, kind) DO UPDATE SET
		 	until = excluded.until, by_user = excluded.by_user, reason = excluded.reason,
		 	subject_name = excluded.subject_name`,
		sn.Room, sn.User, sn.Kind, until, sn.By, sn.Reason, sn.Name)
	if err != nil {
		return s.fail("set sanction", err)
	}
	if tag.RowsAffected() == 0 {
		return chat.ErrNoSuchRoom
	}
	return nil
}

// ClearSanction removes the sanction of kind for (room, user); a missing
// sanction, or room, is not an error.
func (s *Store) ClearSanction(ctx context.Context, room, user, kind string) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	if _, err := s.pool.Exec(ctx,
		`DELETE FROM sanctions WHERE room = $1 AND username = $2 AND kind = $3`,
		room, user, kind); err != nil {
		return s.fail("clear sanction", err)
	}
	return nil
}

// ActiveSanction returns the sanction of kind for (room, user) and true if
// one exists that lasts until cleared or whose Until is after now, compared
// at millisecond precision; otherwise a zero Sanction and false. It does not
// remove sanctions that have ended: they stay until replaced or cleared.
func (s *Store) ActiveSanction(ctx context.Context, room, user, kind string, now time.Time) (chat.Sanction, bool, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return chat.Sanction{}, false, err
	}
	defer end()
	sn := chat.Sanction{Room: room, User: user, Kind: kind}
	var until *time.Time
	err = s.pool.QueryRow(ctx,
		`SELECT until, by_user, reason, subject_name FROM sanctions
		 WHERE room = $1 AND username = $2 AND kind = $3 AND (until IS NULL OR until > $4)`,
		room, user, kind, millis(now)).Scan(&until, &sn.By, &sn.Reason, &sn.Name)
	if isNoRows(err) {
		return chat.Sanction{}, false, nil
	}
	if err != nil {
		return chat.Sanction{}, false, s.fail("active sanction", err)
	}
	if until != nil {
		sn.Until = until.UTC()
	}
	return sn, true, nil
}

// EndBans removes up to limit bans whose Until is at or before now (never
// those that last until lifted) and returns them. Each ended ban is
// returned once: to one caller, on one of the nodes sharing the
// database, so the cluster announces each ban's end once.
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
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	what := "end " + kind + "s"
	// SKIP LOCKED: nodes sweeping at once take different rows; a row
	// another transaction deleted is not returned twice either way.
	rows, err := s.pool.Query(ctx,
		`DELETE FROM sanctions WHERE (room, username, kind) IN (
			SELECT room, username, kind FROM sanctions
			WHERE kind = $1 AND until <= $2 LIMIT $3 FOR UPDATE SKIP LOCKED)
		 RETURNING room, username, until, by_user, reason, subject_name`,
		kind, millis(now), limit)
	if err != nil {
		return nil, s.fail(what, err)
	}
	defer rows.Close()
	var out []chat.Sanction
	for rows.Next() {
		sn := chat.Sanction{Kind: kind}
		if err := rows.Scan(&sn.Room, &sn.User, &sn.Until, &sn.By, &sn.Reason, &sn.Name); err != nil {
			return nil, s.fail(what, err)
		}
		sn.Until = sn.Until.UTC()
		out = append(out, sn)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(what, err)
	}
	return out, nil
}

// RoomSanctions implements chat.Access.
func (s *Store) RoomSanctions(ctx context.Context, room string, now time.Time, limit int) ([]chat.Sanction, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	rows, err := s.pool.Query(ctx,
		`SELECT username, kind, until, by_user, reason, subject_name FROM sanctions
		 WHERE room = $1 AND (until IS NULL OR until > $2) LIMIT $3`,
		room, millis(now), limit)
	if err != nil {
		return nil, s.fail("room sanctions", err)
	}
	defer rows.Close()
	var out []chat.Sanction
	for rows.Next() {
		sn := chat.Sanction{Room: room}
		var until *time.Time
		if err := rows.Scan(&sn.User, &sn.Kind, &until, &sn.By, &sn.Reason, &sn.Name); err != nil {
			return nil, s.fail("room sanctions", err)
		}
		if until != nil {
			sn.Until = until.UTC()
		}
		out = append(out, sn)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("room sanctions", err)
	}
	return out, nil
}
