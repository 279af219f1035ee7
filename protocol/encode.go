package protocol

import (
	"bytes"
	"encoding/json"
)

// EncodeEvent returns the wire form of ev: compact JSON without a trailing
// newline. HTML characters are not escaped (the browser client renders text
// with textContent, never as HTML).
func EncodeEvent(ev *Event) ([]byte, error) {
	size := 128
	if ev.Message != nil {
		size += len(ev.Message.Body)
	}
	if ev.Info != nil {
		size += 128 + len(ev.Info.Topic)
	}
	for _, m := range ev.Members {
		size += len(m) + 3
	}
	if b, ok := appendEvent(make([]byte, 0, size), ev); ok {
		return b, nil
	}
	return encode(ev)
}

// EncodeCommand returns the wire form of c: compact JSON without a trailing
// newline. Empty fields are left out, except the topic of a topic command
// (the topic op requires the field, and "" is how a topic is cleared) and
// the body of a send (required, and "" is a file without a caption).
func EncodeCommand(c *Command) ([]byte, error) {
	if c.Op == OpSend && c.Body == "" {
		return encode(struct {
			*Command
			Body string `json:"body"`
		}{c, ""})
	}
	if c.Op == OpTopic && c.Topic == "" {
		// The outer Topic, shallower than the embedded one, wins.
		return encode(struct {
			*Command
			Topic string `json:"topic"`
		}{c, ""})
	}
	return encode(c)
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// SplitFrame calls fn with each event object of a server frame, in order.
// It stops at and returns the first error fn returns.
func SplitFrame(frame []byte, fn func(obj []byte) error) error {
	for len(frame) > 0 {
		line := frame
		if i := bytes.IndexByte(frame, '\n'); i >= 0 {
			line, frame = frame[:i], frame[i+1:]
		} else {
			frame = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := fn(line); err != nil {
			return err
		}
	}
	return nil
}

// DecodeEvent parses one server event object. It is lenient, as a client
// should be: unknown fields are ignored, so servers can add fields. It
// gives what json.Unmarshal into an Event gives, error included; the events
// a hubbub server writes are read without reflection (decodeEvent).
func DecodeEvent(obj []byte) (Event, error) {
	if ev, ok := decodeEvent(obj); ok {
		return ev, nil
	}
	var ev Event
	err := json.Unmarshal(obj, &ev)
	return ev, err
}
