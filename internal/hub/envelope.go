package hub

import (
	"encoding/binary"
	"errors"
)

// The broker carries envelopes, not bare events: every node must be able
// to tell a payload it published itself (its local members already have
// it) from news of another node, and to order a room's messages by their
// sequence numbers without decoding the JSON.
//
// An envelope is
//
//	magic   1 byte   'h'
//	kind    1 byte   kindRoom, kindUser or kindPresence (see presence.go)
//	origin  8 bytes  the publishing node's id
//	seq     8 bytes  big-endian room sequence of a message event; 0 otherwise
//	key     uvarint length, then the bytes (kindUser: the user key; kindRoom: empty)
//	room    uvarint length, then the bytes (kindUser: the room the event is about,
//	        may be empty; kindRoom: empty, the broker topic names the room)
//	event   the rest: the encoded protocol event, as clients receive it
const (
	envelopeMagic = 'h'
	kindRoom      = 'r'
	kindUser      = 'u'
	maxKeyLen     = 1024
)

// nodeID identifies one hub among the nodes that share a broker.
type nodeID [8]byte

// envelope is a decoded broker payload. Its slices point into the payload.
type envelope struct {
	kind   byte
	origin nodeID
	seq    int64
	key    string
	room   string
	event  []byte
}

var errEnvelope = errors.New("hub: malformed envelope")

// appendEnvelope appends the encoding of e to dst.
func appendEnvelope(dst []byte, e envelope) []byte {
	dst = append(dst, envelopeMagic, e.kind)
	dst = append(dst, e.origin[:]...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.seq))
	dst = binary.AppendUvarint(dst, uint64(len(e.key)))
	dst = append(dst, e.key...)
	dst = binary.AppendUvarint(dst, uint64(len(e.room)))
	dst = append(dst, e.room...)
	return append(dst, e.event...)
}

// parseEnvelope decodes p. It never panics and refuses what
// appendEnvelope cannot produce: an unknown magic or kind, a negative
// sequence, a length not in its shortest form, a key or room too long or
// longer than the payload, an empty event.
func parseEnvelope(p []byte) (envelope, error) {
	var e envelope
	if len(p) < 18 || p[0] != envelopeMagic || (p[1] != kindRoom && p[1] != kindUser && p[1] != kindPresence) {
		return e, errEnvelope
	}
	e.kind = p[1]
	copy(e.origin[:], p[2:10])
	seq := binary.BigEndian.Uint64(p[10:18])
	if seq > 1<<62 {
		return e, errEnvelope
	}
	e.seq = int64(seq)
	key, rest, ok := cutString(p[18:])
	if !ok {
		return e, errEnvelope
	}
	room, rest, ok := cutString(rest)
	if !ok {
		return e, errEnvelope
	}
	e.key, e.room, e.event = key, room, rest
	if len(e.event) == 0 || (e.kind == kindUser) != (key != "") || (e.kind != kindUser && room != "") || (e.kind == kindPresence && e.seq != 0) {
		return e, errEnvelope
	}
	return e, nil
}

// cutString reads a uvarint length in its shortest form and that many
// bytes, at most maxKeyLen.
func cutString(p []byte) (s string, rest []byte, ok bool) {
	n, w := binary.Uvarint(p)
	if w <= 0 || w != len(binary.AppendUvarint(nil, n)) || n > maxKeyLen || n > uint64(len(p)-w) {
		return "", nil, false
	}
	return string(p[w : w+int(n)]), p[w+int(n):], true
}
