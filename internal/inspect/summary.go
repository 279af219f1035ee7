package inspect

import (
	"fmt"
	"strconv"
	"strings"
)

// Summary renders a Record on one line, for logs and terminals:
//
//	in  client text fin=1 rsv=000 mask=1 key=37fa213d len=5 (7-bit, header 6) "Hello"
//
// Control characters in payloads are escaped by strconv.Quote.
func Summary(r Record) string {
	var b strings.Builder
	switch r.Kind {
	case "handshake":
		h := r.Handshake
		fmt.Fprintf(&b, "handshake %q -> %q", h.Request, h.Status)
		if h.Accept != nil {
			fmt.Fprintf(&b, " accept: base64(sha1(%q + GUID)) = %s, sent %s (match=%t)",
				h.Accept.Key, h.Accept.Accept, h.Accept.Sent, h.Accept.Matches)
		}
		if h.Subprotocol != "" {
			fmt.Fprintf(&b, " subprotocol=%s", h.Subprotocol)
		}
		if h.Extensions != "" {
			fmt.Fprintf(&b, " extensions=%q", h.Extensions)
		}
		return b.String()
	case "frame":
	default:
		return r.Note
	}
	f := r.Frame
	fmt.Fprintf(&b, "%-3s %s %s fin=%d rsv=%d%d%d mask=%d", r.Dir, r.From, f.Op,
		b2i(f.Fin), b2i(f.RSV[0]), b2i(f.RSV[1]), b2i(f.RSV[2]), b2i(f.Masked))
	if f.Masked {
		fmt.Fprintf(&b, " key=%s", f.MaskKey)
	}
	fmt.Fprintf(&b, " len=%d (%s, header %d)", f.Length, f.LengthForm, f.HeaderSize)
	if f.Fragment != "" {
		fmt.Fprintf(&b, " fragment=%s", f.Fragment)
	}
	if f.Error != "" {
		fmt.Fprintf(&b, " ERROR=%q", f.Error)
	}
	if f.RTTms != nil {
		fmt.Fprintf(&b, " rtt=%.3fms", *f.RTTms)
	}
	if c := f.Close; c != nil {
		fmt.Fprintf(&b, " close code=%d", c.Code)
		if c.Reason != "" {
			fmt.Fprintf(&b, " reason=%q", c.Reason)
		}
		fmt.Fprintf(&b, " started_by=%s", c.StartedBy)
		if c.Reply {
			b.WriteString(" (reply)")
		}
	}
	switch {
	case f.Redacted:
		b.WriteString(" payload=" + Redacted)
	case f.Payload != "" && f.Close == nil:
		if f.PayloadHex {
			fmt.Fprintf(&b, " hex=%s", f.Payload)
		} else {
			b.WriteString(" " + strconv.Quote(f.Payload))
		}
		if f.Cut {
			b.WriteString("…")
		}
	}
	if m := f.Message; m != nil {
		fmt.Fprintf(&b, " | message %s of %d frame(s), %d bytes", m.Type, m.Frames, m.Length)
		if len(m.Events) > 0 {
			names := make([]string, len(m.Events))
			for i, e := range m.Events {
				names[i] = e.Name
			}
			fmt.Fprintf(&b, ", %d event(s): %s", len(m.Events), strings.Join(names, " "))
		}
	}
	return b.String()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
