package protocol

// Code is a stable, machine-readable error code carried by an error event.
// Codes are append-only: a published code never changes meaning.
type Code string

// Error codes of protocol v1. docs/protocol.md describes each one.
const (
	// Decoding: the frame is not a well-formed command.
	CodeBadJSON        Code = "bad_json"        // not a single JSON object
	CodeTrailingData   Code = "trailing_data"   // something follows the object
	CodeDuplicateField Code = "duplicate_field" // a field appears twice
	CodeUnknownField   Code = "unknown_field"   // a field this op does not take
	CodeBadType        Code = "bad_type"        // a field has the wrong JSON type (or null)
	CodeMissingField   Code = "missing_field"   // a required field is absent
	CodeUnknownOp      Code = "unknown_op"      // op is missing or not an operation of v1
	CodeInvalidValue   Code = "invalid_value"   // a value breaks its rule (charset, range, control characters)
	CodeTooLong        Code = "too_long"        // a name, body, topic or id is over its limit

	// Session and rooms.
	CodeNotIdentified     Code = "not_identified"     // hello must come first
	CodeAlreadyIdentified Code = "already_identified" // a second hello
	CodeNoSuchRoom        Code = "no_such_room"       // the room does not exist (or is hidden from you)
	CodeRoomExists        Code = "room_exists"        // create with a taken name
	CodeNotJoined         Code = "not_joined"         // send or typing in a room not joined
	CodeRateLimited       Code = "rate_limited"       // too many commands or messages; slow down
	CodeInternal          Code = "internal"           // the server failed; the command may be retried
	CodeUnavailable       Code = "unavailable"        // the server is shutting down or its store is down
	CodeTooManyInFlight   Code = "too_many_in_flight" // reserved: more unacknowledged sends than allowed

	// Accounts, roles and moderation.
	CodeForbidden     Code = "forbidden"       // you may not do this here (role, private room, guest)
	CodeNameTaken     Code = "name_taken"      // the name belongs to an account (guest hello, register)
	CodeBanned        Code = "banned"          // you are banned from this room
	CodeKicked        Code = "kicked"          // join: you were kicked from the room while your join was in flight
	CodeMuted         Code = "muted"           // you are muted in this room
	CodeNoSuchUser    Code = "no_such_user"    // the named user does not exist
	CodeLimitReached  Code = "limit_reached"   // a per-user quota (rooms created, connections, reactions on a message) is used up
	CodeNoSuchMessage Code = "no_such_message" // edit, delete, react or reply_to names no plain message of the room (or a deleted one)

	// Files (docs/protocol.md, "Files").
	CodeNoSuchUpload     Code = "no_such_upload"    // the upload does not exist, is not yours, has expired, or is attached to a message already
	CodeBadOffset        Code = "bad_offset"        // a chunk that does not start where the upload stands, or runs past its size
	CodeChecksumMismatch Code = "checksum_mismatch" // the bytes received do not have the upload's sha256; the upload is discarded
	CodeFileTooLarge     Code = "file_too_large"    // the file is over the server's size limit
	CodeUploadIncomplete Code = "upload_incomplete" // send with a file whose bytes have not all arrived
	CodeNoSuchFile       Code = "no_such_file"      // HTTP: the file does not exist, or you may not read the room it was sent to

	// HTTP account API (docs/protocol.md, "Accounts"); the same JSON shape.
	CodeBadCredentials Code = "bad_credentials" // unknown user or wrong password (never says which)
	CodeUnauthorized   Code = "unauthorized"    // no valid session: log in again
	CodeGuestsDisabled Code = "guests_disabled" // this server does not allow guests

	// Room lifecycle.
	CodeArchived Code = "archived" // the room is archived: read-only until unarchived
)

// WebSocket close codes hubbub uses. 1000-1011 are RFC 6455's; 4000-4999
// are hubbub's own. Close codes are append-only.
const (
	CloseNormal          = 1000 // normal closure
	CloseGoingAway       = 1001 // server shutting down; reconnect to another node or later
	CloseProtocolError   = 1002 // RFC 6455 framing violation
	CloseUnsupportedData = 1003 // a binary message on /ws that is not an upload chunk
	CloseInvalidUTF8     = 1007 // a text frame that is not valid UTF-8
	ClosePolicy          = 1008 // sustained invalid commands, auth ended (logout, expiry, disabled)
	CloseTooBig          = 1009 // a frame over the read limit
	CloseInternal        = 1011 // the server failed
	CloseServiceRestart  = 1012 // the node is restarting (drain); reconnect, to another node, after a jittered backoff
	CloseTryAgainLater   = 1013 // overloaded or over a connection limit; reconnect after a backoff

	CloseSlowConsumer    = 4000 // the connection's send queue overflowed; reconnect and resume by sequence
	CloseIdentifyTimeout = 4001 // no hello within the identify timeout
)
