package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

var _ chat.Files = (*Store)(nil)

const uploadColumns = `id, owner, name, size, sha256, declared, received, complete, created_at, updated_at,
	type, width, height, thumb IS NOT NULL, room, cmid`

func scanUpload(row interface{ Scan(...any) error }) (chat.Upload, error) {
	var u chat.Upload
	var created, updated int64
	err := row.Scan(&u.ID, &u.Owner, &u.Name, &u.Size, &u.SHA256, &u.Declared, &u.Received, &u.Complete,
		&created, &updated, &u.Type, &u.Width, &u.Height, &u.Thumb, &u.Room, &u.CMID)
	u.Created, u.Updated = fromMillis(created), fromMillis(updated)
	return u, err
}

// CreateUpload implements chat.Files. The quota's check and the insert are
// one statement on the writer, the store's one connection that writes, so
// no other write comes between the sum it reads and the row it adds. (A
// second process writing to the file would need the write lock that
// statement holds, and SQLite refuses to write from a snapshot that is no
// longer the latest: SQLITE_BUSY_SNAPSHOT, an error, never a lost update.)
func (s *Store) CreateUpload(ctx context.Context, u chat.Upload, q chat.Quota) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	now := time.Now().UnixMilli()
	res, err := s.writer.ExecContext(ctx,
		`INSERT INTO uploads (id, owner, name, size, sha256, declared, created_at, updated_at)
		 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7
		 WHERE ?9 <= 0
		    OR ?4 + (SELECT coalesce(sum(size), 0) FROM uploads WHERE owner = ?2 AND created_at >= ?8) <= ?9`,
		u.ID, u.Owner, u.Name, u.Size, u.SHA256, u.Declared, now, q.Since.UnixMilli(), q.Bytes)
	if err != nil {
		return s.fail("create upload", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.fail("create upload", err)
	} else if n == 0 {
		return chat.ErrOverQuota
	}
	return nil
}

// Upload implements chat.Files.
func (s *Store) Upload(ctx context.Context, id string) (chat.Upload, error) {
	if s.closed.Load() {
		return chat.Upload{}, chat.ErrClosed
	}
	return s.upload(ctx, s.reader, id)
}

func (s *Store) upload(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) (chat.Upload, error) {
	u, err := scanUpload(q.QueryRowContext(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = ? AND purged = 0`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return u, chat.ErrNoSuchFile
	}
	if err != nil {
		return u, s.fail("upload", err)
	}
	return u, nil
}

// AppendChunk implements chat.Files. The check of the offset and the
// insert are one transaction of the single writer, so two chunks at the
// same offset cannot both be stored.
func (s *Store) AppendChunk(ctx context.Context, id string, offset int64, data []byte) (int64, error) {
	if s.closed.Load() {
		return 0, chat.ErrClosed
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.fail("append chunk", err)
	}
	defer tx.Rollback()
	end := offset + int64(len(data))
	res, err := tx.ExecContext(ctx,
		`UPDATE uploads SET received = ?, updated_at = ?
		 WHERE id = ? AND received = ? AND ? <= size AND complete = 0 AND purged = 0`,
		end, time.Now().UnixMilli(), id, offset, end)
	if err != nil {
		return 0, s.fail("append chunk", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return 0, s.fail("append chunk", err)
	} else if n == 0 {
		if _, err := s.upload(ctx, tx, id); err != nil {
			return 0, err
		}
		return 0, chat.ErrBadOffset
	}
	if len(data) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO upload_chunks (upload, pos, data) VALUES (?, ?, ?)`, id, offset, data); err != nil {
			return 0, s.fail("append chunk", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, s.fail("append chunk", err)
	}
	return end, nil
}

// ReadFile implements chat.Files. It reads one chunk row per query, so
// that no read transaction stays open while fn runs (fn may be writing to
// a slow HTTP client); a read that its file's purge overtakes stops at the
// next chunk.
func (s *Store) ReadFile(ctx context.Context, id string, fn func(int64, []byte) error) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	pos := int64(-1)
	for {
		var data []byte
		var at int64
		err := s.reader.QueryRowContext(ctx,
			`SELECT c.pos, c.data FROM upload_chunks c JOIN uploads u ON u.id = c.upload
			 WHERE c.upload = ? AND c.pos > ? AND u.purged = 0 ORDER BY c.pos LIMIT 1`, id, pos).Scan(&at, &data)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return s.fail("read file", err)
		}
		if err := fn(at, data); err != nil {
			return err
		}
		pos = at
	}
}

// CompleteUpload implements chat.Files.
func (s *Store) CompleteUpload(ctx context.Context, id string, info chat.FileInfo) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	var thumb any
	if info.Thumb != nil {
		thumb = info.Thumb
	}
	res, err := s.writer.ExecContext(ctx,
		`UPDATE uploads SET complete = 1, type = ?, width = ?, height = ?, thumb = ?, updated_at = ?
		 WHERE id = ? AND received = size AND purged = 0`,
		info.Type, info.Width, info.Height, thumb, time.Now().UnixMilli(), id)
	if err != nil {
		return s.fail("complete upload", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.fail("complete upload", err)
	} else if n == 0 {
		if _, err := s.upload(ctx, s.writer, id); err != nil {
			return err
		}
		return chat.ErrBadOffset
	}
	return nil
}

// Thumb implements chat.Files.
func (s *Store) Thumb(ctx context.Context, id string) ([]byte, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	var b []byte
	err := s.reader.QueryRowContext(ctx, `SELECT thumb FROM uploads WHERE id = ? AND thumb IS NOT NULL`, id).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chat.ErrNoSuchFile
	}
	if err != nil {
		return nil, s.fail("thumb", err)
	}
	return b, nil
}

// DiscardUpload implements chat.Files.
func (s *Store) DiscardUpload(ctx context.Context, id string) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return s.fail("discard upload", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM upload_chunks WHERE upload = ?`, id); err != nil {
		return s.fail("discard upload", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE id = ?`, id); err != nil {
		return s.fail("discard upload", err)
	}
	if err := tx.Commit(); err != nil {
		return s.fail("discard upload", err)
	}
	s.erased()
	return nil
}

// ClaimFile implements chat.Files. A claim, the first or a resend's, sets
// updated_at, from which ExpireUploads counts a claim no stored message
// carries.
func (s *Store) ClaimFile(ctx context.Context, id, owner, room, cmid string) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	res, err := s.writer.ExecContext(ctx,
		`UPDATE uploads SET room = ?1, cmid = ?2, updated_at = ?5
		 WHERE id = ?3 AND owner = ?4 AND complete = 1 AND purged = 0
		   AND (room = '' OR (room = ?1 AND cmid = ?2 AND cmid <> ''))`,
		room, cmid, id, owner, time.Now().UnixMilli())
	if err != nil {
		return s.fail("claim file", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.fail("claim file", err)
	} else if n > 0 {
		return nil
	}
	u, err := s.upload(ctx, s.writer, id)
	switch {
	case err != nil:
		return err
	case u.Owner != owner || !u.Complete:
		return chat.ErrNoSuchFile
	}
	return chat.ErrFileUsed
}

// ReleaseFile implements chat.Files.
func (s *Store) ReleaseFile(ctx context.Context, id, owner, room, cmid string) error {
	if s.closed.Load() {
		return chat.ErrClosed
	}
	if _, err := s.writer.ExecContext(ctx,
		`UPDATE uploads SET room = '', cmid = '', updated_at = ?5
		 WHERE id = ?1 AND owner = ?2 AND room = ?3 AND cmid = ?4 AND room <> '' AND purged = 0
		   AND NOT EXISTS (SELECT 1 FROM messages WHERE file_id = ?1 AND file_id <> '')`,
		id, owner, room, cmid, time.Now().UnixMilli()); err != nil {
		return s.fail("release file", err)
	}
	return nil
}

// FileMessage implements chat.Files. The query repeats the condition of
// the partial index messages_file (a file id that is not empty), without
// which SQLite does not use the index and reads every message
// (TestQueryPlans); so does ReleaseFile's.
func (s *Store) FileMessage(ctx context.Context, id string) (string, int64, error) {
	if s.closed.Load() {
		return "", 0, chat.ErrClosed
	}
	var room string
	var seq int64
	err := s.reader.QueryRowContext(ctx,
		`SELECT room, seq FROM messages WHERE file_id = ? AND file_id <> '' AND kind = '' AND deleted = 0
		 ORDER BY room, seq LIMIT 1`, id).Scan(&room, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, chat.ErrNoSuchFile
	}
	if err != nil {
		return "", 0, s.fail("file message", err)
	}
	return room, seq, nil
}

// UploadedSince implements chat.Files.
func (s *Store) UploadedSince(ctx context.Context, owner string, since time.Time) (int64, error) {
	if s.closed.Load() {
		return 0, chat.ErrClosed
	}
	var n int64
	err := s.reader.QueryRowContext(ctx,
		`SELECT coalesce(sum(size), 0) FROM uploads WHERE owner = ? AND created_at >= ?`,
		owner, since.UnixMilli()).Scan(&n)
	if err != nil {
		return 0, s.fail("uploaded since", err)
	}
	return n, nil
}

// expirable selects the ids of the uploads ExpireUploads discards, given
// the cut as ?1, each kind through its partial index: unfinished ones
// (uploads_stale); finished ones never claimed or released
// (uploads_unsent); and those claimed for a message that was never stored
// (uploads_claimed: no stored message has marked them sent), which it
// checks against the messages too (messages_file, whose condition the
// query repeats so that SQLite uses it; TestQueryPlans).
const expirable = `SELECT id FROM uploads WHERE complete = 0 AND updated_at < ?1
	UNION ALL SELECT id FROM uploads WHERE complete = 1 AND room = '' AND updated_at < ?1
	UNION ALL SELECT id FROM uploads
		WHERE complete = 1 AND room <> '' AND sent = 0 AND purged = 0 AND updated_at < ?1
		  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.file_id = uploads.id AND m.file_id <> '')`

// ExpireUploads implements chat.Files.
func (s *Store) ExpireUploads(ctx context.Context, before time.Time) (int, error) {
	if s.closed.Load() {
		return 0, chat.ErrClosed
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.fail("expire uploads", err)
	}
	defer tx.Rollback()
	cut := before.UnixMilli()
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM upload_chunks WHERE upload IN (`+expirable+`)`, cut); err != nil {
		return 0, s.fail("expire uploads", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE id IN (`+expirable+`)`, cut)
	if err != nil {
		return 0, s.fail("expire uploads", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.fail("expire uploads", err)
	}
	// The records of purged files, chunks gone (PurgeFiles): not counted.
	if _, err := tx.ExecContext(ctx, `DELETE FROM uploads WHERE purged = 2 AND updated_at < ?`, cut); err != nil {
		return 0, s.fail("expire uploads", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, s.fail("expire uploads", err)
	}
	if n > 0 {
		s.erased()
	}
	return int(n), nil
}

// purgeFileSet is the SET clause that purges an upload (migration 15): it
// erases what the file was and keeps what the upload quota counts (owner,
// size, created_at), with updated_at, its one parameter, the time of the
// purge. The chunks are left to PurgeFiles. A purge must leave alone a file
// that a message not deleted still carries (the statements that use it
// check).
const purgeFileSet = `purged = 1, name = '', sha256 = '', declared = '', type = '',
	width = 0, height = 0, thumb = NULL, updated_at = ?`

// purgeRoomFiles purges, in tx, the files that messages of room carry,
// unless a message of another room carries one too. Called before the
// room's messages are deleted.
func purgeRoomFiles(ctx context.Context, tx *sql.Tx, room string) error {
	_, err := tx.ExecContext(ctx, `UPDATE uploads SET `+purgeFileSet+`
		WHERE purged = 0
		  AND id IN (SELECT file_id FROM messages WHERE room = ? AND file_id <> '')
		  AND NOT EXISTS (SELECT 1 FROM messages m
		                  WHERE m.file_id = uploads.id AND m.file_id <> '' AND m.room <> ?)`,
		time.Now().UnixMilli(), room, room)
	return err
}

// PurgeFiles implements chat.Files. Purged files are taken oldest purge
// first (uploads_purging); a file whose last chunk goes is marked so
// (purged = 2), for ExpireUploads to remove its record later.
func (s *Store) PurgeFiles(ctx context.Context, max int) (int, error) {
	if s.closed.Load() {
		return 0, chat.ErrClosed
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.fail("purge files", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM upload_chunks WHERE rowid IN (
		SELECT c.rowid FROM uploads u JOIN upload_chunks c ON c.upload = u.id
		WHERE u.purged = 1 ORDER BY u.updated_at LIMIT ?)`, max)
	if err != nil {
		return 0, s.fail("purge files", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.fail("purge files", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE uploads SET purged = 2
		WHERE purged = 1 AND NOT EXISTS (SELECT 1 FROM upload_chunks c WHERE c.upload = uploads.id)`); err != nil {
		return 0, s.fail("purge files", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, s.fail("purge files", err)
	}
	if n > 0 {
		s.erased()
	}
	return int(n), nil
}
