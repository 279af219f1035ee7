package server

import (
	"context"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/ratelimit"
	"github.com/hubbub-chat/hubbub/protocol"
)

// The store's limit on reactions is the protocol's.
var _ = [1]struct{}{}[chat.MaxReactions-protocol.MaxReactionsPerMessage]

// appendEntry hands e, a plain message or an entry that acts on one (edit,
// delete, react) written by the caller, to the committer and returns at
// once; the ack (the stored entry) or the error is queued when the commit
// is done, and the entry reaches the room like any message, in sequence
// order. The caller must have joined e.Room, not be banned or muted there,
// and have sends left in its rate (edits, deletions and reactions count as
// sends). At most MaxInFlight entries of one connection wait for their
// commit; the next one pauses the read loop.
func (ss *session) appendEntry(c *conn, id string, e chat.NewMessage) (err error) {
	// hubbub_ack_seconds runs from here: the checks below may wait for
	// the store as long as the commit does, and a refusal is an answer too.
	arrived := time.Now()
	defer func() {
		if err != nil && err != errStopping {
			ss.srv.data.ackSeconds.Observe(time.Since(arrived).Seconds())
		}
	}()
	if e.Guest {
		e.AuthorKey = ss.guestID // a guest's messages are its identity's, not its name's
	}
	ss.mu.Lock()
	_, ok := ss.joined.get(e.Room)
	ss.mu.Unlock()
	if !ok {
		return protocol.Errorf(protocol.CodeNotJoined, "join room %s first", e.Room)
	}
	if err := ss.checkSend(c, e.Room); err != nil {
		return err
	}
	// An archived room takes no new entry: no message, edit, deletion or
	// reaction.
	ctx, cancel := lazyTimeout(5 * time.Second)
	err = ss.checkWritable(ctx, e.Room)
	if err == nil {
		err = ss.checkDMEntry(ctx, &e)
	}
	cancel()
	if err != nil {
		return err
	}
	if ss.msgs == nil {
		ss.msgs = ratelimit.NewBucket(ratelimit.Limit{Rate: ss.srv.cfg.MsgRate, Burst: ss.srv.cfg.MsgBurst})
	}
	if !ss.msgs.Allow(time.Now()) {
		return protocol.Errorf(protocol.CodeRateLimited, "too many messages; slow down")
	}
	var file *protocol.File
	if e.FileID != "" {
		// Claimed after every other check, so that a refused send leaves
		// the upload free for the next try; a refusal by the store lets
		// it go again (releaseFile).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		file, err = ss.attachFile(ctx, e.FileID, e.Room, e.CMID)
		cancel()
		if err != nil {
			return err
		}
	}
	// release lets the file go again, when the store did not take it with
	// this message, before the reply, so that a client that has the reply
	// may send it again; off the committer's goroutine (done's). Made only
	// for a send with a file, so that no other send's e goes to the heap.
	var release func(chat.AppendResult)
	if file != nil {
		e := e
		release = func(res chat.AppendResult) {
			ss.srv.bg.Go(func() { ss.releaseFile(c, id, e, res) })
		}
	}
	// A deletion purges the file of its message, if it has one: its
	// bytes are then deleted off the committer's goroutine (tendFiles).
	deletes := e.Kind == chat.KindDelete
	if ss.inflight == nil {
		ss.inflight = make(chan struct{}, ss.srv.cfg.MaxInFlight)
	}
	inflight := ss.inflight // the callback runs on the committer
	inflight <- struct{}{}
	ok = ss.srv.commit.submit(pendingSend{
		msg:  e,
		file: file,
		at:   arrived,
		done: func(res chat.AppendResult, err error) {
			<-inflight
			if release != nil && err == nil && (res.Err != nil || res.Message.FileID != file.ID) {
				// The store refused this message, or it has the cmid
				// already, with another file or none: this file was
				// claimed for nothing.
				release(res)
				return
			}
			if err == nil {
				err = res.Err
			}
			if err != nil {
				ss.replyErr(c, id, err)
				return
			}
			if deletes {
				ss.srv.filesDeleted()
			}
			m := wireMessage(res.Message)
			m.File = file
			ss.replyAck(c, id, protocol.Event{Room: m.Room, Message: &m})
		},
	})
	if !ok {
		<-inflight
		return errStopping
	}
	return nil
}

// edit replaces the body of one of the caller's plain messages; the store
// refuses someone else's (forbidden) and a missing or deleted one
// (no_such_message).
func (ss *session) edit(c *conn, cmd *protocol.Command) error {
	return ss.appendEntry(c, cmd.ID, chat.NewMessage{
		Room: cmd.Room, Kind: chat.KindEdit, Author: ss.self.Name, Guest: ss.self.Guest,
		Target: cmd.Seq, Body: cmd.Body,
	})
}

// deleteMessage deletes a plain message: the caller's own, or anyone's if
// the caller owns or moderates the room or administers the server.
func (ss *session) deleteMessage(ctx context.Context, c *conn, cmd *protocol.Command) error {
	anyAuthor := ss.admin()
	if !anyAuthor && !ss.self.Guest && ss.srv.cfg.Access != nil {
		if _, _, dm := protocol.DMPeers(cmd.Room); !dm {
			_, role, err := ss.access(ctx, cmd.Room)
			if err != nil {
				return err
			}
			anyAuthor = rank(role, false) >= 2
		}
	}
	return ss.appendEntry(c, cmd.ID, chat.NewMessage{
		Room: cmd.Room, Kind: chat.KindDelete, Author: ss.self.Name, Guest: ss.self.Guest,
		Target: cmd.Seq, AnyAuthor: anyAuthor,
	})
}

// react toggles the caller's reaction with cmd.Emoji on a plain message;
// the ack's entry says which it was (react or unreact).
func (ss *session) react(c *conn, cmd *protocol.Command) error {
	return ss.appendEntry(c, cmd.ID, chat.NewMessage{
		Room: cmd.Room, Kind: chat.KindReact, Author: ss.self.Name, Guest: ss.self.Guest,
		Target: cmd.Seq, Body: cmd.Emoji,
	})
}

// releaseFile frees the file that entry e claimed for a message the store
// did not take with it (res: refused, or the message stored earlier under
// its cmid), then replies to command id as appendEntry would have.
func (ss *session) releaseFile(c *conn, id string, e chat.NewMessage, res chat.AppendResult) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ss.srv.cfg.Files.ReleaseFile(ctx, e.FileID, ss.userKey(), e.Room, e.CMID); err != nil {
		// The file stays claimed for this cmid: a resend of it still
		// takes it, another message does not.
		ss.srv.storeWarn.Add("release_file", "err", err)
	}
	if res.Err != nil {
		ss.replyErr(c, id, res.Err)
		return
	}
	m := wireMessage(res.Message)
	m.File = ss.srv.storedFile(ctx, res.Message.FileID)
	ss.replyAck(c, id, protocol.Event{Room: m.Room, Message: &m})
}
