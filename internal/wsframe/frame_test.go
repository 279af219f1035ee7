package wsframe

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// parseAll feeds stream to a new Parser in chunks of the given sizes
// (cycled; nil: all at once) and returns the frames and the error.
func parseAll(t testing.TB, maxPayload int, stream []byte, chunks []int) ([]Frame, error) {
	t.Helper()
	var got []Frame
	p := NewParser(maxPayload, func(f Frame) { got = append(got, f) })
	if len(chunks) == 0 {
		_, err := p.Write(stream)
		return got, err
	}
	for i := 0; len(stream) > 0; i++ {
		n := min(chunks[i%len(chunks)], len(stream))
		if _, err := p.Write(stream[:n]); err != nil {
			return got, err
		}
		stream = stream[n:]
	}
	return got, nil
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func repeat(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

var frameCmp = cmp.Options{cmpopts.EquateEmpty(), cmpopts.EquateErrors()}

// TestRFCExamples decodes the examples of RFC 6455 §5.7, whole and one
// byte at a time.
func TestRFCExamples(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	hello := []byte("Hello")
	tests := []struct {
		name   string
		stream []byte
		want   []Frame
	}{
		{
			name:   "single-frame unmasked text",
			stream: []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
			want: []Frame{{Header: Header{Fin: true, Opcode: OpText, Length: 5, LengthForm: Length7, Size: 2},
				Payload: hello}},
		},
		{
			name:   "single-frame masked text",
			stream: []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
			want: []Frame{{Header: Header{Fin: true, Opcode: OpText, Masked: true, MaskKey: key, Length: 5, LengthForm: Length7, Size: 6},
				Payload: hello}},
		},
		{
			name:   "fragmented unmasked text",
			stream: []byte{0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f},
			want: []Frame{
				{Header: Header{Opcode: OpText, Length: 3, LengthForm: Length7, Size: 2}, Payload: []byte("Hel")},
				{Header: Header{Fin: true, Opcode: OpContinuation, Length: 2, LengthForm: Length7, Size: 2}, Offset: 5, Payload: []byte("lo")},
			},
		},
		{
			name:   "unmasked ping",
			stream: []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
			want: []Frame{{Header: Header{Fin: true, Opcode: OpPing, Length: 5, LengthForm: Length7, Size: 2},
				Payload: hello}},
		},
		{
			name:   "masked pong",
			stream: []byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
			want: []Frame{{Header: Header{Fin: true, Opcode: OpPong, Masked: true, MaskKey: key, Length: 5, LengthForm: Length7, Size: 6},
				Payload: hello}},
		},
		{
			name:   "256 bytes binary, 16-bit length",
			stream: cat([]byte{0x82, 0x7E, 0x01, 0x00}, repeat(0xAB, 256)),
			want: []Frame{{Header: Header{Fin: true, Opcode: OpBinary, Length: 256, LengthForm: Length16, Size: 4},
				Payload: repeat(0xAB, 256)}},
		},
		{
			name:   "64 KiB binary, 64-bit length",
			stream: cat([]byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}, repeat(0xCD, 65536)),
			want: []Frame{{Header: Header{Fin: true, Opcode: OpBinary, Length: 65536, LengthForm: Length64, Size: 10},
				Payload: repeat(0xCD, 65536)}},
		},
	}
	for _, tt := range tests {
		for _, chunks := range [][]int{nil, {1}, {3, 1, 7}} {
			t.Run(fmt.Sprintf("%s/chunks=%v", tt.name, chunks), func(t *testing.T) {
				got, err := parseAll(t, 1<<20, tt.stream, chunks)
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				if diff := cmp.Diff(tt.want, got, frameCmp); diff != "" {
					t.Errorf("frames (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestAppendFrameRFCExamples(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	tests := []struct {
		name    string
		h       Header
		payload []byte
		want    []byte
	}{
		{"unmasked text", Header{Fin: true, Opcode: OpText}, []byte("Hello"),
			[]byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
		{"masked text", Header{Fin: true, Opcode: OpText, Masked: true, MaskKey: key}, []byte("Hello"),
			[]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
		{"first fragment", Header{Opcode: OpText}, []byte("Hel"), []byte{0x01, 0x03, 0x48, 0x65, 0x6c}},
		{"last fragment", Header{Fin: true, Opcode: OpContinuation}, []byte("lo"), []byte{0x80, 0x02, 0x6c, 0x6f}},
		{"masked pong", Header{Fin: true, Opcode: OpPong, Masked: true, MaskKey: key}, []byte("Hello"),
			[]byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
		{"256 bytes", Header{Fin: true, Opcode: OpBinary}, repeat(1, 256), cat([]byte{0x82, 0x7E, 0x01, 0x00}, repeat(1, 256))},
		{"64 KiB", Header{Fin: true, Opcode: OpBinary}, repeat(2, 65536), cat([]byte{0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}, repeat(2, 65536))},
		{"rsv bits", Header{Fin: true, Rsv1: true, Rsv2: true, Rsv3: true, Opcode: OpBinary}, nil, []byte{0xF2, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := bytes.Clone(tt.payload)
			got := AppendFrame(nil, tt.h, payload)
			if !bytes.Equal(got, tt.want) {
				t.Errorf("AppendFrame = % x\nwant          % x", got, tt.want)
			}
			if !bytes.Equal(payload, tt.payload) {
				t.Errorf("AppendFrame modified its payload")
			}
		})
	}
}

func TestParseHeaderRules(t *testing.T) {
	tests := []struct {
		name      string
		b         []byte
		parseErr  error
		checkErr  error
		wantLen   uint64
		wantForm  LengthForm
		wantFrame bool
	}{
		{"empty", nil, ErrShortHeader, nil, 0, 0, false},
		{"one byte", []byte{0x81}, ErrShortHeader, nil, 0, 0, false},
		{"16-bit length cut", []byte{0x82, 126, 1}, ErrShortHeader, nil, 0, 0, false},
		{"mask key cut", []byte{0x81, 0x85, 1, 2, 3}, ErrShortHeader, nil, 0, 0, false},
		{"64-bit top bit", []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, ErrBadLength, nil, 1 << 63, Length64, false},
		{"reserved data opcode", []byte{0x83, 0}, nil, ErrReservedOpcode, 0, Length7, true},
		{"reserved control opcode", []byte{0x8B, 0}, nil, ErrReservedOpcode, 0, Length7, true},
		{"ping of 126", []byte{0x89, 126, 0, 126}, nil, ErrControlTooLong, 126, Length16, true},
		{"ping of 125", []byte{0x89, 125}, nil, nil, 125, Length7, true},
		{"fragmented close", []byte{0x08, 0}, nil, ErrControlFragmented, 0, Length7, true},
		{"non-minimal 16", []byte{0x82, 126, 0, 125}, nil, ErrNonMinimalLength, 125, Length16, true},
		{"non-minimal 64", []byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF}, nil, ErrNonMinimalLength, 0xFFFF, Length64, true},
		{"minimal 64", []byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}, nil, nil, 0x10000, Length64, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseHeader(tt.b)
			if !errors.Is(err, tt.parseErr) {
				t.Fatalf("ParseHeader err = %v, want %v", err, tt.parseErr)
			}
			if err != nil && tt.parseErr != ErrBadLength {
				return
			}
			if h.Length != tt.wantLen || h.LengthForm != tt.wantForm {
				t.Errorf("length = %d %v, want %d %v", h.Length, h.LengthForm, tt.wantLen, tt.wantForm)
			}
			if err != nil {
				return
			}
			if got := h.Check(); !errors.Is(got, tt.checkErr) {
				t.Errorf("Check = %v, want %v", got, tt.checkErr)
			}
			// The Parser reports the same rule on the frame.
			stream := cat(tt.b, make([]byte, h.Length))
			frames, perr := parseAll(t, 0, stream, []int{1})
			if perr != nil || len(frames) != 1 {
				t.Fatalf("Parser: %d frames, err %v; want 1 frame", len(frames), perr)
			}
			if !errors.Is(frames[0].Err, tt.checkErr) {
				t.Errorf("Frame.Err = %v, want %v", frames[0].Err, tt.checkErr)
			}
		})
	}
}

func TestParserBadLengthIsSticky(t *testing.T) {
	stream := cat([]byte{0x81, 0x02, 'h', 'i'}, []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, []byte{0x81, 0x00})
	var got []Frame
	p := NewParser(10, func(f Frame) { got = append(got, f) })
	n, err := p.Write(stream)
	if !errors.Is(err, ErrBadLength) {
		t.Fatalf("Write err = %v, want ErrBadLength", err)
	}
	if n != 14 {
		t.Errorf("Write consumed %d bytes, want 14 (up to the end of the bad header)", n)
	}
	if len(got) != 1 || string(got[0].Payload) != "hi" {
		t.Errorf("frames before the bad one: %+v, want the one \"hi\" frame", got)
	}
	if _, err := p.Write([]byte{0x81, 0}); !errors.Is(err, ErrBadLength) {
		t.Errorf("later Write err = %v, want ErrBadLength again", err)
	}
	if !errors.Is(p.Err(), ErrBadLength) {
		t.Errorf("Err() = %v, want ErrBadLength", p.Err())
	}
}

func TestParserTruncates(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	payload := []byte("0123456789abcdef")
	stream := AppendFrame(nil, Header{Fin: true, Opcode: OpBinary, Masked: true, MaskKey: key}, payload)
	stream = AppendFrame(stream, Header{Fin: true, Opcode: OpText}, []byte("ok"))
	for _, chunks := range [][]int{nil, {1}, {5, 2}} {
		got, err := parseAll(t, 4, stream, chunks)
		if err != nil {
			t.Fatal(err)
		}
		want := []Frame{
			{Header: Header{Fin: true, Opcode: OpBinary, Masked: true, MaskKey: key, Length: 16, LengthForm: Length7, Size: 6},
				Payload: []byte("0123"), Truncated: true},
			{Header: Header{Fin: true, Opcode: OpText, Length: 2, LengthForm: Length7, Size: 2}, Offset: 22, Payload: []byte("ok")},
		}
		if diff := cmp.Diff(want, got, frameCmp); diff != "" {
			t.Errorf("chunks %v: frames (-want +got):\n%s", chunks, diff)
		}
	}
}

func TestParserInFrame(t *testing.T) {
	p := NewParser(0, func(Frame) {})
	steps := []struct {
		b    []byte
		want bool
	}{
		{nil, false},
		{[]byte{0x81}, true},
		{[]byte{0x03, 'a'}, true},
		{[]byte{'b', 'c'}, false},
	}
	for i, s := range steps {
		p.Write(s.b)
		if got := p.InFrame(); got != s.want {
			t.Errorf("step %d: InFrame = %v, want %v", i, got, s.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	var stream []byte
	var want []Frame
	sizes := []int{0, 1, 125, 126, 127, 0xFFFF, 0x10000, 70000}
	for i, n := range sizes {
		h := Header{Fin: i%2 == 0, Opcode: OpBinary, Rsv2: i%3 == 0, Masked: i%2 == 1, MaskKey: [4]byte{byte(i), 0xFF, 7, byte(n)}}
		payload := make([]byte, n)
		for j := range payload {
			payload[j] = byte(j * 7)
		}
		off := int64(len(stream))
		stream = AppendFrame(stream, h, payload)
		h.Length = uint64(n)
		h.LengthForm = Length7
		h.Size = 2
		switch {
		case n > 0xFFFF:
			h.LengthForm, h.Size = Length64, 10
		case n > 125:
			h.LengthForm, h.Size = Length16, 4
		}
		if h.Masked {
			h.Size += 4
		} else {
			h.MaskKey = [4]byte{} // not sent, so not parsed
		}
		want = append(want, Frame{Header: h, Offset: off, Payload: payload})
	}
	got, err := parseAll(t, 1<<20, stream, []int{999})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, frameCmp); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestReadHeader(t *testing.T) {
	stream := []byte{0x81, 0xFE, 0x01, 0x00, 9, 8, 7, 6, 'x'}
	r := bytes.NewReader(stream)
	h, err := ReadHeader(r)
	if err != nil {
		t.Fatal(err)
	}
	want := Header{Fin: true, Opcode: OpText, Masked: true, MaskKey: [4]byte{9, 8, 7, 6}, Length: 256, LengthForm: Length16, Size: 8}
	if h != want {
		t.Errorf("ReadHeader = %+v, want %+v", h, want)
	}
	if r.Len() != 1 {
		t.Errorf("ReadHeader left %d bytes, want 1 (it must not read past the header)", r.Len())
	}
	if _, err := ReadHeader(bytes.NewReader(stream[:3])); err == nil || err.Error() != "unexpected EOF" {
		t.Errorf("ReadHeader of a cut header: err = %v, want unexpected EOF", err)
	}
}

func TestMaskPieceByPiece(t *testing.T) {
	key := [4]byte{0xA, 0xB, 0xC, 0xD}
	orig := []byte("a payload masked in pieces of odd sizes")
	whole := bytes.Clone(orig)
	Mask(key, 0, whole)
	pieces := bytes.Clone(orig)
	pos := 0
	for _, n := range []int{3, 1, 5, 7, 2} {
		end := min(pos+n, len(pieces))
		pos = Mask(key, pos, pieces[pos:end])
	}
	Mask(key, pos, pieces[pos:])
	if !bytes.Equal(whole, pieces) {
		t.Errorf("masked in pieces = % x\nwant % x", pieces, whole)
	}
	Mask(key, 0, whole)
	if !bytes.Equal(whole, orig) {
		t.Errorf("masking twice did not give the original back")
	}
}

func TestAccept(t *testing.T) {
	// RFC 6455 §1.3's example.
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	if got, want := AcceptKey(key), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Errorf("AcceptKey = %q, want %q", got, want)
	}
	want := AcceptDerivation{
		Key:          key,
		Concatenated: "dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
		SHA1Hex:      "b37a4f2cc0624f1690f64606cf385945b2bec4ea",
		Accept:       "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
	}
	if diff := cmp.Diff(want, AcceptSteps(key)); diff != "" {
		t.Errorf("AcceptSteps (-want +got):\n%s", diff)
	}
}

// TestAppendHeader: the header AppendHeader writes for n bytes is the one
// AppendFrame writes before n bytes of payload, at each boundary of the
// length forms, masked or not, and ParseHeader reads back the length.
func TestAppendHeader(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 0xFFFF, 0x10000} {
		for _, h := range []Header{
			{Fin: true, Opcode: OpText},
			{Opcode: OpBinary, Masked: true, MaskKey: [4]byte{1, 2, 3, 4}},
		} {
			t.Run(fmt.Sprintf("%d/masked=%v", n, h.Masked), func(t *testing.T) {
				got := AppendHeader([]byte("x"), h, n)
				frame := AppendFrame([]byte("x"), h, make([]byte, n))
				if want := frame[:len(frame)-n]; !bytes.Equal(got, want) {
					t.Fatalf("AppendHeader = % x, want % x", got, want)
				}
				ph, err := ParseHeader(got[1:])
				if err != nil {
					t.Fatal(err)
				}
				if ph.Length != uint64(n) || ph.Size != len(got)-1 || ph.Masked != h.Masked || ph.Opcode != h.Opcode || ph.Fin != h.Fin {
					t.Errorf("ParseHeader = %+v, want length %d, size %d, as %+v", ph, n, len(got)-1, h)
				}
			})
		}
	}
}
