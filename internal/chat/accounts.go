package chat

import (
	"context"
	"errors"
	"time"
)

// Errors of the Accounts and Access contracts.
var (
	ErrNoSuchUser    = errors.New("no such user")
	ErrUserExists    = errors.New("user exists")
	ErrNoSuchSession = errors.New("no such session")
)

// User is an account. Name is lower case and unique (protocol.CheckUsername).
type User struct {
	Name         string
	PasswordHash string // argon2id in PHC string form; never leaves the server
	Admin        bool   // server administrator: may moderate every room
	Disabled     bool   // may not log in; existing sessions are ended
	Deleted      bool   // a deleted account's tombstone; only listings show one (see UserDeletion)
	CreatedAt    time.Time
}

// Session is a logged-in session. The token itself is never stored: only
// its hash, so a leaked database does not leak live sessions.
type Session struct {
	TokenHash string // hex SHA-256 of the bearer token
	User      string
	CreatedAt time.Time
	LastSeen  time.Time // for the idle expiry
	ExpiresAt time.Time // the absolute expiry
}

// Accounts stores users and their sessions. Implementations are safe for
// concurrent use and return ErrClosed after Close. Names match exactly:
// callers lower-case account names first. User.CreatedAt is set by the
// caller. UpdateUser does not end sessions: to end a disabled user's
// sessions, call DeleteUserSessions (which returns the hashes to close).
type Accounts interface {
	// CreateUser adds u, or returns ErrUserExists if the name is taken.
	CreateUser(ctx context.Context, u User) error
	// User returns the named user, or ErrNoSuchUser.
	User(ctx context.Context, name string) (User, error)
	// AnyUser reports whether an account has one of names. A guest's
	// hello asks it of every name it takes, so stores answer it in as few
	// statements as they can, without reading a user row, or from a copy
	// of the names that may miss, for at most a second, an account created
	// through another connection (which is as if the guest had said hello
	// that much earlier).
	AnyUser(ctx context.Context, names []string) (bool, error)
	// UpdateUser stores u's PasswordHash, Admin and Disabled, or returns
	// ErrNoSuchUser.
	UpdateUser(ctx context.Context, u User) error
	// Admins returns the names of the server administrators: the
	// accounts with Admin set that are neither Disabled nor Deleted,
	// sorted by name (byte order), at most limit of them (the first
	// limit names; none when limit < 1). It is what clients are shown
	// (a public room's staff), never an authorisation: a caller deciding
	// what a user may do reads the user (User, SessionUser).
	Admins(ctx context.Context, limit int) ([]string, error)

	// CreateSession stores s, or returns ErrNoSuchUser.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with tokenHash, or ErrNoSuchSession.
	// It does not check expiry: callers do, with their own clock.
	Session(ctx context.Context, tokenHash string) (Session, error)
	// SessionUser returns the session with tokenHash and its user in one
	// read, as every account's handshake needs both: ErrNoSuchSession
	// without the session, ErrNoSuchUser when its user is gone. Like
	// Session, it does not check expiry.
	SessionUser(ctx context.Context, tokenHash string) (Session, User, error)
	// TouchSession sets the session's LastSeen. A missing session is not
	// an error.
	TouchSession(ctx context.Context, tokenHash string, lastSeen time.Time) error
	// DeleteSession removes one session; a missing one is not an error.
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteUserSessions removes every session of user except keep (which
	// may be empty) and returns the token hashes it removed.
	DeleteUserSessions(ctx context.Context, user, keep string) ([]string, error)
	// TrimUserSessions keeps the keep sessions of user seen most recently
	// (of sessions seen at the same time, the newest) and removes the
	// others, returning their token hashes, sorted (an empty slice when
	// none). keep below 1 counts as 1.
	TrimUserSessions(ctx context.Context, user string, keep int) ([]string, error)
	// DeleteEndedSessions removes every session that expired at or before
	// now or was last seen at or before idleSince, in batches, and returns
	// how many it removed.
	DeleteEndedSessions(ctx context.Context, now, idleSince time.Time) (int64, error)

	// DeleteUser deletes the account name, in one transaction, and
	// returns what it changed; ErrNoSuchUser if there is no such account
	// (or it was deleted before). See UserDeletion for what goes.
	DeleteUser(ctx context.Context, name string) (UserDeletion, error)
}

// UserDeletion is what Accounts.DeleteUser did. The account's row stays
// as a tombstone, without its password hash, so that its name stays
// taken for good: CreateUser of it returns ErrUserExists and AnyUser
// counts it, while User, SessionUser, CreateSession and UpdateUser treat
// it as missing (ErrNoSuchUser). Its sessions, read positions, roles
// (and so its memberships of private rooms and DMs), the sanctions that
// name it, the blocks by and of it (Blocks) and its uploads that no
// message carries are removed. The
// messages it wrote, and the entries that name it, stay in history under
// its name. In each room it owned that has a moderator, the moderator
// promoted longest ago (by the room's role entries; one promoted before
// there were entries counts as older, ties by name) becomes owner, with
// no entry written: announcing it is the caller's. A room without a
// moderator keeps no owner.
type UserDeletion struct {
	Sessions []string       // the token hashes of the sessions removed, sorted
	Rooms    []string       // the rooms in which the account had a role, sorted
	Owners   []OwnerHandoff // the rooms that have a new owner, by room
}

// OwnerHandoff is a room whose owner was deleted, and the moderator who
// owns it now.
type OwnerHandoff struct {
	Room  string
	Owner string
}

// Sanction kinds.
const (
	Ban  = "ban"
	Mute = "mute"
)

// Sanction is a ban or a mute of a user in a room.
type Sanction struct {
	Room   string
	User   string
	Kind   string    // Ban or Mute
	Until  time.Time // zero: until lifted
	By     string
	Reason string
	// Name is the display name the user had when sanctioned, for a
	// guest (whose User is an identity, not a name): what the
	// announcement of the sanction's end calls the guest when the node
	// making it knows no fresher name. Empty for an account, and for a
	// sanction stored before stores kept it.
	Name string
}

// Member is a user's role in a room.
type Member struct {
	User string
	Role string // protocol.RoleOwner, RoleModerator or RoleMember
}

// Access stores who may do what in which room: roles (which also make a
// user a member of a private room) and sanctions. Implementations are safe
// for concurrent use.
type Access interface {
	// SetRole gives user role in room; role "" removes the user's role
	// (and so their membership of a private room). ErrNoSuchRoom if the
	// room does not exist.
	SetRole(ctx context.Context, room, user, role string) error
	// Role returns user's role in room, "" if none.
	Role(ctx context.Context, room, user string) (string, error)
	// Members returns the users with a role in room, ordered by name.
	Members(ctx context.Context, room string) ([]Member, error)
	// SetTopic changes a room's topic, or returns ErrNoSuchRoom.
	SetTopic(ctx context.Context, room, topic string) error

	// VisibleRooms returns the rooms user may see, ordered by name: every
	// public room and the private rooms in which user has a role (with
	// LastSeq set). An empty user sees the public rooms only.
	VisibleRooms(ctx context.Context, user string) ([]Room, error)

	// SetSanction creates or replaces the sanction of its kind for
	// (room, user), with everything it holds (Name included): every
	// method that returns a sanction returns it as last set.
	SetSanction(ctx context.Context, s Sanction) error
	// ClearSanction lifts it; a missing one is not an error.
	ClearSanction(ctx context.Context, room, user, kind string) error
	// ActiveSanction returns the sanction of kind for (room, user) if one
	// exists and has not ended at now (it ends when Until <= now).
	ActiveSanction(ctx context.Context, room, user, kind string, now time.Time) (Sanction, bool, error)
	// RoomSanctions returns up to limit sanctions of room that have not
	// ended at now, in no particular order. A caller that gets limit of
	// them cannot know it has them all.
	RoomSanctions(ctx context.Context, room string, now time.Time, limit int) ([]Sanction, error)
}

// NameClaim is one guest display name held by one guest: Key is the
// name's comparison key (names.Key), Holder the guest's identity.
type NameClaim struct {
	Key    string
	Holder string
}

// GuestNames leases guests' display names across every node that shares
// the store, so that two people online at once cannot show under one name.
// A lease lasts until its until time; the node holding it renews it while
// the guest is online, and a node that dies stops renewing, so its guests'
// names become free when their leases run out. Implementations are safe
// for concurrent use and return ErrClosed after Close.
type GuestNames interface {
	// ClaimNames takes or renews each claim's lease until until, unless
	// another holder has a lease on that key that has not ended at now
	// (it ends when until <= now). It returns the keys it could not take
	// (nil if none), and takes the others whatever happens to those.
	ClaimNames(ctx context.Context, claims []NameClaim, now, until time.Time) (taken []string, err error)
	// ReleaseName ends holder's lease on key; a lease held by another
	// holder, or none, is left as it is.
	ReleaseName(ctx context.Context, key, holder string) error
	// NameHolder returns who holds the lease of key at now, or "" when
	// nobody does (no lease, or one that has ended): how a node finds a
	// guest online on another node by name, to moderate it.
	NameHolder(ctx context.Context, key string, now time.Time) (string, error)
}
