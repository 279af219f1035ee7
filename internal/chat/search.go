package chat

import (
	"context"
	"strings"
	"unicode"
)

// SearchQuery is what [Searcher.Search] looks for.
type SearchQuery struct {
	// Rooms are the rooms searched: the caller decides which rooms the
	// user may read. None finds nothing.
	Rooms []string
	// Words must all appear in a message, as whole words, except the last,
	// which also matches as the start of a word. They are data, never a
	// query language: a store quotes each one. SearchWords makes them
	// from what a user typed. None finds nothing.
	Words []string
	// Before, when > 0, keeps only messages with Seq < Before: paging
	// through the results of one room.
	Before int64
	// Limit is the most results returned; <= 0 finds nothing.
	Limit int
}

// Searcher is full-text search of plain messages. Implementations are safe
// for concurrent use and return ErrClosed after Close.
type Searcher interface {
	// Search returns up to q.Limit plain messages of q.Rooms that are not
	// deleted and whose body, as it is now (the latest edit), holds
	// q.Words: newest first (in one room, by descending Seq), each with
	// its state as history shows it (Edited, Reactions, V). Matching folds
	// case; rooms that do not exist find nothing.
	Search(ctx context.Context, q SearchQuery) ([]Message, error)
}

// MaxSearchWords is the most words SearchWords keeps.
const MaxSearchWords = 32

// SearchWords splits what a user typed into the words of a search: runs
// of letters, digits and combining marks, so that punctuation, symbols,
// quotes and operators of any query language (" * - ( ) : ^ NEAR OR)
// separate words or are ordinary words, never syntax. It keeps at most
// MaxSearchWords words, the first ones.
func SearchWords(query string) []string {
	words := strings.FieldsFunc(query, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r)
	})
	if len(words) > MaxSearchWords {
		words = words[:MaxSearchWords]
	}
	return words
}
