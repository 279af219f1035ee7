package wsframe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Opcode is the 4-bit frame type of §5.2.
type Opcode byte

// The opcodes RFC 6455 defines (§5.2, §11.8). 0x3-0x7 are reserved for
// further non-control frames, 0xB-0xF for further control frames.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether op is a control opcode: its most significant
// bit is set (§5.5).
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// IsReserved reports whether op is one of the reserved opcodes 0x3-0x7 and
// 0xB-0xF (§5.2).
func (op Opcode) IsReserved() bool {
	return (op >= 0x3 && op <= 0x7) || op >= 0xB
}

func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return fmt.Sprintf("reserved(0x%X)", byte(op))
}

// LengthForm says how a frame header encoded its payload length (§5.2):
// in the 7 bits of the second byte, or as 126 followed by 16 bits, or as
// 127 followed by 64 bits.
type LengthForm uint8

// The three length forms.
const (
	Length7  LengthForm = 7
	Length16 LengthForm = 16
	Length64 LengthForm = 64
)

func (f LengthForm) String() string { return fmt.Sprintf("%d-bit", uint8(f)) }

// MaxControlPayload is the largest payload of a control frame (§5.5).
const MaxControlPayload = 125

// MaxHeaderSize is the largest frame header: 2 bytes, 8 bytes of extended
// length and a 4-byte masking key (§5.2).
const MaxHeaderSize = 14

// Header is one decoded frame header (§5.2).
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-------+-+-------------+-------------------------------+
//	|F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//	|I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//	|N|V|V|V|       |S|             |   (if payload len==126/127)   |
//	| |1|2|3|       |K|             |                               |
//	+-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//	|     Extended payload length continued, if payload len == 127  |
//	+ - - - - - - - - - - - - - - - +-------------------------------+
//	|                               |Masking-key, if MASK set to 1  |
//	+-------------------------------+-------------------------------+
type Header struct {
	Fin              bool
	Rsv1, Rsv2, Rsv3 bool // must be 0 unless an extension defines them (§5.2)
	Opcode           Opcode
	Masked           bool    // client-to-server frames are masked, server-to-client ones are not (§5.1)
	MaskKey          [4]byte // meaningful only when Masked
	Length           uint64  // payload length in bytes
	LengthForm       LengthForm
	Size             int // bytes of the header itself: 2 to 14
}

// Errors of the frame layer. Header.Check and the Parser return them,
// possibly wrapped; compare with errors.Is.
var (
	// ErrShortHeader means the bytes given end before the header does.
	ErrShortHeader = errors.New("wsframe: incomplete frame header")
	// ErrBadLength: a 64-bit length with its most significant bit set (§5.2).
	// The stream cannot be followed past it.
	ErrBadLength = errors.New("wsframe: 64-bit payload length has its most significant bit set")
	// ErrNonMinimalLength: the length was not encoded in the shortest form,
	// which §5.2 requires ("the minimal number of bytes MUST be used").
	ErrNonMinimalLength = errors.New("wsframe: payload length not in its minimal form")
	// ErrReservedOpcode: an opcode that RFC 6455 reserves (§5.2).
	ErrReservedOpcode = errors.New("wsframe: reserved opcode")
	// ErrControlTooLong: a control frame with more than 125 bytes of payload (§5.5).
	ErrControlTooLong = errors.New("wsframe: control frame payload longer than 125 bytes")
	// ErrControlFragmented: a control frame without FIN (§5.5).
	ErrControlFragmented = errors.New("wsframe: fragmented control frame")
)

// headerSize returns the size of the header that starts with bytes b0 and
// b1: 2, plus 2 or 8 bytes of extended length, plus 4 of masking key.
func headerSize(b0, b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// ParseHeader decodes the frame header at the start of b. It returns
// ErrShortHeader when b ends before the header does (at most
// MaxHeaderSize bytes are needed), and ErrBadLength for a 64-bit length
// with its top bit set. It does not apply the rules of Check: a header
// with a reserved opcode parses without error.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < 2 {
		return Header{}, ErrShortHeader
	}
	size := headerSize(b[0], b[1])
	if len(b) < size {
		return Header{}, ErrShortHeader
	}
	h := Header{
		// §5.2: FIN is the top bit of the first byte, then RSV1-3, then
		// the 4-bit opcode.
		Fin:    b[0]&0x80 != 0,
		Rsv1:   b[0]&0x40 != 0,
		Rsv2:   b[0]&0x20 != 0,
		Rsv3:   b[0]&0x10 != 0,
		Opcode: Opcode(b[0] & 0x0F),
		// §5.2: MASK is the top bit of the second byte, then 7 bits of
		// length.
		Masked: b[1]&0x80 != 0,
		Size:   size,
	}
	i := 2
	switch n := b[1] & 0x7F; n {
	case 126: // §5.2: "If 126, the following 2 bytes interpreted as a 16-bit unsigned integer"
		h.Length = uint64(binary.BigEndian.Uint16(b[2:4]))
		h.LengthForm = Length16
		i = 4
	case 127: // §5.2: "If 127, the following 8 bytes ... 64-bit unsigned integer (the most significant bit MUST be 0)"
		h.Length = binary.BigEndian.Uint64(b[2:10])
		h.LengthForm = Length64
		i = 10
		if h.Length>>63 != 0 {
			return h, ErrBadLength
		}
	default: // §5.2: "if 0-125, that is the payload length"
		h.Length = uint64(n)
		h.LengthForm = Length7
	}
	if h.Masked {
		copy(h.MaskKey[:], b[i:i+4]) // §5.2: the 32-bit masking key follows the length
	}
	return h, nil
}

// ReadHeader reads exactly one frame header from r (two reads at most)
// and decodes it with ParseHeader. It returns io.EOF only if r ends
// before the first byte, and io.ErrUnexpectedEOF if it ends inside the
// header.
func ReadHeader(r io.Reader) (Header, error) {
	var b [MaxHeaderSize]byte
	if _, err := io.ReadFull(r, b[:2]); err != nil {
		return Header{}, err
	}
	size := headerSize(b[0], b[1])
	if _, err := io.ReadFull(r, b[2:size]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Header{}, err
	}
	return ParseHeader(b[:size])
}

// Check applies the rules that hold for every frame on every connection:
// no reserved opcode (§5.2), control frames are at most 125 bytes and not
// fragmented (§5.5), and lengths use their minimal form (§5.2). It
// returns the first rule broken, or nil.
//
// It does not check what depends on the connection: the RSV bits (which
// an extension may define), the mask bit (set from client to server,
// clear from server to client, §5.1) and the order of fragments
// (Assembler does).
func (h Header) Check() error {
	switch {
	case h.Opcode.IsReserved():
		return ErrReservedOpcode
	case h.Opcode.IsControl() && h.Length > MaxControlPayload:
		return ErrControlTooLong
	case h.Opcode.IsControl() && !h.Fin:
		return ErrControlFragmented
	case h.LengthForm == Length16 && h.Length < 126,
		h.LengthForm == Length64 && h.Length <= 0xFFFF:
		return ErrNonMinimalLength
	}
	return nil
}

// AppendFrame appends to dst one frame carrying payload and returns the
// extended slice. From h it uses Fin, the RSV bits, Opcode, Masked and
// MaskKey; the length and its form come from len(payload), always in the
// minimal form (§5.2). When h.Masked is set the payload is masked with
// h.MaskKey as it is copied (§5.3); payload itself is not modified.
//
// AppendFrame does not check h: it encodes a reserved opcode or an
// oversized control frame as asked, which tests need.
func AppendFrame(dst []byte, h Header, payload []byte) []byte {
	dst = AppendHeader(dst, h, len(payload))
	if !h.Masked {
		return append(dst, payload...)
	}
	start := len(dst)
	dst = append(dst, payload...)
	Mask(h.MaskKey, 0, dst[start:])
	return dst
}

// AppendHeader appends to dst the header of a frame of n payload bytes
// (n ≥ 0), as AppendFrame writes it, mask key included when h.Masked:
// for a writer that appends or sends the payload itself.
func AppendHeader(dst []byte, h Header, n int) []byte {
	var b0 byte
	if h.Fin {
		b0 |= 0x80
	}
	if h.Rsv1 {
		b0 |= 0x40
	}
	if h.Rsv2 {
		b0 |= 0x20
	}
	if h.Rsv3 {
		b0 |= 0x10
	}
	b0 |= byte(h.Opcode) & 0x0F
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	switch {
	case n <= 125:
		dst = append(dst, b0, b1|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, b0, b1|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if h.Masked {
		dst = append(dst, h.MaskKey[:]...)
	}
	return dst
}

// Mask XORs b in place with the masking key, as if b began at byte pos of
// the payload, and returns the position after b. Masking and unmasking
// are the same operation (§5.3):
//
//	transformed-octet-i = original-octet-i XOR masking-key-octet-(i MOD 4)
//
// Passing the returned position back in lets a payload that arrives in
// pieces be unmasked piece by piece.
func Mask(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return pos + len(b)
}
