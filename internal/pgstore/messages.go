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

// targetKey names a plain message that entries of a batch act on.
type targetKey struct {
	room string
	seq  int64
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

// appendOnce runs Append's transaction once. It takes two round trips
// between BEGIN and COMMIT: one pipeline that locks the rooms and reads what
// numbering and the entries need, and one that writes.
func (s *Store) appendOnce(ctx context.Context, batch []chat.NewMessage) ([]chat.AppendResult, error) {
	var names []string
	var keys struct{ rooms, authors, cmids []string }
	var refs struct {
		rooms []string
		seqs  []int64
	}
	targets := make(map[targetKey]*chat.Target) // nil: no plain message there
	for _, m := range batch {
		if !slices.Contains(names, m.Room) {
			names = append(names, m.Room)
		}
		if m.CMID != "" {
			keys.rooms = append(keys.rooms, m.Room)
			keys.authors = append(keys.authors, m.Author)
			keys.cmids = append(keys.cmids, m.CMID)
		}
		if ref, ok := refersTo(m); ok {
			key := targetKey{m.Room, ref}
			if _, ok := targets[key]; !ok {
				targets[key] = nil
				refs.rooms = append(refs.rooms, m.Room)
				refs.seqs = append(refs.seqs, ref)
			}
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
		read.Queue(`SELECT `+entryColumns+`
			FROM messages m
			JOIN unnest($1::text[], $2::text[], $3::text[]) AS k (room, author, cmid)
			  ON m.room = k.room AND m.author = k.author AND m.cmid = k.cmid
			WHERE m.cmid <> ''`, keys.rooms, keys.authors, keys.cmids)
	}
	if len(refs.seqs) > 0 {
		read.Queue(`SELECT m.room, m.seq, m.author, m.guest, m.author_key, m.body, m.file_id, m.edited, m.deleted, m.v
			FROM messages m
			JOIN unnest($1::text[], $2::bigint[]) AS k (room, seq) ON m.room = k.room AND m.seq = k.seq
			WHERE m.kind = ''`, refs.rooms, refs.seqs)
		read.Queue(`SELECT r.room, r.seq, r.emoji, r.username, r.at_seq
			FROM reactions r
			JOIN unnest($1::text[], $2::bigint[]) AS k (room, seq) ON r.room = k.room AND r.seq = k.seq
			ORDER BY r.room, r.seq, r.at_seq`, refs.rooms, refs.seqs)
	}
	tails, now, stored, err := readForAppend(tx.SendBatch(ctx, read), len(keys.cmids) > 0, targets)
	if err != nil {
		return nil, err
	}

	results := make([]chat.AppendResult, len(batch))
	var ins struct {
		rooms, kinds, authors, bodies, cmids, subjects, fileIDs []string
		authorKeys, subjectKeys                                 []string
		seqs, targets, replyTos                                 []int64
		guests                                                  []bool
		times                                                   []time.Time
		untils                                                  []*time.Time
	}
	var touched []targetKey // targets in the order first changed
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
			Room:    m.Room,
			Seq:     tail.lastSeq + 1,
			Kind:    m.Kind,
			Author:  m.Author,
			Guest:   m.Guest,
			Body:    m.Body,
			CMID:    m.CMID,
			Time:    now,
			Target:  m.Target,
			User:    m.User,
			UserKey: m.UserKey,
			Until:   m.Until,
			ReplyTo: m.ReplyTo,
			FileID:  m.FileID,
		}
		if msg.Time.Before(tail.lastTS) {
			msg.Time = tail.lastTS
		}
		if ref, ok := refersTo(m); ok {
			tk := targetKey{m.Room, ref}
			t := targets[tk]
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
				if !was {
					touched = append(touched, tk)
				}
			}
		}
		if msg.Kind == "" {
			// Later entries of the batch may act on it.
			targets[targetKey{msg.Room, msg.Seq}] = &chat.Target{
				Seq: msg.Seq, Author: msg.Author, Guest: msg.Guest, AuthorKey: m.AuthorKey, Body: msg.Body, FileID: msg.FileID,
			}
		}
		tail.lastSeq, tail.lastTS, tail.touched = msg.Seq, msg.Time, true
		if m.CMID != "" {
			stored[key] = msg // a later resend in this batch repeats it
		}
		results[i].Message = msg
		ins.rooms = append(ins.rooms, msg.Room)
		ins.seqs = append(ins.seqs, msg.Seq)
		ins.kinds = append(ins.kinds, msg.Kind)
		ins.authors = append(ins.authors, msg.Author)
		ins.guests = append(ins.guests, msg.Guest)
		ins.authorKeys = append(ins.authorKeys, m.AuthorKey)
		ins.bodies = append(ins.bodies, msg.Body)
		ins.cmids = append(ins.cmids, msg.CMID)
		ins.times = append(ins.times, msg.Time)
		ins.targets = append(ins.targets, msg.Target)
		ins.subjects = append(ins.subjects, msg.User)
		ins.subjectKeys = append(ins.subjectKeys, msg.UserKey)
		ins.untils = append(ins.untils, timeOrNil(msg.Until))
		ins.replyTos = append(ins.replyTos, msg.ReplyTo)
		ins.fileIDs = append(ins.fileIDs, msg.FileID)
	}
	if len(ins.seqs) == 0 {
		// Nothing new: only missing rooms, refused entries and resends.
		// The transaction wrote nothing; rolling it back releases the
		// locks.
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
	write.Queue(`INSERT INTO messages (room, seq, kind, author, guest, body, cmid, ts,
			target, subject, until, reply_to, file_id, author_key, subject_key)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::boolean[],
			$6::text[], $7::text[], $8::timestamptz[],
			$9::bigint[], $10::text[], $11::timestamptz[], $12::bigint[], $13::text[], $14::text[], $15::text[])
		ON CONFLICT (room, author, cmid) WHERE cmid <> '' DO NOTHING`,
		ins.rooms, ins.seqs, ins.kinds, ins.authors, ins.guests, ins.bodies, ins.cmids, ins.times,
		ins.targets, ins.subjects, ins.untils, ins.replyTos, ins.fileIDs, ins.authorKeys, ins.subjectKeys)
	write.Queue(`UPDATE rooms SET last_seq = u.seq
		FROM unnest($1::text[], $2::bigint[]) AS u (name, seq)
		WHERE rooms.name = u.name`, last.rooms, last.seqs)
	// In this transaction, so that ExpireUploads never takes the file of
	// a stored message for a claim left behind (migration 17).
	var sent []string
	for _, id := range ins.fileIDs {
		if id != "" {
			sent = append(sent, id)
		}
	}
	if len(sent) > 0 {
		write.Queue(`UPDATE uploads SET sent = true WHERE id = ANY($1) AND NOT sent`, sent)
	}
	queueTargets(write, touched, targets)
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
	for range write.Len() - 2 {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, fmt.Errorf("apply entries, mark files sent: %w", err)
		}
	}
	if err := br.Close(); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return results, nil
}

// queueTargets queues on b the writes that store what Fold changed of the
// touched targets: their state, the purge of the files deletes took off
// them (chat.Files), the bodies of a deleted message's edits, and their
// reaction rows (removed ones before added ones).
func queueTargets(b *pgx.Batch, touched []targetKey, targets map[targetKey]*chat.Target) {
	if len(touched) == 0 {
		return
	}
	var st struct {
		rooms, bodies, fileIDs []string
		seqs, vs               []int64
		edited                 []*time.Time
		deleted                []bool
	}
	var cleared struct {
		rooms []string
		seqs  []int64
	}
	var dropped []string // files that deletes took off their messages
	var del, add struct {
		rooms, emojis, users []string
		seqs, ats            []int64
	}
	for _, k := range touched {
		t := targets[k]
		st.rooms = append(st.rooms, k.room)
		st.seqs = append(st.seqs, k.seq)
		st.bodies = append(st.bodies, t.Body)
		st.fileIDs = append(st.fileIDs, t.FileID)
		st.edited = append(st.edited, timeOrNil(t.Edited))
		st.deleted = append(st.deleted, t.Deleted)
		st.vs = append(st.vs, t.V)
		if t.Dropped != "" {
			dropped = append(dropped, t.Dropped)
		}
		if t.Cleared {
			cleared.rooms = append(cleared.rooms, k.room)
			cleared.seqs = append(cleared.seqs, k.seq)
		}
		for _, r := range t.Removed {
			del.rooms, del.seqs = append(del.rooms, k.room), append(del.seqs, k.seq)
			del.emojis, del.users = append(del.emojis, r.Emoji), append(del.users, r.User)
		}
		for _, r := range t.Added {
			add.rooms, add.seqs = append(add.rooms, k.room), append(add.seqs, k.seq)
			add.emojis, add.users = append(add.emojis, r.Emoji), append(add.users, r.User)
			add.ats = append(add.ats, r.At)
		}
	}
	b.Queue(`UPDATE messages SET body = u.body, file_id = u.file_id, edited = u.edited,
			deleted = u.deleted, v = u.v
		FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::timestamptz[],
			$6::boolean[], $7::bigint[]) AS u (room, seq, body, file_id, edited, deleted, v)
		WHERE messages.room = u.room AND messages.seq = u.seq`,
		st.rooms, st.seqs, st.bodies, st.fileIDs, st.edited, st.deleted, st.vs)
	if len(dropped) > 0 {
		// After the update above, so that the check finds only the
		// other messages that carry a file.
		b.Queue(`UPDATE uploads SET `+purgeFileSet+`
			WHERE id = ANY($1) AND purged = 0
			  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.file_id = uploads.id AND m.file_id <> '')`, dropped)
	}
	if len(cleared.seqs) > 0 {
		b.Queue(`UPDATE messages SET body = ''
			FROM unnest($1::text[], $2::bigint[]) AS u (room, seq)
			WHERE messages.room = u.room AND messages.target = u.seq AND messages.target <> 0
			  AND messages.kind = 'edit'`, cleared.rooms, cleared.seqs)
		b.Queue(`DELETE FROM reactions r USING unnest($1::text[], $2::bigint[]) AS u (room, seq)
			WHERE r.room = u.room AND r.seq = u.seq`, cleared.rooms, cleared.seqs)
	}
	if len(del.seqs) > 0 {
		b.Queue(`DELETE FROM reactions r
			USING unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) AS u (room, seq, emoji, username)
			WHERE r.room = u.room AND r.seq = u.seq AND r.emoji = u.emoji AND r.username = u.username`,
			del.rooms, del.seqs, del.emojis, del.users)
	}
	if len(add.seqs) > 0 {
		b.Queue(`INSERT INTO reactions (room, seq, emoji, username, at_seq)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[])`,
			add.rooms, add.seqs, add.emojis, add.users, add.ats)
	}
}

// timeOrNil returns nil for the zero time, else t: NULL in a nullable
// timestamptz column.
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// readForAppend reads the results of Append's first pipeline: the tails of
// the rooms it locked (a room missing from the map does not exist), the
// database's time, if findCMIDs the stored entries with the batch's CMIDs,
// and, if targets is not empty, the plain messages its keys name with their
// reactions (a key left nil names none). It closes br.
func readForAppend(br pgx.BatchResults, findCMIDs bool, targets map[targetKey]*chat.Target) (tails map[string]*roomTail, now time.Time, stored map[cmidKey]chat.Message, err error) {
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
	if findCMIDs {
		rows, err = br.Query()
		if err != nil {
			return nil, time.Time{}, nil, fmt.Errorf("find resends: %w", err)
		}
		for rows.Next() {
			m, err := scanEntry(rows)
			if err != nil {
				rows.Close()
				return nil, time.Time{}, nil, fmt.Errorf("find resends: %w", err)
			}
			m.Edited, m.Deleted, m.V = time.Time{}, false, 0 // as Append returns entries
			stored[cmidKey{m.Room, m.Author, m.CMID}] = m
		}
		if err := rows.Err(); err != nil {
			return nil, time.Time{}, nil, fmt.Errorf("find resends: %w", err)
		}
	}

	if len(targets) == 0 {
		return tails, now, stored, nil
	}
	rows, err = br.Query()
	if err != nil {
		return nil, time.Time{}, nil, fmt.Errorf("load targets: %w", err)
	}
	for rows.Next() {
		var k targetKey
		t := &chat.Target{}
		var edited *time.Time
		if err := rows.Scan(&k.room, &k.seq, &t.Author, &t.Guest, &t.AuthorKey, &t.Body, &t.FileID, &edited, &t.Deleted, &t.V); err != nil {
			rows.Close()
			return nil, time.Time{}, nil, fmt.Errorf("load targets: %w", err)
		}
		t.Seq = k.seq
		if edited != nil {
			t.Edited = edited.UTC()
		}
		targets[k] = t
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, nil, fmt.Errorf("load targets: %w", err)
	}
	rows, err = br.Query()
	if err != nil {
		return nil, time.Time{}, nil, fmt.Errorf("load reactions: %w", err)
	}
	for rows.Next() {
		var k targetKey
		var r chat.ReactionRow
		if err := rows.Scan(&k.room, &k.seq, &r.Emoji, &r.User, &r.At); err != nil {
			rows.Close()
			return nil, time.Time{}, nil, fmt.Errorf("load reactions: %w", err)
		}
		if t := targets[k]; t != nil {
			t.Rows = append(t.Rows, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, time.Time{}, nil, fmt.Errorf("load reactions: %w", err)
	}
	return tails, now, stored, nil
}

// HistoryBefore returns up to limit entries of room with Seq < before
// (before <= 0 means from the newest), the newest of them, in ascending Seq
// order, plain messages with their state; see [chat.Store.HistoryBefore]. A
// limit <= 0 returns no messages. It returns [chat.ErrNoSuchRoom] if the
// room does not exist.
func (s *Store) HistoryBefore(ctx context.Context, room string, before int64, limit int) ([]chat.Message, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	if before <= 0 {
		before = math.MaxInt64
	}
	return s.history(ctx, `SELECT `+entryColumns+` FROM messages m
		WHERE room = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, room, before, limit, true)
}

// HistoryAfter returns up to limit entries of room with Seq > after, the
// oldest of them, in ascending Seq order, plain messages with their state;
// see [chat.Store.HistoryAfter]. A limit <= 0 returns no messages. It
// returns [chat.ErrNoSuchRoom] if the room does not exist.
func (s *Store) HistoryAfter(ctx context.Context, room string, after int64, limit int) ([]chat.Message, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	return s.history(ctx, `SELECT `+entryColumns+` FROM messages m
		WHERE room = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3`, room, after, limit, false)
}

// entryColumns are the columns of an entry as stored (of messages m), in
// scanEntry's order; the state of a plain message comes last.
const entryColumns = `m.room, m.seq, m.kind, m.author, m.guest, m.body, m.cmid, m.ts,
	m.target, m.subject, m.subject_key, m.until, m.reply_to, m.file_id, m.edited, m.deleted, m.v`

// scanEntry scans the entryColumns of one row.
func scanEntry(row pgx.Row) (chat.Message, error) {
	var m chat.Message
	var until, edited *time.Time
	err := row.Scan(&m.Room, &m.Seq, &m.Kind, &m.Author, &m.Guest, &m.Body, &m.CMID, &m.Time,
		&m.Target, &m.User, &m.UserKey, &until, &m.ReplyTo, &m.FileID, &edited, &m.Deleted, &m.V)
	m.Time = m.Time.UTC()
	if until != nil {
		m.Until = until.UTC()
	}
	if edited != nil {
		m.Edited = edited.UTC()
	}
	return m, err
}

// history runs the history query q with room, seq and limit, reverses
// what it read if descending, and adds the reactions.
func (s *Store) history(ctx context.Context, q, room string, seq int64, limit int, descending bool) ([]chat.Message, error) {
	msgs := []chat.Message{}
	if limit > 0 {
		rows, err := s.pool.Query(ctx, q, room, seq, limit)
		if err != nil {
			return nil, s.fail("history", err)
		}
		msgs, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (chat.Message, error) {
			return scanEntry(row)
		})
		if err != nil {
			return nil, s.fail("history", err)
		}
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

// addReactions sets the Reactions of the plain messages of msgs, one room's
// entries in ascending seq order, with one query. A message without a V
// never had a reaction, so a page without one needs no query.
func (s *Store) addReactions(ctx context.Context, msgs []chat.Message) error {
	if !slices.ContainsFunc(msgs, func(m chat.Message) bool { return m.Kind == "" && m.V != 0 }) {
		return nil
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, emoji, username, at_seq FROM reactions
		WHERE room = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq, at_seq`,
		msgs[0].Room, msgs[0].Seq, msgs[len(msgs)-1].Seq)
	if err != nil {
		return err
	}
	bySeq := make(map[int64][]chat.ReactionRow)
	for rows.Next() {
		var seq int64
		var r chat.ReactionRow
		if err := rows.Scan(&seq, &r.Emoji, &r.User, &r.At); err != nil {
			rows.Close()
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
