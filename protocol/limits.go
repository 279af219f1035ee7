package protocol

// Limits of protocol v1. A server may be configured with a smaller frame
// limit, never with larger name or body limits: clients rely on these.
const (
	// MaxFrameBytes is the default largest client text frame the server
	// reads (64 KiB). A larger frame closes the connection with 1009.
	MaxFrameBytes = 64 << 10

	// MaxServerFrameBytes is the largest frame a server sends. Clients
	// should set their read limit to at least this.
	MaxServerFrameBytes = 4 << 20

	// MaxBodyBytes is the largest message body, in bytes of UTF-8.
	MaxBodyBytes = 4096

	// MaxNameRunes is the longest display name, in characters.
	MaxNameRunes = 32

	// MaxRoomNameBytes is the longest room name; room names are ASCII.
	MaxRoomNameBytes = 32

	// MaxTopicRunes is the longest room topic, in characters.
	MaxTopicRunes = 256

	// MaxIDBytes is the longest command id and client message id.
	MaxIDBytes = 64

	// DefaultHistoryLimit is the page size of a history command without a
	// limit; MaxHistoryLimit is the largest page a client may ask for.
	DefaultHistoryLimit = 50
	MaxHistoryLimit     = 100

	// MaxRoomsPage is the most rooms in one reply to rooms; a reply is
	// also cut before its rooms' names and topics pass MaxRoomsPageBytes.
	// A cut reply has more set: ask again with room = the last name.
	MaxRoomsPage      = 500
	MaxRoomsPageBytes = 512 << 10

	// MaxReasonRunes is the longest moderation reason, in characters.
	MaxReasonRunes = 256

	// MaxSanctionSeconds is the longest timed ban or mute (one year).
	MaxSanctionSeconds = 365 * 24 * 3600

	// MaxEmojiBytes is the longest reaction; MaxReactionsPerMessage the
	// most distinct emoji on one message.
	MaxEmojiBytes          = 32
	MaxReactionsPerMessage = 20

	// MaxQueryRunes is the longest search query. DefaultSearchLimit is the
	// number of results of a search without a limit; MaxSearchLimit the
	// most a client may ask for.
	MaxQueryRunes      = 256
	DefaultSearchLimit = 20
	MaxSearchLimit     = 50

	// MaxRoster is the most members of a private room a join reply lists
	// in roster, and the most owners and moderators of a public room it
	// lists in RoomInfo.Staff.
	MaxRoster = 1000

	// MaxBlocks is the most accounts one account may block.
	MaxBlocks = 1000

	// MinUsernameBytes and MaxUsernameBytes bound account names.
	MinUsernameBytes = 3
	MaxUsernameBytes = 32

	// MaxPasswordBytes and MinPasswordBytes bound account passwords.
	MinPasswordBytes = 8
	MaxPasswordBytes = 128
)
