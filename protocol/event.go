package protocol

// Event types: the value of a server frame's "type" field.
const (
	TypeOK      = "ok"      // a command succeeded; carries the command's id
	TypeError   = "error"   // a command failed; carries id (if any), code and reason
	TypeMessage = "message" // a new message in a joined room
	TypeJoin    = "join"    // a user joined a room you are in
	TypeLeave   = "leave"   // a user left a room you are in
	TypeTyping  = "typing"  // a user is typing in a room you are in

	TypeInvited  = "invited"  // you were added to a private room or a DM was opened with you
	TypeKicked   = "kicked"   // a user (perhaps you) was removed from a room
	TypeBanned   = "banned"   // a user (perhaps you) was banned from a room
	TypeMuted    = "muted"    // a user (perhaps you) was muted in a room
	TypeUnmuted  = "unmuted"  // a mute was lifted
	TypeUnbanned = "unbanned" // a ban was lifted: the user may join again
	TypeTopic    = "topic"    // a room's topic changed
	TypeRole     = "role"     // a user's role in a room changed
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
	User string `json:"user,omitempty"` // join, leave, typing: who; kicked, banned, unbanned, muted, unmuted, role: whom

	Message  *Message   `json:"message,omitempty"`  // message; ok of send: the stored message
	Messages []Message  `json:"messages,omitempty"` // ok of history, in ascending seq
	More     bool       `json:"more,omitempty"`     // ok of history: older (before) or newer (after) pages exist
	Rooms    []RoomInfo `json:"rooms,omitempty"`    // ok of rooms
	Info     *RoomInfo  `json:"info,omitempty"`     // ok of create and join
	Members  []string   `json:"members,omitempty"`  // ok of join: who is in the room now
	Self     *Identity  `json:"self,omitempty"`     // ok of hello: who you are

	By    string `json:"by,omitempty"`    // invited, kicked, banned, unbanned, muted, unmuted, topic, role: who did it
	Topic string `json:"topic,omitempty"` // topic: the new topic
	Role  string `json:"role,omitempty"`  // role: the new role; ok of join: your role in the room
	Until int64  `json:"until,omitempty"` // banned, muted: Unix ms when it ends; 0 means until lifted
}

// Message is a stored chat message. Seq is assigned by the server's store:
// it starts at 1 in each room and increases by exactly one per message.
type Message struct {
	Room  string `json:"room"`
	Seq   int64  `json:"seq"`
	From  string `json:"from"`
	Guest bool   `json:"guest,omitempty"` // the author is a guest, not an account
	Body  string `json:"body"`
	CMID  string `json:"cmid,omitempty"`
	TS    int64  `json:"ts"` // commit time, Unix milliseconds
}

// RoomInfo describes a room.
type RoomInfo struct {
	Name    string `json:"name"`
	Topic   string `json:"topic,omitempty"`
	Private bool   `json:"private,omitempty"`
	LastSeq int64  `json:"last_seq"`       // sequence of the newest message, 0 if none
	Online  int    `json:"online"`         // users in the room on this server now
	Peer    string `json:"peer,omitempty"` // direct-message rooms: the other user
	Role    string `json:"role,omitempty"` // your role: owner, moderator, member; empty if none
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
