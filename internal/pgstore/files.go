package pgstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

var _ chat.Files = (*Store)(nil)

const uploadColumns = `id, owner, name, size, sha256, declared, received, complete, created_at, updated_at,
	type, width, height, thumb IS NOT NULL, room, cmid`

func scanUpload(row pgx.Row) (chat.Upload, error) {
	var u chat.Upload
	err := row.Scan(&u.ID, &u.Owner, &u.Name, &u.Size, &u.SHA256, &u.Declared, &u.Received, &u.Complete,
		&u.Created, &u.Updated, &u.Type, &u.Width, &u.Height, &u.Thumb, &u.Room, &u.CMID)
	return u, err
}

// quotaLockKey is the first key of the advisory lock CreateUpload takes
// per owner; the second is a hash of the owner. ("upld" in ASCII.)
const quotaLockKey = 0x75706c64

// CreateUpload implements chat.Files. Under READ COMMITTED two
// transactions could each sum the owner's uploads before the other's
// insert and both pass the quota, so a bounded CreateUpload first takes a
// transaction-scoped advisory lock on the owner (quotaLockKey and the
// hash of the owner's name; owners whose hashes collide, or alike names in
// other schemas of the database, only wait for each other), and sums and
// inserts in the next statement, whose snapshot sees every upload
// committed by those that held the lock before. An unbounded one (q.Bytes
// <= 0) takes no lock.
func (s *Store) CreateUpload(ctx context.Context, u chat.Upload, q chat.Quota) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.fail("create upload", err)
	}
	defer tx.Rollback(ctx)
	if q.Bytes > 0 {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`,
			int32(quotaLockKey), u.Owner); err != nil {
			return s.fail("create upload", err)
		}
	}
	tag, err := tx.Exec(ctx,
		`INSERT INTO uploads (id, owner, name, size, sha256, declared, created_at, updated_at)
		 SELECT $1::text, $2::text, $3::text, $4::bigint, $5::text, $6::text, `+nowMS+`, `+nowMS+`
		 WHERE $8::bigint <= 0
		    OR $4::bigint + (SELECT coalesce(sum(size), 0)::bigint FROM uploads
		                     WHERE owner = $2::text AND created_at >= $7::timestamptz) <= $8::bigint`,
		u.ID, u.Owner, u.Name, u.Size, u.SHA256, u.Declared, q.Since, q.Bytes)
	if err != nil {
		return s.fail("create upload", err)
	}
	if tag.RowsAffected() == 0 {
		return chat.ErrOverQuota
	}
	if err := tx.Commit(ctx); err != nil {
		return s.fail("create upload", err)
	}
	return nil
}

// Upload implements chat.Files.
func (s *Store) Upload(ctx context.Context, id string) (chat.Upload, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return chat.Upload{}, err
	}
	defer end()
	return s.upload(ctx, s.pool, id)
}

type queryRower interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}

func (s *Store) upload(ctx context.Context, q queryRower, id string) (chat.Upload, error) {
	u, err := scanUpload(q.QueryRow(ctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = $1 AND purged = 0`, id))
	if isNoRows(err) {
		return u, chat.ErrNoSuchFile
	}
	if err != nil {
		return u, s.fail("upload", err)
	}
	return u, nil
}

// AppendChunk implements chat.Files. The update of received takes the
// upload's row lock, so of two nodes storing a chunk at the same offset
// one waits, then finds the offset moved and stores nothing.
func (s *Store) AppendChunk(ctx context.Context, id string, offset int64, data []byte) (int64, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return 0, err
	}
	defer end()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, s.fail("append chunk", err)
	}
	defer tx.Rollback(ctx)
	last := offset + int64(len(data))
	tag, err := tx.Exec(ctx,
		`UPDATE uploads SET received = $1, updated_at = `+nowMS+`
		 WHERE id = $2 AND received = $3 AND $1 <= size AND NOT complete AND purged = 0`,
		last, id, offset)
	if err != nil {
		return 0, s.fail("append chunk", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.upload(ctx, tx, id); err != nil {
			return 0, err
		}
		return 0, chat.ErrBadOffset
	}
	if len(data) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO upload_chunks (upload, pos, data) VALUES ($1, $2, $3)`, id, offset, data); err != nil {
			return 0, s.fail("append chunk", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, s.fail("append chunk", err)
	}
	return last, nil
}

// ReadFile implements chat.Files. It reads one chunk row per query, so
// that no connection is held while fn runs (fn may be writing to a slow
// HTTP client); a read that its file's purge overtakes stops at the next
// chunk.
func (s *Store) ReadFile(ctx context.Context, id string, fn func(int64, []byte) error) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	pos := int64(-1)
	for {
		var data []byte
		var at int64
		err := s.pool.QueryRow(ctx,
			`SELECT c.pos, c.data FROM upload_chunks c JOIN uploads u ON u.id = c.upload
			 WHERE c.upload = $1 AND c.pos > $2 AND u.purged = 0 ORDER BY c.pos LIMIT 1`, id, pos).Scan(&at, &data)
		if isNoRows(err) {
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
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	tag, err := s.pool.Exec(ctx,
		`UPDATE uploads SET complete = true, type = $1, width = $2, height = $3, thumb = $4, updated_at = `+nowMS+`
		 WHERE id = $5 AND received = size AND purged = 0`,
		info.Type, info.Width, info.Height, info.Thumb, id)
	if err != nil {
		return s.fail("complete upload", err)
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.upload(ctx, s.pool, id); err != nil {
			return err
		}
		return chat.ErrBadOffset
	}
	return nil
}

// Thumb implements chat.Files.
func (s *Store) Thumb(ctx context.Context, id string) ([]byte, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	var b []byte
	err = s.pool.QueryRow(ctx, `SELECT thumb FROM uploads WHERE id = $1 AND thumb IS NOT NULL`, id).Scan(&b)
	if isNoRows(err) {
		return nil, chat.ErrNoSuchFile
	}
	if err != nil {
		return nil, s.fail("thumb", err)
	}
	return b, nil
}

// DiscardUpload implements chat.Files.
func (s *Store) DiscardUpload(ctx context.Context, id string) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.fail("discard upload", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM upload_chunks WHERE upload = $1`, id); err != nil {
		return s.fail("discard upload", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM uploads WHERE id = $1`, id); err != nil {
		return s.fail("discard upload", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return s.fail("discard upload", err)
	}
	return nil
}

// ClaimFile implements chat.Files. A claim, the first or a resend's, sets
// updated_at, from which ExpireUploads counts a claim no stored message
// carries.
func (s *Store) ClaimFile(ctx context.Context, id, owner, room, cmid string) error {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	tag, err := s.pool.Exec(ctx,
		`UPDATE uploads SET room = $1, cmid = $2, updated_at = `+nowMS+`
		 WHERE id = $3 AND owner = $4 AND complete AND purged = 0
		   AND (room = '' OR (room = $1 AND cmid = $2 AND cmid <> ''))`,
		room, cmid, id, owner)
	if err != nil {
		return s.fail("claim file", err)
	}
	if tag.RowsAffected() > 0 {
		return nil
	}
	u, err := s.upload(ctx, s.pool, id)
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
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return err
	}
	defer end()
	if _, err := s.pool.Exec(ctx,
		`UPDATE uploads SET room = '', cmid = '', updated_at = `+nowMS+`
		 WHERE id = $1 AND owner = $2 AND room = $3 AND cmid = $4 AND room <> '' AND purged = 0
		   AND NOT EXISTS (SELECT 1 FROM messages WHERE file_id = $1 AND file_id <> '')`,
		id, owner, room, cmid); err != nil {
		return s.fail("release file", err)
	}
	return nil
}

// FileMessage implements chat.Files. The query repeats the condition of
// the partial index messages_file (a file id that is not empty): the
// generic plan of a prepared statement, which knows no $1, may use the
// index only then, and otherwise walks every message in key order; so
// does ReleaseFile's.
func (s *Store) FileMessage(ctx context.Context, id string) (string, int64, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return "", 0, err
	}
	defer end()
	var room string
	var seq int64
	err = s.pool.QueryRow(ctx,
		`SELECT room, seq FROM messages WHERE file_id = $1 AND file_id <> '' AND kind = '' AND NOT deleted
		 ORDER BY room, seq LIMIT 1`, id).Scan(&room, &seq)
	if isNoRows(err) {
		return "", 0, chat.ErrNoSuchFile
	}
	if err != nil {
		return "", 0, s.fail("file message", err)
	}
	return room, seq, nil
}

// UploadedSince implements chat.Files.
func (s *Store) UploadedSince(ctx context.Context, owner string, since time.Time) (int64, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return 0, err
	}
	defer end()
	var n int64
	err = s.pool.QueryRow(ctx,
		`SELECT coalesce(sum(size), 0)::bigint FROM uploads WHERE owner = $1 AND created_at >= $2`,
		owner, since).Scan(&n)
	if err != nil {
		return 0, s.fail("uploaded since", err)
	}
	return n, nil
}

// ExpireUploads implements chat.Files. The uploads claimed for a message
// that was never stored are deleted by a statement of their own, whose
// conditions are on the rows it deletes (not in a subquery), so that a
// row that an Append marks sent while the statement waits for its lock is
// checked again and kept; each kind is found through its partial index
// (uploads_stale, uploads_unsent, uploads_claimed), and the check that no
// message carries a claimed one through messages_file, whose condition it
// repeats.
func (s *Store) ExpireUploads(ctx context.Context, before time.Time) (int, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return 0, err
	}
	defer end()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, s.fail("expire uploads", err)
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx,
		`DELETE FROM uploads WHERE id IN (
			SELECT id FROM uploads WHERE NOT complete AND updated_at < $1
			UNION ALL SELECT id FROM uploads WHERE complete AND room = '' AND updated_at < $1)
		 RETURNING id`, before)
	if err != nil {
		return 0, s.fail("expire uploads", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, s.fail("expire uploads", err)
	}
	rows, err = tx.Query(ctx,
		`DELETE FROM uploads
		 WHERE complete AND room <> '' AND NOT sent AND purged = 0 AND updated_at < $1
		   AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.file_id = uploads.id AND m.file_id <> '')
		 RETURNING id`, before)
	if err != nil {
		return 0, s.fail("expire uploads", err)
	}
	lost, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, s.fail("expire uploads", err)
	}
	ids = append(ids, lost...)
	if len(ids) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM upload_chunks WHERE upload = ANY($1)`, ids); err != nil {
			return 0, s.fail("expire uploads", err)
		}
	}
	// The records of purged files, chunks gone (PurgeFiles): not counted.
	if _, err := tx.Exec(ctx, `DELETE FROM uploads WHERE purged = 2 AND updated_at < $1`, before); err != nil {
		return 0, s.fail("expire uploads", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, s.fail("expire uploads", err)
	}
	return len(ids), nil
}

// purgeFileSet is the SET clause that purges an upload (migration 12): it
// erases what the file was and keeps what the upload quota counts (owner,
// size, created_at); updated_at becomes the time of the purge. The chunks
// are left to PurgeFiles. A purge must leave alone a file that a message
// not deleted still carries (the statements that use it check).
const purgeFileSet = `purged = 1, name = '', sha256 = '', declared = '', type = '',
	width = 0, height = 0, thumb = NULL, updated_at = ` + nowMS

// PurgeFiles implements chat.Files. Chunks another caller is deleting are
// skipped (SKIP LOCKED), not waited for. A file whose last chunk goes is
// marked so (purged = 2), by whichever caller sees it last, for
// ExpireUploads to remove its record later.
func (s *Store) PurgeFiles(ctx context.Context, max int) (int, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return 0, err
	}
	defer end()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, s.fail("purge files", err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `DELETE FROM upload_chunks c USING (
			SELECT c.upload, c.pos FROM uploads u JOIN upload_chunks c ON c.upload = u.id
			WHERE u.purged = 1 ORDER BY u.updated_at LIMIT $1
			FOR UPDATE OF c SKIP LOCKED) AS d
		WHERE c.upload = d.upload AND c.pos = d.pos`, max)
	if err != nil {
		return 0, s.fail("purge files", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE uploads SET purged = 2
		WHERE purged = 1 AND NOT EXISTS (SELECT 1 FROM upload_chunks c WHERE c.upload = uploads.id)`); err != nil {
		return 0, s.fail("purge files", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, s.fail("purge files", err)
	}
	return int(tag.RowsAffected()), nil
}
