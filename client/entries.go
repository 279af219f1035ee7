package client

import (
	"context"
	"errors"
	"slices"

	"github.com/hubbub-chat/hubbub/protocol"
)

// The operations of this file act on messages already sent. Each returns
// the entry the server stored (an edit, delete, react or unreact entry with
// its own seq) once it is committed; the room, the caller included, then
// receives the same entry as a MessageEvent. Apply folds such an entry into
// the message it targets. They need a joined room, count against the send
// rate, and are refused while muted.

// SendReply sends body to a joined room as a reply to the message replyTo
// (the seq of a plain, undeleted message of the room; else the error has
// code no_such_message). It is Send with the reply's seq: a fresh client
// message id, retried and stored at most once as SendWithID describes.
func (c *Client) SendReply(ctx context.Context, room string, replyTo int64, body string) (protocol.Message, error) {
	if replyTo < 1 {
		return protocol.Message{}, &SendError{Err: errors.New("client: SendReply needs the seq of the message answered")}
	}
	return c.send(ctx, protocol.Command{Op: protocol.OpSend, Room: room, Body: body, CMID: NewCMID(), ReplyTo: replyTo})
}

// Edit replaces the body of the caller's own plain message seq in room.
// Someone else's message is forbidden; a missing or deleted one is
// no_such_message. It is sent again after a reconnect if the reply was
// lost: a second edit with the same body leaves the same text.
func (c *Client) Edit(ctx context.Context, room string, seq int64, body string) (protocol.Message, error) {
	return c.entry(ctx, protocol.Command{Op: protocol.OpEdit, Room: room, Seq: seq, Body: body}, true)
}

// Delete deletes the plain message seq of room: the caller's own, or
// anyone's if the caller owns or moderates the room or administers the
// server (else forbidden). It is not sent again after a reconnect: if the
// connection drops first, Delete returns ErrConnectionLost, and a retry
// that finds the message gone gets no_such_message.
func (c *Client) Delete(ctx context.Context, room string, seq int64) (protocol.Message, error) {
	return c.entry(ctx, protocol.Command{Op: protocol.OpDelete, Room: room, Seq: seq}, false)
}

// React toggles the caller's reaction with emoji (one emoji, see
// protocol.CheckEmoji) on the plain message seq of room: the entry returned
// has Kind react if it added the reaction, unreact if it took it back. A
// message holds at most protocol.MaxReactionsPerMessage different emoji
// (limit_reached). Being a toggle, it is not sent again after a reconnect:
// if the connection drops first, React returns ErrConnectionLost; look at
// the message's reactions before trying again.
func (c *Client) React(ctx context.Context, room string, seq int64, emoji string) (protocol.Message, error) {
	return c.entry(ctx, protocol.Command{Op: protocol.OpReact, Room: room, Seq: seq, Emoji: emoji}, false)
}

// entry runs an edit, delete or react and returns the stored entry.
func (c *Client) entry(ctx context.Context, cmd protocol.Command, retry bool) (protocol.Message, error) {
	ev, err := c.do(ctx, cmd, retry)
	if err != nil {
		return protocol.Message{}, err
	}
	if ev.Message == nil {
		return protocol.Message{}, errors.New("client: server's " + cmd.Op + " reply has no message")
	}
	return *ev.Message, nil
}

// Apply folds entry e into m, the plain message it targets, by the rule of
// docs/protocol.md ("Room entries"): only if e is an edit, delete, react or
// unreact entry of m's room with Target m.Seq and a Seq greater than m.V.
// Then m.V becomes e.Seq and:
//   - edit: Body is e.Body, Edited is e.TS;
//   - delete: Body is empty, File and Reactions are nil, Deleted is set;
//   - react: e.From is added at the end of the users of the emoji in
//     e.Body (the emoji goes last if it is new);
//   - unreact: e.From is removed from that emoji's users, and the emoji
//     goes when it has no users left.
//
// It reports whether it changed m. Entries may come in any order from
// history pages and live events: applying each one once, or more than
// once, or skipping those already folded into a history page's state,
// gives the state the server shows in history. Apply never keeps e or
// shares slices with it; it may change m.Reactions in place.
func Apply(m *protocol.Message, e protocol.Message) bool {
	if m.Kind != "" || e.Room != m.Room || e.Target != m.Seq || e.Seq <= m.V {
		return false
	}
	switch e.Kind {
	case protocol.KindEdit:
		m.Body, m.Edited = e.Body, e.TS
	case protocol.KindDelete:
		m.Body, m.File, m.Reactions, m.Deleted = "", nil, nil, true
	case protocol.KindReact:
		i := slices.IndexFunc(m.Reactions, func(r protocol.Reaction) bool { return r.Emoji == e.Body })
		switch {
		case i < 0:
			m.Reactions = append(m.Reactions, protocol.Reaction{Emoji: e.Body, Users: []string{e.From}})
		case !slices.Contains(m.Reactions[i].Users, e.From):
			m.Reactions[i].Users = append(slices.Clip(m.Reactions[i].Users), e.From)
		}
	case protocol.KindUnreact:
		i := slices.IndexFunc(m.Reactions, func(r protocol.Reaction) bool { return r.Emoji == e.Body })
		if i >= 0 {
			users := slices.DeleteFunc(slices.Clone(m.Reactions[i].Users), func(u string) bool { return u == e.From })
			if len(users) == 0 {
				m.Reactions = slices.Delete(slices.Clone(m.Reactions), i, i+1)
			} else {
				m.Reactions[i].Users = users
			}
		}
	default:
		return false
	}
	m.V = e.Seq
	return true
}
