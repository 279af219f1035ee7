package protocol

// Event types: the value of a server frame's "type" field.
const (
	TypeOK      = "ok"      // a command succeeded; carries the command's id
	TypeError   = "error"   // a command failed; carries id (if any), code and reason
	TypeMessage = "message" // a new message in a joined room
	TypeJoin    = "join"    // a user joined a room you are in
	TypeLeave   = "leave"   // a user left a room you are in
	TypeTyping  = "typing"  // a user is typing in a room you are in

	// Notices to the user a moderator acted on, on every session of
	// theirs, whether or not they joined the room. The room itself sees
	// the action as an entry of its sequence (a message of kind kick, ban,
	// and so on).
	TypeInvited  = "invited"  // you were added to a private room or a DM was opened with you
	TypeKicked   = "kicked"   // you were removed from a room
	TypeBanned   = "banned"   // you were banned from a room
	TypeMuted    = "muted"    // you were muted in a room
	TypeUnmuted  = "unmuted"  // your mute was lifted
	TypeUnbanned = "unbanned" // your ban was lifted: you may join again
	TypeRole     = "role"     // your role in a room changed
	TypeRead     = "read"     // your read position in a room moved (on another of your sessions)

	// Notices to the user who blocked or unblocked an account, on every
	// session of theirs; nobody else is told.
	TypeBlocked   = "blocked"   // you blocked User
	TypeUnblocked = "unblocked" // you unblocked User

	// Files.
	TypeUpload = "upload" // a chunk of your upload is stored; the last one carries the file
)

// Kinds of room entries: the value of Message.Kind. Everything that changes
// what a room shows is an entry in the room's sequence, so a client that
// resumes from its last seq sees it: a plain message has no kind; the other
// kinds act on an earlier message (Target) or record a moderator's action
// (User is whom it concerns, From who did it).
const (
	KindEdit    = "edit"    // Target's new Body; From is its author
	KindDelete  = "delete"  // Target was deleted; From is who deleted it
	KindReact   = "react"   // From reacted to Target with the emoji in Body
	KindUnreact = "unreact" // From took back the reaction in Body from Target

	KindInvite = "invite" // User was invited to the private room by From
	KindKick   = "kick"   // User was removed from the room; Body is the reason
	KindBan    = "ban"    // User was banned until Until (0: until lifted); Body is the reason
	KindUnban  = "unban"  // User's ban was lifted
	KindMute   = "mute"   // User was muted until Until (0: until lifted); Body is the reason
	KindUnmute = "unmute" // User's mute was lifted
	KindTopic  = "topic"  // the room's topic became Body ("" clears it)
	KindRole   = "role"   // User's role became Body (moderator or member)
)

// Room lifecycle and directory push.
const (
	// TypeDirectory tells every connection that may see a room that it
	// was created, archived, unarchived or deleted (Event.Change). A
	// connection in a deleted room is out of it when this arrives.
	TypeDirectory = "directory"

	ChangeCreated    = "created"
	ChangeArchived   = "archived"
	ChangeUnarchived = "unarchived"
	ChangeDeleted    = "deleted"
)

// Event is one server frame object. Which fields are set depends on Type;
// docs/protocol.md shows each with an example. Unset fields are omitted on
// the wire.
type Event struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"` // ok, error: the command's id

	Code   Code   `json:"code,omitempty"`   // error: stable error code
	Reason string `json:"reason,omitempty"` // error: a sentence for humans, do not parse; kicked, banned, muted: the moderator's reason

	Room string `json:"room,omitempty"` // join, leave, typing; ok of a command that names a room
	User string `json:"user,omitempty"` // join, leave, typing: who; kicked, banned, unbanned, muted, unmuted, role, blocked, unblocked, and the ok of invite, kick, ban, unban, mute, unmute, promote, demote, block, unblock: whom

	Message  *Message   `json:"message,omitempty"`  // message; ok of send: the stored message
	Messages []Message  `json:"messages,omitempty"` // ok of history, in ascending seq
	More     bool       `json:"more,omitempty"`     // ok of history: older (before) or newer (after) pages exist
	Rooms    []RoomInfo `json:"rooms,omitempty"`    // ok of rooms
	Info     *RoomInfo  `json:"info,omitempty"`     // ok of create and join
	Members  []string   `json:"members,omitempty"`  // ok of join: who is in the room now
	Roster   []Member   `json:"roster,omitempty"`   // ok of join of a private room or DM: who belongs to it
	Self     *Identity  `json:"self,omitempty"`     // ok of hello: who you are
	Blocks   []string   `json:"blocks,omitempty"`   // ok of blocks: the accounts you block, sorted

	By    string `json:"by,omitempty"`    // directory (empty when the server expired the room), invited, kicked, banned, unbanned, muted, unmuted, role: who did it
	Role  string `json:"role,omitempty"`  // role, and the ok of promote and demote: the new role (your own role in a room is RoomInfo.Role)
	Until int64  `json:"until,omitempty"` // banned, muted: Unix ms when it ends; 0 means until lifted
	Seq   int64  `json:"seq,omitempty"`   // read: your read position in Room

	// Files.
	Upload *UploadState `json:"upload,omitempty"` // ok of upload, upload; error about an upload: where it stands
	Change string       `json:"change,omitempty"` // directory: created, archived, unarchived or deleted
}

// Message is a stored chat message. Seq is assigned by the server's store:
// it starts at 1 in each room and increases by exactly one per message.
//
// Every entry of a room's sequence is a Message; Kind says which kind of
// entry (see the Kind constants), "" for a plain message. A plain message
// in a history reply or a search result is shown as it is now: the latest
// Body with Edited set, or Deleted with no Body, and its Reactions. V is the
// seq of the newest entry already folded into that state: a client applies
// an entry E that targets this message only if E.Seq > V, and then sets V to
// E.Seq, so that applying entries is idempotent and never goes back in time.
type Message struct {
	Room  string `json:"room"`
	Seq   int64  `json:"seq"`
	Kind  string `json:"kind,omitempty"` // "" for a plain message, else one of the Kind constants
	From  string `json:"from"`
	Guest bool   `json:"guest,omitempty"` // the author is a guest, not an account
	Body  string `json:"body"`
	CMID  string `json:"cmid,omitempty"`
	TS    int64  `json:"ts"` // commit time, Unix milliseconds

	Target int64  `json:"target,omitempty"` // edit, delete, react, unreact: the seq of the message acted on
	User   string `json:"user,omitempty"`   // invite, kick, ban, unban, mute, unmute, role: whom
	// UserTag is set on a kick, ban, unban, mute or unmute entry about a
	// guest, and only then: an opaque tag by which the server's nodes
	// know the guest's identity, different in every entry, from which
	// the identity cannot be read. To a client it says that user is a
	// guest's display name, not an account.
	UserTag string `json:"user_tag,omitempty"`
	Until   int64  `json:"until,omitempty"`    // ban, mute: Unix ms when it ends; 0 means until lifted
	ReplyTo int64  `json:"reply_to,omitempty"` // plain: the seq of the message this one answers
	File    *File  `json:"file,omitempty"`     // plain: an attached file

	// The state of a plain message, in history and search replies.
	Edited    int64      `json:"edited,omitempty"`    // Unix ms of the latest edit; 0 if never edited
	Deleted   bool       `json:"deleted,omitempty"`   // deleted: Body is "" and File nil
	Reactions []Reaction `json:"reactions,omitempty"` // in the order each emoji was first used
	V         int64      `json:"v,omitempty"`         // seq of the newest entry folded into this state
}

// Reaction is one emoji on a message and who reacted with it, in the order
// they did.
type Reaction struct {
	Emoji string   `json:"emoji"`
	Users []string `json:"users"`
}

// File describes a file attached to a message. The server stores it; it is
// downloaded over HTTP (docs/protocol.md, "Files") by users who may read the
// room.
type File struct {
	ID     string `json:"id"`
	Name   string `json:"name"`             // the name it was uploaded with
	Size   int64  `json:"size"`             // bytes
	Type   string `json:"type"`             // media type, as the server determined it
	Width  int    `json:"width,omitempty"`  // images: pixels
	Height int    `json:"height,omitempty"` // images: pixels
	Thumb  bool   `json:"thumb,omitempty"`  // images: the server made a thumbnail
}

// RoomInfo describes a room.
type RoomInfo struct {
	Name    string `json:"name"`
	Topic   string `json:"topic,omitempty"`
	Private bool   `json:"private,omitempty"`
	LastSeq int64  `json:"last_seq"`           // sequence of the newest message, 0 if none
	Online  int    `json:"online"`             // users in the room on this server now
	Peer    string `json:"peer,omitempty"`     // direct-message rooms: the other user
	Role    string `json:"role,omitempty"`     // your role: owner, moderator, member; empty if none
	ReadSeq int64  `json:"read_seq,omitempty"` // accounts: your read position (rooms, join)

	Archived bool `json:"archived,omitempty"` // read-only: history only, no messages or moderation

	// Owner is the account that owns the room, whom nobody may kick or
	// ban; in a join reply only, and absent for rooms without one (the
	// default room, rooms made by guests, DMs).
	Owner string `json:"owner,omitempty"`
	// Staff is the owner and moderators of a public room, and the server's
	// administrators (RoleAdmin), sorted by name, one entry per name (an
	// administrator who owns or moderates the room shows as admin), at
	// most MaxRoster: in a join reply only, absent when there are none
	// and for private rooms and DMs (their roster names every role).
	// Clients use it to badge them and to offer no moderation the server
	// would refuse; it authorises nothing, and may lag a change made on
	// another server node, or an administrator made or unmade, by the
	// moderation check interval.
	Staff []Member `json:"staff,omitempty"`
}

// Member is one user who belongs to a room, and their role there (owner,
// moderator or member): a private room's or DM's roster, a public room's
// staff.
type Member struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// Identity is who a connection speaks as.
type Identity struct {
	Name  string `json:"name"`
	Guest bool   `json:"guest,omitempty"` // a guest: display name only, no account
	Admin bool   `json:"admin,omitempty"` // a server administrator
}

// Room roles, the values of RoomInfo.Role and Event.Role.
const (
	RoleOwner     = "owner"
	RoleModerator = "moderator"
	RoleMember    = "member"
)

// RoleAdmin is a server administrator's role in a public room's
// RoomInfo.Staff: no role held in the room (RoomInfo.Role and Event.Role
// never carry it), but a rank above its owner's, which no moderator or
// owner may kick, ban or mute.
const RoleAdmin = "admin"
