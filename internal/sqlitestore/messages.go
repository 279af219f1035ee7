package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// writeStmts are the statements of Append, prepared once on the writer.
type writeStmts struct {
	roomTail     *sql.Stmt // room name → last_seq, ts of that message (NULL if none)
	findCMID     *sql.Stmt // room, author, cmid → the stored entry
	insert       *sql.Stmt
	setSeq       *sql.Stmt // last_seq, room
	version      *sql.Stmt // → PRAGMA data_version
	indexPending *sql.Stmt // the plain messages past fts_mark into the full-text index
	setMark      *sql.Stmt // fts_mark at the last message

	// Entries that act on a message.
	loadTarget *sql.Stmt // room, seq → the plain message's state
	loadRows   *sql.Stmt // room, seq → its reaction rows by at_seq
	setState   *sql.Stmt // body, file_id, edited, deleted, v, room, seq
	blankEdits *sql.Stmt // room, target: the bodies of a deleted message's edits
	clearRows  *sql.Stmt // room, seq: every reaction of a deleted message
	delRow     *sql.Stmt // room, seq, emoji, user
	addRow     *sql.Stmt // room, seq, emoji, user, at_seq
	purgeFile  *sql.Stmt // now (ms), file id: the file a delete took off its message

	markSent *sql.Stmt // file id: a stored message carries it (migration 20)
}

func (w *writeStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&w.roomTail, roomTailSQL},
		// "cmid <> ''" repeats the partial index's condition so that the
		// planner may use the index.
		{&w.findCMID, `SELECT ` + entryColumns + ` FROM messages
			WHERE room = ? AND author = ? AND cmid = ? AND cmid <> ''`},
		// A send whose cmid is taken (messages_cmid) inserts nothing:
		// Append then looks up the entry that took it. One statement in
		// the common case instead of a lookup and an insert.
		{&w.insert, `INSERT INTO messages (room, seq, kind, author, guest, body, cmid, ts,
			target, subject, until, reply_to, file_id, author_key, subject_key)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`},
		{&w.setSeq, `UPDATE rooms SET last_seq = ? WHERE name = ?`},
		{&w.version, `PRAGMA data_version`},
		// A new row gets the largest rowid plus one, so the rows past
		// the mark are those inserted since it was set (deleteRooms
		// lowers the mark when it deletes the last rows).
		{&w.indexPending, `INSERT INTO messages_fts (rowid, body)
			SELECT rowid, body FROM messages WHERE rowid > (SELECT upto FROM fts_mark) AND kind = '' AND deleted = 0`},
		{&w.setMark, `UPDATE fts_mark SET upto = (SELECT coalesce(max(rowid), 0) FROM messages)`},
		{&w.loadTarget, `SELECT author, guest, author_key, body, file_id, edited, deleted, v FROM messages
			WHERE room = ? AND seq = ? AND kind = ''`},
		{&w.loadRows, `SELECT emoji, user, at_seq FROM reactions
			WHERE room = ? AND seq = ? ORDER BY at_seq`},
		{&w.setState, `UPDATE messages SET body = ?, file_id = ?, edited = ?, deleted = ?, v = ?
			WHERE room = ? AND seq = ?`},
		{&w.blankEdits, `UPDATE messages SET body = ''
			WHERE room = ? AND target = ? AND target <> 0 AND kind = 'edit'`},
		{&w.clearRows, `DELETE FROM reactions WHERE room = ? AND seq = ?`},
		{&w.delRow, `DELETE FROM reactions WHERE room = ? AND seq = ? AND emoji = ? AND user = ?`},
		{&w.addRow, `INSERT INTO reactions (room, seq, emoji, user, at_seq) VALUES (?, ?, ?, ?, ?)`},
		// Run after setState has taken the file off the message, so
		// that the check finds only other messages.
		{&w.purgeFile, `UPDATE uploads SET ` + purgeFileSet + `
			WHERE id = ?2 AND purged = 0
			  AND NOT EXISTS (SELECT 1 FROM messages WHERE file_id = ?2 AND file_id <> '')`},
		{&w.markSent, `UPDATE uploads SET sent = 1 WHERE id = ? AND sent = 0`},
	} {
		st, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			w.close()
			return fmt.Errorf("prepare: %w", err)
		}
		*p.stmt = st
	}
	return nil
}

func (w *writeStmts) close() {
	for _, st := range []*sql.Stmt{w.roomTail, w.findCMID, w.insert, w.setSeq, w.version, w.indexPending, w.setMark,
		w.loadTarget, w.loadRows, w.setState, w.blankEdits, w.clearRows, w.delRow, w.addRow, w.purgeFile, w.markSent} {
		if st != nil {
			st.Close()
		}
	}
}

// entryColumns are the columns of an entry as stored, in scanEntry's
// order; the state of a plain message (edited, deleted, v) comes after.
const entryColumns = `room, seq, kind, author, guest, body, cmid, ts,
	target, subject, subject_key, until, reply_to, file_id, edited, deleted, v`

// scanEntry scans the entryColumns of one row.
func scanEntry(scan func(dest ...any) error) (chat.Message, error) {
	var m chat.Message
	var ts, edited int64
	var until sql.NullInt64
	err := scan(&m.Room, &m.Seq, &m.Kind, &m.Author, &m.Guest, &m.Body, &m.CMID, &ts,
		&m.Target, &m.User, &m.UserKey, &until, &m.ReplyTo, &m.FileID, &edited, &m.Deleted, &m.V)
	m.Time = fromMillis(ts)
	if until.Valid {
		m.Until = fromMillis(until.Int64)
	}
	if edited != 0 {
		m.Edited = fromMillis(edited)
	}
	return m, err
}

// roomTail is what Append knows about a room during one batch.
type roomTail struct {
	exists  bool
	lastSeq int64
	lastMS  int64 // time of the message lastSeq, 0 if none
	touched bool  // lastSeq changed in this batch
}

// targetKey names a plain message that entries of a batch act on.
type targetKey struct {
	room string
	seq  int64
}

// Append commits batch in one transaction; see [chat.Store.Append].
//
// Each entry gets the next sequence number of its room and the commit
// time in milliseconds, never earlier than the time of the room's previous
// entry, so times never decrease within a room even when the clock steps
// back. An entry whose room does not exist gets [chat.ErrNoSuchRoom]; one
// whose non-empty CMID its author already used in the room, in an earlier
// batch or earlier in this one, gets the stored entry with Duplicate set.
// An entry that acts on a message, and a reply, is checked and applied by
// [chat.Target.Fold] against the state the batch has made so far. Append
// does not validate names, kinds or bodies.
func (s *Store) Append(ctx context.Context, batch []chat.NewMessage) ([]chat.AppendResult, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	if len(batch) == 0 {
		return []chat.AppendResult{}, nil
	}
	// BEGIN IMMEDIATE: the single writer connection serializes Appends in
	// this process, and the write lock is taken up front, so the
	// transaction never has to upgrade a read lock and fail with
	// SQLITE_BUSY.
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.fail("append", err)
	}
	defer tx.Rollback()
	// The statements below each take microseconds, so they don't watch
	// ctx once started: for a ctx that can end, the driver starts a
	// goroutine per statement only to be able to interrupt it (durable
	// workload profile: 5% of the server's CPU, on the store's single
	// writer). ctx still bounds the transaction: once it ends,
	// database/sql rolls the transaction back and the next statement
	// fails.
	ctx = uncancelable(ctx)
	var version int64
	if err := tx.StmtContext(ctx, s.stmts.version).QueryRowContext(ctx).Scan(&version); err != nil {
		return nil, s.fail("append", err)
	}
	known, gen := s.tails.take(version)
	committed := false
	defer func() {
		if committed {
			s.tails.put(known, gen)
		}
	}()
	var (
		tailStmt = tx.StmtContext(ctx, s.stmts.roomTail)
		findCMID = tx.StmtContext(ctx, s.stmts.findCMID)
		insert   = tx.StmtContext(ctx, s.stmts.insert)
		setSeq   = tx.StmtContext(ctx, s.stmts.setSeq)
	)

	// Taken once the write lock is held, so batches committed later never
	// get an earlier time from a well-behaved clock.
	now := time.Now().UnixMilli()
	tails := make(map[string]*roomTail)
	targets := make(map[targetKey]*chat.Target) // nil: no plain message there
	var touched []targetKey                     // targets in the order first changed
	inserted := false                           // the batch added a row
	erased := false                             // the batch deleted or edited a message
	results := make([]chat.AppendResult, len(batch))
	for i, m := range batch {
		tail, ok := tails[m.Room]
		if !ok {
			if t, ok := known[m.Room]; ok {
				tail = &t
			} else if tail, err = loadTail(ctx, tailStmt, m.Room); err != nil {
				return nil, s.fail("append", err)
			}
			tails[m.Room] = tail
		}
		if !tail.exists {
			results[i].Err = chat.ErrNoSuchRoom
			continue
		}

		// A resend (its cmid already stored) is found when its insert
		// inserts nothing, below; one that acts on or answers a message
		// is looked for first, because that message may have changed
		// since (a resent reply to a message deleted since is still the
		// reply it was).
		if _, refers := refersTo(m); refers && m.CMID != "" {
			if dup, err := duplicate(ctx, findCMID, m); err != nil {
				return nil, s.fail("append", err)
			} else if dup != nil {
				results[i] = *dup
				continue
			}
		}

		msg := chat.Message{
			Room:    m.Room,
			Seq:     tail.lastSeq + 1,
			Kind:    m.Kind,
			Author:  m.Author,
			Guest:   m.Guest,
			Body:    m.Body,
			CMID:    m.CMID,
			Target:  m.Target,
			User:    m.User,
			UserKey: m.UserKey,
			Until:   m.Until,
			ReplyTo: m.ReplyTo,
			FileID:  m.FileID,
		}
		ms := max(now, tail.lastMS)
		msg.Time = fromMillis(ms)

		if ref, ok := refersTo(m); ok {
			key := targetKey{m.Room, ref}
			t, ok := targets[key]
			if !ok {
				if t, err = s.loadTarget(ctx, tx, key); err != nil {
					return nil, s.fail("append", err)
				}
				targets[key] = t
			}
			if m.Kind == "" {
				if !t.CanReply() {
					results[i].Err = chat.ErrNoSuchMessage
					continue
				}
			} else {
				was := t != nil && t.Changed
				kind, err := t.Fold(m, msg.Seq, msg.Time)
				if err != nil {
					results[i].Err = err
					continue
				}
				msg.Kind = kind
				erased = erased || kind == chat.KindDelete || kind == chat.KindEdit
				if !was {
					touched = append(touched, key)
				}
			}
		}

		var until sql.NullInt64
		if !msg.Until.IsZero() {
			until = sql.NullInt64{Int64: msg.Until.UnixMilli(), Valid: true}
		}
		res, err := insert.ExecContext(ctx, msg.Room, msg.Seq, msg.Kind, msg.Author, msg.Guest,
			msg.Body, msg.CMID, ms, msg.Target, msg.User, until, msg.ReplyTo, msg.FileID, m.AuthorKey, msg.UserKey)
		if err != nil {
			return nil, s.fail("append", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, s.fail("append", err)
		} else if n == 0 {
			// Only the cmid can conflict: (room, seq) is the tail's next.
			dup, err := duplicate(ctx, findCMID, m)
			if err == nil && dup == nil {
				err = fmt.Errorf("insert of %s#%d ignored without a cmid conflict", msg.Room, msg.Seq)
			}
			if err != nil {
				return nil, s.fail("append", err)
			}
			results[i] = *dup
			continue
		}
		inserted = true
		if msg.FileID != "" {
			// In this transaction, so that ExpireUploads never takes
			// the file of a stored message for a claim left behind.
			if _, err := tx.StmtContext(ctx, s.stmts.markSent).ExecContext(ctx, msg.FileID); err != nil {
				return nil, s.fail("append", err)
			}
		}
		if msg.Kind == "" {
			// A later entry of the batch that acts on it reads it back
			// with loadTarget (the transaction sees its own rows), not
			// the nil an earlier entry may have found at its seq.
			delete(targets, targetKey{msg.Room, msg.Seq})
		}
		tail.lastSeq, tail.lastMS, tail.touched = msg.Seq, ms, true
		results[i].Message = msg
	}

	// The new plain messages go into the full-text index in one
	// statement, with those of earlier batches still pending (migration
	// 12), once the oldest of them has waited indexLag, and always
	// before saveTarget changes a message, whose update trigger then
	// queues the change against what is indexed, for syncFTS.
	clock := s.indexClock()
	oldest := s.ftsPending.Load()
	if oldest == 0 && inserted {
		oldest = clock
	}
	indexNow := len(touched) > 0 || oldest != 0 && clock-oldest >= s.indexLag.Milliseconds()
	if indexNow {
		if err := s.indexPendingTx(ctx, tx); err != nil {
			return nil, s.fail("append", err)
		}
	}
	for _, key := range touched {
		if err := s.saveTarget(ctx, tx, key, targets[key]); err != nil {
			return nil, s.fail("append", err)
		}
	}
	for room, tail := range tails {
		if !tail.touched {
			continue
		}
		if _, err := setSeq.ExecContext(ctx, tail.lastSeq, room); err != nil {
			return nil, s.fail("append", err)
		}
	}
	// Only saveTarget's updates queue changes (the update trigger).
	if len(touched) > 0 {
		if err := syncFTS(ctx, tx); err != nil {
			return nil, s.fail("append", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, s.fail("append", err)
	}
	if erased {
		s.erased()
	}
	if indexNow {
		s.ftsPending.Store(0)
	} else {
		s.ftsPending.Store(oldest)
	}
	for room, tail := range tails {
		if tail.exists {
			known[room] = roomTail{exists: true, lastSeq: tail.lastSeq, lastMS: tail.lastMS}
		}
	}
	committed = true
	return results, nil
}

// duplicate returns the result of a resend of m, the entry stored with
// m's cmid, or nil if there is none.
func duplicate(ctx context.Context, findCMID *sql.Stmt, m chat.NewMessage) (*chat.AppendResult, error) {
	got, err := scanEntry(findCMID.QueryRowContext(ctx, m.Room, m.Author, m.CMID).Scan)
	switch {
	case err == nil:
		return &chat.AppendResult{Message: entryOnly(got), Duplicate: true}, nil
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	}
	return nil, err
}

// refersTo returns the seq of the message that m acts on or answers, and
// whether there is one to check. An entry that acts on a message always
// has one (seq 0 names none, so it is refused).
func refersTo(m chat.NewMessage) (int64, bool) {
	switch {
	case chat.ActsOnMessage(m.Kind):
		return m.Target, true
	case m.Kind == "" && m.ReplyTo != 0:
		return m.ReplyTo, true
	}
	return 0, false
}

// entryOnly returns m without the state of a plain message, as Append
// returns entries.
func entryOnly(m chat.Message) chat.Message {
	m.Edited, m.Deleted, m.Reactions, m.V = time.Time{}, false, nil, 0
	return m
}

// loadTarget reads the plain message key names and its reactions, or
// returns nil if there is none.
func (s *Store) loadTarget(ctx context.Context, tx *sql.Tx, key targetKey) (*chat.Target, error) {
	t := &chat.Target{Seq: key.seq}
	var edited int64
	err := tx.StmtContext(ctx, s.stmts.loadTarget).QueryRowContext(ctx, key.room, key.seq).
		Scan(&t.Author, &t.Guest, &t.AuthorKey, &t.Body, &t.FileID, &edited, &t.Deleted, &t.V)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load %s#%d: %w", key.room, key.seq, err)
	}
	if edited != 0 {
		t.Edited = fromMillis(edited)
	}
	rows, err := tx.StmtContext(ctx, s.stmts.loadRows).QueryContext(ctx, key.room, key.seq)
	if err != nil {
		return nil, fmt.Errorf("load reactions of %s#%d: %w", key.room, key.seq, err)
	}
	defer rows.Close()
	for rows.Next() {
		var r chat.ReactionRow
		if err := rows.Scan(&r.Emoji, &r.User, &r.At); err != nil {
			return nil, fmt.Errorf("load reactions of %s#%d: %w", key.room, key.seq, err)
		}
		t.Rows = append(t.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load reactions of %s#%d: %w", key.room, key.seq, err)
	}
	return t, nil
}

// saveTarget writes what Fold changed of t, the plain message key names,
// and purges the file a delete took off it (chat.Files).
func (s *Store) saveTarget(ctx context.Context, tx *sql.Tx, key targetKey, t *chat.Target) error {
	var edited int64
	if !t.Edited.IsZero() {
		edited = t.Edited.UnixMilli()
	}
	if _, err := tx.StmtContext(ctx, s.stmts.setState).ExecContext(ctx,
		t.Body, t.FileID, edited, t.Deleted, t.V, key.room, key.seq); err != nil {
		return fmt.Errorf("update %s#%d: %w", key.room, key.seq, err)
	}
	if t.Dropped != "" {
		if _, err := tx.StmtContext(ctx, s.stmts.purgeFile).ExecContext(ctx, time.Now().UnixMilli(), t.Dropped); err != nil {
			return fmt.Errorf("purge the file of %s#%d: %w", key.room, key.seq, err)
		}
	}
	if t.Cleared {
		if _, err := tx.StmtContext(ctx, s.stmts.blankEdits).ExecContext(ctx, key.room, key.seq); err != nil {
			return fmt.Errorf("blank edits of %s#%d: %w", key.room, key.seq, err)
		}
		if _, err := tx.StmtContext(ctx, s.stmts.clearRows).ExecContext(ctx, key.room, key.seq); err != nil {
			return fmt.Errorf("clear reactions of %s#%d: %w", key.room, key.seq, err)
		}
	}
	for _, r := range t.Removed {
		if _, err := tx.StmtContext(ctx, s.stmts.delRow).ExecContext(ctx, key.room, key.seq, r.Emoji, r.User); err != nil {
			return fmt.Errorf("remove reaction of %s#%d: %w", key.room, key.seq, err)
		}
	}
	for _, r := range t.Added {
		if _, err := tx.StmtContext(ctx, s.stmts.addRow).ExecContext(ctx, key.room, key.seq, r.Emoji, r.User, r.At); err != nil {
			return fmt.Errorf("add reaction of %s#%d: %w", key.room, key.seq, err)
		}
	}
	return nil
}

// roomTailSQL reads a room's last_seq and the time of that message, in one
// statement rather than two: a batch reads the tail of every room it
// writes to.
const roomTailSQL = `SELECT r.last_seq, m.ts FROM rooms r
	LEFT JOIN messages m ON m.room = r.name AND m.seq = r.last_seq
	WHERE r.name = ?`

// tailCache keeps each room's tail from one Append to the next, so that a
// batch does not read it again for every room it writes to (durable
// workload profile: 7% of the committer's time). Only Append changes a
// tail, and only deleteRooms removes a room, both in transactions of the
// single writer connection. Append takes the map when its transaction
// begins and puts it back, with what it committed, after the commit; by
// then the writer is free again, so put keeps the map only if nothing took
// it or forgot a room in between (gen), and otherwise drops it: another
// Append's tails are newer, a deleted room's are gone. A commit by any
// other connection, of this process or another, changes the writer's
// PRAGMA data_version, and take then starts afresh.
type tailCache struct {
	mu      sync.Mutex
	version int64               // the writer's data_version m is valid for
	gen     uint64              // counts takes and forgets
	m       map[string]roomTail // rooms that exist; nil while an Append holds it
}

// take returns the tails known at version, empty if the database changed
// since, for an Append to use, and the generation to give put.
func (c *tailCache) take(version int64) (map[string]roomTail, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.m
	if m == nil || version != c.version {
		m = make(map[string]roomTail)
	}
	c.gen++
	c.m, c.version = nil, version
	return m, c.gen
}

// put gives back the map take returned at gen, with what the Append
// committed; it is dropped if another take or a forget came since.
func (c *tailCache) put(m map[string]roomTail, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		c.m = m
	}
}

// forget drops room's tail, in a transaction that deletes the room.
func (c *tailCache) forget(room string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, room)
}

// loadTail reads the newest sequence number and message time of room with
// the writeStmts.roomTail statement.
func loadTail(ctx context.Context, stmt *sql.Stmt, room string) (*roomTail, error) {
	t := &roomTail{}
	var ts sql.NullInt64
	err := stmt.QueryRowContext(ctx, room).Scan(&t.lastSeq, &ts)
	if errors.Is(err, sql.ErrNoRows) {
		return t, nil
	}
	if err != nil {
		return nil, err
	}
	t.exists = true
	if t.lastSeq == 0 {
		return t, nil
	}
	if !ts.Valid {
		return nil, fmt.Errorf("time of %s#%d: %w", room, t.lastSeq, sql.ErrNoRows)
	}
	t.lastMS = ts.Int64
	return t, nil
}

// HistoryBefore returns up to limit entries of room with Seq < before
// (before <= 0 means from the newest), the newest of them, in ascending Seq
// order, plain messages with their state; see [chat.Store.HistoryBefore]. A
// limit <= 0 returns no messages. It returns [chat.ErrNoSuchRoom] if the
// room does not exist.
func (s *Store) HistoryBefore(ctx context.Context, room string, before int64, limit int) ([]chat.Message, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	q := `SELECT ` + entryColumns + ` FROM messages
		WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?`
	if before <= 0 {
		before = 1 << 62
	}
	msgs, err := s.history(ctx, q, room, before, limit, true)
	if err != nil {
		return nil, err
	}
	return msgs, nil
}

// HistoryAfter returns up to limit entries of room with Seq > after, the
// oldest of them, in ascending Seq order, plain messages with their state;
// see [chat.Store.HistoryAfter]. A limit <= 0 returns no messages. It
// returns [chat.ErrNoSuchRoom] if the room does not exist.
func (s *Store) HistoryAfter(ctx context.Context, room string, after int64, limit int) ([]chat.Message, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	q := `SELECT ` + entryColumns + ` FROM messages
		WHERE room = ? AND seq > ? ORDER BY seq ASC LIMIT ?`
	return s.history(ctx, q, room, after, limit, false)
}

// history runs the history query q with room, seq and limit, reverses
// what it read if descending, and adds the reactions.
func (s *Store) history(ctx context.Context, q, room string, seq int64, limit int, descending bool) ([]chat.Message, error) {
	msgs := []chat.Message{}
	if limit > 0 {
		rows, err := s.query(ctx, q, room, seq, limit)
		if err != nil {
			return nil, s.fail("history", err)
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanEntry(rows.Scan)
			if err != nil {
				return nil, s.fail("history", err)
			}
			msgs = append(msgs, m)
		}
		if err := rows.Err(); err != nil {
			return nil, s.fail("history", err)
		}
		rows.Close()
	}
	if len(msgs) > 0 {
		if descending {
			slices.Reverse(msgs)
		}
		if err := s.addReactions(ctx, msgs); err != nil {
			return nil, s.fail("history", err)
		}
		return msgs, nil
	}
	// Rooms are never deleted, so a room that has a message exists; only
	// an empty answer needs the check.
	ok, err := s.roomExists(ctx, room)
	if err != nil {
		return nil, s.fail("history", err)
	}
	if !ok {
		return nil, chat.ErrNoSuchRoom
	}
	return msgs, nil
}

// addReactions sets the Reactions of the plain messages of msgs, one room's
// entries in ascending seq order, with one query. A message without a V
// never had a reaction, so a page without one needs no query.
func (s *Store) addReactions(ctx context.Context, msgs []chat.Message) error {
	if !slices.ContainsFunc(msgs, func(m chat.Message) bool { return m.Kind == "" && m.V != 0 }) {
		return nil
	}
	rows, err := s.query(ctx, `SELECT seq, emoji, user, at_seq FROM reactions
		WHERE room = ? AND seq BETWEEN ? AND ? ORDER BY seq, at_seq`,
		msgs[0].Room, msgs[0].Seq, msgs[len(msgs)-1].Seq)
	if err != nil {
		return err
	}
	defer rows.Close()
	bySeq := make(map[int64][]chat.ReactionRow)
	for rows.Next() {
		var seq int64
		var r chat.ReactionRow
		if err := rows.Scan(&seq, &r.Emoji, &r.User, &r.At); err != nil {
			return err
		}
		bySeq[seq] = append(bySeq[seq], r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range msgs {
		if r := bySeq[msgs[i].Seq]; r != nil {
			msgs[i].Reactions = chat.GroupReactions(r)
		}
	}
	return nil
}
