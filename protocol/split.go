package protocol

import (
	"encoding/json"
	"strings"
)

// splitObject returns the top-level fields of a JSON object and their names
// in frame order, refusing trailing data (with the fields still returned). A
// name that appears twice keeps its first value and is returned as dup (the
// first such name), so that the caller can still read the id.
//
// It finds the object's end with a scan that knows strings and nesting,
// checks the object with json.Valid, and then cuts the fields out of it:
// no tokenizer, no allocation per token. (The json.Decoder version it
// replaced was 11% of the server's CPU under the durable workload; it is
// kept as the oracle of FuzzSplitObject.)
func splitObject(data []byte) (raw map[string]json.RawMessage, names []string, dup string, err error) {
	start := skipSpace(data, 0)
	if start == len(data) {
		return nil, nil, "", Errorf(CodeBadJSON, "not JSON")
	}
	if data[start] != '{' {
		if e := valueEnd(data, start); e > start && json.Valid(data[start:e]) {
			return nil, nil, "", Errorf(CodeBadJSON, "a command is a JSON object")
		}
		return nil, nil, "", Errorf(CodeBadJSON, "not JSON")
	}
	end := valueEnd(data, start)
	if end < 0 || !json.Valid(data[start:end]) {
		return nil, nil, "", Errorf(CodeBadJSON, "malformed object")
	}
	raw = make(map[string]json.RawMessage, 8)
	i := skipSpace(data, start+1)
	for data[i] != '}' {
		// A valid object: a key string, ':', a value, then ',' or '}'.
		kEnd := valueEnd(data, i)
		name, kerr := objectKey(data[i:kEnd])
		if kerr != nil {
			return nil, nil, "", Errorf(CodeBadJSON, "malformed object")
		}
		i = skipSpace(data, kEnd)
		i = skipSpace(data, i+1) // the ':'
		vEnd := valueEnd(data, i)
		v := json.RawMessage(data[i:vEnd:vEnd])
		if _, seen := raw[name]; seen {
			if dup == "" {
				dup = name
			}
		} else {
			raw[name] = v
			names = append(names, name)
		}
		i = skipSpace(data, vEnd)
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	if skipSpace(data, end) != len(data) {
		// The object itself parsed: return it, so that the caller can
		// still read the id for the error reply.
		return raw, names, dup, Errorf(CodeTrailingData, "data after the command object")
	}
	return raw, names, dup, nil
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space, or len(b).
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just after the JSON value that starts at
// b[i], or -1 if a string, object or array is not closed. It follows
// strings (with their escapes) and nesting, not the rest of the grammar:
// the caller checks the value with json.Valid.
func valueEnd(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			i++
			for i < len(b) && b[i] != '"' {
				if b[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(b) {
				return -1
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth <= 0 {
				if depth < 0 {
					return i // a closing bracket ends a bare literal
				}
				return i + 1
			}
		case ' ', '\t', '\n', '\r', ',', ':':
			if depth == 0 {
				return i // the end of a number or literal
			}
		}
	}
	if depth > 0 {
		return -1
	}
	return i
}

// objectKey returns the name a quoted key stands for.
func objectKey(q []byte) (string, error) {
	s := string(q[1 : len(q)-1])
	if !strings.ContainsRune(s, '\\') {
		return s, nil
	}
	var name string
	err := json.Unmarshal(q, &name)
	return name, err
}
