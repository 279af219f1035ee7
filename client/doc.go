// Package client is the Go client of hubbub: it connects to a hubbub server
// over WebSocket (protocol v1, see package protocol), offers the chat
// operations as typed methods, and reports what happens in the joined rooms
// as a stream of events. It keeps the connection up by itself.
//
// # Connecting
//
// [Dial] opens the first connection and says hello; it fails fast, without
// retrying, if that does not work. From then on the client reconnects by
// itself whenever the connection drops, until [Client.Close].
//
// # Operations
//
// [Client.Rooms], [Client.Create], [Client.Join], [Client.Leave],
// [Client.Send], [Client.SendWithID], [Client.HistoryBefore], [Client.HistoryAfter],
// [Client.Typing] and [Client.Ping] send one command each and wait for its
// reply, which the client matches by command id. [Client.Upload] streams a
// file to the server and resumes it across reconnects; [Client.SendFile]
// sends it in a message and [Client.Download] fetches a file over HTTP. A refusal by the server
// comes back as a *protocol.Error, so callers read its code with
// protocol.CodeOf; invalid arguments are refused the same way before
// anything is sent. Operations wait while the client is reconnecting and
// are sent once a connection is ready; ctx bounds the whole wait.
//
// If a connection drops after a command was sent and before its reply,
// the client sends the command again on the next connection. That is safe
// for every operation but those whose repeat would be wrong or pointless:
// Create and CreatePrivate (a repeat would report room_exists), Delete (a
// repeat would report no_such_message), React (a toggle), Kick (the user
// may have come back), DeleteRoom (the name may have been taken again)
// and Typing (stale by then), which return [ErrConnectionLost] instead.
// Send is made safe by its client message id, which it keeps across every
// retry, its own and the application's: see [Client.SendWithID] and
// [SendError].
//
// # Events
//
// [Client.Events] delivers [MessageEvent], [JoinEvent], [LeaveEvent] and
// [TypingEvent] for the joined rooms; [ReadEvent] when another connection
// of the same account moves a read position; [BlockedEvent] and
// [UnblockedEvent] when the account, on any connection, blocks or
// unblocks another; [StateEvent] when the connection goes down
// ([Reconnecting]) and comes back ([Connected]) and when the client stops
// ([Closed]); [ErrorEvent] for failures outside any call; and
// [OtherEvent] for every other event the server sends (moderation,
// invitations, roles, the directory).
//
// For each joined room the client delivers every message exactly once and
// in sequence order, across any number of reconnects. It remembers the
// newest sequence number it delivered per room. After a reconnect it says
// hello again and re-joins every room, hello and all the joins sent at
// once (one round trip, not one per room and one for hello), and fetches
// from history what it has not delivered yet, page by page (up to 16 rooms
// at once), delivering that before any live message of the room. It drops
// a live message it has delivered already, and when a live message skips a
// number it fetches the gap from history first.
//
// # Buffering: read the events
//
// The events channel has a bounded buffer (Options.EventBuffer, default
// 256). When it is full, the client's read loop waits until the caller
// takes an event; meanwhile it reads nothing from the socket. The server
// then queues for this connection until its send queue overflows and
// closes the socket with 4000 (slow consumer). As soon as the caller reads
// again, the client finds the socket closed, reconnects, and resumes every
// room from history: nothing is lost, the caller only falls behind.
//
// Replies travel through the same read loop, so an operation cannot
// complete while the read loop waits on a full buffer. Read events in a
// goroutine that does not itself wait for an operation to complete, or give
// operations a deadline. A program that does not care about events drains
// them anyway:
//
//	go func() {
//		for range c.Events() {
//		}
//	}()
//
// Room events are never dropped, and neither is the Connected
// [StateEvent], whose Conn numbers the connection: a number past the last
// one seen says the client reconnected. Reconnecting waits for room only
// until its dial starts, and Closed not at all; they are dropped when the
// buffer stays full.
//
// # Reconnecting
//
// The wait before each dial is exponential with full jitter: dial number n
// after a drop waits a uniform random time in [0, min(BackoffMax,
// BackoffBase·2^(n-1))]. When the server asked clients to wait (close 1001
// going away, 1012 service restart (a draining node) or 1013 try again
// later, or a handshake refused with 429 or
// 503) the wait is BackoffBase longer, capped at BackoffMax. When the server
// names the wait (Retry-After on a refused handshake, or a 1013 close with
// the reason "retry after Ns") the client waits that long plus up to one
// second of random jitter, even past BackoffMax. The count
// starts over after every good connection. The client stops reconnecting,
// and stops, only when the server closes with 1008 (policy), refuses the
// handshake with 401 or 403, or refuses hello for a reason other than a
// transient one; then the last event is a Closed StateEvent with the cause,
// and operations return an error wrapping [ErrClosed] and the cause.
//
// # Concurrency
//
// Every exported method is safe for concurrent use. Each connection has
// exactly one goroutine that reads the socket and one that writes it (every
// write, upload chunks, pings, pongs and the close frame included), and a third that
// re-joins rooms and fetches history (with up to 16 short-lived helpers
// while it catches rooms up after a reconnect); one more goroutine runs the
// reconnects. [Client.Close] stops them all and waits for them.
package client
