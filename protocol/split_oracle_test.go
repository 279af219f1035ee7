package protocol

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"testing"
	"unicode/utf8"
)

// splitObjectDecoder is the json.Decoder version of splitObject, the
// implementation until round 3, kept as the oracle of FuzzSplitObject.
// It returns the top-level fields of a JSON object and their names
// in frame order, refusing trailing data (with the fields still returned). A name that appears twice keeps its
// first value and is returned as dup (the first such name), so that the
// caller can still read the id.
func splitObjectDecoder(data []byte) (raw map[string]json.RawMessage, names []string, dup string, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, "", Errorf(CodeBadJSON, "not JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, "", Errorf(CodeBadJSON, "a command is a JSON object")
	}
	raw = make(map[string]json.RawMessage, 8)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, "", Errorf(CodeBadJSON, "malformed object")
		}
		name, ok := tok.(string)
		if !ok {
			return nil, nil, "", Errorf(CodeBadJSON, "malformed object")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, "", Errorf(CodeBadJSON, "malformed value")
		}
		if _, seen := raw[name]; seen {
			if dup == "" {
				dup = name
			}
			continue
		}
		raw[name] = v
		names = append(names, name)
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, nil, "", Errorf(CodeBadJSON, "malformed object")
	}
	if _, err := dec.Token(); err != io.EOF {
		// The object itself parsed: return it, so that the caller can
		// still read the id for the error reply.
		return raw, names, dup, Errorf(CodeTrailingData, "data after the command object")
	}
	return raw, names, dup, nil
}

// FuzzSplitObject: splitObject answers every input as the json.Decoder
// version did: the same fields, names, duplicate and error code.
func FuzzSplitObject(f *testing.F) {
	for _, s := range []string{
		`{"id":"1","op":"hello","name":"ada"}`, `{}`, ` { "a" : 1 , "b" : [1,{"c":"}"}] } `,
		`{"a":1}{"b":2}`, `{"a":1} x`, `{"a":1,}`, `{"a" 1}`, `[1]`, `"x"`, `5`, `tru`, ``, ` `,
		`{"a":"\"}"}`, `{"\u006fp":"ping"}`, `{"a":1,"a":2}`, `{"a":{"b":{"c":[]}}}`, `{"a":01}`,
		`{"a":1}}`, `{"a":"x\\"}`, `{`, `}`, `{"a":[}`, "{\"a\":1}\n", `{"a":nul}`, `{"a":true}false`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return // Decode refuses it before splitting
		}
		raw, names, dup, err := splitObject(data)
		wraw, wnames, wdup, werr := splitObjectDecoder(data)
		if CodeOf(err) != CodeOf(werr) || (err == nil) != (werr == nil) {
			t.Fatalf("%q: error %v, want %v", data, err, werr)
		}
		if (raw == nil) != (wraw == nil) || dup != wdup || !slices.Equal(names, wnames) {
			t.Fatalf("%q: names %q dup %q (nil %v), want %q dup %q (nil %v)", data, names, dup, raw == nil, wnames, wdup, wraw == nil)
		}
		for k, v := range wraw {
			if !bytes.Equal(raw[k], v) {
				t.Fatalf("%q: field %q = %s, want %s", data, k, raw[k], v)
			}
		}
	})
}

// BenchmarkSplitObject compares splitObject with the json.Decoder version
// it replaced, on a send as clients write it.
func BenchmarkSplitObject(b *testing.B) {
	send := []byte(`{"id":"7","op":"send","room":"lobby","body":"hello, <world> & \"friends\"\nsecond line","cmid":"k3J9-x_0b7e1f7c"}`)
	for _, impl := range []struct {
		name  string
		split func([]byte) (map[string]json.RawMessage, []string, string, error)
	}{{"scan", splitObject}, {"decoder", splitObjectDecoder}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, _, err := impl.split(send); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecode: the commands of a guest's connect storm (hello, join)
// and a send with escapes in its body, by Decode and by its strict path
// alone.
func BenchmarkDecode(b *testing.B) {
	for _, tc := range []struct{ name, frame string }{
		{"hello", `{"id":"1","op":"hello","name":"b1a2b3c4-17"}`},
		{"join", `{"id":"2","op":"join","room":"bench"}`},
		{"send", `{"id":"7","op":"send","room":"lobby","body":"hello, <world> & \"friends\"\nsecond line","cmid":"k3J9-x_0b7e1f7c"}`},
	} {
		frame := []byte(tc.frame)
		for _, impl := range []struct {
			name   string
			decode func([]byte) (Command, error)
		}{{"", Decode}, {"/strict", decodeStrict}} {
			b.Run(tc.name+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := impl.decode(frame); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// FuzzStringValue checks stringValue against encoding/json on every JSON
// value of valid UTF-8 that json.Valid accepts, as Decode hands it over.
func FuzzStringValue(f *testing.F) {
	for _, s := range []string{`"alice"`, `""`, `"a\"b"`, `"\u00e9t\u00E9"`, `"\ud83d\ude00"`, `"é"`, `"a\\"`, `"\/"`, `1`, `true`, `null`, `["a"]`, `{"a":"b"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		if !utf8.Valid(v) || !json.Valid(v) {
			return
		}
		v = bytes.TrimSpace(v) // splitObject cuts values without the space around them
		got, ok := stringValue(v)
		var want string
		wantOK := v[0] == '"' && json.Unmarshal(v, &want) == nil
		if got != want || ok != wantOK {
			t.Fatalf("stringValue(%q) = %q, %v; encoding/json: %q, %v", v, got, ok, want, wantOK)
		}
	})
}
