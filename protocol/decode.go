package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Error is a refusal with a stable [Code] and a sentence for humans. The
// server sends it to the client as an error event.
type Error struct {
	Code   Code
	Reason string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Reason }

// Errorf returns an *Error with code and a formatted reason.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of err if it is (or wraps) an *Error, and
// [CodeInternal] otherwise.
func CodeOf(err error) Code {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return CodeInternal
}

type fieldKind int

const (
	kindString fieldKind = iota
	kindInt
	kindBool
)

// field describes one command field: its JSON type and where it goes.
type field struct {
	kind fieldKind
	set  func(c *Command, s string, n int64, b bool)
}

var fields = map[string]field{
	"id":      {kindString, func(c *Command, s string, _ int64, _ bool) { c.ID = s }},
	"op":      {kindString, func(c *Command, s string, _ int64, _ bool) { c.Op = s }},
	"name":    {kindString, func(c *Command, s string, _ int64, _ bool) { c.Name = s }},
	"room":    {kindString, func(c *Command, s string, _ int64, _ bool) { c.Room = s }},
	"topic":   {kindString, func(c *Command, s string, _ int64, _ bool) { c.Topic = s }},
	"private": {kindBool, func(c *Command, _ string, _ int64, b bool) { c.Private = b }},
	"body":    {kindString, func(c *Command, s string, _ int64, _ bool) { c.Body = s }},
	"cmid":    {kindString, func(c *Command, s string, _ int64, _ bool) { c.CMID = s }},
	"user":    {kindString, func(c *Command, s string, _ int64, _ bool) { c.User = s }},
	"reason":  {kindString, func(c *Command, s string, _ int64, _ bool) { c.Reason = s }},
	// seconds is clamped like limit, for the same reason.
	"seconds": {kindInt, func(c *Command, _ string, n int64, _ bool) { c.Seconds = int(min(max(n, -1), MaxSanctionSeconds+1)) }},
	"before":  {kindInt, func(c *Command, _ string, n int64, _ bool) { c.Before = &n }},
	"after":   {kindInt, func(c *Command, _ string, n int64, _ bool) { c.After = &n }},
	// limit is clamped to -1..MaxHistoryLimit+1 before the conversion, so
	// that on 32-bit platforms int(n) cannot wrap a huge limit into range.
	"limit": {kindInt, func(c *Command, _ string, n int64, _ bool) { c.Limit = int(min(max(n, -1), MaxHistoryLimit+1)) }},

	"reply_to": {kindInt, func(c *Command, _ string, n int64, _ bool) { c.ReplyTo = n }},
	"seq":      {kindInt, func(c *Command, _ string, n int64, _ bool) { c.Seq = n }},
	"emoji":    {kindString, func(c *Command, s string, _ int64, _ bool) { c.Emoji = s }},
	"query":    {kindString, func(c *Command, s string, _ int64, _ bool) { c.Query = s }},

	// Files.
	"upload":   {kindString, func(c *Command, s string, _ int64, _ bool) { c.Upload = s }},
	"size":     {kindInt, func(c *Command, _ string, n int64, _ bool) { c.Size = n }},
	"type":     {kindString, func(c *Command, s string, _ int64, _ bool) { c.Type = s }},
	"sha256":   {kindString, func(c *Command, s string, _ int64, _ bool) { c.SHA256 = s }},
	"file":     {kindString, func(c *Command, s string, _ int64, _ bool) { c.File = s }},
	"archived": {kindBool, func(c *Command, _ string, _ int64, b bool) { c.Archived = b }},
}

// opSpec lists the fields an op takes besides id and op.
type opSpec struct {
	required []string
	optional []string
}

var ops = map[string]opSpec{
	OpHello:   {optional: []string{"name"}},
	OpPing:    {},
	OpRooms:   {optional: []string{"room", "query", "archived"}},
	OpCreate:  {required: []string{"room"}, optional: []string{"topic", "private"}},
	OpJoin:    {required: []string{"room"}},
	OpLeave:   {required: []string{"room"}},
	OpSend:    {required: []string{"room", "body"}, optional: []string{"cmid", "reply_to", "file"}},
	OpHistory: {required: []string{"room"}, optional: []string{"before", "after", "limit"}},
	OpTyping:  {required: []string{"room"}},

	OpDM:      {required: []string{"user"}},
	OpInvite:  {required: []string{"room", "user"}},
	OpKick:    {required: []string{"room", "user"}, optional: []string{"reason"}},
	OpBan:     {required: []string{"room", "user"}, optional: []string{"reason", "seconds"}},
	OpUnban:   {required: []string{"room", "user"}},
	OpMute:    {required: []string{"room", "user"}, optional: []string{"reason", "seconds"}},
	OpUnmute:  {required: []string{"room", "user"}},
	OpTopic:   {required: []string{"room", "topic"}},
	OpPromote: {required: []string{"room", "user"}},
	OpDemote:  {required: []string{"room", "user"}},

	OpBlock:   {required: []string{"user"}},
	OpUnblock: {required: []string{"user"}},
	OpBlocks:  {},

	OpRefuseGuests: {required: []string{"room"}},
	OpAllowGuests:  {required: []string{"room"}},

	OpEdit:   {required: []string{"room", "seq", "body"}},
	OpDelete: {required: []string{"room", "seq"}},
	OpReact:  {required: []string{"room", "seq", "emoji"}},
	OpRead:   {required: []string{"room", "seq"}},
	OpSearch: {required: []string{"query"}, optional: []string{"room", "before", "limit"}},

	// Files.
	OpUpload: {optional: []string{"upload", "name", "size", "type", "sha256"}},
	// Room lifecycle.
	OpArchiveRoom:   {required: []string{"room"}},
	OpUnarchiveRoom: {required: []string{"room"}},
	OpDeleteRoom:    {required: []string{"room"}},
}

// Ops returns the operations of protocol v1, for documentation and tests.
func Ops() []string {
	out := make([]string, 0, len(ops))
	for op := range ops {
		out = append(out, op)
	}
	return out
}

func (s opSpec) takes(name string) bool {
	if name == "id" || name == "op" {
		return true
	}
	for _, f := range s.required {
		if f == name {
			return true
		}
	}
	for _, f := range s.optional {
		if f == name {
			return true
		}
	}
	return false
}

// Decode parses one client frame into a Command, strictly. It refuses, with
// an *Error carrying the code in parentheses:
//
//   - anything but a single JSON object, or invalid UTF-8 (bad_json)
//   - anything but whitespace after the object (trailing_data)
//   - a field name that appears twice (duplicate_field)
//   - a missing or unknown op (unknown_op); an op that is not a string
//     (bad_type)
//   - a field the op does not take (unknown_field)
//   - a value of the wrong JSON type, null included (bad_type)
//   - a required field that is absent (missing_field)
//   - a value over its limit (too_long) or against its rule (invalid_value),
//     as [Command.Validate] checks.
//
// A frame that breaks several rules gets the code of the first rule in this
// list; among fields, the first in the frame decides. The same frame always
// gets the same code.
//
// When the frame parsed but a rule failed, the returned Command still holds
// the id (if it is a string and appears once), so the error reply can carry
// it. Decode never panics.
func Decode(data []byte) (Command, error) {
	if c, ok := decodeCommand(data); ok {
		return c, nil
	}
	return decodeStrict(data)
}

// decodeStrict is Decode for every frame: the rules above in their order,
// on the fields splitObject cuts out. decodeCommand answers first for the
// frames clients send, and leaves the rest, every refusal included, here.
func decodeStrict(data []byte) (Command, error) {
	var c Command
	if !utf8.Valid(data) {
		return c, Errorf(CodeBadJSON, "frame is not valid UTF-8")
	}
	raw, names, dup, err := splitObject(data)
	if raw == nil {
		return c, err
	}
	// The id first, so that every later error, trailing_data included,
	// can carry it. An id of the wrong type is reported below, in its turn.
	if v, ok := raw["id"]; ok && dup != "id" {
		_ = setField(&c, "id", v)
	}
	if err != nil {
		return c, err
	}
	if dup != "" {
		return c, Errorf(CodeDuplicateField, "field %q appears twice", truncate(dup, 32))
	}
	v, ok := raw["op"]
	if !ok {
		return c, Errorf(CodeUnknownOp, "missing op")
	}
	if err := setField(&c, "op", v); err != nil {
		return c, err
	}
	spec, ok := ops[c.Op]
	if !ok {
		return c, Errorf(CodeUnknownOp, "unknown op %q", truncate(c.Op, 32))
	}
	// Fields in frame order, never map order, so that the code is stable.
	for _, name := range names {
		if !spec.takes(name) {
			return c, Errorf(CodeUnknownField, "op %s does not take field %q", c.Op, truncate(name, 32))
		}
	}
	for _, name := range names {
		if name == "op" {
			continue
		}
		if err := setField(&c, name, raw[name]); err != nil {
			return c, err
		}
	}
	for _, name := range spec.required {
		if _, ok := raw[name]; !ok {
			return c, Errorf(CodeMissingField, "op %s needs field %q", c.Op, name)
		}
	}
	if _, ok := raw["limit"]; ok && c.Limit == 0 {
		// Absent means the default page; a limit given must be 1..100.
		return c, Errorf(CodeInvalidValue, "limit must be between 1 and %d", MaxHistoryLimit)
	}
	return c, c.Validate()
}

func setField(c *Command, name string, v json.RawMessage) error {
	f, ok := fields[name]
	if !ok {
		return Errorf(CodeUnknownField, "unknown field %q", truncate(name, 32))
	}
	switch f.kind {
	case kindString:
		s, ok := stringValue(v)
		if !ok {
			return badType(name, f.kind)
		}
		f.set(c, s, 0, false)
	case kindInt:
		if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
			return badType(name, f.kind)
		}
		var n int64
		if err := json.Unmarshal(v, &n); err != nil {
			return badType(name, f.kind)
		}
		f.set(c, "", n, false)
	case kindBool:
		var b bool
		if len(v) == 0 || (v[0] != 't' && v[0] != 'f') || json.Unmarshal(v, &b) != nil {
			return badType(name, f.kind)
		}
		f.set(c, "", 0, b)
	}
	return nil
}

// badType is the error of a field whose value has the wrong JSON type.
func badType(name string, kind fieldKind) error {
	want := [...]string{kindString: "a string", kindInt: "an integer", kindBool: "true or false"}[kind]
	return Errorf(CodeBadType, "field %q must be %s", name, want)
}

// stringValue returns the string that v, a JSON value, holds, and false if
// v is not a string. v must come from an object json.Valid accepted, in a
// frame that is valid UTF-8 (Decode checks both first): then a string
// without a backslash is exactly the bytes between its quotes, and only
// one with escapes needs encoding/json.
func stringValue(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	if body := v[1 : len(v)-1]; bytes.IndexByte(body, '\\') < 0 {
		return string(body), true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
