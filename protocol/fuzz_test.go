package protocol_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/protocol"
)

// publishedCodes are the codes Decode may return. CodeInternal is not among
// them: Decode must never fail in a way it cannot name.
var publishedCodes = []protocol.Code{
	protocol.CodeBadJSON,
	protocol.CodeTrailingData,
	protocol.CodeDuplicateField,
	protocol.CodeUnknownField,
	protocol.CodeBadType,
	protocol.CodeMissingField,
	protocol.CodeUnknownOp,
	protocol.CodeInvalidValue,
	protocol.CodeTooLong,
}

// FuzzDecode checks Decode's promises on any input: it never panics; what it
// accepts is valid and survives an encode/decode round trip unchanged; what
// it refuses gets a published code. It also feeds the input, split in two,
// to SplitFrame.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "command_*.json"))
	if err != nil {
		f.Fatal(err)
	}
	if len(files) == 0 {
		f.Fatal("no command goldens in testdata")
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint(len(b)/2))
	}
	for _, tc := range decodeCases {
		f.Add([]byte(tc.in), uint(len(tc.in)/2))
	}

	f.Fuzz(func(t *testing.T, data []byte, cut uint) {
		c, err := protocol.Decode(data)
		if err != nil {
			if code := protocol.CodeOf(err); !slices.Contains(publishedCodes, code) {
				t.Fatalf("Decode(%q) error %v has code %q, not a published decode code", data, err, code)
			}
		} else {
			if err := c.Validate(); err != nil {
				t.Fatalf("Decode(%q) accepted %+v, but Validate = %v", data, c, err)
			}
			enc, err := protocol.EncodeCommand(&c)
			if err != nil {
				t.Fatalf("EncodeCommand(%+v): %v", c, err)
			}
			back, err := protocol.Decode(enc)
			if err != nil {
				t.Fatalf("Decode(%q) accepted, but its re-encoding %s is refused: %v", data, enc, err)
			}
			if diff := cmp.Diff(c, back); diff != "" {
				t.Fatalf("round trip of %q through %s mismatch (-first +second):\n%s", data, enc, diff)
			}
		}

		// SplitFrame on two halves, as a reader that got a frame in pieces
		// might call it: it must not panic, and every object it yields is a
		// non-blank line without '\n'.
		i := int(cut % uint(len(data)+1))
		for _, part := range [][]byte{data[:i], data[i:]} {
			_ = protocol.SplitFrame(part, func(obj []byte) error {
				if len(strings.TrimSpace(string(obj))) == 0 || slices.Contains(obj, '\n') {
					t.Fatalf("SplitFrame(%q) yielded %q", part, obj)
				}
				return nil
			})
		}
	})
}
