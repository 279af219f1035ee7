package client

import (
	"fmt"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

// Event is one thing a [Client] reports on [Client.Events]: a room event
// ([MessageEvent], [JoinEvent], [LeaveEvent], [TypingEvent]), news of the
// account's own read positions ([ReadEvent]) and blocks ([BlockedEvent],
// [UnblockedEvent]), a change of the
// connection's state ([StateEvent]), a failure no caller could be told
// about ([ErrorEvent]), or a server event without a type of its own here
// ([OtherEvent]). Use a type switch; more event types may be added.
type Event interface {
	isEvent()
}

// MessageEvent is a message of a joined room. For each room the client
// delivers every message exactly once, in sequence order, across
// reconnects: from the join on (the messages after the room's LastSeq in
// the join reply) until the room is left.
type MessageEvent struct {
	Message protocol.Message
}

// JoinEvent reports that User joined Room.
type JoinEvent struct {
	Room string
	User string
}

// LeaveEvent reports that User left Room.
type LeaveEvent struct {
	Room string
	User string
}

// TypingEvent reports that User is typing in Room.
type TypingEvent struct {
	Room string
	User string
}

// BlockedEvent reports that the account blocked User (docs/protocol.md,
// "Blocking"), on this session or another of its sessions. Only accounts
// get it.
type BlockedEvent struct {
	User string
}

// UnblockedEvent reports that the account lifted its block of User, on
// this session or another of its sessions.
type UnblockedEvent struct {
	User string
}

// State is the state of a client's connection.
type State int

// States a [StateEvent] reports.
const (
	// Connected: a connection is up, hello succeeded and every joined room
	// was re-joined. Messages missed while disconnected follow.
	Connected State = iota + 1
	// Reconnecting: the connection dropped (or a dial failed); the client
	// dials again at Next.
	Reconnecting
	// Closed: the client stopped. It is the last event before the channel
	// is closed.
	Closed
)

func (s State) String() string {
	switch s {
	case Connected:
		return "connected"
	case Reconnecting:
		return "reconnecting"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// StateEvent reports a change of the connection's state. Connected is
// never dropped: like room events, it waits while the events buffer is
// full, ahead of the missed messages that follow it. Reconnecting waits
// only until its dial starts (Next), and is dropped if the buffer is still
// full then: a newer one, or Connected, follows. Closed is dropped when the
// buffer is full; the channel closes right after it.
type StateEvent struct {
	State State

	// Self is who the connection speaks as (Connected).
	Self protocol.Identity

	// Conn numbers the client's connections (Connected): 1 for the first,
	// then one more for each new connection. A Connected with a number past
	// the last one seen means the client reconnected, and live events may
	// have been missed meanwhile (presence, typing) even if the Reconnecting
	// events were dropped.
	Conn int

	// Attempt counts the dials since the last good connection, from 1;
	// Next is when that dial starts (Reconnecting).
	Attempt int
	Next    time.Time

	// Err is why the connection dropped or the last dial failed
	// (Reconnecting), or why the client stopped by itself (Closed; nil
	// after Close). A close by the server is a *websocket.CloseError
	// (gorilla/websocket): Code protocol.ClosePolicy (1008) when the
	// session ended (logout, expiry) or for abuse, with the server's
	// reason in Text. A refused handshake is a *HandshakeError; a refused
	// hello unwraps to a *protocol.Error.
	Err error
}

// OtherEvent carries a server event of a type this version of the client
// has no type of its own for (protocol v1 grows by adding event types),
// such as a kick or a ban. When one says that the client itself was kicked
// or banned from a room, or that a room it was in was deleted (a directory
// event with change deleted), the client has stopped counting itself in
// it: it will not re-join it after a reconnect.
type OtherEvent struct {
	Event protocol.Event
}

// ErrorEvent reports a failure that happened outside any call, such as a
// room that could not be re-joined after a reconnect (Room is set, and the
// client no longer counts itself in that room).
type ErrorEvent struct {
	Room string
	Err  error
}

func (MessageEvent) isEvent()   {}
func (JoinEvent) isEvent()      {}
func (LeaveEvent) isEvent()     {}
func (TypingEvent) isEvent()    {}
func (BlockedEvent) isEvent()   {}
func (UnblockedEvent) isEvent() {}
func (StateEvent) isEvent()     {}
func (ErrorEvent) isEvent()     {}
func (OtherEvent) isEvent()     {}
