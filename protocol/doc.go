// Package protocol is hubbub's public wire contract, version 1: the commands
// a client sends, the frames the server sends back, the stable error and
// close codes, the limits, and a strict decoder.
//
// A client speaks protocol v1 over a WebSocket negotiated with the
// subprotocol [Subprotocol]. Every client text frame holds exactly one JSON
// object, a [Command]. Every server text frame holds one or more JSON
// objects, each an [Event], separated by a single '\n' byte (the server
// batches what it has queued for a connection into as few frames as it can).
// JSON never contains a raw newline, so splitting a frame on '\n' is always
// safe; use [SplitFrame].
//
// Error codes and close codes are append-only: once published, a code keeps
// its meaning forever. docs/protocol.md is the human description of this
// package and must be kept in step with it.
//
// The package depends on the standard library only, so any Go program can
// import it.
package protocol

// Subprotocol is the WebSocket subprotocol name of protocol v1, offered by
// clients in Sec-WebSocket-Protocol and echoed by the server.
const Subprotocol = "hubbub.v1"
