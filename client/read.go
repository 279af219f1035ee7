package client

import (
	"context"

	"github.com/hubbub-chat/hubbub/protocol"
)

// ReadEvent reports that the account's read position in Room moved to Seq
// on another of its sessions (another tab, another device): messages up to
// Seq are read. Only accounts get it.
type ReadEvent struct {
	Room string
	Seq  int64
}

func (ReadEvent) isEvent() {}

// Read moves the account's read position in room forward to seq: the
// server keeps it, reports it as RoomInfo.ReadSeq from Rooms and Join, and
// tells the account's other sessions with a ReadEvent. A position never
// moves back (a smaller seq changes nothing), and a seq past the room's
// newest message counts as that message. The room need not be joined, but
// must be one the client may read. A guest's Read succeeds and is kept
// nowhere. It is sent again after a reconnect: reading twice is reading
// once.
func (c *Client) Read(ctx context.Context, room string, seq int64) error {
	_, err := c.do(ctx, protocol.Command{Op: protocol.OpRead, Room: room, Seq: seq}, true)
	return err
}
