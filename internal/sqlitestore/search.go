package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

var _ chat.Searcher = (*Store)(nil)

// Search finds plain messages with FTS5; see [chat.Searcher.Search]. The
// index is messages_fts (migration 4), brought up to date first
// (indexAll): every message committed before Search is called can be
// found, unless the database cannot be written. Newest first is the messages' rowid order, descending: the order
// the single writer inserted them in, which within a room is seq order,
// and which FTS5 can deliver without sorting.
func (s *Store) Search(ctx context.Context, q chat.SearchQuery) ([]chat.Message, error) {
	if s.closed.Load() {
		return nil, chat.ErrClosed
	}
	msgs := []chat.Message{}
	if len(q.Rooms) == 0 || len(q.Words) == 0 || q.Limit <= 0 {
		return msgs, nil
	}
	rooms, err := json.Marshal(q.Rooms)
	if err != nil {
		return nil, s.fail("search", err)
	}
	// What is not indexed yet is, first. If that fails (the database
	// cannot be written: a full disk, a lock another process holds past
	// the busy timeout), the search runs on the index as it is, without
	// the messages of the last indexLag before the trouble, rather than
	// fail a read.
	if err := s.indexAll(ctx); err != nil && ctx.Err() != nil {
		return nil, s.fail("search", err)
	}
	before := q.Before
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := s.query(ctx, `SELECT `+prefixed("m.", entryColumns)+`
		FROM messages_fts f JOIN messages m ON m.rowid = f.rowid
		WHERE messages_fts MATCH ?
			AND m.room IN (SELECT value FROM json_each(?))
			AND m.seq < ? AND m.kind = '' AND m.deleted = 0
		ORDER BY f.rowid DESC LIMIT ?`,
		ftsQuery(q.Words), string(rooms), before, q.Limit)
	if err != nil {
		return nil, s.fail("search", err)
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanEntry(rows.Scan)
		if err != nil {
			return nil, s.fail("search", err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("search", err)
	}
	rows.Close()
	if err := s.addSearchReactions(ctx, msgs); err != nil {
		return nil, s.fail("search", err)
	}
	return msgs, nil
}

// ftsQuery turns words into an FTS5 query that only ever means "all of
// these words, the last also as a prefix": each word is an FTS5 string
// (double quotes, a double quote inside doubled), so no word can be FTS5
// syntax (NEAR, OR, NOT, a column filter, a *), and strings side by side
// are ANDed. The last string is followed by *, a prefix query. A NUL, which
// would end the query text early, becomes a space, which separates tokens
// as a NUL would.
func ftsQuery(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(ftsQuote.Replace(w))
		b.WriteByte('"')
	}
	b.WriteByte('*')
	return b.String()
}

var ftsQuote = strings.NewReplacer(`"`, `""`, "\x00", " ")

// prefixed qualifies each column of cols, a comma-separated list, with p.
func prefixed(p, cols string) string {
	fields := strings.Split(cols, ",")
	for i, f := range fields {
		fields[i] = p + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}

// addSearchReactions sets the Reactions of msgs, which may come from
// several rooms, with one query. A message without a V never had one.
func (s *Store) addSearchReactions(ctx context.Context, msgs []chat.Message) error {
	type key struct {
		room string
		seq  int64
	}
	var keys [][2]any
	at := make(map[key]int)
	for i, m := range msgs {
		if m.V != 0 {
			keys = append(keys, [2]any{m.Room, m.Seq})
			at[key{m.Room, m.Seq}] = i
		}
	}
	if len(keys) == 0 {
		return nil
	}
	b, err := json.Marshal(keys)
	if err != nil {
		return err
	}
	rows, err := s.query(ctx, `SELECT room, seq, emoji, user, at_seq FROM reactions
		WHERE (room, seq) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))
		ORDER BY room, seq, at_seq`, string(b))
	if err != nil {
		return err
	}
	defer rows.Close()
	byMsg := make(map[key][]chat.ReactionRow)
	for rows.Next() {
		var k key
		var r chat.ReactionRow
		if err := rows.Scan(&k.room, &k.seq, &r.Emoji, &r.User, &r.At); err != nil {
			return err
		}
		byMsg[k] = append(byMsg[k], r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for k, r := range byMsg {
		msgs[at[k]].Reactions = chat.GroupReactions(r)
	}
	return nil
}

// syncFTS hands the changes the update and delete triggers queued
// (migration 8) to the full-text index, in the order they were made, as
// one statement: FTS5 then writes one segment for the whole transaction.
// A NULL in the table-named column is an ordinary insert; 'delete' removes
// what was indexed for that rowid, given the body it was indexed with.
// Every transaction that updates or deletes messages calls it before it
// commits, after indexPendingTx (migration 12), so that every change it
// hands over concerns an indexed row; new messages are not queued
// (Append indexes them itself, up to indexLag after their commit).
func syncFTS(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO messages_fts (messages_fts, rowid, body)
		 SELECT CASE op WHEN 'del' THEN 'delete' END, rid, body FROM fts_queue ORDER BY id`); err != nil {
		return fmt.Errorf("full-text index: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM fts_queue`); err != nil {
		return fmt.Errorf("full-text index: %w", err)
	}
	return nil
}

// indexLag is how long a new message may wait to be indexed for search:
// Append indexes what is pending once the oldest of it is that old, in
// one statement with the batch it commits. At a few messages per commit
// (a chat at light load) indexing each commit's messages on their own
// wrote a full-text segment per commit, about half of the pages a commit
// wrote (docs/benchmarks.md, round 15); tens of milliseconds of commits
// share one instead. Search brings the index up to date before it
// looks, so a search finds every message committed before it.
const indexLag = 50 * time.Millisecond

// indexPendingTx indexes, in tx, the plain messages past fts_mark and
// moves the mark to the last message. Every transaction that changes or
// deletes messages calls it before it does (migration 12).
func (s *Store) indexPendingTx(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.StmtContext(ctx, s.stmts.indexPending).ExecContext(ctx); err != nil {
		return fmt.Errorf("full-text index: %w", err)
	}
	if _, err := tx.StmtContext(ctx, s.stmts.setMark).ExecContext(ctx); err != nil {
		return fmt.Errorf("full-text index: %w", err)
	}
	return nil
}

// indexAll indexes every message still pending, in a transaction of its
// own, if the store's mark says any is: Search calls it before it looks,
// Open for what a crash left pending, Close to leave the index complete.
func (s *Store) indexAll(ctx context.Context) error {
	var pending bool
	if err := s.reader.QueryRowContext(ctx,
		`SELECT (SELECT upto FROM fts_mark) < (SELECT coalesce(max(rowid), 0) FROM messages)`).Scan(&pending); err != nil {
		return fmt.Errorf("full-text index: %w", err)
	}
	if !pending {
		return nil
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("full-text index: %w", err)
	}
	defer tx.Rollback()
	if err := s.indexPendingTx(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("full-text index: %w", err)
	}
	s.ftsPending.Store(0)
	return nil
}
