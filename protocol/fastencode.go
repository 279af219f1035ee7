package protocol

import (
	"strconv"
	"unicode/utf8"
)

// appendEvent appends the JSON of ev to b, byte for byte what
// encoding/json (with HTML escaping off) writes for it, and reports true;
// or it reports false, leaving b as it was, for an event with a field it
// does not write by hand (history pages, room lists, rosters, uploads,
// files, reactions and block lists): those go through encoding/json. It writes the
// events of the hot paths, a message, its ack, presence, typing, errors
// and the replies to hello (Self) and join (Info), without reflection;
// FuzzEncodeEvent checks it against encoding/json, and
// TestAppendEventCoversEveryField fails when Event, Message, RoomInfo or
// Identity gains a field this function does not know.
func appendEvent(b []byte, ev *Event) ([]byte, bool) {
	if ev.Messages != nil || ev.Rooms != nil || ev.Roster != nil || ev.Upload != nil || ev.Blocks != nil {
		return b, false
	}
	if m := ev.Message; m != nil && (m.File != nil || m.Reactions != nil) {
		return b, false
	}
	b = append(b, `{"type":`...)
	b = appendString(b, ev.Type)
	b = appendStringField(b, "id", ev.ID)
	b = appendStringField(b, "code", string(ev.Code))
	b = appendStringField(b, "reason", ev.Reason)
	b = appendStringField(b, "room", ev.Room)
	b = appendStringField(b, "user", ev.User)
	if m := ev.Message; m != nil {
		b = append(b, `,"message":`...)
		b = appendMessage(b, m)
	}
	if ev.More {
		b = append(b, `,"more":true`...)
	}
	if ev.Info != nil {
		b = append(b, `,"info":`...)
		b = appendRoomInfo(b, ev.Info)
	}
	if len(ev.Members) > 0 {
		b = append(b, `,"members":[`...)
		for i, s := range ev.Members {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		b = append(b, ']')
	}
	if ev.Self != nil {
		b = append(b, `,"self":{"name":`...)
		b = appendString(b, ev.Self.Name)
		b = appendBoolField(b, "guest", ev.Self.Guest)
		b = appendBoolField(b, "admin", ev.Self.Admin)
		b = append(b, '}')
	}
	b = appendStringField(b, "by", ev.By)
	b = appendStringField(b, "role", ev.Role)
	b = appendIntField(b, "until", ev.Until)
	b = appendIntField(b, "seq", ev.Seq)
	b = appendStringField(b, "change", ev.Change)
	return append(b, '}'), true
}

// appendMessage appends the JSON of m, which has no file and no reactions.
func appendMessage(b []byte, m *Message) []byte {
	b = append(b, `{"room":`...)
	b = appendString(b, m.Room)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, m.Seq, 10)
	b = appendStringField(b, "kind", m.Kind)
	b = append(b, `,"from":`...)
	b = appendString(b, m.From)
	if m.Guest {
		b = append(b, `,"guest":true`...)
	}
	b = append(b, `,"body":`...)
	b = appendString(b, m.Body)
	b = appendStringField(b, "cmid", m.CMID)
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, m.TS, 10)
	b = appendIntField(b, "target", m.Target)
	b = appendStringField(b, "user", m.User)
	b = appendStringField(b, "user_tag", m.UserTag)
	b = appendIntField(b, "until", m.Until)
	b = appendIntField(b, "reply_to", m.ReplyTo)
	b = appendIntField(b, "edited", m.Edited)
	if m.Deleted {
		b = append(b, `,"deleted":true`...)
	}
	b = appendIntField(b, "v", m.V)
	return append(b, '}')
}

// appendRoomInfo appends the JSON of r.
func appendRoomInfo(b []byte, r *RoomInfo) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, r.Name)
	b = appendStringField(b, "topic", r.Topic)
	b = appendBoolField(b, "private", r.Private)
	b = append(b, `,"last_seq":`...)
	b = strconv.AppendInt(b, r.LastSeq, 10)
	b = append(b, `,"online":`...)
	b = strconv.AppendInt(b, int64(r.Online), 10)
	b = appendStringField(b, "peer", r.Peer)
	b = appendStringField(b, "role", r.Role)
	b = appendIntField(b, "read_seq", r.ReadSeq)
	b = appendBoolField(b, "archived", r.Archived)
	b = appendStringField(b, "owner", r.Owner)
	if len(r.Staff) > 0 {
		b = append(b, `,"staff":[`...)
		for i, m := range r.Staff {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendString(b, m.Name)
			b = append(b, `,"role":`...)
			b = appendString(b, m.Role)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendBoolField appends ,"name":true if v (omitempty).
func appendBoolField(b []byte, name string, v bool) []byte {
	if !v {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	return append(b, `":true`...)
}

// appendStringField appends ,"name":"s" unless s is empty (omitempty).
func appendStringField(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, s)
}

// appendIntField appends ,"name":n unless n is 0 (omitempty).
func appendIntField(b []byte, name string, n int64) []byte {
	if n == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, n, 10)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does
// without HTML escaping: quote and backslash escaped, the control
// characters as \b, \f, \n, \r, \t or \u00XX, invalid UTF-8 as \ufffd,
// and U+2028 and U+2029 escaped (JavaScript reads them as line ends).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
