package protocol

import (
	"sort"
	"strconv"
	"unicode/utf8"
)

// decodeEvent parses obj the way json.Unmarshal into an Event would, for
// the events a hubbub server writes: keys spelled exactly as Event's json
// tags, each at most once, integers without fraction or exponent, strings
// of valid UTF-8 without surrogate escapes, and null where json.Unmarshal
// leaves a field as it was (zero, as no key comes twice) or sets a pointer
// or slice to nil. Anything else (a field a newer server added, a key in
// another case, a syntax error) makes it give up, ok false, and
// DecodeEvent leaves obj to encoding/json, whose answer for those is the
// contract. So whenever ok is true, ev is exactly what
// json.Unmarshal gives (FuzzDecodeEvent checks that).
//
// It exists because a client decodes every event it receives: a message
// event, or the reply to a join of a big room with its member list, takes
// about a fifth of encoding/json's time and one or two allocations
// (BenchmarkDecodeEvent).
func decodeEvent(obj []byte) (ev Event, ok bool) {
	// One copy of obj; the strings without escapes are slices of it, so
	// an event costs one allocation for its text however many strings
	// it has (the strings keep the copy alive, a few hundred bytes for
	// a message event).
	d := decoder{b: obj, s: string(obj)}
	if !d.event(&ev) {
		return Event{}, false
	}
	if d.space(); d.i != len(d.b) {
		return Event{}, false
	}
	return ev, true
}

// decoder reads JSON from b at i. Its methods return false when they meet
// anything they do not take (see decodeEvent); the caller then gives up.
type decoder struct {
	b []byte
	s string // b as a string
	i int
}

// space skips JSON white space.
func (d *decoder) space() { d.i = skipSpace(d.b, d.i) }

// next skips white space and reports whether the next byte is c,
// consuming it if so.
func (d *decoder) next(c byte) bool {
	d.space()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// object reads an object, calling field for each key with the decoder at
// its value; field reads the value and returns false to give up. A key
// with an escape gives up (no key of the protocol needs one), and so does
// a key seen twice: field reports its bit in seen (a struct has fewer than
// 64 fields) and object checks it.
func (d *decoder) object(field func(key []byte) (bit uint64, ok bool)) bool {
	if !d.next('{') {
		return false
	}
	if d.next('}') {
		return true
	}
	var seen uint64
	for {
		if !d.next('"') {
			return false
		}
		start := d.i
		for d.i < len(d.b) && d.b[d.i] != '"' && d.b[d.i] != '\\' {
			d.i++
		}
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return false
		}
		key := d.b[start:d.i]
		d.i++
		if !d.next(':') {
			return false
		}
		d.space()
		bit, ok := field(key)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		if d.next(',') {
			continue
		}
		return d.next('}')
	}
}

// array reads an array, calling elem with the decoder at each element.
// An empty array still calls nothing: the caller makes its slice non-nil,
// as encoding/json does.
func (d *decoder) array(elem func() bool) bool {
	if !d.next('[') {
		return false
	}
	if d.next(']') {
		return true
	}
	for {
		d.space()
		if !elem() {
			return false
		}
		if d.next(',') {
			continue
		}
		return d.next(']')
	}
}

// null reads a null if there is one: json.Unmarshal leaves a field it
// is given to as it was (zero here, as no key comes twice), a pointer or a
// slice nil.
func (d *decoder) null() bool {
	if len(d.b)-d.i >= 4 && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// str reads a string.
func (d *decoder) str(s *string) bool {
	if d.null() {
		return true
	}
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return false
	}
	d.i++
	start := d.i
	ascii := true
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			raw := d.b[start:d.i]
			if !ascii && !utf8.Valid(raw) {
				return false // encoding/json would replace the bad bytes
			}
			*s = d.s[start:d.i]
			d.i++
			return true
		case c == '\\':
			return d.escaped(start, s)
		case c < 0x20:
			return false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.i++
	}
	return false
}

// escaped finishes a string that has an escape at d.i, its contents
// starting at start.
func (d *decoder) escaped(start int, s *string) bool {
	out := make([]byte, 0, d.i-start+16)
	out = append(out, d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			if !utf8.Valid(out) {
				return false
			}
			*s = string(out)
			d.i++
			return true
		case c < 0x20:
			return false
		case c != '\\':
			out = append(out, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.b) {
			return false
		}
		e := d.b[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if d.i+4 > len(d.b) {
				return false
			}
			r, err := strconv.ParseUint(string(d.b[d.i:d.i+4]), 16, 16)
			if err != nil || r >= 0xD800 && r < 0xE000 {
				return false // a surrogate: encoding/json pairs or replaces them
			}
			out = utf8.AppendRune(out, rune(r))
			d.i += 4
		default:
			return false
		}
	}
	return false
}

// integer reads a JSON number without fraction or exponent that fits in
// bits bits (an int is 64 on the platforms hubbub runs on, and
// strconv.IntSize where not).
func (d *decoder) integer(bits int) (int64, bool) {
	if d.null() {
		return 0, true
	}
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	digits := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	n := d.i - digits
	if n == 0 || n > 1 && d.b[digits] == '0' {
		return 0, false
	}
	if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		return 0, false
	}
	v, err := strconv.ParseInt(string(d.b[start:d.i]), 10, bits)
	return v, err == nil
}

func (d *decoder) int64(v *int64) bool {
	n, ok := d.integer(64)
	*v = n
	return ok
}

func (d *decoder) int(v *int) bool {
	n, ok := d.integer(strconv.IntSize)
	*v = int(n)
	return ok
}

// boolean reads true or false.
func (d *decoder) boolean(v *bool) bool {
	if d.null() {
		return true
	}
	rest := d.b[d.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		*v = true
		d.i += 4
	case len(rest) >= 5 && string(rest[:5]) == "false":
		*v = false
		d.i += 5
	default:
		return false
	}
	return true
}

// strings reads an array of strings.
func (d *decoder) strings(v *[]string) bool {
	return list(d, v, d.str)
}

// pointer reads an object into a new T at *p with read, or a null.
func pointer[T any](d *decoder, p **T, read func(*T) bool) bool {
	if d.null() {
		return true
	}
	*p = new(T)
	return read(*p)
}

// list reads an array of T into *s, each element with read, or a null.
// An empty array makes an empty slice, not nil, as json.Unmarshal does.
func list[T any](d *decoder, s *[]T, read func(*T) bool) bool {
	if d.null() {
		return true
	}
	out := []T{}
	ok := d.array(func() bool {
		var zero T
		out = append(out, zero)
		return read(&out[len(out)-1])
	})
	*s = out
	return ok
}

// fieldBit is what a struct's field function returns for key's value: its
// bit and whether it read it.
func fieldBit(bit int, ok bool) (uint64, bool) { return 1 << bit, ok }

func (d *decoder) event(ev *Event) bool {
	return d.object(func(key []byte) (uint64, bool) {
		switch string(key) {
		case "type":
			return fieldBit(0, d.str(&ev.Type))
		case "id":
			return fieldBit(1, d.str(&ev.ID))
		case "code":
			var s string
			ok := d.str(&s)
			ev.Code = Code(s)
			return fieldBit(2, ok)
		case "reason":
			return fieldBit(3, d.str(&ev.Reason))
		case "room":
			return fieldBit(4, d.str(&ev.Room))
		case "user":
			return fieldBit(5, d.str(&ev.User))
		case "message":
			return fieldBit(6, pointer(d, &ev.Message, d.message))
		case "messages":
			return fieldBit(7, list(d, &ev.Messages, d.message))
		case "more":
			return fieldBit(8, d.boolean(&ev.More))
		case "rooms":
			return fieldBit(9, list(d, &ev.Rooms, d.roomInfo))
		case "info":
			return fieldBit(10, pointer(d, &ev.Info, d.roomInfo))
		case "members":
			return fieldBit(11, d.strings(&ev.Members))
		case "roster":
			return fieldBit(12, list(d, &ev.Roster, d.member))
		case "self":
			return fieldBit(13, pointer(d, &ev.Self, d.identity))
		case "by":
			return fieldBit(14, d.str(&ev.By))
		case "role":
			return fieldBit(15, d.str(&ev.Role))
		case "until":
			return fieldBit(16, d.int64(&ev.Until))
		case "seq":
			return fieldBit(17, d.int64(&ev.Seq))
		case "upload":
			return fieldBit(18, pointer(d, &ev.Upload, d.upload))
		case "change":
			return fieldBit(19, d.str(&ev.Change))
		case "blocks":
			return fieldBit(20, d.strings(&ev.Blocks))
		}
		return 0, false
	})
}

func (d *decoder) message(m *Message) bool {
	return d.object(func(key []byte) (uint64, bool) {
		switch string(key) {
		case "room":
			return fieldBit(0, d.str(&m.Room))
		case "seq":
			return fieldBit(1, d.int64(&m.Seq))
		case "kind":
			return fieldBit(2, d.str(&m.Kind))
		case "from":
			return fieldBit(3, d.str(&m.From))
		case "guest":
			return fieldBit(4, d.boolean(&m.Guest))
		case "body":
			return fieldBit(5, d.str(&m.Body))
		case "cmid":
			return fieldBit(6, d.str(&m.CMID))
		case "ts":
			return fieldBit(7, d.int64(&m.TS))
		case "target":
			return fieldBit(8, d.int64(&m.Target))
		case "user":
			return fieldBit(9, d.str(&m.User))
		case "until":
			return fieldBit(10, d.int64(&m.Until))
		case "reply_to":
			return fieldBit(11, d.int64(&m.ReplyTo))
		case "file":
			return fieldBit(12, pointer(d, &m.File, d.file))
		case "edited":
			return fieldBit(13, d.int64(&m.Edited))
		case "deleted":
			return fieldBit(14, d.boolean(&m.Deleted))
		case "reactions":
			return fieldBit(15, list(d, &m.Reactions, d.reaction))
		case "v":
			return fieldBit(16, d.int64(&m.V))
		case "user_tag":
			return fieldBit(17, d.str(&m.UserTag))
		}
		return 0, false
	})
}

func (d *decoder) reaction(r *Reaction) bool {
	return d.object(func(key []byte) (uint64, bool) {
		switch string(key) {
		case "emoji":
			return fieldBit(0, d.str(&r.Emoji))
		case "users":
			return fieldBit(1, d.strings(&r.Users))
		}
		return 0, false
	})
}

func (d *decoder) file(f *File) bool {
	return d.object(func(key []byte) (uint64, bool) {
		switch string(key) {
		case "id":
			return fieldBit(0, d.str(&f.ID))
		case "name":
			return fieldBit(1, d.str(&f.Name))
		case "size":
			return fieldBit(2, d.int64(&f.Size))
		case "type":
			return fieldBit(3, d.str(&f.Type))
		case "width":
			return fieldBit(4, d.int(&f.Width))
		case "height":
			return fieldBit(5, d.int(&f.Height))
		case "thumb":
			return fieldBit(6, d.boolean(&f.Thumb))
		}
		return 0, false
	})
}

func (d *decoder) roomInfo(r *RoomInfo) bool {
	return d.object(func(key []byte) (uint64, bool) {
		switch string(key) {
		case "name":
			return fieldBit(0, d.str(&r.Name))
		case "topic":
			return fieldBit(1, d.str(&r.Topic))
		case "private":
			return fieldBit(2, d.boolean(&r.Private))
		case "last_seq":
			return fieldBit(3, d.int64(&r.LastSeq))
		case "online":
			return fieldBit(4, d.int(&r.Online))
		case "peer":
			return fieldBit(5, d.str(&r.Peer))
		case "role":
			return fieldBit(6, d.str(&r.Role))
		case "read_seq":
			return fieldBit(7, d.int64(&r.ReadSeq))
		case "archived":
			return fieldBit(8, d.boolean(&r.Archived))
		case "owner":
			return fieldBit(9, d.str(&r.Owner))
		case "staff":
			return fieldBit(10, list(d, &r.Staff, d.member))
		}
		return 0, false
	})
}

func (d *decoder) member(m *Member) bool {
	return d.object(func(key []byte) (uint64, bool) {
		switch string(key) {
		case "name":
			return fieldBit(0, d.str(&m.Name))
		case "role":
			return fieldBit(1, d.str(&m.Role))
		}
		return 0, false
	})
}

func (d *decoder) identity(id *Identity) bool {
	return d.object(func(key []byte) (uint64, bool) {
		switch string(key) {
		case "name":
			return fieldBit(0, d.str(&id.Name))
		case "guest":
			return fieldBit(1, d.boolean(&id.Guest))
		case "admin":
			return fieldBit(2, d.boolean(&id.Admin))
		}
		return 0, false
	})
}

func (d *decoder) upload(u *UploadState) bool {
	return d.object(func(key []byte) (uint64, bool) {
		switch string(key) {
		case "id":
			return fieldBit(0, d.str(&u.ID))
		case "offset":
			return fieldBit(1, d.int64(&u.Offset))
		case "size":
			return fieldBit(2, d.int64(&u.Size))
		case "chunk":
			return fieldBit(3, d.int(&u.Chunk))
		case "file":
			return fieldBit(4, pointer(d, &u.File, d.file))
		}
		return 0, false
	})
}

// decodeCommand reads data as Decode does when Decode would accept it,
// without splitObject's map: the fields a client sends (keys spelled
// exactly, each once, values of their JSON type, no null, strings of valid
// UTF-8 without surrogate escapes), the op's required and allowed fields,
// the limit rule and Command.Validate. It returns ok false for anything
// else, and Decode's strict path then gives the command or the error, in
// the order its rules say. Whenever ok is true, c is what that path gives
// (FuzzDecodeCommand checks that).
//
// A send took 3.6 µs and 19 allocations through the strict path
// (BenchmarkDecode): 7% of the server's CPU under the durable workload.
func decodeCommand(data []byte) (c Command, ok bool) {
	d := decoder{b: data, s: string(data)}
	var given uint64
	ok = d.object(func(key []byte) (uint64, bool) {
		f, known := commandFields[string(key)]
		if !known || d.i >= len(d.b) {
			return 0, false
		}
		switch v := d.b[d.i]; f.kind {
		case kindString:
			var s string
			if v != '"' || !d.str(&s) {
				return 0, false
			}
			f.set(&c, s, 0, false)
		case kindInt:
			if v != '-' && (v < '0' || v > '9') {
				return 0, false
			}
			n, ok := d.integer(64)
			if !ok {
				return 0, false
			}
			f.set(&c, "", n, false)
		case kindBool:
			var b bool
			if v != 't' && v != 'f' || !d.boolean(&b) {
				return 0, false
			}
			f.set(&c, "", 0, b)
		}
		given |= f.bit
		return f.bit, true
	})
	if d.space(); !ok || d.i != len(d.b) {
		return Command{}, false
	}
	m, known := opMasks[c.Op]
	if !known || given&^m.allowed != 0 || given&m.required != m.required {
		return Command{}, false
	}
	if given&commandFields["limit"].bit != 0 && c.Limit == 0 {
		return Command{}, false
	}
	if c.Validate() != nil {
		return Command{}, false
	}
	return c, true
}

// commandFields are the fields, each with a bit of its own for
// decodeCommand's sets of fields (one map lookup per key gives both), and
// opMasks the fields each op allows (id and op included) and needs, as
// such sets. init makes them from fields and ops.
var (
	commandFields map[string]bitField
	opMasks       map[string]struct{ allowed, required uint64 }
)

type bitField struct {
	field
	bit uint64
}

func init() {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) > 64 {
		panic("protocol: more command fields than bits in a uint64")
	}
	commandFields = make(map[string]bitField, len(names))
	for i, name := range names {
		commandFields[name] = bitField{fields[name], 1 << i}
	}
	bit := func(name string) uint64 { return commandFields[name].bit }
	opMasks = make(map[string]struct{ allowed, required uint64 }, len(ops))
	for op, spec := range ops {
		var m struct{ allowed, required uint64 }
		m.allowed = bit("id") | bit("op")
		m.required = bit("op")
		for _, name := range spec.required {
			m.allowed |= bit(name)
			m.required |= bit(name)
		}
		for _, name := range spec.optional {
			m.allowed |= bit(name)
		}
		opMasks[op] = m
	}
}
