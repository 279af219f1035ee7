package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// maxAppendAttempts bounds how often Append runs its transaction when a
// resend raced with it; see errCMIDRace.
const maxAppendAttempts = 3

// errCMIDRace says that a message with the CMID of one being inserted was
// committed after Append looked for it. Appends lock their rooms first, so
// only a writer that does not (a foreign program, an older hubbub) can cause
// it; Append then starts over and finds that message.
var errCMIDRace = errors.New("a message with the same client message id was committed concurrently")

// roomTail is what Append knows about a room during one batch.
type roomTail struct {
	lastSeq int64
	lastTS  time.Time // time of message lastSeq; zero if none
	touched bool      // lastSeq changed in this batch
}

// cmidKey identifies a message by its client message id.
type cmidKey struct{ room, author, cmid string }

// Append commits batch in one transaction; see [chat.Store.Append].
//
// Each message gets the next sequence number of its room and the
// database's time at millisecond precision, never earlier than the time of
// the room's previous message, so times never decrease within a room even
// when the database's clock steps back. A message whose room does not exist
// gets [chat.ErrNoSuchRoom]; one whose non-empty CMID its author already
// used in the room, in an earlier batch or earlier in this one, gets the
// stored message with Duplicate set. Append does not validate names or
// bodies.
//
// Appends to the same room, from any node, wait for each other: each holds
// a lock on its rooms' rows until it commits. If the connection fails while
// the commit is in flight, Append returns an error although the batch may
// have been committed; a resend with the same CMIDs is then recognized.
func (s *Store) Append(ctx context.Context, batch []chat.NewMessage) ([]chat.AppendResult, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	if len(batch) == 0 {
		return []chat.AppendResult{}, nil
	}
	for attempt := 1; ; attempt++ {
		res, err := s.appendOnce(ctx, batch)
		if errors.Is(err, errCMIDRace) && attempt < maxAppendAttempts {
			continue
		}
		if err != nil {
			return nil, s.fail("append", err)
		}
		return res, nil
	}
}

// appendOnce runs Append's transaction once. It takes two round trips
// between BEGIN and COMMIT: one pipeline that locks the rooms and reads what
// numbering needs, and one that writes.
func (s *Store) appendOnce(ctx context.Context, batch []chat.NewMessage) ([]chat.AppendResult, error) {
	var names []string
	var keys struct{ rooms, authors, cmids []string }
	for _, m := range batch {
		if !slices.Contains(names, m.Room) {
			names = append(names, m.Room)
		}
		if m.CMID != "" {
			keys.rooms = append(keys.rooms, m.Room)
			keys.authors = append(keys.authors, m.Author)
			keys.cmids = append(keys.cmids, m.CMID)
		}
	}

	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)

	// The statements of a pipeline run one after the other, each with a
	// snapshot of its own, so everything after the lock sees what the
	// Appends that held it before committed.
	read := &pgx.Batch{}
	// Locks in name order. FOR NO KEY UPDATE rather than FOR UPDATE: it
	// does not block the foreign key checks of roles, sanctions and
	// messages that name the room.
	read.Queue(`SELECT name FROM rooms WHERE name = ANY($1)
		ORDER BY name COLLATE "C" FOR NO KEY UPDATE`, names)
	read.Queue(`SELECT r.name, r.last_seq, m.ts
		FROM rooms r LEFT JOIN messages m ON m.room = r.name AND m.seq = r.last_seq
		WHERE r.name = ANY($1)`, names)
	read.Queue(`SELECT ` + nowMS)
	if len(keys.cmids) > 0 {
		// "m.cmid <> ''" repeats the partial index's condition so that
		// the planner may use the index.
		read.Queue(`SELECT m.room, m.author, m.cmid, m.seq, m.guest, m.body, m.ts
			FROM messages m
			JOIN unnest($1::text[], $2::text[], $3::text[]) AS k (room, author, cmid)
			  ON m.room = k.room AND m.author = k.author AND m.cmid = k.cmid
			WHERE m.cmid <> ''`, keys.rooms, keys.authors, keys.cmids)
	}
	tails, now, stored, err := readForAppend(tx.SendBatch(ctx, read), len(keys.cmids) > 0)
	if err != nil {
		return nil, err
	}

	results := make([]chat.AppendResult, len(batch))
	var ins struct {
		rooms, authors, bodies, cmids []string
		seqs                          []int64
		guests                        []bool
		times                         []time.Time
	}
	for i, m := range batch {
		tail, ok := tails[m.Room]
		if !ok {
			results[i].Err = chat.ErrNoSuchRoom
			continue
		}
		key := cmidKey{m.Room, m.Author, m.CMID}
		if m.CMID != "" {
			if prev, dup := stored[key]; dup {
				results[i] = chat.AppendResult{Message: prev, Duplicate: true}
				continue
			}
		}
		msg := chat.Message{
			Room:   m.Room,
			Seq:    tail.lastSeq + 1,
			Author: m.Author,
			Guest:  m.Guest,
			Body:   m.Body,
			CMID:   m.CMID,
			Time:   now,
		}
		if msg.Time.Before(tail.lastTS) {
			msg.Time = tail.lastTS
		}
		tail.lastSeq, tail.lastTS, tail.touched = msg.Seq, msg.Time, true
		if m.CMID != "" {
			stored[key] = msg // a later resend in this batch repeats it
		}
		results[i].Message = msg
		ins.rooms = append(ins.rooms, msg.Room)
		ins.seqs = append(ins.seqs, msg.Seq)
		ins.authors = append(ins.authors, msg.Author)
		ins.guests = append(ins.guests, msg.Guest)
		ins.bodies = append(ins.bodies, msg.Body)
		ins.cmids = append(ins.cmids, msg.CMID)
		ins.times = append(ins.times, msg.Time)
	}
	if len(ins.seqs) == 0 {
		// Nothing new: only missing rooms and resends. The transaction
		// wrote nothing; rolling it back releases the locks.
		return results, nil
	}

	var last struct {
		rooms []string
		seqs  []int64
	}
	for room, tail := range tails {
		if tail.touched {
			last.rooms = append(last.rooms, room)
			last.seqs = append(last.seqs, tail.lastSeq)
		}
	}
	write := &pgx.Batch{}
	// ON CONFLICT names the CMID index only: a clash of sequence numbers
	// is a bug to report, not a duplicate to skip.
	write.Queue(`INSERT INTO messages (room, seq, author, guest, body, cmid, ts)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::boolean[],
			$5::text[], $6::text[], $7::timestamptz[])
		ON CONFLICT (room, author, cmid) WHERE cmid <> '' DO NOTHING`,
		ins.rooms, ins.seqs, ins.authors, ins.guests, ins.bodies, ins.cmids, ins.times)
	write.Queue(`UPDATE rooms SET last_seq = u.seq
		FROM unnest($1::text[], $2::bigint[]) AS u (name, seq)
		WHERE rooms.name = u.name`, last.rooms, last.seqs)
	br := tx.SendBatch(ctx, write)
	tag, err := br.Exec()
	if err != nil {
		br.Close()
		return nil, fmt.Errorf("insert: %w", err)
	}
	if n := tag.RowsAffected(); n != int64(len(ins.seqs)) {
		br.Close()
		return nil, errCMIDRace
	}
	if _, err := br.Exec(); err != nil {
		br.Close()
		return nil, fmt.Errorf("advance last_seq: %w", err)
	}
	if err := br.Close(); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return results, nil
}

// readForAppend reads the results of Append's first pipeline: the tails of
// the rooms it locked (a room missing from the map does not exist), the
// database's time and, if findCMIDs, the stored messages with the batch's
// CMIDs. It closes br.
func readForAppend(br pgx.BatchResults, findCMIDs bool) (tails map[string]*roomTail, now time.Time, stored map[cmidKey]chat.Message, err error) {
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()

	rows, err := br.Query()
	if err != nil {
		return nil, time.Time{}, nil, fmt.Errorf("lock rooms: %w", err)
	}
	locked, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, time.Time{}, nil, fmt.Errorf("lock rooms: %w", err)
	}

	tails = make(map[string]*roomTail, len(locked))
	rows, err = br.Query()
	if err != nil {
		return nil, time.Time{}, nil, fmt.Errorf("read rooms: %w", err)
	}
	for rows.Next() {
		var name string
		var t roomTail
		var ts *time.Time
		if err := rows.Scan(&name, &t.lastSeq, &ts); err != nil {
			rows.Close()
			return nil, time.Time{}, nil, fmt.Errorf("read rooms: %w", err)
		}
		// A room created after the lock was taken is not locked: this
		// Append treats it as missing.
		if !slices.Contains(locked, name) {
			continue
		}
		if t.lastSeq > 0 && ts == nil {
			rows.Close()
			return nil, time.Time{}, nil, fmt.Errorf("read rooms: message %s#%d is missing", name, t.lastSeq)
		}
		if ts != nil {
			t.lastTS = ts.UTC()
		}
		tails[name] = &t
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, nil, fmt.Errorf("read rooms: %w", err)
	}

	if err := br.QueryRow().Scan(&now); err != nil {
		return nil, time.Time{}, nil, fmt.Errorf("read clock: %w", err)
	}
	now = now.UTC()

	stored = make(map[cmidKey]chat.Message)
	if !findCMIDs {
		return tails, now, stored, nil
	}
	rows, err = br.Query()
	if err != nil {
		return nil, time.Time{}, nil, fmt.Errorf("find resends: %w", err)
	}
	for rows.Next() {
		var m chat.Message
		if err := rows.Scan(&m.Room, &m.Author, &m.CMID, &m.Seq, &m.Guest, &m.Body, &m.Time); err != nil {
			rows.Close()
			return nil, time.Time{}, nil, fmt.Errorf("find resends: %w", err)
		}
		m.Time = m.Time.UTC()
		stored[cmidKey{m.Room, m.Author, m.CMID}] = m
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, nil, fmt.Errorf("find resends: %w", err)
	}
	return tails, now, stored, nil
}

// HistoryBefore returns up to limit messages of room with Seq < before
// (before <= 0 means from the newest), the newest of them, in ascending Seq
// order; see [chat.Store.HistoryBefore]. A limit <= 0 returns no messages.
// It returns [chat.ErrNoSuchRoom] if the room does not exist.
func (s *Store) HistoryBefore(ctx context.Context, room string, before int64, limit int) ([]chat.Message, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	if before <= 0 {
		before = math.MaxInt64
	}
	msgs, err := s.history(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE room = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, room, before, limit)
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
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	return s.history(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE room = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3`, room, after, limit)
}

// messageColumns are the columns history reads, in its order.
const messageColumns = `room, seq, author, guest, body, cmid, ts`

// history runs the history query q with room, seq and limit.
func (s *Store) history(ctx context.Context, q, room string, seq int64, limit int) ([]chat.Message, error) {
	msgs := []chat.Message{}
	if limit > 0 {
		rows, err := s.pool.Query(ctx, q, room, seq, limit)
		if err != nil {
			return nil, s.fail("history", err)
		}
		msgs, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (chat.Message, error) {
			var m chat.Message
			err := row.Scan(&m.Room, &m.Seq, &m.Author, &m.Guest, &m.Body, &m.CMID, &m.Time)
			m.Time = m.Time.UTC()
			return m, err
		})
		if err != nil {
			return nil, s.fail("history", err)
		}
	}
	if len(msgs) > 0 {
		return msgs, nil
	}
	// A room that has a message existed when it was read (one deleted
	// since may still answer with them, as if asked a moment earlier);
	// only an empty answer needs the check.
	ok, err := s.roomExists(ctx, room)
	if err != nil {
		return nil, s.fail("history", err)
	}
	if !ok {
		return nil, chat.ErrNoSuchRoom
	}
	return []chat.Message{}, nil
}
