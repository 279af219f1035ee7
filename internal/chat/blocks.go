package chat

import (
	"context"
	"errors"
	"time"
)

// ErrBlockLimit is Blocks.Block's answer when the blocker blocks as many
// accounts as the limit it was given already.
var ErrBlockLimit = errors.New("too many blocked accounts")

// Blocks stores which accounts block which: an account that blocks
// another keeps it from opening or writing to their direct-message room;
// clients also hide what it writes in the rooms they share. A block is
// the blocker's own, never a sanction: nobody else is told of it.
// Implementations are safe for concurrent use and return ErrClosed after
// Close. Names match exactly, as Accounts' do; the server lower-cases
// them and keeps blocks for accounts only. Accounts.DeleteUser removes
// the blocks by and of the deleted account.
type Blocks interface {
	// Block records that blocker blocks blocked, at at, and reports
	// whether it is new: blocking again changes nothing (not even the
	// time) and is not an error. ErrNoSuchUser if blocked is no account
	// (or a deleted one); ErrBlockLimit if the block is new and blocker
	// blocks max accounts already (max below 1 counts as no limit).
	// Blocks of one blocker are counted and added one at a time, so that
	// concurrent calls never pass max.
	Block(ctx context.Context, blocker, blocked string, at time.Time, max int) (added bool, err error)
	// Unblock removes the block and reports whether there was one.
	Unblock(ctx context.Context, blocker, blocked string) (removed bool, err error)
	// Blocked reports whether blocker blocks blocked.
	Blocked(ctx context.Context, blocker, blocked string) (bool, error)
	// BlockList returns the accounts blocker blocks, sorted by name (an
	// empty slice when none).
	BlockList(ctx context.Context, blocker string) ([]string, error)
}
