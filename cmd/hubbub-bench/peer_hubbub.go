package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/protocol"
)

// hubbubPeer speaks hubbub.v1: hello as a guest, create (the room's first
// client), join; sends are acknowledged with the room seq, and receivers
// check every room's sequence for gaps and duplicates.
type hubbubPeer struct{}

var hubbubDialer = newDialer(protocol.Subprotocol)

func (hubbubPeer) dialer() *websocket.Dialer { return hubbubDialer }

func (hubbubPeer) setup(ctx context.Context, c *client) error {
	if c.ws.Subprotocol() != protocol.Subprotocol {
		return fmt.Errorf("dial: server chose subprotocol %q, want %q", c.ws.Subprotocol(), protocol.Subprotocol)
	}
	c.ws.SetReadLimit(protocol.MaxServerFrameBytes)
	// The commands go out together, in one write (pipelined: the server
	// handles them in order and answers them in one frame), and the
	// replies are read in order.
	room := c.roomName()
	cmds := []protocol.Command{{ID: "h", Op: protocol.OpHello, Name: c.name()}}
	if c.creator() {
		cmds = append(cmds, protocol.Command{ID: "c", Op: protocol.OpCreate, Room: room, Topic: "hubbub-bench"})
	}
	cmds = append(cmds, protocol.Command{ID: "j", Op: protocol.OpJoin, Room: room})
	frames := make([][]byte, len(cmds))
	for i := range cmds {
		data, err := protocol.EncodeCommand(&cmds[i])
		if err != nil {
			return err
		}
		frames[i] = data
	}
	if i, err := c.writeAll(frames); err != nil {
		return fmt.Errorf("%s: %w", cmds[i].Op, err)
	}
	for _, cmd := range cmds {
		r, err := c.await(ctx, string(cmd.Op), cmd.ID)
		switch {
		case err != nil:
			return err
		case r.ok, cmd.Op == protocol.OpCreate && r.code == string(protocol.CodeRoomExists):
		case cmd.Op == protocol.OpHello:
			return fmt.Errorf("hello: %s: %s", r.code, r.reason)
		default:
			return fmt.Errorf("%s %s: %s: %s", cmd.Op, room, r.code, r.reason)
		}
	}
	return nil
}

// name is c's guest name, the same on every connection; "" when the
// clients share an account (SharedName), whose token says who they are.
func (c *client) name() string {
	if c.b.token != "" {
		return ""
	}
	return c.b.runID + "-" + strconv.Itoa(c.idx)
}

// publish sends the run's message number slot on connection gen, with a
// unique client message id.
func (hubbubPeer) publish(c *client, gen, slot int, at time.Time) error {
	data, err := hubbubSend(c, slot, at)
	if err != nil {
		return err
	}
	return c.send(gen, data)
}

// hubbubSend encodes the send of message slot stamped at. Its cmid is the
// slot's: a resend of it is idempotent.
func hubbubSend(c *client, slot int, at time.Time) ([]byte, error) {
	b := c.b
	tag := strconv.Itoa(slot)
	return protocol.EncodeCommand(&protocol.Command{
		ID:   "s" + tag,
		Op:   protocol.OpSend,
		Room: c.roomName(),
		Body: messageBody(b.runID, at, slot),
		CMID: b.runID + "-" + tag,
	})
}

func (hubbubPeer) frame(c *client, data []byte, now time.Time) {
	_ = protocol.SplitFrame(data, func(obj []byte) error {
		c.handle(obj, now)
		return nil
	})
}

// handle processes one event object, read at now.
func (c *client) handle(obj []byte, now time.Time) {
	b := c.b
	if room, seq, body, ok := scanMessage(obj); ok {
		if !c.ready {
			c.pending = append(c.pending, bytes.Clone(obj))
			return
		}
		c.message(room, seq, body, now)
		return
	}
	if isPresence(obj) {
		b.presence.Add(1)
		return
	}
	if lastSeq, ok := scanJoinOK(obj); ok && !c.resume.active {
		c.joined(lastSeq, now)
		c.answered(reply{id: "j", ok: true})
		return
	}
	ev, err := protocol.DecodeEvent(obj)
	if err != nil {
		b.undecodable.Add(1)
		return
	}
	switch ev.Type {
	case protocol.TypeMessage:
		if ev.Message == nil {
			b.undecodable.Add(1)
			return
		}
		if !c.ready {
			c.pending = append(c.pending, bytes.Clone(obj))
			return
		}
		c.message([]byte(ev.Message.Room), ev.Message.Seq, []byte(ev.Message.Body), now)
	case protocol.TypeOK, protocol.TypeError:
		if len(ev.ID) > 1 && ev.ID[0] == 's' {
			slot, err := strconv.Atoi(ev.ID[1:])
			switch {
			case err != nil || slot < 0 || slot >= len(b.slots):
				b.undecodable.Add(1)
			case ev.Type == protocol.TypeError:
				b.sendErr(string(ev.Code))
			default:
				b.ack(slot, now)
			}
			return
		}
		if c.resume.active {
			c.resumeReply(&ev, now)
			return
		}
		if ev.ID == "j" && ev.Type == protocol.TypeOK && ev.Info != nil {
			c.joined(ev.Info.LastSeq, now)
		}
		c.answered(reply{id: ev.ID, ok: ev.Type == protocol.TypeOK, code: string(ev.Code), reason: ev.Reason})
	default:
		b.otherEvents.Add(1)
	}
}

// joined sets the sequence baseline from the first join reply and
// replays the message events that arrived before it: those at or below the
// baseline were committed before the join and are not news.
func (c *client) joined(lastSeq int64, now time.Time) {
	c.ready = true
	c.seq.start(lastSeq)
	c.replayPending(lastSeq, now)
}

// message judges a live message of c's room by its seq (seqLog) and
// records it, holds it for after a catch-up, or drops it.
func (c *client) message(room []byte, seq int64, body []byte, now time.Time) {
	b := c.b
	if string(room) != c.roomName() {
		return
	}
	v, gaps := c.seq.live(seq)
	switch v {
	case deliverMsg:
		b.gaps.Add(gaps)
		c.deliver(body, now)
	case holdMsg:
		at, slot, ours := parseBody(b.runID, body)
		if !ours || slot >= len(b.slots) {
			b.foreign.Add(1)
			slot = -1
		}
		c.seq.hold(heldMsg{seq: seq, at: at, slot: slot})
	case overlapMsg:
		b.overlaps.Add(1)
	case duplicateMsg:
		b.duplicates.Add(1)
	}
}
