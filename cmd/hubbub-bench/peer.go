package main

import (
	"context"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// The targets: the servers hubbub-bench can load, each through an
// adapter for its wire protocol.
const (
	targetHubbub     = "hubbub"       // hubbub.v1: hello, create, join, send; acks carry the room seq
	targetGorilla    = "gorilla-chat" // gorilla/websocket's examples/chat: raw text broadcast to all, no ack
	targetCentrifugo = "centrifugo"   // Centrifugo's JSON protocol: connect, subscribe, publish
)

var targetNames = []string{targetHubbub, targetGorilla, targetCentrifugo}

var peers = map[string]peer{
	targetHubbub:     hubbubPeer{},
	targetGorilla:    gorillaPeer{},
	targetCentrifugo: centrifugoPeer{},
}

// A peer speaks one target's wire protocol for the clients of a run. It
// holds no state: a client's protocol state lives in the client, owned by
// its read goroutine.
//
// Every peer carries the generator's message body (messageBody: run id,
// publish time, slot) unchanged, so latency is measured the same way on
// every target: from the timestamp in the body to the read of the frame
// that delivers it.
type peer interface {
	// dialer returns the dialer for the upgrade.
	dialer() *websocket.Dialer
	// setup runs after the upgrade, with the read goroutine running:
	// it identifies c and joins c's room (creating it when c.creator),
	// waiting for the replies through c.call.
	setup(ctx context.Context, c *client) error
	// publish sends message slot to c's room with body stamped at, on
	// c's connection number gen (hubbub; the peers' clients have one). It
	// is called from c's publisher goroutine only.
	publish(c *client, gen, slot int, at time.Time) error
	// frame handles one data frame read by c's read goroutine at now.
	frame(c *client, data []byte, now time.Time)
}

// newDialer returns a dialer with small buffers, and write buffers
// borrowed per write, so that the generator stays cheaper per connection
// than the server it measures. No proxy: the target is a test server.
func newDialer(subprotocols ...string) *websocket.Dialer {
	return &websocket.Dialer{
		Subprotocols:     subprotocols,
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   4096,
		WriteBufferSize:  1024,
		WriteBufferPool:  &sync.Pool{},
		NetDialContext:   dialCork(0),
	}
}
