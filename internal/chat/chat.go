// Package chat holds hubbub's domain types and the two contracts every
// deployment is built from: [Store], the record of rooms and messages, and
// [Broker], which carries news of them between nodes.
//
// The store is the truth; the broker may lose news. A client that sees a gap
// in a room's sequence numbers fetches what it missed from the store's
// history, so nothing the store committed is ever lost to a user.
//
// The package depends on the standard library only.
package chat

import (
	"context"
	"errors"
	"time"
)

// Errors a Store returns; implementations wrap nothing around them so that
// callers can compare with errors.Is.
var (
	ErrNoSuchRoom = errors.New("no such room")
	ErrRoomExists = errors.New("room exists")
	ErrClosed     = errors.New("closed")

	// Per-entry errors of Append (AppendResult.Err).
	ErrNoSuchMessage    = errors.New("no such message")    // target or reply_to is no plain, undeleted message of the room
	ErrNotAuthor        = errors.New("not the author")     // edit or delete of someone else's message
	ErrTooManyReactions = errors.New("too many reactions") // a new emoji on a message that has MaxReactions

	// ErrUnavailable marks an outage of the store's backend, as opposed to
	// a bug or a refused input: the connection to the database is refused,
	// lost or timed out, the database is shutting down, over its connection
	// limit, locked for longer than the store waits, or out of disk. The
	// same call may succeed later. A store wraps the driver's error with it
	// (errors.Is finds both). A write that failed with it may or may not
	// have been committed: the reply may be what was lost.
	ErrUnavailable = errors.New("store unavailable")
)

// DefaultRoom is the room every store creates when it is first opened.
const DefaultRoom = "lobby"

// Room is a chat room. Name is its identity.
type Room struct {
	Name      string
	Topic     string
	Private   bool
	Owner     string    // who created it; empty for the default room
	CreatedAt time.Time // set by the store
	LastSeq   int64     // sequence of the newest message, 0 if none; set by the store
	// GuestOwner marks a room created by a guest (Owner is then the
	// guest's display name): such a room is deleted by
	// DeleteIdleGuestRooms once nobody uses it.
	GuestOwner bool
	// Archived marks a read-only room: its history stays readable, and
	// the server refuses new messages and moderation in it. CreateRoom
	// ignores it; SetArchived changes it.
	Archived bool
}

// Head is where a room stands in the store: the LastSeq of its newest
// message, and its CreatedAt, which tells the room from an earlier one of
// the same name that was deleted (a name can be taken again once its room
// is gone; CreatedAt has millisecond precision, and two rooms of one name
// created within the same millisecond are not told apart).
type Head struct {
	Seq     int64
	Created time.Time
}

// Message is a committed entry of a room's sequence: a plain message (Kind
// "") or one of the entry kinds (KindEdit, KindBan, ...). Seq is unique
// within Room, starts at 1 and grows by exactly one per entry, with no gaps.
//
// Edited, Deleted, Reactions and V are the state of a plain message as
// HistoryBefore and HistoryAfter return it; Append's results leave them
// zero. V is the seq of the newest entry already folded into that state.
type Message struct {
	Room   string
	Seq    int64
	Kind   string // "" for a plain message, else one of the Kind constants
	Author string // who wrote it or, for the other kinds, who acted
	Guest  bool
	Body   string
	CMID   string    // client message id; empty when the client sent none
	Time   time.Time // commit time, millisecond precision

	Target  int64     // edit, delete, react, unreact: the seq of the message acted on
	User    string    // moderation entries: whom it concerns
	UserKey string    // moderation entries about a guest: its identity (NewMessage.UserKey)
	Until   time.Time // ban, mute: when it ends; zero means until lifted
	ReplyTo int64     // plain: the seq of the message this one answers, 0 if none
	FileID  string    // plain: the attached file, "" if none

	Edited    time.Time  // time of the latest edit; zero if never edited
	Deleted   bool       // Body and FileID are empty
	Reactions []Reaction // in the order each emoji was first used; nil if none
	V         int64
}

// Reaction is one emoji on a message and who reacted with it, in the order
// they did.
type Reaction struct {
	Emoji string
	Users []string
}

// NewMessage is an entry to append: a plain message or one of the entry
// kinds. Append does not validate names, bodies or kinds; it checks what
// only the stored state can tell (see Store.Append).
type NewMessage struct {
	Room   string
	Kind   string // "" for a plain message, else one of the Kind constants
	Author string
	Guest  bool
	// AuthorKey is a guest's identity (the server's key of the guest's
	// cookie), "" for an account. A guest's display name is free for
	// anyone once the guest has left, so a guest's message is the
	// identity's: only an entry with the same AuthorKey may edit or
	// delete it as its author. Stored, never sent to clients.
	AuthorKey string
	Body      string
	// CMID, when not empty, makes the append idempotent: appending a second
	// message with the same Room, Author and CMID stores nothing and returns
	// the first message with Duplicate set.
	CMID string

	Target int64  // edit, delete, react: the seq of the message acted on
	User   string // moderation entries: whom it concerns
	// UserKey, on a moderation entry about a guest, is the guest's
	// identity: User is only its display name, which another guest may
	// hold later and an account may share (a guest keeps its name when an
	// account of that name is registered). "" for an account, whose name
	// is its identity, and for entries stored before it was kept. Stored
	// and returned with the entry; the server never sends it to clients.
	UserKey string
	Until   time.Time // ban, mute: when it ends; zero means until lifted
	ReplyTo int64     // plain: the message this one answers, 0 if none
	FileID  string    // plain: the attached file, "" if none

	// AnyAuthor lets a delete act on anyone's message: the caller checked
	// that Author moderates the room. Without it an edit or delete of a
	// message by someone else fails with ErrNotAuthor.
	AnyAuthor bool
}

// AppendResult is the outcome of appending one message of a batch.
type AppendResult struct {
	Message   Message
	Duplicate bool // Message is an earlier message with the same CMID
	// Err is ErrNoSuchRoom, ErrNoSuchMessage, ErrNotAuthor or
	// ErrTooManyReactions; the other messages of the batch are unaffected.
	Err error
}

// Store is the durable record of rooms and messages. Implementations are
// safe for concurrent use. Every method returns ErrClosed after Close.
type Store interface {
	// Append commits a batch of entries in one transaction and returns one
	// result per entry, in order. When Append returns a nil error every
	// result without Err is durable (it survives a crash of the process
	// and, as far as the storage allows, of the machine). Messages of one
	// room in a batch get increasing sequence numbers in batch order.
	// A non-nil error means nothing of the batch was committed.
	//
	// Each entry takes effect in the transaction that gives it its seq,
	// and an entry sees the effects of those before it in the batch; see
	// Fold for the rules. A react entry is a toggle: its result has Kind
	// KindReact or KindUnreact, whichever it turned out to be. A store
	// that is also Files purges the file of a message deleted, in the
	// same transaction (see Files).
	Append(ctx context.Context, batch []NewMessage) ([]AppendResult, error)

	// HistoryBefore returns up to limit messages of room with Seq < before
	// (before <= 0 means from the newest), the newest of them, in ascending
	// Seq order.
	HistoryBefore(ctx context.Context, room string, before int64, limit int) ([]Message, error)

	// HistoryAfter returns up to limit messages of room with Seq > after,
	// the oldest of them, in ascending Seq order.
	HistoryAfter(ctx context.Context, room string, after int64, limit int) ([]Message, error)

	// CreateRoom creates a room, or returns ErrRoomExists.
	CreateRoom(ctx context.Context, r Room) error

	// Room returns one room with its LastSeq, or ErrNoSuchRoom.
	Room(ctx context.Context, name string) (Room, error)

	// Rooms returns every room, ordered by name.
	Rooms(ctx context.Context) ([]Room, error)

	// SetArchived archives (archived true) or unarchives a room, or
	// returns ErrNoSuchRoom. Setting the state a room already has is not
	// an error.
	SetArchived(ctx context.Context, room string, archived bool) error

	// DeleteRoom removes a room with everything in it (messages, for
	// stores that are also an Access its roles and sanctions, and for
	// stores that are also Files the files its messages carry, purged)
	// in one transaction, or returns ErrNoSuchRoom. The name is free again:
	// a room created under it later starts at sequence 1. An Append
	// racing with DeleteRoom either commits before it (and is deleted
	// with the room) or fails with ErrNoSuchRoom.
	DeleteRoom(ctx context.Context, room string) error

	// MarkActive records that the named rooms had someone in them at at
	// (a later time than one recorded before wins; rooms that do not
	// exist are skipped). Nodes call it for the rooms their connections
	// are in, so that DeleteIdleGuestRooms spares rooms in use anywhere.
	MarkActive(ctx context.Context, rooms []string, at time.Time) error

	// DeleteIdleGuestRooms deletes, as DeleteRoom does, up to limit rooms
	// with GuestOwner set that were created, marked active and last
	// written to before before, and returns their names. Several callers
	// may run it at once (one per node): each deleted room is reported to
	// exactly one of them.
	DeleteIdleGuestRooms(ctx context.Context, before time.Time, limit int) ([]string, error)

	// Heads returns the Head of each named room that exists; rooms that
	// don't are left out. One call is one query however many names it gets
	// (a node compares the heads of all its rooms every few seconds).
	Heads(ctx context.Context, rooms []string) (map[string]Head, error)

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error

	// Close releases the store. It does not wait for calls in progress.
	Close() error
}

// Publication is one payload for one topic, an element of
// Broker.PublishBatch.
type Publication struct {
	Topic   string
	Payload []byte
}

// GapNotifier is implemented by a Broker that can tell when it may have
// lost payloads: its connection to the broker's server was down and is
// back (payloads published meanwhile are gone), or the server dropped
// payloads it could not hand over fast enough. NotifyGaps registers f,
// which the broker calls after each such event, on a goroutine of its own,
// possibly several times for one event (once per subscription, say): f
// must be cheap and must not block. A later call replaces f.
type GapNotifier interface {
	NotifyGaps(f func())
}

// Broker carries encoded events between the nodes that serve a room.
// Delivery is at most once: a broker may drop a payload (a node restarting,
// a network partition), and readers heal gaps from the Store.
//
// Implementations are safe for concurrent use.
type Broker interface {
	// Publish sends payload to every subscriber of room on every node,
	// including this one. Payloads published by one goroutine to one room
	// are delivered to each subscriber in publish order.
	Publish(ctx context.Context, room string, payload []byte) error

	// PublishBatch publishes every publication of batch, in order, as
	// cheaply as the transport allows (one pipeline, one flush). Order per
	// topic is kept as with Publish. An error means some publications may
	// not have been sent; none is retried.
	PublishBatch(ctx context.Context, batch []Publication) error

	// Subscribe calls deliver with every payload published to room until
	// cancel is called. deliver must not block and must not keep payload
	// past its return unless it treats it as read-only. Calls of one
	// subscription never overlap. After cancel returns, deliver is not
	// called again.
	Subscribe(room string, deliver func(payload []byte)) (cancel func(), err error)

	// Close ends every subscription and releases the broker.
	Close() error
}
