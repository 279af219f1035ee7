package client

import (
	"context"

	"github.com/hubbub-chat/hubbub/protocol"
)

// SearchOptions narrow a Search. The zero value searches every room the
// client may read for the server's default number of results.
type SearchOptions struct {
	// Room, when set, searches that room only.
	Room string
	// Before, with Room, keeps results with seq < Before: pass the
	// smallest seq of one page to get the next.
	Before int64
	// Limit is the most results, 1 to protocol.MaxSearchLimit; 0 means
	// protocol.DefaultSearchLimit.
	Limit int
}

// Search finds the plain messages that hold every word of query (whole
// words, the last also as the start of a word, case folded) in the rooms
// the client may read: public rooms and the private rooms and DMs the
// account has a role in. Results are newest first, each as it is now
// (the latest edit; deleted messages never match); more reports that
// there are more. It is sent again after a reconnect.
func (c *Client) Search(ctx context.Context, query string, opts SearchOptions) (msgs []protocol.Message, more bool, err error) {
	cmd := protocol.Command{Op: protocol.OpSearch, Query: query, Room: opts.Room, Limit: opts.Limit}
	if opts.Before > 0 {
		cmd.Before = &opts.Before
	}
	ev, err := c.do(ctx, cmd, true)
	return ev.Messages, ev.More, err
}
