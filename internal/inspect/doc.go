// Package inspect watches live WebSocket connections on their real byte
// stream, for learning and for operators: the inspector of hubbub.
//
// A Tap sits between a WebSocket library and its net.Conn (NewConn wraps
// the conn; the server wraps the one gorilla/websocket hijacks, the client
// the one its dialer opens). It sees both directions' bytes exactly as
// they cross the wire, including the HTTP Upgrade head of the handshake.
// Watchers attach to a Tap at any time and receive those bytes as Chunks;
// a Decoder turns Chunks into Records (the handshake with the
// Sec-WebSocket-Accept derivation, every frame with its header fields,
// the messages and hubbub events they carry, ping/pong round trips and the
// close handshake), using the RFC 6455 codec of internal/wsframe.
//
// The contract with the watched connection:
//
//   - When nobody watches, a Read or Write costs an atomic load, a byte
//     count and a skip over frame headers (to know where the next frame
//     starts, so that a watcher can attach mid-stream at a frame
//     boundary). No allocation, no lock.
//   - Watching never blocks or fails the connection. Each Watcher has a
//     bounded queue (WatchChunks chunks, WatchBytes bytes); a watcher that
//     falls behind is dropped (ErrFellBehind), never the connection.
//
// Redaction (Decoder.Redact) hides payloads, message bodies and the
// peer's close reason; credentials (Cookie, Authorization, Set-Cookie)
// are always hidden, whoever watches.
package inspect
