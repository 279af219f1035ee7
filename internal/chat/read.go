package chat

import "context"

// Reads stores read positions: for each account and room, the seq of the
// newest message the user has read there, so that every device of theirs
// knows where unread messages start. Positions only move forward.
// Implementations are safe for concurrent use and return ErrClosed after
// Close.
//
// A position names a user without requiring an account (as roles do); the
// server keeps positions for accounts only. A room's positions go when the
// room does.
type Reads interface {
	// MarkRead moves user's position in room to seq if seq is greater
	// than the position stored (none counts as 0), and reports whether it
	// moved. A smaller or equal seq changes nothing and is not an error.
	// MarkRead does not compare seq with the room's LastSeq: callers do.
	// ErrNoSuchRoom if the room does not exist.
	MarkRead(ctx context.Context, user, room string, seq int64) (moved bool, err error)

	// ReadPosition returns user's position in room, 0 if none (or if the
	// room does not exist).
	ReadPosition(ctx context.Context, user, room string) (int64, error)

	// ReadPositions returns every position of user: room → seq. Rooms
	// without a position are left out.
	ReadPositions(ctx context.Context, user string) (map[string]int64, error)
}
