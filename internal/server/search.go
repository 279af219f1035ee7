package server

import (
	"context"
	"slices"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// maxSearchRounds bounds how often one search asks the store again after
// dropping results from rooms the caller is banned from.
const maxSearchRounds = 4

// search is full-text search (docs/protocol.md, "search") of one room the
// caller may read, or of every room they may read: the public rooms and
// the private rooms and DMs they have a role in, less the rooms they are
// banned from. The store matches; which rooms it searches is decided
// here, by the same checks as history. A search is a command and counts
// against the command rate like any other (session.text).
func (ss *session) search(ctx context.Context, c *conn, cmd *protocol.Command) error {
	srch := ss.srv.cfg.Search
	if srch == nil {
		return protocol.Errorf(protocol.CodeForbidden, "this server has no search")
	}
	limit := cmd.Limit
	if limit == 0 {
		limit = protocol.DefaultSearchLimit
	}
	q := chat.SearchQuery{Words: chat.SearchWords(cmd.Query), Limit: limit + 1}
	if cmd.Before != nil {
		q.Before = *cmd.Before
	}
	if cmd.Room != "" {
		r, _, err := ss.access(ctx, cmd.Room)
		if err != nil {
			return err
		}
		q.Rooms = []string{r.Name}
	} else {
		rooms, err := ss.visibleRooms(ctx)
		if err != nil {
			return err
		}
		for _, r := range rooms {
			q.Rooms = append(q.Rooms, r.Name)
		}
	}
	var msgs []chat.Message
	for round := 0; ; round++ {
		found, err := srch.Search(ctx, q)
		if err != nil {
			return err
		}
		// Bans are checked on the rooms results come from (a few, and
		// cached), not on every visible room. A banned room goes, and
		// the store is asked again so that the page stays full.
		banned, err := ss.bannedAmong(ctx, found)
		if err != nil {
			return err
		}
		msgs = slices.DeleteFunc(found, func(m chat.Message) bool { return banned[m.Room] })
		if len(banned) == 0 || round == maxSearchRounds-1 {
			break
		}
		q.Rooms = slices.DeleteFunc(q.Rooms, func(r string) bool { return banned[r] })
	}
	more := len(msgs) > limit
	if more {
		msgs = msgs[:limit]
	}
	out := make([]protocol.Message, len(msgs))
	for i, m := range msgs {
		out[i] = wireMessage(m)
	}
	ss.replyOK(c, cmd.ID, protocol.Event{Messages: out, More: more})
	return nil
}

// visibleRooms is what rooms lists: every public room and the private
// rooms and DMs the caller has a role in.
func (ss *session) visibleRooms(ctx context.Context) ([]chat.Room, error) {
	acc := ss.srv.cfg.Access
	if acc == nil {
		return ss.srv.cfg.Store.Rooms(ctx)
	}
	user := ""
	if !ss.self.Guest {
		user = ss.self.Name
	}
	return acc.VisibleRooms(ctx, user)
}

// bannedAmong returns the rooms of msgs the caller is banned from.
func (ss *session) bannedAmong(ctx context.Context, msgs []chat.Message) (map[string]bool, error) {
	var banned map[string]bool
	checked := make(map[string]bool)
	for _, m := range msgs {
		if checked[m.Room] {
			continue
		}
		checked[m.Room] = true
		err := ss.checkBan(ctx, m.Room)
		if protocol.CodeOf(err) == protocol.CodeBanned {
			if banned == nil {
				banned = make(map[string]bool)
			}
			banned[m.Room] = true
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	return banned, nil
}
