package client

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

// The operations of this file manage a room: invitations, moderation,
// the topic and roles. They need an account (a guest gets a forbidden
// error) and the authority the server asks for: owner or moderator of the
// room (Invite, Kick, Ban, Unban, Mute, Unmute, SetTopic), owner (Promote,
// Demote); server administrators may do everything. Each returns once the
// server has applied it; the room then sees the matching event (kicked,
// banned, muted, …) as an OtherEvent.
//
// Except Kick, they are sent again after a reconnect when the connection
// drops before the reply: applying one twice leaves the room as applying
// it once does. A kick is not resent (the user may have come back
// meanwhile): Kick returns ErrConnectionLost and the kick may or may not
// have happened.

// ArchiveRoom makes room read-only (its owner or an administrator):
// sends and moderation in it are refused with archived, its history stays
// readable, and Rooms leaves it out. Everyone who may see it gets a
// directory event.
func (c *Client) ArchiveRoom(ctx context.Context, room string) error {
	_, err := c.do(ctx, protocol.Command{Op: protocol.OpArchiveRoom, Room: room}, true)
	return err
}

// UnarchiveRoom makes an archived room writable again.
func (c *Client) UnarchiveRoom(ctx context.Context, room string) error {
	_, err := c.do(ctx, protocol.Command{Op: protocol.OpUnarchiveRoom, Room: room}, true)
	return err
}

// DeleteRoom deletes room with its messages, roles and sanctions (its
// owner or an administrator); everyone in it is taken out of it and gets
// a directory event. It is not resent after a reconnect (the name may
// have been taken again meanwhile): it returns ErrConnectionLost and the
// room may or may not be gone.
func (c *Client) DeleteRoom(ctx context.Context, room string) error {
	_, err := c.do(ctx, protocol.Command{Op: protocol.OpDeleteRoom, Room: room}, false)
	return err
}

// Invite adds user (an account) to the members of a private room and tells
// them with an invited event. Inviting a member again is harmless.
func (c *Client) Invite(ctx context.Context, room, user string) error {
	_, err := c.do(ctx, protocol.Command{Op: protocol.OpInvite, Room: room, User: user}, true)
	return err
}

// Kick removes user (an account name or a guest's display name) from
// room; they may join again (a private room's members list loses them).
// reason, which may be empty, is shown to them and to the room.
func (c *Client) Kick(ctx context.Context, room, user, reason string) error {
	_, err := c.do(ctx, protocol.Command{Op: protocol.OpKick, Room: room, User: user, Reason: reason}, false)
	return err
}

// Ban kicks user from room and keeps them out for d, rounded up to whole
// seconds; d <= 0 bans until Unban.
func (c *Client) Ban(ctx context.Context, room, user, reason string, d time.Duration) error {
	secs, err := seconds(d)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, protocol.Command{Op: protocol.OpBan, Room: room, User: user, Reason: reason, Seconds: secs}, true)
	return err
}

// Unban lifts user's ban from room.
func (c *Client) Unban(ctx context.Context, room, user string) error {
	_, err := c.do(ctx, protocol.Command{Op: protocol.OpUnban, Room: room, User: user}, true)
	return err
}

// Mute keeps user from sending to room for d, rounded up to whole seconds;
// d <= 0 mutes until Unmute. They still read the room.
func (c *Client) Mute(ctx context.Context, room, user, reason string, d time.Duration) error {
	secs, err := seconds(d)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, protocol.Command{Op: protocol.OpMute, Room: room, User: user, Reason: reason, Seconds: secs}, true)
	return err
}

// Unmute lets user send to room again.
func (c *Client) Unmute(ctx context.Context, room, user string) error {
	_, err := c.do(ctx, protocol.Command{Op: protocol.OpUnmute, Room: room, User: user}, true)
	return err
}

// SetTopic sets room's topic; an empty topic clears it.
func (c *Client) SetTopic(ctx context.Context, room, topic string) error {
	_, err := c.do(ctx, protocol.Command{Op: protocol.OpTopic, Room: room, Topic: topic}, true)
	return err
}

// Promote makes user (an account) a moderator of room.
func (c *Client) Promote(ctx context.Context, room, user string) error {
	_, err := c.do(ctx, protocol.Command{Op: protocol.OpPromote, Room: room, User: user}, true)
	return err
}

// Demote makes a moderator of room a plain member again.
func (c *Client) Demote(ctx context.Context, room, user string) error {
	_, err := c.do(ctx, protocol.Command{Op: protocol.OpDemote, Room: room, User: user}, true)
	return err
}

// seconds converts a ban or mute duration to the protocol's whole seconds,
// rounding up so that a short positive duration never means "for ever".
func seconds(d time.Duration) (int, error) {
	if d <= 0 {
		return 0, nil
	}
	s := (d + time.Second - 1) / time.Second
	if s > math.MaxInt32 {
		return 0, fmt.Errorf("client: duration %v is too long", d)
	}
	return int(s), nil
}
