package server

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"

	"github.com/hubbub-chat/hubbub/protocol"
)

// maxAPIBody is the largest account API request body.
const maxAPIBody = 4096

// decodeBody reads the request body into v (a pointer to a struct) as
// strictly as protocol.Decode reads a command: one JSON object and nothing
// after it, each field at most once, and only the names v's json tags
// spell, in the same case. encoding/json alone would match "USERNAME" to
// username and keep the last of two "password" fields; a proxy or a WAF
// that reads the first would then see another request than the server.
func decodeBody(r io.Reader, v any) error {
	bad := protocol.Errorf(protocol.CodeBadJSON, "malformed request body")
	data, err := io.ReadAll(io.LimitReader(r, maxAPIBody+1))
	if err != nil || len(data) > maxAPIBody {
		return bad
	}
	allowed := jsonNames(reflect.TypeOf(v).Elem())
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return bad
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		name, ok := tok.(string)
		if err != nil || !ok || seen[name] || !allowed[name] {
			return bad
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return bad
		}
	}
	if _, err := dec.Token(); err != nil {
		return bad
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad
	}
	if err := json.Unmarshal(data, v); err != nil {
		return bad
	}
	return nil
}

// jsonNames returns the JSON field names of struct type t.
func jsonNames(t reflect.Type) map[string]bool {
	out := make(map[string]bool, t.NumField())
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = true
	}
	return out
}
