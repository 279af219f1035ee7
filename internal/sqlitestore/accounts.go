package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

var _ chat.Accounts = (*Store)(nil)

// Times of users and sessions are stored as the caller gives them, in
// integer milliseconds since the Unix epoch: sub-millisecond parts are
// dropped and they come back in UTC. The store never reads the clock for
// them.

// CreateUser adds u, or returns [chat.ErrUserExists] if a user with the same
// name exists. Names are compared byte for byte: the store neither
// lower-cases nor validates them, the server does. CreatedAt is stored as
// given.
func (s *Store) CreateUser(ctx context.Context, u chat.User) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	res, err := s.writer.ExecContext(ctx,
		`INSERT INTO users (name, password_hash, admin, disabled, created_at)
		 VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		u.Name, u.PasswordHash, u.Admin, u.Disabled, u.CreatedAt.UnixMilli())
	if err != nil {
		return s.fail("create user", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail("create user", err)
	}
	if n == 0 {
		return chat.ErrUserExists
	}
	s.names.added(u.Name)
	return nil
}

// User returns the user called name, or [chat.ErrNoSuchUser] (also for a
// deleted account).
func (s *Store) User(ctx context.Context, name string) (chat.User, error) {
	if s.closed.Load() {
		return chat.User{}, chat.ErrClosed
	}
	u := chat.User{Name: name}
	var created int64
	err := s.queryRow(ctx,
		`SELECT password_hash, admin, disabled, created_at FROM users WHERE name = ? AND deleted = 0`, name).
		Scan(&u.PasswordHash, &u.Admin, &u.Disabled, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, chat.ErrNoSuchUser
	}
	if err != nil {
		return chat.User{}, s.fail("user", err)
	}
	u.CreatedAt = fromMillis(created)
	return u, nil
}

// AnyUser reports whether an account has one of names. It answers from
// the store's copy of the account names (see accountNames): an account
// another process adds to the file is seen within a second. Without a
// copy it reads the table, two names per statement (a guest's name has at
// most two account spellings, names.Forms).
func (s *Store) AnyUser(ctx context.Context, names []string) (bool, error) {
	if s.closed.Load() {
		return false, chat.ErrClosed
	}
	if found, ok := s.names.has(names); ok {
		return found, nil
	}
	for i := 0; i < len(names); i += 2 {
		a, b := names[i], names[min(i+1, len(names)-1)]
		var found bool
		err := s.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE name IN (?, ?))`, a, b).Scan(&found)
		if err != nil {
			return false, s.fail("any user", err)
		}
		if found {
			return true, nil
		}
	}
	return false, nil
}

// adminsSQL reads the administrators by name, at most ? of them. Its
// WHERE is users_admins' (migration 23), so that it reads that index.
const adminsSQL = `SELECT name FROM users WHERE admin <> 0 AND disabled = 0 AND deleted = 0 ORDER BY name LIMIT ?`

// Admins implements chat.Accounts, in one statement, from the partial
// index of the administrators (users_admins, migration 23).
func (s *Store) Admins(ctx context.Context, limit int) ([]string, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	if limit < 1 {
		return []string{}, nil
	}
	rows, err := s.reader.QueryContext(ctx, adminsSQL, limit)
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
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT name, admin, disabled, created_at, deleted FROM users ORDER BY name`)
	if err != nil {
		return nil, s.fail("users", err)
	}
	defer rows.Close()
	var out []chat.User
	for rows.Next() {
		var u chat.User
		var created int64
		if err := rows.Scan(&u.Name, &u.Admin, &u.Disabled, &created, &u.Deleted); err != nil {
			return nil, s.fail("users", err)
		}
		u.CreatedAt = fromMillis(created)
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
	if s.closed.Load() {
		return chat.ErrClosed
	}
	res, err := s.writer.ExecContext(ctx,
		`UPDATE users SET password_hash = ?, admin = ?, disabled = ? WHERE name = ? AND deleted = 0`,
		u.PasswordHash, u.Admin, u.Disabled, u.Name)
	if err != nil {
		return s.fail("update user", err)
	}
	// SQLite counts the rows the WHERE clause matched, changed or not.
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail("update user", err)
	}
	if n == 0 {
		return chat.ErrNoSuchUser
	}
	return nil
}

// CreateSession stores sess with its times as given. It returns
// [chat.ErrNoSuchUser] if sess.User does not exist or was deleted, and an error if a
// session with the same TokenHash exists (the stored one is kept).
func (s *Store) CreateSession(ctx context.Context, sess chat.Session) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	// One statement that inserts nothing when the user is missing, so
	// that case needs no transaction and no parsing of a foreign key error.
	res, err := s.writer.ExecContext(ctx,
		`INSERT INTO sessions (token_hash, user, created_at, last_seen, expires_at)
		 SELECT ?, name, ?, ?, ? FROM users WHERE name = ? AND deleted = 0`,
		sess.TokenHash, sess.CreatedAt.UnixMilli(), sess.LastSeen.UnixMilli(),
		sess.ExpiresAt.UnixMilli(), sess.User)
	if err != nil {
		return s.fail("create session", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail("create session", err)
	}
	if n == 0 {
		return chat.ErrNoSuchUser
	}
	return nil
}

// Session returns the session whose token hash is tokenHash, or
// [chat.ErrNoSuchSession]. It does not check expiry, nor whether the user is
// disabled.
func (s *Store) Session(ctx context.Context, tokenHash string) (chat.Session, error) {
	if s.closed.Load() {
		return chat.Session{}, chat.ErrClosed
	}
	sess := chat.Session{TokenHash: tokenHash}
	var created, seen, expires int64
	err := s.queryRow(ctx,
		`SELECT user, created_at, last_seen, expires_at FROM sessions WHERE token_hash = ?`, tokenHash).
		Scan(&sess.User, &created, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Session{}, chat.ErrNoSuchSession
	}
	if err != nil {
		return chat.Session{}, s.fail("session", err)
	}
	sess.CreatedAt, sess.LastSeen, sess.ExpiresAt = fromMillis(created), fromMillis(seen), fromMillis(expires)
	return sess, nil
}

// SessionUser implements chat.Accounts: one statement, one read
// transaction.
func (s *Store) SessionUser(ctx context.Context, tokenHash string) (chat.Session, chat.User, error) {
	if s.closed.Load() {
		return chat.Session{}, chat.User{}, chat.ErrClosed
	}
	sess := chat.Session{TokenHash: tokenHash}
	var u chat.User
	var created, seen, expires int64
	var name, hash sql.NullString
	var admin, disabled sql.NullBool
	var userCreated sql.NullInt64
	err := s.queryRow(ctx,
		`SELECT s.user, s.created_at, s.last_seen, s.expires_at, u.name, u.password_hash, u.admin, u.disabled, u.created_at
		 FROM sessions s LEFT JOIN users u ON u.name = s.user AND u.deleted = 0 WHERE s.token_hash = ?`, tokenHash).
		Scan(&sess.User, &created, &seen, &expires, &name, &hash, &admin, &disabled, &userCreated)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Session{}, chat.User{}, chat.ErrNoSuchSession
	}
	if err != nil {
		return chat.Session{}, chat.User{}, s.fail("session", err)
	}
	sess.CreatedAt, sess.LastSeen, sess.ExpiresAt = fromMillis(created), fromMillis(seen), fromMillis(expires)
	if !name.Valid {
		return sess, chat.User{}, chat.ErrNoSuchUser
	}
	u = chat.User{Name: name.String, PasswordHash: hash.String, Admin: admin.Bool, Disabled: disabled.Bool, CreatedAt: fromMillis(userCreated.Int64)}
	return sess, u, nil
}

// TouchSession sets the session's LastSeen to lastSeen, even if that is
// earlier than the stored one. A missing session is not an error.
func (s *Store) TouchSession(ctx context.Context, tokenHash string, lastSeen time.Time) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	if _, err := s.writer.ExecContext(ctx,
		`UPDATE sessions SET last_seen = ? WHERE token_hash = ?`,
		lastSeen.UnixMilli(), tokenHash); err != nil {
		return s.fail("touch session", err)
	}
	return nil
}

// DeleteSession removes one session; a missing one is not an error.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	if _, err := s.writer.ExecContext(ctx,
		`DELETE FROM sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return s.fail("delete session", err)
	}
	return nil
}

// DeleteUserSessions removes every session of user except the one whose
// token hash is keep (which may be empty, or not one of user's) and returns
// the token hashes it removed, sorted. It returns an empty slice, not an
// error, when user has no sessions or does not exist.
func (s *Store) DeleteUserSessions(ctx context.Context, user, keep string) ([]string, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	return s.deleteSessions(ctx, "delete user sessions",
		`DELETE FROM sessions WHERE user = ? AND token_hash <> ? RETURNING token_hash`, user, keep)
}

// deleteSessions runs query, a DELETE … RETURNING token_hash, and returns
// the token hashes it removed, sorted (an empty slice when none). op names
// it in errors.
func (s *Store) deleteSessions(ctx context.Context, op, query string, args ...any) ([]string, error) {
	// A transaction, so that an error while reading the removed hashes
	// rolls the removal back instead of leaving it to autocommit.
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.fail(op, err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.fail(op, err)
	}
	defer rows.Close()
	removed := []string{}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, s.fail(op, err)
		}
		removed = append(removed, h)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(op, err)
	}
	if err := rows.Close(); err != nil {
		return nil, s.fail(op, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, s.fail(op, err)
	}
	slices.Sort(removed)
	return removed, nil
}

// TrimUserSessions implements chat.Accounts.
func (s *Store) TrimUserSessions(ctx context.Context, user string, keep int) ([]string, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	return s.deleteSessions(ctx, "trim user sessions",
		`DELETE FROM sessions WHERE user = ?1 AND token_hash NOT IN (
			SELECT token_hash FROM sessions WHERE user = ?1
			ORDER BY last_seen DESC, created_at DESC, token_hash LIMIT ?2)
		 RETURNING token_hash`, user, max(keep, 1))
}

// endedSessionsBatch is how many ended sessions one statement of
// DeleteEndedSessions removes, so that the single writer is never held
// long by a purge.
const endedSessionsBatch = 1000

// DeleteEndedSessions implements chat.Accounts. It reads the whole table
// (there is no index on the times): the server runs it hourly.
func (s *Store) DeleteEndedSessions(ctx context.Context, now, idleSince time.Time) (int64, error) {
	var total int64
	for {
		if s.closed.Load() {
			return total, chat.ErrClosed
		}
		res, err := s.writer.ExecContext(ctx,
			`DELETE FROM sessions WHERE rowid IN (
				SELECT rowid FROM sessions WHERE expires_at <= ? OR last_seen <= ? LIMIT ?)`,
			now.UnixMilli(), idleSince.UnixMilli(), endedSessionsBatch)
		if err != nil {
			return total, s.fail("delete ended sessions", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, s.fail("delete ended sessions", err)
		}
		total += n
		if n < endedSessionsBatch {
			return total, nil
		}
	}
}

// DeleteUser implements chat.Accounts, in one write transaction. The
// successor of an owner is looked up in the room's role entries, a read of
// the room's messages: account deletion is rare, and no index is kept for it.
func (s *Store) DeleteUser(ctx context.Context, name string) (chat.UserDeletion, error) {
	if s.closed.Load() {
		return chat.UserDeletion{}, chat.ErrClosed
	}
	const op = "delete user"
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return chat.UserDeletion{}, s.fail(op, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx,
		`UPDATE users SET deleted = 1, password_hash = '', admin = 0 WHERE name = ? AND deleted = 0`, name)
	if err != nil {
		return chat.UserDeletion{}, s.fail(op, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return chat.UserDeletion{}, s.fail(op, err)
	} else if n == 0 {
		return chat.UserDeletion{}, chat.ErrNoSuchUser
	}
	var d chat.UserDeletion
	if d.Sessions, err = txStrings(ctx, tx, `DELETE FROM sessions WHERE user = ? RETURNING token_hash`, name); err != nil {
		return chat.UserDeletion{}, s.fail(op, err)
	}
	owned, err := txStrings(ctx, tx, `SELECT room FROM room_roles WHERE user = ? AND role = 'owner'`, name)
	if err != nil {
		return chat.UserDeletion{}, s.fail(op, err)
	}
	slices.Sort(owned)
	for _, room := range owned {
		// The moderator whose latest promotion is the oldest.
		next, err := txStrings(ctx, tx,
			`SELECT r.user FROM room_roles r WHERE r.room = ?1 AND r.role = 'moderator'
			 ORDER BY (SELECT max(m.seq) FROM messages m
			           WHERE m.room = ?1 AND m.kind = 'role' AND m.subject = r.user AND m.body = 'moderator') NULLS FIRST,
			          r.user
			 LIMIT 1`, room)
		if err != nil {
			return chat.UserDeletion{}, s.fail(op, err)
		}
		if len(next) == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE room_roles SET role = 'owner' WHERE room = ? AND user = ?`, room, next[0]); err != nil {
			return chat.UserDeletion{}, s.fail(op, err)
		}
		d.Owners = append(d.Owners, chat.OwnerHandoff{Room: room, Owner: next[0]})
	}
	if d.Rooms, err = txStrings(ctx, tx, `DELETE FROM room_roles WHERE user = ? RETURNING room`, name); err != nil {
		return chat.UserDeletion{}, s.fail(op, err)
	}
	for _, q := range []string{
		`DELETE FROM sanctions WHERE user = ?`,
		`DELETE FROM read_positions WHERE user = ?`,
		`DELETE FROM blocks WHERE blocker = ?1 OR blocked = ?1`,
		`DELETE FROM upload_chunks WHERE upload IN (SELECT id FROM uploads WHERE owner = ? AND room = '')`,
		`DELETE FROM uploads WHERE owner = ? AND room = ''`,
	} {
		if _, err := tx.ExecContext(ctx, q, name); err != nil {
			return chat.UserDeletion{}, s.fail(op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return chat.UserDeletion{}, s.fail(op, err)
	}
	s.erased()
	slices.Sort(d.Sessions)
	slices.Sort(d.Rooms)
	return d, nil
}

// txStrings runs q in tx and returns the first column of its rows (an
// empty slice when none).
func txStrings(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}
