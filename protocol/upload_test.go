package protocol_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/hubbub-chat/hubbub/protocol"
)

func TestReadChunkHeader(t *testing.T) {
	good := protocol.AppendChunkHeader(nil, protocol.ChunkHeader{Upload: "f_7QmZ2xWcKpR4", Offset: 40960})
	tests := []struct {
		name    string
		in      []byte
		want    protocol.ChunkHeader
		wantErr error // nil, protocol.ErrNotChunk, io.EOF or io.ErrUnexpectedEOF
	}{
		{"valid", append(good, "data"...), protocol.ChunkHeader{Upload: "f_7QmZ2xWcKpR4", Offset: 40960}, nil},
		{"empty", nil, protocol.ChunkHeader{}, io.EOF},
		{"version 2", append([]byte{2}, good[1:]...), protocol.ChunkHeader{}, protocol.ErrNotChunk},
		{"no id", []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0}, protocol.ChunkHeader{}, protocol.ErrNotChunk},
		{"id too long", append([]byte{1, 65}, strings.Repeat("a", 73)...), protocol.ChunkHeader{}, protocol.ErrNotChunk},
		{"bad id", protocol.AppendChunkHeader(nil, protocol.ChunkHeader{Upload: "f_a/b"}), protocol.ChunkHeader{}, protocol.ErrNotChunk},
		{"not f_", protocol.AppendChunkHeader(nil, protocol.ChunkHeader{Upload: "x_ab"}), protocol.ChunkHeader{}, protocol.ErrNotChunk},
		{"negative offset", protocol.AppendChunkHeader(nil, protocol.ChunkHeader{Upload: "f_a", Offset: -1}), protocol.ChunkHeader{}, protocol.ErrNotChunk},
		{"cut in the id", good[:5], protocol.ChunkHeader{}, io.ErrUnexpectedEOF},
		{"cut in the offset", good[:len(good)-1], protocol.ChunkHeader{}, io.ErrUnexpectedEOF},
		{"one byte", good[:1], protocol.ChunkHeader{}, io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := bytes.NewReader(tc.in)
			got, err := protocol.ReadChunkHeader(r)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("ReadChunkHeader(%q) error = %v, want %v", tc.in, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("ReadChunkHeader(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			if err == nil {
				rest, _ := io.ReadAll(r)
				if string(rest) != "data" {
					t.Errorf("left %q unread, want %q", rest, "data")
				}
			}
		})
	}
}

// FuzzChunkHeader checks ReadChunkHeader's promises on any input: it never
// panics; it reads no further than the header; what it accepts has a valid
// id and encodes back to the bytes it read; what it refuses wraps
// ErrNotChunk or says the header was cut short.
func FuzzChunkHeader(f *testing.F) {
	f.Add(protocol.AppendChunkHeader(nil, protocol.ChunkHeader{Upload: "f_7QmZ2xWcKpR4", Offset: 40960}))
	f.Add(append(protocol.AppendChunkHeader(nil, protocol.ChunkHeader{Upload: "f_a", Offset: 1 << 62}), 0xff, 0xd8))
	f.Add([]byte{1, 64})
	f.Add([]byte{0})
	f.Add([]byte(`{"op":"ping"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		h, err := protocol.ReadChunkHeader(r)
		if err != nil {
			if !errors.Is(err, protocol.ErrNotChunk) && err != io.EOF && err != io.ErrUnexpectedEOF {
				t.Fatalf("ReadChunkHeader(%q) = %v, not ErrNotChunk nor a short read", data, err)
			}
			return
		}
		if err := protocol.CheckFileID(h.Upload); err != nil {
			t.Fatalf("ReadChunkHeader(%q) accepted id %q: %v", data, h.Upload, err)
		}
		if h.Offset < 0 {
			t.Fatalf("ReadChunkHeader(%q) accepted offset %d", data, h.Offset)
		}
		read := len(data) - r.Len()
		if read != h.Len() {
			t.Fatalf("ReadChunkHeader(%q) read %d bytes, header is %d", data, read, h.Len())
		}
		if back := protocol.AppendChunkHeader(nil, h); !bytes.Equal(back, data[:read]) {
			t.Fatalf("ReadChunkHeader(%q) = %+v, which encodes to %q", data, h, back)
		}
	})
}

func TestValidateUpload(t *testing.T) {
	const sum = "9f2c1d7e4b8a0c3f5e6d7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d"
	tests := []struct {
		name string
		in   string
		want protocol.Code // "" for valid
	}{
		{"start", `{"op":"upload","name":"a.png","size":3,"sha256":"` + sum + `"}`, ""},
		{"start with type", `{"op":"upload","name":"a.png","size":3,"type":"image/png","sha256":"` + sum + `"}`, ""},
		{"resume", `{"op":"upload","upload":"f_abc"}`, ""},
		{"resume with name", `{"op":"upload","upload":"f_abc","name":"a.png"}`, protocol.CodeInvalidValue},
		{"no name", `{"op":"upload","size":3,"sha256":"` + sum + `"}`, protocol.CodeMissingField},
		{"no sha256", `{"op":"upload","name":"a","size":3}`, protocol.CodeMissingField},
		{"size 0", `{"op":"upload","name":"a","size":0,"sha256":"` + sum + `"}`, protocol.CodeInvalidValue},
		{"upper-case sum", `{"op":"upload","name":"a","size":1,"sha256":"` + strings.ToUpper(sum) + `"}`, protocol.CodeInvalidValue},
		{"path", `{"op":"upload","name":"../etc/passwd","size":1,"sha256":"` + sum + `"}`, protocol.CodeInvalidValue},
		{"control", `{"op":"upload","name":"a\u001b[2Jb","size":1,"sha256":"` + sum + `"}`, protocol.CodeInvalidValue},
		{"bidi", `{"op":"upload","name":"gpj.\u202eexe","size":1,"sha256":"` + sum + `"}`, protocol.CodeInvalidValue},
		{"long name", `{"op":"upload","name":"` + strings.Repeat("é", 128) + `","size":1,"sha256":"` + sum + `"}`, protocol.CodeTooLong},
		{"type with space", `{"op":"upload","name":"a","size":1,"type":"image/ png","sha256":"` + sum + `"}`, protocol.CodeInvalidValue},
		{"bad resume id", `{"op":"upload","upload":"abc"}`, protocol.CodeInvalidValue},
		{"send file no caption", `{"op":"send","room":"lobby","body":"","file":"f_abc"}`, ""},
		{"send no file no body", `{"op":"send","room":"lobby","body":""}`, protocol.CodeInvalidValue},
		{"send bad file", `{"op":"send","room":"lobby","body":"x","file":"abc"}`, protocol.CodeInvalidValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := protocol.Decode([]byte(tc.in))
			got := protocol.Code("")
			if err != nil {
				got = protocol.CodeOf(err)
			}
			if got != tc.want {
				t.Errorf("Decode(%s) = %v, want code %q", tc.in, err, tc.want)
			}
		})
	}
}
