package inspect

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hubbub-chat/hubbub/internal/wsframe"
)

// Display bounds.
const (
	maxKeep    = 64 << 10 // payload bytes kept per frame and message to decode
	maxText    = 512      // text payload shown
	maxHex     = 128      // binary payload bytes shown in hex
	maxEvent   = 1024     // bytes of one event's JSON shown
	maxPending = 16       // pings remembered per direction for RTTs
)

// HubbubSubprotocol is the subprotocol whose text messages carry hubbub
// events, one JSON object per line.
const HubbubSubprotocol = "hubbub.v1"

// A Decoder turns one Watcher's chunks into Records. It is not safe for
// concurrent use.
type Decoder struct {
	server  bool
	started time.Time
	redact  bool

	parsers [2]*wsframe.Parser
	asm     [2]wsframe.Assembler
	heads   [2][]byte
	sent    bool   // the handshake record was emitted
	subp    string // negotiated subprotocol
	pings   [2][]ping
	closer  string // who sent the first close frame, "" before
	lost    [2]bool
	msgText [2]bool // the data message in progress is text
	// midstream: this watcher attached after frames had crossed, and no
	// data message has started since, so a continuation frame may be the
	// rest of a message that began before it attached. tail: such
	// continuations are arriving.
	midstream, tail [2]bool

	// Set for the duration of one Decode call.
	at   time.Time
	emit func(Record)
}

type ping struct {
	payload string
	at      time.Time
}

// NewDecoder returns a Decoder for a Tap's chunks. With redact set,
// payloads, message bodies and the peer's close reasons are hidden.
func NewDecoder(t *Tap, redact bool) *Decoder {
	d := &Decoder{server: t.Server(), started: t.Started(), redact: redact}
	for i := range d.parsers {
		dir := Dir(i)
		d.parsers[i] = wsframe.NewParser(maxKeep, func(f wsframe.Frame) { d.frame(dir, f) })
		d.asm[i].MaxData = maxKeep
	}
	return d
}

// Decode feeds one chunk and calls emit with every Record it completes.
func (d *Decoder) Decode(c Chunk, emit func(Record)) {
	d.at, d.emit = c.At, emit
	defer func() { d.emit = nil }()
	if c.Head {
		d.heads[c.Dir] = c.Data
		if !d.sent && d.heads[In] != nil && d.heads[Out] != nil {
			d.sent = true
			d.handshake()
		}
		return
	}
	if d.lost[c.Dir] {
		return
	}
	if c.Midstream {
		d.midstream[c.Dir] = true
	}
	if _, err := d.parsers[c.Dir].Write(c.Data); err != nil {
		d.lost[c.Dir] = true
		emit(d.record(c.Dir, "note", func(r *Record) {
			r.Note = fmt.Sprintf("the stream can no longer be followed: %v", err)
		}))
	}
}

// from names the side that sent what travels in direction dir.
func (d *Decoder) from(dir Dir) string {
	if (dir == In) == d.server {
		return "client"
	}
	return "server"
}

func (d *Decoder) record(dir Dir, kind string, fill func(*Record)) Record {
	r := Record{
		T:    float64(d.at.Sub(d.started).Microseconds()) / 1000,
		Kind: kind,
		Dir:  dir.String(),
		From: d.from(dir),
	}
	fill(&r)
	return r
}

// handshake emits the Upgrade request and response.
func (d *Decoder) handshake() {
	req, resp := d.heads[Out], d.heads[In]
	if d.server {
		req, resp = d.heads[In], d.heads[Out]
	}
	h := &Handshake{}
	h.Request, h.RequestHeaders = parseHead(req)
	h.Status, h.ResponseHeaders = parseHead(resp)
	if d.server {
		h.RequestNote = "net/http read the request before the upgrade: the headers are shown as it parsed them, in sorted order"
	}
	key := headerValue(h.RequestHeaders, "Sec-WebSocket-Key")
	if key != "" {
		s := wsframe.AcceptSteps(key)
		sent := headerValue(h.ResponseHeaders, "Sec-WebSocket-Accept")
		h.Accept = &Accept{
			Key: s.Key, GUID: wsframe.GUID, Concatenated: s.Concatenated,
			SHA1Hex: s.SHA1Hex, Accept: s.Accept, Sent: sent, Matches: sent == s.Accept,
		}
	}
	h.Subprotocol = headerValue(h.ResponseHeaders, "Sec-WebSocket-Protocol")
	h.Extensions = headerValue(h.ResponseHeaders, "Sec-WebSocket-Extensions")
	d.subp = h.Subprotocol
	dir := In
	if !d.server {
		dir = Out
	}
	d.emit(d.record(dir, "handshake", func(r *Record) { r.Handshake = h }))
}

// credentialHeaders are never shown, whoever watches. credential (tap.go)
// spells them out again, for speed; TestCredentialHeaders keeps the two
// the same.
var credentialHeaders = map[string]bool{"Cookie": true, "Authorization": true, "Set-Cookie": true}

// Redacted is what replaces a hidden value.
const Redacted = "[redacted]"

// parseHead splits an HTTP head into its first line and its headers, in
// order and spelled as sent, with credentials replaced by Redacted.
func parseHead(b []byte) (string, [][2]string) {
	lines := strings.Split(strings.TrimRight(string(b), "\r\n"), "\r\n")
	var hs [][2]string
	for _, l := range lines[1:] {
		name, value, _ := strings.Cut(l, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if credentialHeaders[textproto.CanonicalMIMEHeaderKey(name)] {
			value = Redacted
		}
		hs = append(hs, [2]string{name, value})
	}
	return lines[0], hs
}

func headerValue(hs [][2]string, name string) string {
	for _, h := range hs {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

// frame is the Parser's callback.
func (d *Decoder) frame(dir Dir, f wsframe.Frame) {
	v := &FrameView{
		Fin:        f.Fin,
		RSV:        [3]bool{f.Rsv1, f.Rsv2, f.Rsv3},
		Opcode:     byte(f.Opcode),
		Op:         f.Opcode.String(),
		Masked:     f.Masked,
		Length:     f.Length,
		LengthForm: f.LengthForm.String(),
		HeaderSize: f.Size,
	}
	if f.Masked {
		v.MaskKey = hex.EncodeToString(f.MaskKey[:])
	}
	if f.Err != nil {
		v.Error = f.Err.Error()
	}
	inMsg := d.asm[dir].InMessage()
	// The tap attaches at a frame boundary, not a message boundary: the
	// continuations of a message that began before this watcher attached
	// are no protocol error, only a message seen in part.
	tail := f.Opcode == wsframe.OpContinuation && !inMsg && d.midstream[dir] && f.Err == nil
	if tail && !d.tail[dir] {
		d.tail[dir] = true
		d.emit(d.record(dir, "note", func(r *Record) {
			r.Note = "this watch began inside a fragmented message: its first frames crossed before, so it is shown in part"
		}))
	}
	if !f.Opcode.IsControl() && (f.Opcode != wsframe.OpContinuation || tail && f.Fin) {
		d.midstream[dir], d.tail[dir] = false, false
	}
	switch {
	case tail && f.Fin:
		v.Fragment = "last"
	case tail:
		v.Fragment = "middle"
	case f.Opcode.IsControl():
	case !f.Fin && f.Opcode != wsframe.OpContinuation:
		v.Fragment = "first"
	case f.Opcode == wsframe.OpContinuation && inMsg && f.Fin:
		v.Fragment = "last"
	case f.Opcode == wsframe.OpContinuation && inMsg:
		v.Fragment = "middle"
	}
	if !f.Opcode.IsControl() && f.Opcode != wsframe.OpContinuation {
		d.msgText[dir] = f.Opcode == wsframe.OpText
	}
	text := f.Opcode == wsframe.OpText || f.Opcode == wsframe.OpContinuation && inMsg && d.msgText[dir]
	d.payload(v, f.Payload, f.Truncated, text)

	switch f.Opcode {
	case wsframe.OpPing:
		p := &d.pings[dir]
		if len(*p) >= maxPending {
			*p = (*p)[1:]
		}
		*p = append(*p, ping{payload: string(f.Payload), at: d.at})
	case wsframe.OpPong:
		other := &d.pings[1-dir]
		for i, pg := range *other {
			if pg.payload == string(f.Payload) {
				rtt := float64(d.at.Sub(pg.at).Microseconds()) / 1000
				v.RTTms = &rtt
				*other = append((*other)[:i:i], (*other)[i+1:]...)
				break
			}
		}
	case wsframe.OpClose:
		code, reason, err := wsframe.ParseClose(f.Payload)
		cv := &CloseView{Code: code, Reason: reason}
		if err != nil {
			cv.Error = err.Error()
		}
		if d.closer == "" {
			d.closer = d.from(dir)
		} else {
			cv.Reply = d.closer != d.from(dir)
		}
		cv.StartedBy = d.closer
		if d.redact && d.from(dir) == "client" && reason != "" {
			cv.Reason, cv.Redacted = "", true
		}
		v.Close = cv
	}

	if tail {
		// Not given to the assembler: it would take it for an error.
	} else if m, ok, err := d.asm[dir].Push(f); err != nil {
		if v.Error == "" {
			v.Error = err.Error()
		}
	} else if ok && !f.Opcode.IsControl() {
		v.Message = d.message(m)
	}
	d.emit(d.record(dir, "frame", func(r *Record) { r.Frame = v }))
}

// payload fills the payload fields of v.
func (d *Decoder) payload(v *FrameView, p []byte, truncated, text bool) {
	if len(p) == 0 && !truncated {
		return
	}
	if d.redact {
		v.Redacted = true
		return
	}
	switch {
	case text || utf8.Valid(p) && isPrintable(p):
		s := p
		if len(s) > maxText {
			s, v.Cut = cutUTF8(s, maxText), true
		}
		v.Payload = strings.ToValidUTF8(string(s), "\uFFFD")
	default:
		s := p
		if len(s) > maxHex {
			s, v.Cut = s[:maxHex], true
		}
		v.Payload, v.PayloadHex = hex.EncodeToString(s), true
	}
	if truncated {
		v.Cut = true
	}
}

// isPrintable reports whether p has no control characters other than
// tab and newline: worth showing as text.
func isPrintable(p []byte) bool {
	for _, r := range string(p) {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return false
		}
	}
	return true
}

// cutUTF8 cuts p to at most n bytes without splitting a character.
func cutUTF8(p []byte, n int) []byte {
	p = p[:n]
	for i := 0; i < utf8.UTFMax && len(p) > 0; i++ {
		if r, size := utf8.DecodeLastRune(p); r != utf8.RuneError || size > 1 {
			break
		}
		p = p[:len(p)-1]
	}
	return p
}

// message describes a complete data message and its hubbub events.
func (d *Decoder) message(m wsframe.Message) *MessageView {
	mv := &MessageView{Type: m.Opcode.String(), Frames: m.Frames, Length: m.Length, BadUTF8: m.BadUTF8}
	if m.Opcode != wsframe.OpText || d.subp != HubbubSubprotocol {
		return mv
	}
	for line := range bytes.SplitSeq(m.Data, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		mv.Events = append(mv.Events, d.event(line))
	}
	return mv
}

// redactKeep are the fields of an event shown when payloads are redacted.
var redactKeep = []string{"op", "type", "id", "room", "code"}

func (d *Decoder) event(line []byte) EventView {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		ev := EventView{Name: "(not JSON)"}
		if d.redact {
			ev.Redacted = true
		} else {
			ev.JSON, ev.Cut = cutString(line, maxEvent)
		}
		return ev
	}
	var name string
	if json.Unmarshal(obj["op"], &name) != nil || name == "" {
		json.Unmarshal(obj["type"], &name)
	}
	ev := EventView{Name: name}
	if !d.redact {
		ev.JSON, ev.Cut = cutString(line, maxEvent)
		return ev
	}
	kept := make(map[string]json.RawMessage)
	for _, k := range redactKeep {
		if v, ok := obj[k]; ok {
			kept[k] = v
		}
	}
	b, _ := json.Marshal(kept)
	ev.JSON, ev.Redacted = string(b), len(kept) < len(obj)
	return ev
}

func cutString(p []byte, n int) (string, bool) {
	if len(p) <= n {
		return strings.ToValidUTF8(string(p), "\uFFFD"), false
	}
	return strings.ToValidUTF8(string(cutUTF8(p, n)), "\uFFFD"), true
}
