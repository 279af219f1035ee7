package pgstore

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

var _ chat.Searcher = (*Store)(nil)

// Search finds plain messages with PostgreSQL's full-text search over
// messages.search (migration 4); see [chat.Searcher.Search]. Newest first
// is by commit time, then seq (within a room, seq order); two messages of
// different rooms committed in the same millisecond come in room order.
func (s *Store) Search(ctx context.Context, q chat.SearchQuery) ([]chat.Message, error) {
	ctx, end, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	msgs := []chat.Message{}
	query := tsQuery(q.Words)
	if len(q.Rooms) == 0 || query == "" || q.Limit <= 0 {
		return msgs, nil
	}
	before := q.Before
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := s.pool.Query(ctx, `SELECT `+entryColumns+` FROM messages m
		WHERE m.search @@ to_tsquery('simple', $1) AND m.kind = '' AND NOT m.deleted
			AND m.room = ANY($2) AND m.seq < $3
		ORDER BY m.ts DESC, m.room, m.seq DESC LIMIT $4`,
		query, q.Rooms, before, q.Limit)
	if err != nil {
		return nil, s.fail("search", err)
	}
	for rows.Next() {
		m, err := scanEntry(rows)
		if err != nil {
			rows.Close()
			return nil, s.fail("search", err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("search", err)
	}
	if err := s.addSearchReactions(ctx, msgs); err != nil {
		return nil, s.fail("search", err)
	}
	return msgs, nil
}

// tsQuery turns words into the text of a tsquery that only ever means
// "all of these words, the last also as a prefix": each word loses its
// ASCII punctuation (the quotes and backslash of tsquery syntax among it)
// and is quoted as a lexeme, so no word can be an operator (& | ! <-> :*
// or parentheses); the lexemes are joined with &, and the last gets :*.
// Words left empty are dropped; none left gives "".
func tsQuery(words []string) string {
	var parts []string
	for _, w := range words {
		w = strings.TrimSpace(cleanWord(w))
		if w != "" {
			parts = append(parts, "'"+w+"'")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, " & ") + ":*"
}

// cleanWord replaces ASCII punctuation (as messages.search does), NUL
// (which PostgreSQL's text cannot hold) and invalid UTF-8 in w with spaces.
func cleanWord(w string) string {
	return strings.Map(func(r rune) rune {
		if r == 0 || r == utf8.RuneError || r < utf8.RuneSelf && strings.ContainsRune(asciiPunct, r) {
			return ' '
		}
		return r
	}, w)
}

// addSearchReactions sets the Reactions of msgs, which may come from
// several rooms, with one query. A message without a V never had one.
func (s *Store) addSearchReactions(ctx context.Context, msgs []chat.Message) error {
	type key struct {
		room string
		seq  int64
	}
	var rooms []string
	var seqs []int64
	at := make(map[key]int)
	for i, m := range msgs {
		if m.V != 0 {
			rooms, seqs = append(rooms, m.Room), append(seqs, m.Seq)
			at[key{m.Room, m.Seq}] = i
		}
	}
	if len(rooms) == 0 {
		return nil
	}
	rows, err := s.pool.Query(ctx, `SELECT r.room, r.seq, r.emoji, r.username, r.at_seq
		FROM reactions r JOIN unnest($1::text[], $2::bigint[]) AS k (room, seq)
			ON r.room = k.room AND r.seq = k.seq
		ORDER BY r.room, r.seq, r.at_seq`, rooms, seqs)
	if err != nil {
		return err
	}
	byMsg := make(map[key][]chat.ReactionRow)
	for rows.Next() {
		var k key
		var r chat.ReactionRow
		if err := rows.Scan(&k.room, &k.seq, &r.Emoji, &r.User, &r.At); err != nil {
			rows.Close()
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
