package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
)

// centrifugoPeer speaks Centrifugo's JSON client protocol (v2, as of
// Centrifugo v6) over /connection/websocket: connect without a token
// (the server must allow anonymous connections), subscribe to the room as
// a channel, publish into it (the server must allow publishing for
// subscribers). Each frame holds one or more JSON objects separated by
// '\n'. The publish reply is the ack: Centrifugo sends it once the
// publication went to its broker (memory here), not to any store. The
// server's application-level ping is an empty object, answered with an
// empty object. Publications carry no offset without history, so
// receivers check each publisher's order (client.deliverInOrder).
type centrifugoPeer struct{}

// Command ids: 1 connect, 2 subscribe, then slot + cfFirstSlotID.
const cfFirstSlotID = 3

func (centrifugoPeer) dialer() *websocket.Dialer { return plainDialer }

func (centrifugoPeer) setup(ctx context.Context, c *client) error {
	if r, err := c.call(ctx, "connect", "1", []byte(`{"id":1,"connect":{"name":"hubbub-bench"}}`)); err != nil {
		return err
	} else if !r.ok {
		return fmt.Errorf("connect: %s: %s", r.code, r.reason)
	}
	channel, err := json.Marshal(c.roomName())
	if err != nil {
		return err
	}
	sub := fmt.Appendf(nil, `{"id":2,"subscribe":{"channel":%s}}`, channel)
	if r, err := c.call(ctx, "subscribe", "2", sub); err != nil {
		return err
	} else if !r.ok {
		return fmt.Errorf("subscribe %s: %s: %s", c.roomName(), r.code, r.reason)
	}
	return nil
}

func (centrifugoPeer) publish(c *client, _, slot int, at time.Time) error {
	channel, _ := json.Marshal(c.roomName())
	body, _ := json.Marshal(messageBody(c.b.runID, at, slot))
	return c.write(fmt.Appendf(nil, `{"id":%d,"publish":{"channel":%s,"data":%s}}`, slot+cfFirstSlotID, channel, body))
}

// cfPushPrefix and cfDataKey find a publication's data without decoding
// it: a JSON string cannot hold an unescaped quote, so the literal
// `"data":"` can only be the key. Anything else goes through
// encoding/json.
var (
	cfPushPrefix = []byte(`{"push":{"channel":"`)
	cfDataKey    = []byte(`"data":"`)
)

func (centrifugoPeer) frame(c *client, data []byte, now time.Time) {
	for obj := range bytes.SplitSeq(data, []byte{'\n'}) {
		c.centrifugoObject(obj, now)
	}
}

// cfReply is the part of a Centrifugo reply the generator reads.
type cfReply struct {
	ID    uint64 `json:"id"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Push *struct {
		Pub *struct {
			Data json.RawMessage `json:"data"`
		} `json:"pub"`
	} `json:"push"`
}

func (c *client) centrifugoObject(obj []byte, now time.Time) {
	b := c.b
	obj = bytes.TrimSpace(obj)
	switch {
	case len(obj) == 0:
		return
	case bytes.Equal(obj, []byte("{}")): // ping
		if err := c.write([]byte("{}")); err != nil {
			return // the read fails next; ended records why
		}
		return
	case bytes.HasPrefix(obj, cfPushPrefix):
		if _, after, ok := bytes.Cut(obj, cfDataKey); ok {
			if end := bytes.IndexByte(after, '"'); end >= 0 && bytes.IndexByte(after[:end], '\\') < 0 {
				c.deliverInOrder(after[:end], now)
				return
			}
		}
	}
	var r cfReply
	if err := json.Unmarshal(obj, &r); err != nil {
		b.undecodable.Add(1)
		return
	}
	switch {
	case r.Push != nil && r.Push.Pub != nil:
		var body string
		if json.Unmarshal(r.Push.Pub.Data, &body) != nil {
			b.foreign.Add(1)
			return
		}
		c.deliverInOrder([]byte(body), now)
	case r.Push != nil:
		b.otherEvents.Add(1) // join, leave, unsubscribe...: not asked for
	case r.ID >= cfFirstSlotID:
		slot := int(r.ID - cfFirstSlotID)
		switch {
		case slot >= len(b.slots):
			b.undecodable.Add(1)
		case r.Error != nil:
			b.sendErr("centrifugo-" + strconv.Itoa(r.Error.Code))
		default:
			b.ack(slot, now)
		}
	case r.ID > 0:
		rp := reply{id: strconv.FormatUint(r.ID, 10), ok: r.Error == nil}
		if r.Error != nil {
			rp.code, rp.reason = strconv.Itoa(r.Error.Code), r.Error.Message
		}
		c.answered(rp)
	default:
		b.otherEvents.Add(1)
	}
}
