package inspect

// Record is one line of the inspector's view, as JSON. docs/learn/inspector.md
// explains every field with the section of RFC 6455 it comes from.
type Record struct {
	T    float64 `json:"t"`    // milliseconds since the connection started
	Kind string  `json:"kind"` // "handshake", "frame", "note"
	// Dir is "in" (the peer sent it) or "out" (the tapped side sent it);
	// From names the sender: "client" or "server".
	Dir  string `json:"dir,omitempty"`
	From string `json:"from,omitempty"`

	Handshake *Handshake `json:"handshake,omitempty"`
	Frame     *FrameView `json:"frame,omitempty"`
	Note      string     `json:"note,omitempty"`
}

// Handshake is the HTTP Upgrade exchange (RFC 6455 §4).
type Handshake struct {
	Request         string      `json:"request"` // request line
	RequestHeaders  [][2]string `json:"request_headers"`
	RequestNote     string      `json:"request_note,omitempty"`
	Status          string      `json:"status"` // status line
	ResponseHeaders [][2]string `json:"response_headers"`
	Accept          *Accept     `json:"accept,omitempty"`
	Subprotocol     string      `json:"subprotocol,omitempty"`
	Extensions      string      `json:"extensions,omitempty"`
}

// Accept is how Sec-WebSocket-Accept derives from Sec-WebSocket-Key
// (§4.2.2, item 5.4), step by step, and whether the response matched.
type Accept struct {
	Key          string `json:"key"`          // Sec-WebSocket-Key
	GUID         string `json:"guid"`         // the fixed GUID of §1.3
	Concatenated string `json:"concatenated"` // key + GUID
	SHA1Hex      string `json:"sha1_hex"`     // SHA-1 of that, in hex
	Accept       string `json:"accept"`       // the SHA-1 digest in base64
	Sent         string `json:"sent"`         // Sec-WebSocket-Accept as the server sent it
	Matches      bool   `json:"matches"`
}

// FrameView is one frame (§5.2) and what it means.
type FrameView struct {
	Fin        bool    `json:"fin"`
	RSV        [3]bool `json:"rsv"`
	Opcode     byte    `json:"opcode"`
	Op         string  `json:"op"` // text, binary, continuation, close, ping, pong, reserved(0xN)
	Masked     bool    `json:"masked"`
	MaskKey    string  `json:"mask_key,omitempty"` // hex, when Masked (§5.3)
	Length     uint64  `json:"length"`             // payload bytes
	LengthForm string  `json:"length_form"`        // 7-bit, 16-bit or 64-bit
	HeaderSize int     `json:"header_size"`        // bytes of the header: 2 to 14
	// Fragment places a frame of a fragmented message (§5.4): "first",
	// "middle" or "last"; empty for a message in one frame.
	Fragment string `json:"fragment,omitempty"`
	// Payload is the unmasked payload: text as text, anything else in
	// hex (PayloadHex), cut to a few hundred bytes (Cut).
	Payload    string `json:"payload,omitempty"`
	PayloadHex bool   `json:"payload_hex,omitempty"`
	Cut        bool   `json:"cut,omitempty"`
	Redacted   bool   `json:"redacted,omitempty"` // the payload is hidden
	Error      string `json:"error,omitempty"`    // a rule of RFC 6455 the frame breaks

	Message *MessageView `json:"message,omitempty"` // this frame completed a data message
	Close   *CloseView   `json:"close,omitempty"`   // a close frame (§5.5.1)
	// RTTms, on a pong, is the time since the ping it answers crossed the
	// wire the other way (§5.5.2, §5.5.3).
	RTTms *float64 `json:"rtt_ms,omitempty"`
}

// MessageView is a complete data message (§5.6) and the hubbub events
// it carries: hubbub coalesces several events, one per line, in a frame.
type MessageView struct {
	Type    string      `json:"type"` // text or binary
	Frames  int         `json:"frames"`
	Length  uint64      `json:"length"`
	BadUTF8 bool        `json:"bad_utf8,omitempty"` // text that is not UTF-8 (§8.1)
	Events  []EventView `json:"events,omitempty"`
}

// EventView is one hubbub command (client to server) or event (server to
// client): its op or type, and its JSON (reduced to op, type, id, room
// and code when redacted).
type EventView struct {
	Name     string `json:"name"`
	JSON     string `json:"json"`
	Cut      bool   `json:"cut,omitempty"`
	Redacted bool   `json:"redacted,omitempty"`
}

// CloseView is the content of a close frame (§5.5.1, §7.4).
type CloseView struct {
	Code      uint16 `json:"code"` // 1005: the frame had no code
	Reason    string `json:"reason,omitempty"`
	Redacted  bool   `json:"redacted,omitempty"` // the reason is hidden
	StartedBy string `json:"started_by"`         // client or server: who sent the first close frame
	Reply     bool   `json:"reply,omitempty"`    // this frame answers the other side's close
	Error     string `json:"error,omitempty"`
}
