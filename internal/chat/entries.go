package chat

import (
	"slices"
	"time"
)

// Kinds of entries, the values of Message.Kind and NewMessage.Kind besides
// "" (a plain message). They are the strings of protocol's Kind constants.
const (
	KindEdit    = "edit"    // Target's new Body
	KindDelete  = "delete"  // Target was deleted by Author
	KindReact   = "react"   // Author reacted to Target with the emoji in Body
	KindUnreact = "unreact" // Author took back the reaction in Body

	KindInvite = "invite" // User was invited by Author
	KindKick   = "kick"   // User was removed; Body is the reason
	KindBan    = "ban"    // User was banned until Until; Body is the reason
	KindUnban  = "unban"  // User's ban was lifted
	KindMute   = "mute"   // User was muted until Until; Body is the reason
	KindUnmute = "unmute" // User's mute was lifted
	KindTopic  = "topic"  // the room's topic became Body
	KindRole   = "role"   // User's role became Body
)

// MaxReactions is the most distinct emoji one message may hold
// (protocol.MaxReactionsPerMessage).
const MaxReactions = 20

// ActsOnMessage reports whether entries of kind act on an earlier message
// (their Target): edit, delete, react and unreact.
func ActsOnMessage(kind string) bool {
	switch kind {
	case KindEdit, KindDelete, KindReact, KindUnreact:
		return true
	}
	return false
}

// Target is the state of a plain message during one Append: a store loads
// the plain messages that a batch's entries target or reply to, lets Fold
// apply the entries in batch order, and then writes what changed. It is
// how both stores share the rules of entries; it is not safe for
// concurrent use.
type Target struct {
	// Loaded by the store.
	Seq       int64
	Author    string
	Guest     bool
	AuthorKey string // a guest's identity (NewMessage.AuthorKey), "" for an account or a message stored before it was kept
	Body      string
	FileID    string
	Edited    time.Time
	Deleted   bool
	V         int64
	Rows      []ReactionRow // the message's reactions, ordered by At

	// Set by Fold: what the store must write back.
	Changed bool          // Body, FileID, Edited, Deleted or V changed
	Cleared bool          // every reaction row of the message must go (deleted)
	Dropped string        // the file a delete took off the message: a store that is also Files purges it
	Removed []ReactionRow // reaction rows to delete, by Emoji and User, first
	Added   []ReactionRow // then reaction rows to insert
}

// ReactionRow is one user's reaction with one emoji. At orders reactions:
// users of an emoji by At, and emoji by the smallest At of their users.
// At is the seq of the react entry that made the row, except that when an
// emoji's first user takes their reaction back, the next user inherits
// their At, so an emoji keeps its place for as long as anyone keeps it.
// That makes the order the one a client gets by applying entries: a new
// emoji goes last, a new user goes last in their emoji's list.
type ReactionRow struct {
	Emoji string
	User  string
	At    int64
}

// CanReply reports whether a plain message may answer t: it exists (t is
// not nil) and is not deleted.
func (t *Target) CanReply() bool { return t != nil && !t.Deleted }

// Fold applies e, an entry that acts on t (t is nil when e.Target names no
// plain message of the room), about to be stored with seq and time at. It
// returns the kind to store (a react that takes a reaction back becomes
// KindUnreact) or the entry's error: ErrNoSuchMessage for a missing or
// deleted target, ErrNotAuthor for an edit of someone else's message or a
// delete of one without AnyAuthor (a guest's message is someone else's
// unless AuthorKey matches), ErrTooManyReactions for a new emoji on a
// message that already has MaxReactions. On error t is unchanged.
//
// An edit sets Body and Edited; a delete empties Body and FileID (and sets
// Dropped to the file it had), sets Deleted and drops every reaction; a
// react adds Author to the emoji's users or, if there, removes them. Each
// sets V to seq.
func (t *Target) Fold(e NewMessage, seq int64, at time.Time) (kind string, err error) {
	if t == nil || t.Deleted {
		return "", ErrNoSuchMessage
	}
	mine := e.Author == t.Author && e.Guest == t.Guest
	if t.Guest {
		// A guest's name is anyone's once the guest has left: the
		// message is its identity's, whatever name that uses now.
		mine = e.Guest && t.AuthorKey != "" && e.AuthorKey == t.AuthorKey
	}
	kind = e.Kind
	switch e.Kind {
	case KindEdit:
		if !mine {
			return "", ErrNotAuthor
		}
		t.Body, t.Edited = e.Body, at
	case KindDelete:
		if !mine && !e.AnyAuthor {
			return "", ErrNotAuthor
		}
		t.Dropped = t.FileID
		t.Body, t.FileID, t.Deleted = "", "", true
		t.Rows, t.Added, t.Removed, t.Cleared = nil, nil, nil, true
	case KindReact, KindUnreact:
		kind, err = t.toggle(e.Body, e.Author, seq)
		if err != nil {
			return "", err
		}
	default:
		return "", ErrNoSuchMessage
	}
	t.V, t.Changed = seq, true
	return kind, nil
}

// toggle adds user's reaction with emoji, or removes it if there is one.
func (t *Target) toggle(emoji, user string, seq int64) (string, error) {
	j := slices.IndexFunc(t.Rows, func(r ReactionRow) bool { return r.Emoji == emoji && r.User == user })
	if j < 0 {
		if !slices.ContainsFunc(t.Rows, func(r ReactionRow) bool { return r.Emoji == emoji }) &&
			len(GroupReactions(t.Rows)) >= MaxReactions {
			return "", ErrTooManyReactions
		}
		row := ReactionRow{Emoji: emoji, User: user, At: seq}
		t.Rows = append(t.Rows, row)
		t.Added = append(t.Added, row)
		return KindReact, nil
	}
	gone := t.Rows[j]
	t.unrow(gone)
	first := !slices.ContainsFunc(t.Rows[:j], func(r ReactionRow) bool { return r.Emoji == emoji })
	k := -1
	if first {
		k = slices.IndexFunc(t.Rows[j+1:], func(r ReactionRow) bool { return r.Emoji == emoji })
	}
	if k < 0 {
		t.Rows = slices.Delete(t.Rows, j, j+1)
		return KindUnreact, nil
	}
	// The next user inherits the place: they move to j with gone's At.
	k += j + 1
	next := t.Rows[k]
	t.unrow(next)
	next.At = gone.At
	t.Added = append(t.Added, next)
	t.Rows = slices.Delete(t.Rows, k, k+1)
	t.Rows[j] = next
	return KindUnreact, nil
}

// unrow records that row r is no longer stored as it is.
func (t *Target) unrow(r ReactionRow) {
	same := func(a ReactionRow) bool { return a.Emoji == r.Emoji && a.User == r.User }
	if i := slices.IndexFunc(t.Added, same); i >= 0 {
		t.Added = slices.Delete(t.Added, i, i+1)
		return
	}
	t.Removed = append(t.Removed, r)
}

// GroupReactions turns rows, ordered by At, into reactions in first-use
// order with their users in order. It returns nil for no rows.
func GroupReactions(rows []ReactionRow) []Reaction {
	var out []Reaction
	for _, r := range rows {
		i := slices.IndexFunc(out, func(x Reaction) bool { return x.Emoji == r.Emoji })
		if i < 0 {
			out = append(out, Reaction{Emoji: r.Emoji, Users: []string{r.User}})
			continue
		}
		out[i].Users = append(out[i].Users, r.User)
	}
	return out
}

// Outs is what a store that has RoomWithOuts reads with a room's row: the
// kick and ban entries of the room after a sequence, which a join decided
// before they were committed may have to answer for. (sqlitestore.Store
// and pgstore.Store have it:
//
//	RoomWithOuts(ctx context.Context, name string, after int64, user, userKey string) (Room, Outs, error)
//
// returns the room as Room does, ErrNoSuchRoom included, and its Outs
// after seq after, about the user whose kick and ban entries carry user as
// User and no UserKey (an account), or userKey as UserKey (a guest; user
// is then ignored). It reads the entries after after only, so a caller
// keeps after close to the room's head.)
type Outs struct {
	// Last is the seq of the newest kick or ban entry after the sequence,
	// about anyone; 0 if there is none.
	Last int64
	// Of is the newest of them about the user, with Room, Seq, Kind,
	// Author, Body, Until, User and UserKey set; Seq is 0 if there is
	// none.
	Of Message
}
