package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Uploads. A file travels as binary WebSocket messages, each one chunk of
// one upload: a header that names the upload and the offset of the chunk
// in the file, then the chunk's bytes.
//
//	byte 0      ChunkVersion (1)
//	byte 1      n, the length of the upload id (1 to MaxIDBytes)
//	bytes 2..   the upload id, n bytes of ASCII (see CheckFileID)
//	8 bytes     the offset of the chunk in the file, big-endian, unsigned
//	the rest    the chunk: 1 to MaxChunkBytes bytes
//
// The upload command starts an upload (or tells where to resume one); the
// server answers each chunk with an upload event; docs/protocol.md, "Files",
// has the whole exchange.

// ChunkVersion is the first byte of every upload chunk of protocol v1.
const ChunkVersion = 1

// MaxChunkBytes is the most file bytes in one binary message. With the
// largest header it keeps the message under the default frame limit
// (MaxFrameBytes); a server with a lower limit says its own in the ok of
// upload (UploadState.Chunk).
const MaxChunkBytes = 60 << 10

// MaxChunkHeaderBytes is the longest chunk header: version, id length, the
// longest id and the offset.
const MaxChunkHeaderBytes = 2 + MaxIDBytes + 8

// MaxFileNameBytes is the longest file name, in bytes of UTF-8.
const MaxFileNameBytes = 255

// MaxMediaTypeBytes is the longest media type an upload may declare.
const MaxMediaTypeBytes = 127

// ErrNotChunk is wrapped by every error of ReadChunkHeader about a header
// that is malformed (as opposed to one cut short: io.ErrUnexpectedEOF).
var ErrNotChunk = errors.New("not an upload chunk")

// ChunkHeader is the header of one binary message of an upload.
type ChunkHeader struct {
	Upload string // the upload id
	Offset int64  // where the chunk's first byte goes in the file
}

// Len is the size of h on the wire.
func (h ChunkHeader) Len() int { return 2 + len(h.Upload) + 8 }

// AppendChunkHeader appends the wire form of h to dst. It does not check
// h: a header with an invalid id is refused by the server.
func AppendChunkHeader(dst []byte, h ChunkHeader) []byte {
	dst = append(dst, ChunkVersion, byte(len(h.Upload)))
	dst = append(dst, h.Upload...)
	return binary.BigEndian.AppendUint64(dst, uint64(h.Offset))
}

// ReadChunkHeader reads one chunk header from r, and nothing past it, so
// that r is left at the chunk's first byte. It refuses, with an error
// wrapping ErrNotChunk, a version other than ChunkVersion, an id that
// CheckFileID refuses, and an offset past 2^63-1; a header cut short is
// io.ErrUnexpectedEOF (io.EOF if r had nothing at all).
func ReadChunkHeader(r io.Reader) (ChunkHeader, error) {
	var h ChunkHeader
	var buf [MaxChunkHeaderBytes]byte
	if _, err := io.ReadFull(r, buf[:2]); err != nil {
		return h, err
	}
	if buf[0] != ChunkVersion {
		return h, fmt.Errorf("chunk version %d: %w", buf[0], ErrNotChunk)
	}
	n := int(buf[1])
	if n == 0 || n > MaxIDBytes {
		return h, fmt.Errorf("upload id of %d bytes: %w", n, ErrNotChunk)
	}
	if _, err := io.ReadFull(r, buf[2:2+n+8]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return h, err
	}
	id := string(buf[2 : 2+n])
	if CheckFileID(id) != nil {
		return h, fmt.Errorf("invalid upload id: %w", ErrNotChunk)
	}
	off := binary.BigEndian.Uint64(buf[2+n:])
	if off > 1<<63-1 {
		return h, fmt.Errorf("offset out of range: %w", ErrNotChunk)
	}
	h.Upload, h.Offset = id, int64(off)
	return h, nil
}

// UploadState is where an upload stands: the ok of an upload command and
// the upload event after each chunk carry it.
type UploadState struct {
	ID     string `json:"id"`
	Offset int64  `json:"offset"`          // bytes received and stored: send the next chunk from here
	Size   int64  `json:"size"`            // the file's size
	Chunk  int    `json:"chunk,omitempty"` // ok of upload: the most file bytes this server takes in one binary message
	File   *File  `json:"file,omitempty"`  // upload event: the file is complete and verified; attach it with send's file
}

// CheckFileID reports whether id is a valid upload (and file) id: "f_" and
// then 1 to 62 characters of A-Z, a-z, 0-9, '-' and '_'.
func CheckFileID(id string) error {
	rest, ok := strings.CutPrefix(id, "f_")
	if !ok || rest == "" {
		return Errorf(CodeInvalidValue, "a file id starts with f_")
	}
	if len(id) > MaxIDBytes {
		return Errorf(CodeTooLong, "file id is longer than %d bytes", MaxIDBytes)
	}
	for i := 0; i < len(rest); i++ {
		b := rest[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
			return Errorf(CodeInvalidValue, "file ids use A-Z, a-z, 0-9, - and _")
		}
	}
	return nil
}

// CheckFileName reports whether name is a valid file name: 1 to 255 bytes
// of UTF-8, no control or format characters, no '/' or '\', not "." or
// "..", and no leading or trailing space.
func CheckFileName(name string) error {
	if name == "" {
		return Errorf(CodeInvalidValue, "file name is empty")
	}
	if len(name) > MaxFileNameBytes {
		return Errorf(CodeTooLong, "file name is longer than %d bytes", MaxFileNameBytes)
	}
	if !utf8.ValidString(name) {
		return Errorf(CodeInvalidValue, "file name is not valid UTF-8")
	}
	if name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return Errorf(CodeInvalidValue, "a file name is a name, not a path")
	}
	if strings.TrimSpace(name) != name {
		return Errorf(CodeInvalidValue, "file name starts or ends with a space")
	}
	for _, r := range name {
		if unsafeRune(r) {
			return Errorf(CodeInvalidValue, "file name contains a control character")
		}
	}
	return nil
}

// CheckSHA256 reports whether s is a SHA-256 digest in hex: 64 characters
// of 0-9 and a-f.
func CheckSHA256(s string) error {
	if len(s) != 64 {
		return Errorf(CodeInvalidValue, "sha256 is 64 hex digits")
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= '0' && b <= '9' || b >= 'a' && b <= 'f') {
			return Errorf(CodeInvalidValue, "sha256 is 64 lower-case hex digits")
		}
	}
	return nil
}

// validateUpload checks an upload command: a resume names the upload and
// nothing else; a start gives name, size and sha256, and may give type.
func (c *Command) validateUpload() error {
	if c.Upload != "" {
		if c.Name != "" || c.Size != 0 || c.Type != "" || c.SHA256 != "" {
			return Errorf(CodeInvalidValue, "resume an upload with upload alone")
		}
		return CheckFileID(c.Upload)
	}
	if c.Name == "" {
		return Errorf(CodeMissingField, "op upload needs field \"name\" (or \"upload\" to resume)")
	}
	if c.SHA256 == "" {
		return Errorf(CodeMissingField, "op upload needs field \"sha256\"")
	}
	if err := CheckFileName(c.Name); err != nil {
		return err
	}
	if c.Size < 1 {
		return Errorf(CodeInvalidValue, "size must be at least 1")
	}
	if len(c.Type) > MaxMediaTypeBytes {
		return Errorf(CodeTooLong, "type is longer than %d bytes", MaxMediaTypeBytes)
	}
	for i := 0; i < len(c.Type); i++ {
		if b := c.Type[i]; b <= ' ' || b >= 0x7f {
			return Errorf(CodeInvalidValue, "type is a media type such as image/png")
		}
	}
	return CheckSHA256(c.SHA256)
}
