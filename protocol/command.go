package protocol

// Operations of protocol v1: the value of a command's "op" field.
const (
	OpHello   = "hello"   // identify; the first command of every connection
	OpPing    = "ping"    // application-level round trip; replies ok
	OpRooms   = "rooms"   // list the rooms you can see
	OpCreate  = "create"  // create a room
	OpJoin    = "join"    // join a room: receive its events, appear in its presence list
	OpLeave   = "leave"   // leave a room
	OpSend    = "send"    // send a message to a joined room
	OpHistory = "history" // page through a room's stored messages
	OpTyping  = "typing"  // tell a joined room you are typing

	// Accounts, private rooms, direct messages and moderation.
	OpDM      = "dm"      // open (creating if needed) the direct-message room with a user
	OpInvite  = "invite"  // add a user to a private room (owner, moderators)
	OpKick    = "kick"    // remove a user from a room (owner, moderators)
	OpBan     = "ban"     // kick and keep out, for seconds or for ever (owner, moderators)
	OpUnban   = "unban"   // lift a ban
	OpMute    = "mute"    // keep a user from sending, for seconds or for ever
	OpUnmute  = "unmute"  // lift a mute
	OpTopic   = "topic"   // set a room's topic (owner, moderators)
	OpPromote = "promote" // make a user a moderator of a room (owner)
	OpDemote  = "demote"  // make a moderator a plain member again (owner)

	// Blocks (accounts only): a block is yours alone, told to nobody.
	OpBlock   = "block"   // keep an account from messaging you directly; clients hide what it writes
	OpUnblock = "unblock" // lift your block of an account
	OpBlocks  = "blocks"  // list the accounts you block

	OpRefuseGuests = "refuse_guests" // keep guests out of a room (owner, moderators)
	OpAllowGuests  = "allow_guests"  // let guests into a room again (the default)

	// What you do with messages once they are sent, and finding them again.
	OpEdit   = "edit"   // replace the body of your own message
	OpDelete = "delete" // delete a message: your own, or anyone's as owner, moderator or administrator
	OpReact  = "react"  // toggle your reaction with one emoji on a message
	OpRead   = "read"   // move your read position in a room forward (kept per account)
	OpSearch = "search" // full-text search in the rooms you may read

	// Files: uploaded as binary messages (see upload.go), sent with send's file.
	OpUpload = "upload" // start an upload, or ask where to resume one
)

// Room lifecycle (owner, server administrators).
const (
	OpArchiveRoom   = "archive_room"   // make a room read-only and hide it from the default directory
	OpUnarchiveRoom = "unarchive_room" // make an archived room writable again
	OpDeleteRoom    = "delete_room"    // delete a room with its messages, members, roles and sanctions
)

// Command is one client request: a JSON object with an "op" and the fields
// that op takes. Fields an op does not take are refused with
// [CodeUnknownField]; see [Decode] for every rule.
//
// The zero value of an optional field means "absent"; Before and After are
// pointers because 0 is a meaningful sequence bound.
type Command struct {
	// ID, when set, is echoed in the server's reply so the client can match
	// it. A command without an id gets a reply only when it fails.
	ID string `json:"id,omitempty"`
	Op string `json:"op"`

	Name    string `json:"name,omitempty"`    // hello: guest display name
	Room    string `json:"room,omitempty"`    // the room operated on
	Topic   string `json:"topic,omitempty"`   // create, topic: room topic ("" clears it in topic)
	Private bool   `json:"private,omitempty"` // create: invite-only room
	Body    string `json:"body,omitempty"`    // send: message text
	// CMID is the client message id of a send: resending a command with
	// the same CMID returns the first acknowledgement and stores nothing.
	CMID    string `json:"cmid,omitempty"`
	ReplyTo int64  `json:"reply_to,omitempty"` // send: the seq of the message this one answers
	Before  *int64 `json:"before,omitempty"`   // history, search: messages with seq < Before
	After   *int64 `json:"after,omitempty"`    // history: messages with seq > After
	Limit   int    `json:"limit,omitempty"`    // history: 1..MaxHistoryLimit; search: 1..MaxSearchLimit

	Seq   int64  `json:"seq,omitempty"`   // edit, delete, react: the message acted on; read: read up to here
	Emoji string `json:"emoji,omitempty"` // react: one emoji, see CheckEmoji
	// Query: search: words that must all appear; rooms: only rooms whose
	// name or topic contains it, ignoring case.
	Query string `json:"query,omitempty"`

	// User is the user acted on: an account name for dm, invite, promote,
	// demote, block and unblock; an account name or a guest's display name for kick,
	// ban, unban, mute and unmute.
	User    string `json:"user,omitempty"`
	Reason  string `json:"reason,omitempty"`  // kick, ban, mute: shown to the user and the room
	Seconds int    `json:"seconds,omitempty"` // ban, mute: duration; 0 means until lifted

	// Files. An upload command either starts an upload (Name, Size,
	// SHA256, and Type if known) or, with Upload alone, asks where an
	// interrupted one resumes. A send with File commits a message
	// carrying the completed upload.
	Upload string `json:"upload,omitempty"` // upload: the id of the upload to resume
	Size   int64  `json:"size,omitempty"`   // upload: the file's size in bytes
	Type   string `json:"type,omitempty"`   // upload: the media type the client believes (advisory)
	SHA256 string `json:"sha256,omitempty"` // upload: the SHA-256 of the whole file, 64 lower-case hex digits
	File   string `json:"file,omitempty"`   // send: the id of a completed upload to attach
	// Directory search (rooms).
	Archived bool `json:"archived,omitempty"` // rooms: list archived rooms too
}
