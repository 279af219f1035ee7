package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// writeStmts are the statements of Append, prepared once on the writer.
type writeStmts struct {
	roomSeq  *sql.Stmt // room name → last_seq
	lastTime *sql.Stmt // room, seq → ts
	findCMID *sql.Stmt // room, author, cmid → seq, guest, body, ts
	insert   *sql.Stmt
	setSeq   *sql.Stmt // last_seq, room
}

func (w *writeStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&w.roomSeq, `SELECT last_seq FROM rooms WHERE name = ?`},
		{&w.lastTime, `SELECT ts FROM messages WHERE room = ? AND seq = ?`},
		// "cmid <> ''" repeats the partial index's condition so that the
		// planner may use the index.
		{&w.findCMID, `SELECT seq, guest, body, ts FROM messages
			WHERE room = ? AND author = ? AND cmid = ? AND cmid <> ''`},
		{&w.insert, `INSERT INTO messages (room, seq, author, guest, body, cmid, ts)
			VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&w.setSeq, `UPDATE rooms SET last_seq = ? WHERE name = ?`},
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
	for _, st := range []*sql.Stmt{w.roomSeq, w.lastTime, w.findCMID, w.insert, w.setSeq} {
		if st != nil {
			st.Close()
		}
	}
}

// roomTail is what Append knows about a room during one batch.
type roomTail struct {
	exists  bool
	lastSeq int64
	lastMS  int64 // time of the message lastSeq, 0 if none
	touched bool  // lastSeq changed in this batch
}

// Append commits batch in one transaction; see [chat.Store.Append].
//
// Each message gets the next sequence number of its room and the commit
// time in milliseconds, never earlier than the time of the room's previous
// message, so times never decrease within a room even when the clock steps
// back. A message whose room does not exist gets [chat.ErrNoSuchRoom]; one
// whose non-empty CMID its author already used in the room, in an earlier
// batch or earlier in this one, gets the stored message with Duplicate set.
// Append does not validate names or bodies.
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
	var (
		roomSeq  = tx.StmtContext(ctx, s.stmts.roomSeq)
		lastTime = tx.StmtContext(ctx, s.stmts.lastTime)
		findCMID = tx.StmtContext(ctx, s.stmts.findCMID)
		insert   = tx.StmtContext(ctx, s.stmts.insert)
		setSeq   = tx.StmtContext(ctx, s.stmts.setSeq)
	)

	// Taken once the write lock is held, so batches committed later never
	// get an earlier time from a well-behaved clock.
	now := time.Now().UnixMilli()
	tails := make(map[string]*roomTail)
	results := make([]chat.AppendResult, len(batch))
	for i, m := range batch {
		tail, ok := tails[m.Room]
		if !ok {
			tail, err = loadTail(ctx, roomSeq, lastTime, m.Room)
			if err != nil {
				return nil, s.fail("append", err)
			}
			tails[m.Room] = tail
		}
		if !tail.exists {
			results[i].Err = chat.ErrNoSuchRoom
			continue
		}

		if m.CMID != "" {
			got := chat.Message{Room: m.Room, Author: m.Author, CMID: m.CMID}
			var ms int64
			err := findCMID.QueryRowContext(ctx, m.Room, m.Author, m.CMID).
				Scan(&got.Seq, &got.Guest, &got.Body, &ms)
			switch {
			case err == nil:
				got.Time = fromMillis(ms)
				results[i] = chat.AppendResult{Message: got, Duplicate: true}
				continue
			case !errors.Is(err, sql.ErrNoRows):
				return nil, s.fail("append", err)
			}
		}

		msg := chat.Message{
			Room:   m.Room,
			Seq:    tail.lastSeq + 1,
			Author: m.Author,
			Guest:  m.Guest,
			Body:   m.Body,
			CMID:   m.CMID,
		}
		ms := max(now, tail.lastMS)
		msg.Time = fromMillis(ms)
		if _, err := insert.ExecContext(ctx,
			msg.Room, msg.Seq, msg.Author, msg.Guest, msg.Body, msg.CMID, ms); err != nil {
			return nil, s.fail("append", err)
		}
		tail.lastSeq, tail.lastMS, tail.touched = msg.Seq, ms, true
		results[i].Message = msg
	}

	for room, tail := range tails {
		if !tail.touched {
			continue
		}
		if _, err := setSeq.ExecContext(ctx, tail.lastSeq, room); err != nil {
			return nil, s.fail("append", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, s.fail("append", err)
	}
	return results, nil
}

// loadTail reads the newest sequence number and message time of room.
func loadTail(ctx context.Context, roomSeq, lastTime *sql.Stmt, room string) (*roomTail, error) {
	t := &roomTail{}
	err := roomSeq.QueryRowContext(ctx, room).Scan(&t.lastSeq)
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
	if err := lastTime.QueryRowContext(ctx, room, t.lastSeq).Scan(&t.lastMS); err != nil {
		return nil, fmt.Errorf("time of %s#%d: %w", room, t.lastSeq, err)
	}
	return t, nil
}

// HistoryBefore returns up to limit messages of room with Seq < before
// (before <= 0 means from the newest), the newest of them, in ascending Seq
// order; see [chat.Store.HistoryBefore]. A limit <= 0 returns no messages.
// It returns [chat.ErrNoSuchRoom] if the room does not exist.
func (s *Store) HistoryBefore(ctx context.Context, room string, before int64, limit int) ([]chat.Message, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	q := `SELECT room, seq, author, guest, body, cmid, ts FROM messages
		WHERE room = ? AND seq < ? ORDER BY seq DESC LIMIT ?`
	if before <= 0 {
		before = 1 << 62
	}
	msgs, err := s.history(ctx, q, room, before, limit)
	if err != nil {
		return nil, err
	}
	slices.Reverse(msgs)
	return msgs, nil
}

// HistoryAfter returns up to limit messages of room with Seq > after, the
// oldest of them, in ascending Seq order; see [chat.Store.HistoryAfter]. A
// limit <= 0 returns no messages. It returns [chat.ErrNoSuchRoom] if the
// room does not exist.
func (s *Store) HistoryAfter(ctx context.Context, room string, after int64, limit int) ([]chat.Message, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	q := `SELECT room, seq, author, guest, body, cmid, ts FROM messages
		WHERE room = ? AND seq > ? ORDER BY seq ASC LIMIT ?`
	return s.history(ctx, q, room, after, limit)
}

// history runs the history query q with room, seq and limit.
func (s *Store) history(ctx context.Context, q, room string, seq int64, limit int) ([]chat.Message, error) {
	msgs := []chat.Message{}
	if limit > 0 {
		rows, err := s.query(ctx, q, room, seq, limit)
		if err != nil {
			return nil, s.fail("history", err)
		}
		defer rows.Close()
		for rows.Next() {
			var m chat.Message
			var ms int64
			if err := rows.Scan(&m.Room, &m.Seq, &m.Author, &m.Guest, &m.Body, &m.CMID, &ms); err != nil {
				return nil, s.fail("history", err)
			}
			m.Time = fromMillis(ms)
			msgs = append(msgs, m)
		}
		if err := rows.Err(); err != nil {
			return nil, s.fail("history", err)
		}
	}
	if len(msgs) > 0 {
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
