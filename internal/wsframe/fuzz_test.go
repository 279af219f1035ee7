package wsframe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParser feeds the same bytes to two Parsers, whole and in chunks of
// the sizes the fuzzer picks; both must see the same frames and the same
// end. It is seeded with the RFC's examples and the error cases.
func FuzzParser(f *testing.F) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	seeds := [][]byte{
		{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
		{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
		{0x01, 0x03, 0x48, 0x65, 0x6c, 0x89, 0x00, 0x80, 0x02, 0x6c, 0x6f},
		{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0},
		{0x89, 126, 0, 126},
		AppendFrame(nil, Header{Fin: true, Opcode: OpBinary, Masked: true, MaskKey: key}, make([]byte, 300)),
	}
	for _, s := range seeds {
		f.Add(s, []byte{1, 2, 3}, uint8(8))
	}
	f.Fuzz(func(t *testing.T, stream, cuts []byte, maxPayload uint8) {
		whole, wholeErr := parseAll(t, int(maxPayload), stream, nil)
		chunks := make([]int, 0, len(cuts))
		for _, c := range cuts {
			chunks = append(chunks, int(c)%17+1)
		}
		split, splitErr := parseAll(t, int(maxPayload), stream, chunks)
		if diff := cmp.Diff(whole, split, frameCmp); diff != "" {
			t.Fatalf("whole vs split %v (-whole +split):\n%s", chunks, diff)
		}
		if (wholeErr == nil) != (splitErr == nil) || wholeErr != nil && wholeErr.Error() != splitErr.Error() {
			t.Fatalf("whole err %v, split err %v", wholeErr, splitErr)
		}
		for _, fr := range whole {
			if len(fr.Payload) > int(maxPayload) {
				t.Errorf("payload of %d bytes kept, bound %d", len(fr.Payload), maxPayload)
			}
			if uint64(len(fr.Payload)) > fr.Length || fr.Truncated != (uint64(len(fr.Payload)) < fr.Length) {
				t.Errorf("payload %d bytes, length %d, truncated %v", len(fr.Payload), fr.Length, fr.Truncated)
			}
			// What the parser decoded encodes back to the same bytes
			// when it was kept whole and the length was minimal.
			if !fr.Truncated && fr.Err == nil {
				enc := AppendFrame(nil, fr.Header, fr.Payload)
				got := stream[fr.Offset : fr.Offset+int64(len(enc))]
				if string(enc) != string(got) {
					t.Errorf("re-encoded frame % x, stream had % x", enc, got)
				}
			}
		}
	})
}
