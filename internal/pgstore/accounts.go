package pgstore

import (
	"context"
	"slices"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

var _ chat.Accounts = (*Store)(nil)

// Times of users and sessions are stored as the caller gives them, at
// millisecond precision (the rest is dropped), and come back in UTC. The
// store never reads the clock for them.

// CreateUser adds u, or returns [chat.ErrUserExists] if a user with the same
// name exists, also when another node creates it at the same time. Names
// are compared byte for byte: the store neither lower-cases nor validates
// them, the server does. CreatedAt is stored as given.
func (s *Store) CreateUser(ctx context.Context, u chat.User) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	tag, err := s.pool.Exec(ctx,
		`INSERT INTO users (name, password_hash, admin, disabled, created_at)
		 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING`,
		u.Name, u.PasswordHash, u.Admin, u.Disabled, millis(u.CreatedAt))
	if err != nil {
		return s.fail("create user", err)
	}
	if tag.RowsAffected() == 0 {
		return chat.ErrUserExists
	}
	return nil
}

// User returns the user called name, or [chat.ErrNoSuchUser] (also for a
// deleted account).
func (s *Store) User(ctx context.Context, name string) (chat.User, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return chat.User{}, err
	}
	defer end()
	u := chat.User{Name: name}
	err = s.pool.QueryRow(ctx,
		`SELECT password_hash, admin, disabled, created_at FROM users WHERE name = $1 AND NOT deleted`, name).
		Scan(&u.PasswordHash, &u.Admin, &u.Disabled, &u.CreatedAt)
	if isNoRows(err) {
		return chat.User{}, chat.ErrNoSuchUser
	}
	if err != nil {
		return chat.User{}, s.fail("user", err)
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return u, nil
}

// AnyUser reports whether an account has one of names, in one round trip.
func (s *Store) AnyUser(ctx context.Context, names []string) (bool, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return false, err
	}
	defer end()
	if len(names) == 0 {
		return false, nil
	}
	var found bool
	err = s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE name = ANY ($1))`, names).Scan(&found)
	if err != nil {
		return false, s.fail("any user", err)
	}
	return found, nil
}

// Admins implements chat.Accounts, in one round trip.
func (s *Store) Admins(ctx context.Context, limit int) ([]string, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	if limit < 1 {
		return []string{}, nil
	}
	rows, err := s.pool.Query(ctx,
		`SELECT name FROM users WHERE admin AND NOT disabled AND NOT deleted ORDER BY name COLLATE "C" LIMIT $1`, limit)
	if err != nil {
		return nil, s.fail("admins", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, s.fail("admins", err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("admins", err)
	}
	return out, nil
}

// Users returns every account, by name, without password hashes, deleted
// ones included (with Deleted set). It is
// for the administrator's command line (hubbubd user list), not for the
// server, and is not part of [chat.Accounts].
func (s *Store) Users(ctx context.Context) ([]chat.User, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	rows, err := s.pool.Query(ctx, `SELECT name, admin, disabled, created_at, deleted FROM users ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, s.fail("users", err)
	}
	defer rows.Close()
	var out []chat.User
	for rows.Next() {
		var u chat.User
		if err := rows.Scan(&u.Name, &u.Admin, &u.Disabled, &u.CreatedAt, &u.Deleted); err != nil {
			return nil, s.fail("users", err)
		}
		u.CreatedAt = u.CreatedAt.UTC()
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("users", err)
	}
	return out, nil
}

// UpdateUser stores u's PasswordHash, Admin and Disabled, or returns
// [chat.ErrNoSuchUser] (also for a deleted account). It keeps the stored CreatedAt. It does not end the
// user's sessions when u is disabled: the caller does, with
// [Store.DeleteUserSessions], which tells it which connections to close.
func (s *Store) UpdateUser(ctx context.Context, u chat.User) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	// PostgreSQL counts the rows the WHERE clause matched, changed or not.
	tag, err := s.pool.Exec(ctx,
		`UPDATE users SET password_hash = $1, admin = $2, disabled = $3 WHERE name = $4 AND NOT deleted`,
		u.PasswordHash, u.Admin, u.Disabled, u.Name)
	if err != nil {
		return s.fail("update user", err)
	}
	if tag.RowsAffected() == 0 {
		return chat.ErrNoSuchUser
	}
	return nil
}

// CreateSession stores sess with its times as given. It returns
// [chat.ErrNoSuchUser] if sess.User does not exist or was deleted, and an error if a
// session with the same TokenHash exists (the stored one is kept).
func (s *Store) CreateSession(ctx context.Context, sess chat.Session) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	// One statement that inserts nothing when the user is missing, so
	// that case needs no transaction and no parsing of a foreign key
	// error. Users are never deleted.
	tag, err := s.pool.Exec(ctx,
		`INSERT INTO sessions (token_hash, username, created_at, last_seen, expires_at)
		 SELECT $1::text, name, $2::timestamptz, $3::timestamptz, $4::timestamptz
		 FROM users WHERE name = $5 AND NOT deleted`,
		sess.TokenHash, millis(sess.CreatedAt), millis(sess.LastSeen), millis(sess.ExpiresAt), sess.User)
	if err != nil {
		return s.fail("create session", err)
	}
	if tag.RowsAffected() == 0 {
		return chat.ErrNoSuchUser
	}
	return nil
}

// Session returns the session whose token hash is tokenHash, or
// [chat.ErrNoSuchSession]. It does not check expiry, nor whether the user is
// disabled.
func (s *Store) Session(ctx context.Context, tokenHash string) (chat.Session, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return chat.Session{}, err
	}
	defer end()
	sess := chat.Session{TokenHash: tokenHash}
	err = s.pool.QueryRow(ctx,
		`SELECT username, created_at, last_seen, expires_at FROM sessions WHERE token_hash = $1`, tokenHash).
		Scan(&sess.User, &sess.CreatedAt, &sess.LastSeen, &sess.ExpiresAt)
	if isNoRows(err) {
		return chat.Session{}, chat.ErrNoSuchSession
	}
	if err != nil {
		return chat.Session{}, s.fail("session", err)
	}
	sess.CreatedAt, sess.LastSeen, sess.ExpiresAt = sess.CreatedAt.UTC(), sess.LastSeen.UTC(), sess.ExpiresAt.UTC()
	return sess, nil
}

// SessionUser implements chat.Accounts: one statement, one round trip.
func (s *Store) SessionUser(ctx context.Context, tokenHash string) (chat.Session, chat.User, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return chat.Session{}, chat.User{}, err
	}
	defer end()
	sess := chat.Session{TokenHash: tokenHash}
	var (
		name, hash      *string
		admin, disabled *bool
		userCreated     *time.Time
	)
	err = s.pool.QueryRow(ctx,
		`SELECT s.username, s.created_at, s.last_seen, s.expires_at, u.name, u.password_hash, u.admin, u.disabled, u.created_at
		 FROM sessions s LEFT JOIN users u ON u.name = s.username AND NOT u.deleted WHERE s.token_hash = $1`, tokenHash).
		Scan(&sess.User, &sess.CreatedAt, &sess.LastSeen, &sess.ExpiresAt, &name, &hash, &admin, &disabled, &userCreated)
	if isNoRows(err) {
		return chat.Session{}, chat.User{}, chat.ErrNoSuchSession
	}
	if err != nil {
		return chat.Session{}, chat.User{}, s.fail("session", err)
	}
	sess.CreatedAt, sess.LastSeen, sess.ExpiresAt = sess.CreatedAt.UTC(), sess.LastSeen.UTC(), sess.ExpiresAt.UTC()
	if name == nil {
		return sess, chat.User{}, chat.ErrNoSuchUser
	}
	u := chat.User{Name: *name, PasswordHash: *hash, Admin: *admin, Disabled: *disabled, CreatedAt: userCreated.UTC()}
	return sess, u, nil
}

// TouchSession sets the session's LastSeen to lastSeen, even if that is
// earlier than the stored one. A missing session is not an error.
func (s *Store) TouchSession(ctx context.Context, tokenHash string, lastSeen time.Time) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	if _, err := s.pool.Exec(ctx,
		`UPDATE sessions SET last_seen = $1 WHERE token_hash = $2`,
		millis(lastSeen), tokenHash); err != nil {
		return s.fail("touch session", err)
	}
	return nil
}

// DeleteSession removes one session; a missing one is not an error.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	if _, err := s.pool.Exec(ctx,
		`DELETE FROM sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return s.fail("delete session", err)
	}
	return nil
}

// DeleteUserSessions removes every session of user except the one whose
// token hash is keep (which may be empty, or not one of user's) and returns
// the token hashes it removed, sorted. It returns an empty slice, not an
// error, when user has no sessions or does not exist.
func (s *Store) DeleteUserSessions(ctx context.Context, user, keep string) ([]string, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	return s.deleteSessions(ctx, "delete user sessions",
		`DELETE FROM sessions WHERE username = $1 AND token_hash <> $2 RETURNING token_hash`, user, keep)
}

// deleteSessions runs del, a DELETE … RETURNING token_hash, and returns
// the token hashes it removed, sorted (an empty slice when none). op names
// it in errors.
func (s *Store) deleteSessions(ctx context.Context, op, del string, args ...any) ([]string, error) {
	// One statement that answers with one row, so that the removal and
	// its report cannot come apart.
	var removed []string
	err := s.pool.QueryRow(ctx,
		`WITH d AS (`+del+`) SELECT coalesce(array_agg(token_hash), '{}') FROM d`, args...).Scan(&removed)
	if err != nil {
		return nil, s.fail(op, err)
	}
	if removed == nil {
		removed = []string{}
	}
	slices.Sort(removed)
	return removed, nil
}

// TrimUserSessions implements chat.Accounts.
func (s *Store) TrimUserSessions(ctx context.Context, user string, keep int) ([]string, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	return s.deleteSessions(ctx, "trim user sessions",
		`DELETE FROM sessions WHERE username = $1 AND token_hash NOT IN (
			SELECT token_hash FROM sessions WHERE username = $1
			ORDER BY last_seen DESC, created_at DESC, token_hash LIMIT $2)
		 RETURNING token_hash`, user, max(keep, 1))
}

// endedSessionsBatch is how many ended sessions one statement of
// DeleteEndedSessions removes, so that no statement holds many row locks.
const endedSessionsBatch = 1000

// DeleteEndedSessions implements chat.Accounts. It reads the whole table
// (there is no index on the times): the server runs it hourly, on every
// node, which is harmless.
func (s *Store) DeleteEndedSessions(ctx context.Context, now, idleSince time.Time) (int64, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return 0, err
	}
	defer end()
	var total int64
	for {
		tag, err := s.pool.Exec(ctx,
			`DELETE FROM sessions WHERE token_hash IN (
				SELECT token_hash FROM sessions WHERE expires_at <= $1 OR last_seen <= $2
				LIMIT $3 FOR UPDATE SKIP LOCKED)`,
			millis(now), millis(idleSince), endedSessionsBatch)
		if err != nil {
			return total, s.fail("delete ended sessions", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < endedSessionsBatch {
			return total, nil
		}
	}
}

// DeleteUser implements chat.Accounts, in one transaction. The successor
// of an owner is looked up in the room's role entries, a read of the
// room's messages: account deletion is rare, and no index is kept for it.
// A login that races the deletion may leave a session row behind; it is
// refused at every use (SessionUser finds no user) and purged with the
// ended sessions.
func (s *Store) DeleteUser(ctx context.Context, name string) (chat.UserDeletion, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return chat.UserDeletion{}, err
	}
	defer end()
	const op = "delete user"
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return chat.UserDeletion{}, s.fail(op, err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx,
		`UPDATE users SET deleted = true, password_hash = '', admin = false WHERE name = $1 AND NOT deleted`, name)
	if err != nil {
		return chat.UserDeletion{}, s.fail(op, err)
	}
	if tag.RowsAffected() == 0 {
		return chat.UserDeletion{}, chat.ErrNoSuchUser
	}
	var d chat.UserDeletion
	// strs runs q, whose one column is v, and returns its values
	// sorted; a data-modifying q goes in a WITH clause named d.
	strs := func(q string, args ...any) ([]string, error) {
		var out []string
		err := tx.QueryRow(ctx, q, args...).Scan(&out)
		if out == nil {
			out = []string{}
		}
		return out, err
	}
	const agg = ` SELECT coalesce(array_agg(v ORDER BY v), '{}') FROM d`
	if d.Sessions, err = strs(`WITH d AS (DELETE FROM sessions WHERE username = $1 RETURNING token_hash AS v)`+agg, name); err != nil {
		return chat.UserDeletion{}, s.fail(op, err)
	}
	owned, err := strs(`WITH d AS (SELECT room AS v FROM room_roles WHERE username = $1 AND role = 'owner')`+agg, name)
	if err != nil {
		return chat.UserDeletion{}, s.fail(op, err)
	}
	for _, room := range owned {
		// The moderator whose latest promotion is the oldest.
		var next string
		err := tx.QueryRow(ctx,
			`SELECT r.username FROM room_roles r WHERE r.room = $1 AND r.role = 'moderator'
			 ORDER BY (SELECT max(m.seq) FROM messages m
			           WHERE m.room = $1 AND m.kind = 'role' AND m.subject = r.username AND m.body = 'moderator') NULLS FIRST,
			          r.username
			 LIMIT 1`, room).Scan(&next)
		if isNoRows(err) {
			continue
		}
		if err != nil {
			return chat.UserDeletion{}, s.fail(op, err)
		}
		if _, err := tx.Exec(ctx,
			`UPDATE room_roles SET role = 'owner' WHERE room = $1 AND username = $2`, room, next); err != nil {
			return chat.UserDeletion{}, s.fail(op, err)
		}
		d.Owners = append(d.Owners, chat.OwnerHandoff{Room: room, Owner: next})
	}
	if d.Rooms, err = strs(`WITH d AS (DELETE FROM room_roles WHERE username = $1 RETURNING room AS v)`+agg, name); err != nil {
		return chat.UserDeletion{}, s.fail(op, err)
	}
	for _, q := range []string{
		`DELETE FROM sanctions WHERE username = $1`,
		`DELETE FROM read_positions WHERE username = $1`,
		`DELETE FROM blocks WHERE blocker = $1 OR blocked = $1`,
		`DELETE FROM upload_chunks WHERE upload IN (SELECT id FROM uploads WHERE owner = $1 AND room = '')`,
		`DELETE FROM uploads WHERE owner = $1 AND room = ''`,
	} {
		if _, err := tx.Exec(ctx, q, name); err != nil {
			return chat.UserDeletion{}, s.fail(op, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return chat.UserDeletion{}, s.fail(op, err)
	}
	return d, nil
}
