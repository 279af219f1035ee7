package inspect

import (
	"bytes"
	"encoding/base64"
	"unique"

	"github.com/hubbub-chat/hubbub/internal/wsframe"
)

// How a Tap keeps the HTTP heads of its handshake for the connection's
// lifetime, so that a watcher attaching later sees them: without a copy
// of its own per connection.
//
// Two connections from the same kind of client have heads that differ in
// one value only: the request's Sec-WebSocket-Key, random per connection,
// and the response's Sec-WebSocket-Accept, derived from it. A Tap keeps
// that key (its 16 bytes, in the Tap) and each head as a template, the head
// with the key's or the accept's value cut out, made canonical with the
// unique package: every connection with heads of the same shape shares
// one template, and the template is freed when the last of them is gone.
// The head is rebuilt, byte for byte, when a watcher attaches.
//
// A value is cut out only when putting it back is certain to give the
// same bytes: a key that is 16 bytes in canonical base64 (RFC 6455
// §4.1), in the head's only Sec-WebSocket-Key line, becomes the Tap's key
// unless it has one already (which never changes once set); an accept is
// cut only when it is the one derived from that key. Any other head is
// kept whole, still as a template.

// headKey is the Sec-WebSocket-Key a Tap's heads share, decoded.
type headKey [16]byte

// String returns the key as the head carries it.
func (k *headKey) String() string { return base64.StdEncoding.EncodeToString(k[:]) }

// holeKind says which value was cut out of a kept head.
type holeKind uint8

const (
	noHole     holeKind = iota // the head is kept whole
	keyHole                    // the Tap's key goes at hole
	acceptHole                 // wsframe.AcceptKey of the Tap's key goes at hole
)

// keptHead is one head as a Tap keeps it; the zero value is no head.
type keptHead struct {
	tmpl unique.Handle[string] // the head, credentials redacted, the hole's value cut out
	hole uint16                // offset in tmpl where the value goes
	kind holeKind
	set  bool // a head is kept
}

// keepHeadLocked returns head (credentials already redacted) as a
// keptHead, and sets t.key from it if it carries the connection's key.
// t.mu must be held.
func (t *Tap) keepHeadLocked(head []byte) keptHead {
	if len(head) <= 0xFFFF {
		if at, val, ok := onlyHeader(head, "Sec-WebSocket-Key"); ok {
			var k headKey
			n, err := base64.StdEncoding.Decode(k[:], val)
			if err == nil && n == len(k) && k.String() == string(val) && (!t.hasKey || k == t.key) {
				t.key, t.hasKey = k, true
				return cutHead(head, at, len(val), keyHole)
			}
		}
		if at, val, ok := onlyHeader(head, "Sec-WebSocket-Accept"); ok && t.hasKey &&
			string(val) == wsframe.AcceptKey(t.key.String()) {
			return cutHead(head, at, len(val), acceptHole)
		}
	}
	return keptHead{tmpl: unique.Make(string(head)), set: true}
}

// cutHead returns head with head[at:at+n] cut out, to be put back as kind.
func cutHead(head []byte, at, n int, kind holeKind) keptHead {
	tmpl := make([]byte, 0, len(head)-n)
	tmpl = append(append(tmpl, head[:at]...), head[at+n:]...)
	return keptHead{tmpl: unique.Make(string(tmpl)), hole: uint16(at), kind: kind, set: true}
}

// bytes rebuilds the head h was kept from, with k the Tap's key, in a new
// exactly sized slice; nil when no head is kept.
func (h keptHead) bytes(k *headKey) []byte {
	if !h.set {
		return nil
	}
	tmpl := h.tmpl.Value()
	var val string
	switch h.kind {
	case keyHole:
		val = k.String()
	case acceptHole:
		val = wsframe.AcceptKey(k.String())
	}
	out := make([]byte, 0, len(tmpl)+len(val))
	return append(append(append(out, tmpl[:h.hole]...), val...), tmpl[h.hole:]...)
}

// onlyHeader finds the header called name in head (case-insensitive).
// It returns the offset and bytes of its value, without surrounding
// spaces; ok is false when there is no such header or more than one.
func onlyHeader(head []byte, name string) (at int, val []byte, ok bool) {
	const crlf = "\r\n"
	found := false
	for off := 0; off < len(head); {
		line, _, _ := bytes.Cut(head[off:], []byte(crlf))
		if n, v, colon := bytes.Cut(line, []byte(":")); colon && bytes.EqualFold(bytes.TrimSpace(n), []byte(name)) {
			if found {
				return 0, nil, false
			}
			found = true
			lead := len(v) - len(bytes.TrimLeft(v, " \t"))
			val = bytes.TrimRight(v[lead:], " \t")
			at = off + len(n) + 1 + lead
		}
		off += len(line) + len(crlf)
	}
	return at, val, found
}
