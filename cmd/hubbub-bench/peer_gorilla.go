package main

import (
	"bytes"
	"context"
	"time"

	"github.com/gorilla/websocket"
)

// gorillaPeer speaks to gorilla/websocket's examples/chat (v1.5.3): after
// the upgrade (no subprotocol, no identify, no join) every text message a
// client sends is broadcast by the example's one hub to every client, the
// sender included; a writer joins what is queued for a client with '\n'
// into one frame. There is no ack, so a message counts as acknowledged
// when it is written, and no sequence number, so receivers check each
// publisher's order instead (client.deliverInOrder). The example drops a
// client whose queue of 256 messages is full, with a close frame without
// a code (1005 here), and never resends what it dropped.
type gorillaPeer struct{}

var plainDialer = newDialer()

func (gorillaPeer) dialer() *websocket.Dialer { return plainDialer }

func (gorillaPeer) setup(ctx context.Context, c *client) error { return nil }

func (gorillaPeer) publish(c *client, _, slot int, at time.Time) error {
	if err := c.write([]byte(messageBody(c.b.runID, at, slot))); err != nil {
		return err
	}
	c.b.ackUnanswered(slot)
	return nil
}

func (gorillaPeer) frame(c *client, data []byte, now time.Time) {
	for line := range bytes.SplitSeq(data, []byte{'\n'}) {
		c.deliverInOrder(line, now)
	}
}
