package protocol_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/protocol"
)

func i64(n int64) *int64 { return &n }

// str returns s as a JSON string literal, escaped as encoding/json does.
func str(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func hello(name string) string { return `{"op":"hello","name":` + str(name) + `}` }
func join(room string) string  { return `{"op":"join","room":` + str(room) + `}` }
func send(body string) string  { return `{"op":"send","room":"lobby","body":` + str(body) + `}` }
func sendCMID(cmid string) string {
	return `{"op":"send","room":"lobby","body":"hi","cmid":` + str(cmid) + `}`
}
func create(topic string) string {
	return `{"op":"create","room":"books","topic":` + str(topic) + `}`
}
func historyLimit(limit string) string {
	return `{"id":"h","op":"history","room":"lobby","limit":` + limit + `}`
}

// userOp returns a command of op on room lobby acting on user.
func userOp(op, user string) string {
	return `{"op":"` + op + `","room":"lobby","user":` + str(user) + `}`
}
func dm(user string) string { return `{"op":"dm","user":` + str(user) + `}` }
func kick(reason string) string {
	return `{"op":"kick","room":"lobby","user":"mallory","reason":` + str(reason) + `}`
}
func banSeconds(seconds string) string {
	return `{"id":"b","op":"ban","room":"lobby","user":"mallory","seconds":` + seconds + `}`
}
func topic(t string) string { return `{"op":"topic","room":"books","topic":` + str(t) + `}` }

// user returns the Command userOp(op, user) decodes to.
func user(op, user string) protocol.Command {
	return protocol.Command{Op: op, Room: "lobby", User: user}
}

type decodeCase struct {
	name string
	in   string
	// code is the error code Decode must return; "" means success.
	code protocol.Code
	// want is the whole Command on success; on failure only want.ID is
	// compared, because the id is all an error reply needs.
	want protocol.Command
}

// decodeCases is shared with FuzzDecode, which uses the inputs as seeds.
var decodeCases = []decodeCase{
	// Valid commands of every op.
	{name: "hello", in: `{"id":"1","op":"hello","name":"ada"}`, want: protocol.Command{ID: "1", Op: "hello", Name: "ada"}},
	{name: "hello without name", in: `{"op":"hello"}`, want: protocol.Command{Op: "hello"}},
	{name: "hello with empty name means absent", in: `{"op":"hello","name":""}`, want: protocol.Command{Op: "hello"}},
	{name: "ping", in: `{"op":"ping"}`, want: protocol.Command{Op: "ping"}},
	{name: "rooms", in: `{"id":"r","op":"rooms"}`, want: protocol.Command{ID: "r", Op: "rooms"}},
	{name: "create", in: `{"id":"c","op":"create","room":"books","topic":"What we read","private":true}`,
		want: protocol.Command{ID: "c", Op: "create", Room: "books", Topic: "What we read", Private: true}},
	{name: "create private false", in: `{"op":"create","room":"books","private":false}`, want: protocol.Command{Op: "create", Room: "books"}},
	{name: "join", in: `{"op":"join","room":"lobby"}`, want: protocol.Command{Op: "join", Room: "lobby"}},
	{name: "leave", in: `{"op":"leave","room":"lobby"}`, want: protocol.Command{Op: "leave", Room: "lobby"}},
	{name: "send", in: `{"id":"s","op":"send","room":"lobby","body":"hi","cmid":"m-1_A"}`,
		want: protocol.Command{ID: "s", Op: "send", Room: "lobby", Body: "hi", CMID: "m-1_A"}},
	{name: "history before", in: `{"op":"history","room":"lobby","before":10,"limit":20}`,
		want: protocol.Command{Op: "history", Room: "lobby", Before: i64(10), Limit: 20}},
	{name: "history after 0", in: `{"op":"history","room":"lobby","after":0}`,
		want: protocol.Command{Op: "history", Room: "lobby", After: i64(0)}},
	{name: "typing", in: `{"op":"typing","room":"lobby"}`, want: protocol.Command{Op: "typing", Room: "lobby"}},
	{name: "block", in: `{"id":"b","op":"block","user":"mallory"}`, want: protocol.Command{ID: "b", Op: "block", User: "mallory"}},
	{name: "unblock", in: `{"op":"unblock","user":"mallory"}`, want: protocol.Command{Op: "unblock", User: "mallory"}},
	{name: "blocks", in: `{"id":"l","op":"blocks"}`, want: protocol.Command{ID: "l", Op: "blocks"}},
	{name: "block without user", in: `{"id":"b","op":"block"}`, code: protocol.CodeMissingField, want: protocol.Command{ID: "b"}},
	{name: "unblock without user", in: `{"op":"unblock"}`, code: protocol.CodeMissingField},
	{name: "block takes no room", in: `{"op":"block","user":"mallory","room":"lobby"}`, code: protocol.CodeUnknownField},
	{name: "blocks takes no user", in: `{"op":"blocks","user":"mallory"}`, code: protocol.CodeUnknownField},
	{name: "block of a guest's display name", in: `{"op":"block","user":"Troll 42"}`, code: protocol.CodeInvalidValue},
	{name: "block of an upper-case name", in: `{"op":"block","user":"Mallory"}`, code: protocol.CodeInvalidValue},
	{name: "block user is a string", in: `{"op":"block","user":7}`, code: protocol.CodeBadType},
	{name: "unblock of a control character", in: `{"op":"unblock","user":"mal\u001blory"}`, code: protocol.CodeInvalidValue},
	{name: "field order does not matter", in: `{"room":"lobby","op":"join","id":"9"}`, want: protocol.Command{ID: "9", Op: "join", Room: "lobby"}},
	{name: "whitespace between tokens", in: " {\n\t\"op\" : \"ping\" ,\r\n \"id\" :\"x\" } ", want: protocol.Command{ID: "x", Op: "ping"}},
	{name: "escaped field name", in: `{"o\u0070":"ping"}`, want: protocol.Command{Op: "ping"}},
	{name: "trailing whitespace", in: "{\"op\":\"ping\"} \t\r\n", want: protocol.Command{Op: "ping"}},
	{name: "empty id", in: `{"id":"","op":"ping"}`, want: protocol.Command{Op: "ping"}},
	{name: "id of 64 bytes", in: `{"id":"` + strings.Repeat("i", 64) + `","op":"ping"}`, want: protocol.Command{ID: strings.Repeat("i", 64), Op: "ping"}},
	{name: "id may hold any string", in: `{"id":"\u001b[31m é","op":"ping"}`, want: protocol.Command{ID: "\x1b[31m é", Op: "ping"}},

	// Not a single JSON object.
	{name: "empty", in: ``, code: protocol.CodeBadJSON},
	{name: "only whitespace", in: " \n ", code: protocol.CodeBadJSON},
	{name: "not JSON", in: `hello`, code: protocol.CodeBadJSON},
	{name: "array", in: `[{"op":"ping"}]`, code: protocol.CodeBadJSON},
	{name: "string", in: `"ping"`, code: protocol.CodeBadJSON},
	{name: "number", in: `42`, code: protocol.CodeBadJSON},
	{name: "null", in: `null`, code: protocol.CodeBadJSON},
	{name: "unterminated object", in: `{"op":"ping"`, code: protocol.CodeBadJSON},
	{name: "unterminated string", in: `{"op":"pi`, code: protocol.CodeBadJSON},
	{name: "missing colon", in: `{"op" "ping"}`, code: protocol.CodeBadJSON},
	{name: "missing comma", in: `{"op":"ping" "id":"1"}`, code: protocol.CodeBadJSON},
	{name: "trailing comma", in: `{"op":"ping",}`, code: protocol.CodeBadJSON},
	{name: "unquoted key", in: `{op:"ping"}`, code: protocol.CodeBadJSON},
	{name: "single quotes", in: `{'op':'ping'}`, code: protocol.CodeBadJSON},
	{name: "invalid UTF-8", in: "{\"op\":\"ping\",\"id\":\"\xff\"}", code: protocol.CodeBadJSON},
	{name: "bad escape", in: `{"op":"p\x"}`, code: protocol.CodeBadJSON},
	{name: "malformed beats duplicate", in: `{"op":"ping","op":"ping",`, code: protocol.CodeBadJSON},

	// Trailing data.
	{name: "trailing word", in: `{"op":"ping"} x`, code: protocol.CodeTrailingData},
	{name: "trailing data keeps the id", in: `{"id":"t","op":"ping"} x`, code: protocol.CodeTrailingData, want: protocol.Command{ID: "t"}},
	{name: "trailing object keeps the id", in: `{"id":"t","op":"send","room":"lobby","body":"a"}{"op":"ping"}`, code: protocol.CodeTrailingData, want: protocol.Command{ID: "t"}},
	{name: "two objects", in: `{"op":"ping"}{}`, code: protocol.CodeTrailingData},
	{name: "two objects by newline", in: "{\"op\":\"ping\"}\n{\"op\":\"ping\"}", code: protocol.CodeTrailingData},
	{name: "trailing NUL", in: "{\"op\":\"ping\"}\x00", code: protocol.CodeTrailingData},
	{name: "trailing brace", in: `{"op":"ping"}}`, code: protocol.CodeTrailingData},
	{name: "trailing unterminated string", in: `{"op":"ping"} "abc`, code: protocol.CodeTrailingData},
	{name: "trailing data beats duplicate", in: `{"op":"ping","op":"ping"} x`, code: protocol.CodeTrailingData},

	// Duplicate fields.
	{name: "duplicate op", in: `{"op":"ping","op":"ping"}`, code: protocol.CodeDuplicateField},
	{name: "duplicate op differing", in: `{"id":"d","op":"ping","op":"join"}`, code: protocol.CodeDuplicateField, want: protocol.Command{ID: "d"}},
	{name: "duplicate id", in: `{"id":"a","op":"ping","id":"b"}`, code: protocol.CodeDuplicateField},
	{name: "duplicate room", in: `{"id":"d","op":"join","room":"a","room":"b"}`, code: protocol.CodeDuplicateField, want: protocol.Command{ID: "d"}},
	{name: "duplicate through escape", in: `{"op":"ping","\u006fp":"ping"}`, code: protocol.CodeDuplicateField},
	{name: "duplicate beats unknown op", in: `{"op":"nope","x":1,"x":2}`, code: protocol.CodeDuplicateField},

	// Op.
	{name: "missing op", in: `{"id":"m"}`, code: protocol.CodeUnknownOp, want: protocol.Command{ID: "m"}},
	{name: "empty object", in: `{}`, code: protocol.CodeUnknownOp},
	{name: "unknown op", in: `{"id":"u","op":"dance"}`, code: protocol.CodeUnknownOp, want: protocol.Command{ID: "u"}},
	{name: "empty op", in: `{"op":""}`, code: protocol.CodeUnknownOp},
	{name: "op is case sensitive", in: `{"op":"PING"}`, code: protocol.CodeUnknownOp},
	{name: "OP is not op", in: `{"OP":"ping"}`, code: protocol.CodeUnknownOp},
	{name: "op number", in: `{"op":1}`, code: protocol.CodeBadType},
	{name: "op null", in: `{"id":"n","op":null}`, code: protocol.CodeBadType, want: protocol.Command{ID: "n"}},
	{name: "unknown op beats bad id", in: `{"id":1,"op":"dance"}`, code: protocol.CodeUnknownOp},

	// Unknown fields.
	{name: "body on join", in: `{"id":"j","op":"join","room":"lobby","body":"hi"}`, code: protocol.CodeUnknownField, want: protocol.Command{ID: "j"}},
	{name: "room on ping", in: `{"op":"ping","room":"lobby"}`, code: protocol.CodeUnknownField},
	{name: "name on join", in: `{"op":"join","room":"lobby","name":"ada"}`, code: protocol.CodeUnknownField},
	{name: "topic on send", in: `{"op":"send","room":"lobby","body":"hi","topic":"x"}`, code: protocol.CodeUnknownField},
	{name: "cmid on history", in: `{"op":"history","room":"lobby","cmid":"x"}`, code: protocol.CodeUnknownField},
	{name: "field of no op", in: `{"op":"ping","password":"secret"}`, code: protocol.CodeUnknownField},
	{name: "field names are case sensitive", in: `{"op":"join","Room":"lobby"}`, code: protocol.CodeUnknownField},
	{name: "unknown field beats bad type", in: `{"op":"join","room":1,"body":"x"}`, code: protocol.CodeUnknownField},
	{name: "unknown field beats bad type, either order", in: `{"op":"join","body":"x","room":1}`, code: protocol.CodeUnknownField},
	{name: "unknown field beats missing field", in: `{"op":"send","room":"lobby","topic":"x"}`, code: protocol.CodeUnknownField},

	// Wrong JSON types.
	{name: "id number", in: `{"id":1,"op":"ping"}`, code: protocol.CodeBadType},
	{name: "id null", in: `{"id":null,"op":"ping"}`, code: protocol.CodeBadType},
	{name: "room number", in: `{"id":"t","op":"join","room":1}`, code: protocol.CodeBadType, want: protocol.Command{ID: "t"}},
	{name: "room null", in: `{"op":"join","room":null}`, code: protocol.CodeBadType},
	{name: "room array", in: `{"op":"join","room":["lobby"]}`, code: protocol.CodeBadType},
	{name: "room object", in: `{"op":"join","room":{}}`, code: protocol.CodeBadType},
	{name: "room bool", in: `{"op":"join","room":true}`, code: protocol.CodeBadType},
	{name: "body number", in: `{"op":"send","room":"lobby","body":42}`, code: protocol.CodeBadType},
	{name: "name number", in: `{"op":"hello","name":7}`, code: protocol.CodeBadType},
	{name: "limit string", in: historyLimit(`"10"`), code: protocol.CodeBadType, want: protocol.Command{ID: "h"}},
	{name: "limit fraction", in: historyLimit(`1.5`), code: protocol.CodeBadType, want: protocol.Command{ID: "h"}},
	{name: "limit 1.0", in: historyLimit(`1.0`), code: protocol.CodeBadType, want: protocol.Command{ID: "h"}},
	{name: "limit exponent", in: historyLimit(`1e3`), code: protocol.CodeBadType, want: protocol.Command{ID: "h"}},
	{name: "limit null", in: historyLimit(`null`), code: protocol.CodeBadType, want: protocol.Command{ID: "h"}},
	{name: "limit bool", in: historyLimit(`true`), code: protocol.CodeBadType, want: protocol.Command{ID: "h"}},
	{name: "limit overflows int64", in: historyLimit(`99999999999999999999`), code: protocol.CodeBadType, want: protocol.Command{ID: "h"}},
	{name: "before string", in: `{"op":"history","room":"lobby","before":"5"}`, code: protocol.CodeBadType},
	{name: "after null", in: `{"op":"history","room":"lobby","after":null}`, code: protocol.CodeBadType},
	{name: "private 1", in: `{"op":"create","room":"books","private":1}`, code: protocol.CodeBadType},
	{name: "private null", in: `{"op":"create","room":"books","private":null}`, code: protocol.CodeBadType},
	{name: "private string", in: `{"op":"create","room":"books","private":"true"}`, code: protocol.CodeBadType},
	{name: "bad type beats missing field", in: `{"op":"send","room":1}`, code: protocol.CodeBadType},
	{name: "first bad type in frame order", in: `{"op":"send","body":1,"room":2}`, code: protocol.CodeBadType},

	// Missing required fields.
	{name: "join without room", in: `{"id":"r","op":"join"}`, code: protocol.CodeMissingField, want: protocol.Command{ID: "r"}},
	{name: "leave without room", in: `{"op":"leave"}`, code: protocol.CodeMissingField},
	{name: "typing without room", in: `{"op":"typing"}`, code: protocol.CodeMissingField},
	{name: "create without room", in: `{"op":"create","topic":"x"}`, code: protocol.CodeMissingField},
	{name: "history without room", in: `{"op":"history","limit":5}`, code: protocol.CodeMissingField},
	{name: "send without body", in: `{"op":"send","room":"lobby"}`, code: protocol.CodeMissingField},
	{name: "send without room", in: `{"op":"send","body":"hi"}`, code: protocol.CodeMissingField},

	// Room names.
	{name: "room a", in: join("a"), want: protocol.Command{Op: "join", Room: "a"}},
	{name: "room digit first", in: join("9lives"), want: protocol.Command{Op: "join", Room: "9lives"}},
	{name: "room with - and _", in: join("go-nuts_2"), want: protocol.Command{Op: "join", Room: "go-nuts_2"}},
	{name: "room of 32", in: join(strings.Repeat("r", 32)), want: protocol.Command{Op: "join", Room: strings.Repeat("r", 32)}},
	{name: "room of 33", in: join(strings.Repeat("r", 33)), code: protocol.CodeTooLong},
	{name: "room empty", in: `{"id":"e","op":"join","room":""}`, code: protocol.CodeInvalidValue, want: protocol.Command{ID: "e"}},
	{name: "room upper case", in: join("Lobby"), code: protocol.CodeInvalidValue},
	{name: "room starts with -", in: join("-lobby"), code: protocol.CodeInvalidValue},
	{name: "room starts with _", in: join("_lobby"), code: protocol.CodeInvalidValue},
	{name: "room with space", in: join("the lobby"), code: protocol.CodeInvalidValue},
	{name: "room with dot", in: join("a.b"), code: protocol.CodeInvalidValue},
	{name: "room with slash", in: join("a/b"), code: protocol.CodeInvalidValue},
	{name: "room not ASCII", in: join("café"), code: protocol.CodeInvalidValue},
	{name: "room with NUL", in: join("a\x00"), code: protocol.CodeInvalidValue},
	{name: "room rule applies to send", in: `{"op":"send","room":"A","body":"hi"}`, code: protocol.CodeInvalidValue},
	{name: "room rule applies to create", in: `{"op":"create","room":"A B"}`, code: protocol.CodeInvalidValue},

	// Display names.
	{name: "name with inner space", in: hello("Ada Lovelace"), want: protocol.Command{Op: "hello", Name: "Ada Lovelace"}},
	{name: "name not ASCII", in: hello("Zoë 李"), want: protocol.Command{Op: "hello", Name: "Zoë 李"}},
	{name: "name emoji", in: hello("🦫"), want: protocol.Command{Op: "hello", Name: "🦫"}},
	{name: "name of 32 characters", in: hello(strings.Repeat("é", 32)), want: protocol.Command{Op: "hello", Name: strings.Repeat("é", 32)}},
	{name: "name of 33 characters", in: hello(strings.Repeat("n", 33)), code: protocol.CodeTooLong},
	{name: "name of 33 non-ASCII characters", in: hello(strings.Repeat("é", 33)), code: protocol.CodeTooLong},
	{name: "name with NUL", in: hello("a\x00b"), code: protocol.CodeInvalidValue},
	{name: "name with ESC", in: hello("a\x1b[2Jb"), code: protocol.CodeInvalidValue},
	{name: "name with ESC raw in frame", in: "{\"op\":\"hello\",\"name\":\"a\\u001bb\"}", code: protocol.CodeInvalidValue},
	{name: "name with newline", in: hello("a\nb"), code: protocol.CodeInvalidValue},
	{name: "name with tab", in: hello("a\tb"), code: protocol.CodeInvalidValue},
	{name: "name with DEL", in: hello("a\x7fb"), code: protocol.CodeInvalidValue},
	{name: "name with C1 control", in: hello("a\u0085b"), code: protocol.CodeInvalidValue},
	{name: "name with bidi override", in: hello("evil\u202Egnp.exe"), code: protocol.CodeInvalidValue},
	{name: "name with zero-width joiner", in: hello("a\u200Db"), code: protocol.CodeInvalidValue},
	{name: "name with zero-width space", in: hello("a\u200Bb"), code: protocol.CodeInvalidValue},
	{name: "name with BOM", in: hello("\uFEFFada"), code: protocol.CodeInvalidValue},
	{name: "name with no-break space", in: hello("a\u00A0b"), code: protocol.CodeInvalidValue},
	{name: "name with line separator", in: hello("a\u2028b"), code: protocol.CodeInvalidValue},
	{name: "name with replacement character", in: hello("a\uFFFDb"), code: protocol.CodeInvalidValue},
	{name: "name with lone surrogate escape", in: `{"op":"hello","name":"a\ud800"}`, code: protocol.CodeInvalidValue},
	{name: "name with leading space", in: hello(" ada"), code: protocol.CodeInvalidValue},
	{name: "name with trailing space", in: hello("ada "), code: protocol.CodeInvalidValue},
	{name: "name only spaces", in: hello("   "), code: protocol.CodeInvalidValue},

	// Topics.
	{name: "topic empty", in: create(""), want: protocol.Command{Op: "create", Room: "books"}},
	{name: "topic of 256 characters", in: create(strings.Repeat("ü", 256)), want: protocol.Command{Op: "create", Room: "books", Topic: strings.Repeat("ü", 256)}},
	{name: "topic of 257 characters", in: create(strings.Repeat("t", 257)), code: protocol.CodeTooLong},
	{name: "topic with newline", in: create("a\nb"), code: protocol.CodeInvalidValue},
	{name: "topic with ESC", in: create("\x1b]0;pwned\x07"), code: protocol.CodeInvalidValue},
	{name: "topic with bidi override", in: create("a\u202Eb"), code: protocol.CodeInvalidValue},

	// Message bodies.
	{name: "body of 1 byte", in: send("x"), want: protocol.Command{Op: "send", Room: "lobby", Body: "x"}},
	{name: "body of 4096 bytes", in: send(strings.Repeat("b", 4096)), want: protocol.Command{Op: "send", Room: "lobby", Body: strings.Repeat("b", 4096)}},
	{name: "body of 4096 bytes multibyte", in: send(strings.Repeat("€", 4096/3) + "b"), want: protocol.Command{Op: "send", Room: "lobby", Body: strings.Repeat("€", 4096/3) + "b"}},
	{name: "body of 4097 bytes", in: send(strings.Repeat("b", 4097)), code: protocol.CodeTooLong},
	{name: "body of 4097 bytes multibyte", in: send(strings.Repeat("€", 4096/3) + "bb"), code: protocol.CodeTooLong},
	{name: "body empty", in: `{"id":"b","op":"send","room":"lobby","body":""}`, code: protocol.CodeInvalidValue, want: protocol.Command{ID: "b"}},
	{name: "body only spaces", in: send("   "), code: protocol.CodeInvalidValue},
	{name: "body only white space", in: send(" \t\r\n\u00A0\u3000"), code: protocol.CodeInvalidValue},
	{name: "body with newlines", in: send("line 1\nline 2\r\n"), want: protocol.Command{Op: "send", Room: "lobby", Body: "line 1\nline 2\r\n"}},
	{name: "body with ESC", in: send("\x1b[31mred\x1b[0m"), want: protocol.Command{Op: "send", Room: "lobby", Body: "\x1b[31mred\x1b[0m"}},
	{name: "body with bidi override", in: send("a\u202Eb"), want: protocol.Command{Op: "send", Room: "lobby", Body: "a\u202Eb"}},
	{name: "body with NUL", in: send("a\x00b"), want: protocol.Command{Op: "send", Room: "lobby", Body: "a\x00b"}},
	{name: "body with HTML", in: send("<script>alert(1)</script>"), want: protocol.Command{Op: "send", Room: "lobby", Body: "<script>alert(1)</script>"}},

	// Client message ids.
	{name: "cmid empty", in: sendCMID(""), want: protocol.Command{Op: "send", Room: "lobby", Body: "hi"}},
	{name: "cmid uuid", in: sendCMID("0b7e1f7c-5a44-4b1e-9a3c-2f6f0e0c9d11"), want: protocol.Command{Op: "send", Room: "lobby", Body: "hi", CMID: "0b7e1f7c-5a44-4b1e-9a3c-2f6f0e0c9d11"}},
	{name: "cmid of 64", in: sendCMID(strings.Repeat("Z", 64)), want: protocol.Command{Op: "send", Room: "lobby", Body: "hi", CMID: strings.Repeat("Z", 64)}},
	{name: "cmid of 65", in: sendCMID(strings.Repeat("Z", 65)), code: protocol.CodeTooLong},
	{name: "cmid with space", in: sendCMID("a b"), code: protocol.CodeInvalidValue},
	{name: "cmid with dot", in: sendCMID("a.b"), code: protocol.CodeInvalidValue},
	{name: "cmid with colon", in: sendCMID("a:b"), code: protocol.CodeInvalidValue},
	{name: "cmid not ASCII", in: sendCMID("é"), code: protocol.CodeInvalidValue},
	{name: "cmid number", in: `{"op":"send","room":"lobby","body":"hi","cmid":5}`, code: protocol.CodeBadType},

	// Command ids.
	{name: "id of 65 bytes", in: `{"id":"` + strings.Repeat("i", 65) + `","op":"ping"}`, code: protocol.CodeTooLong, want: protocol.Command{ID: strings.Repeat("i", 65)}},
	{name: "id too long beats room rule", in: `{"id":"` + strings.Repeat("i", 65) + `","op":"join","room":"A"}`, code: protocol.CodeTooLong, want: protocol.Command{ID: strings.Repeat("i", 65)}},

	// History bounds.
	{name: "history before and after", in: `{"id":"ba","op":"history","room":"lobby","before":10,"after":2}`, code: protocol.CodeInvalidValue, want: protocol.Command{ID: "ba"}},
	{name: "history before 1", in: `{"op":"history","room":"lobby","before":1}`, want: protocol.Command{Op: "history", Room: "lobby", Before: i64(1)}},
	{name: "history before 0", in: `{"op":"history","room":"lobby","before":0}`, code: protocol.CodeInvalidValue},
	{name: "history before -1", in: `{"op":"history","room":"lobby","before":-1}`, code: protocol.CodeInvalidValue},
	{name: "history after -1", in: `{"op":"history","room":"lobby","after":-1}`, code: protocol.CodeInvalidValue},
	{name: "history after -0", in: `{"op":"history","room":"lobby","after":-0}`, want: protocol.Command{Op: "history", Room: "lobby", After: i64(0)}},
	{name: "history after huge", in: `{"op":"history","room":"lobby","after":9223372036854775807}`, want: protocol.Command{Op: "history", Room: "lobby", After: i64(1<<63 - 1)}},
	{name: "limit 0 is out of range", in: historyLimit(`0`), code: protocol.CodeInvalidValue, want: protocol.Command{ID: "h"}},
	{name: "limit absent means the default", in: `{"id":"h","op":"history","room":"lobby"}`, want: protocol.Command{ID: "h", Op: "history", Room: "lobby"}},
	{name: "limit 1", in: historyLimit(`1`), want: protocol.Command{ID: "h", Op: "history", Room: "lobby", Limit: 1}},
	{name: "limit 100", in: historyLimit(`100`), want: protocol.Command{ID: "h", Op: "history", Room: "lobby", Limit: 100}},
	{name: "limit 101", in: historyLimit(`101`), code: protocol.CodeInvalidValue, want: protocol.Command{ID: "h"}},
	{name: "limit -1", in: historyLimit(`-1`), code: protocol.CodeInvalidValue, want: protocol.Command{ID: "h"}},
	{name: "limit that wraps a 32-bit int", in: historyLimit(`4294967297`), code: protocol.CodeInvalidValue, want: protocol.Command{ID: "h"}},
	{name: "limit most negative", in: historyLimit(`-9223372036854775808`), code: protocol.CodeInvalidValue, want: protocol.Command{ID: "h"}},

	// Direct messages.
	{name: "dm", in: `{"id":"d","op":"dm","user":"grace"}`, want: protocol.Command{ID: "d", Op: "dm", User: "grace"}},
	{name: "dm without user", in: `{"id":"d","op":"dm"}`, code: protocol.CodeMissingField, want: protocol.Command{ID: "d"}},
	{name: "dm takes no room", in: `{"op":"dm","room":"lobby","user":"grace"}`, code: protocol.CodeUnknownField},
	{name: "dm takes no body", in: `{"op":"dm","user":"grace","body":"hi"}`, code: protocol.CodeUnknownField},
	{name: "dm user number", in: `{"op":"dm","user":7}`, code: protocol.CodeBadType},
	{name: "dm user null", in: `{"op":"dm","user":null}`, code: protocol.CodeBadType},
	{name: "dm user empty", in: dm(""), code: protocol.CodeInvalidValue},
	{name: "dm user of 3", in: dm("bob"), want: protocol.Command{Op: "dm", User: "bob"}},
	{name: "dm user of 2", in: dm("bo"), code: protocol.CodeInvalidValue},
	{name: "dm user of 32", in: dm(strings.Repeat("u", 32)), want: protocol.Command{Op: "dm", User: strings.Repeat("u", 32)}},
	{name: "dm user of 33", in: dm(strings.Repeat("u", 33)), code: protocol.CodeTooLong},
	{name: "dm user upper case", in: dm("Grace"), code: protocol.CodeInvalidValue},
	{name: "dm user digit first", in: dm("9lives"), code: protocol.CodeInvalidValue},
	{name: "dm user is not a display name", in: dm("Grace Hopper"), code: protocol.CodeInvalidValue},
	{name: "dm user with colon", in: dm("a:b:c"), code: protocol.CodeInvalidValue},

	// Invite, promote, demote: account names only.
	{name: "invite", in: `{"id":"i","op":"invite","room":"books","user":"grace"}`, want: protocol.Command{ID: "i", Op: "invite", Room: "books", User: "grace"}},
	{name: "invite without user", in: `{"op":"invite","room":"books"}`, code: protocol.CodeMissingField},
	{name: "invite without room", in: `{"op":"invite","user":"grace"}`, code: protocol.CodeMissingField},
	{name: "invite takes no reason", in: `{"op":"invite","room":"books","user":"grace","reason":"x"}`, code: protocol.CodeUnknownField},
	{name: "invite a display name", in: userOp("invite", "Grace Hopper"), code: protocol.CodeInvalidValue},
	{name: "invite upper case", in: userOp("invite", "Grace"), code: protocol.CodeInvalidValue},
	{name: "invite user of 33", in: userOp("invite", strings.Repeat("u", 33)), code: protocol.CodeTooLong},
	{name: "invite bad room", in: `{"op":"invite","room":"Books","user":"grace"}`, code: protocol.CodeInvalidValue},
	{name: "promote", in: userOp("promote", "grace"), want: user("promote", "grace")},
	{name: "promote without user", in: `{"op":"promote","room":"books"}`, code: protocol.CodeMissingField},
	{name: "promote a display name", in: userOp("promote", "Troll 42"), code: protocol.CodeInvalidValue},
	{name: "promote takes no seconds", in: `{"op":"promote","room":"books","user":"grace","seconds":5}`, code: protocol.CodeUnknownField},
	{name: "demote", in: userOp("demote", "grace"), want: user("demote", "grace")},
	{name: "demote without room", in: `{"op":"demote","user":"grace"}`, code: protocol.CodeMissingField},
	{name: "demote upper case", in: userOp("demote", "GRACE"), code: protocol.CodeInvalidValue},

	// Kick, ban, unban, mute, unmute: an account name or a guest's display name.
	{name: "kick", in: `{"id":"k","op":"kick","room":"lobby","user":"mallory","reason":"spam"}`,
		want: protocol.Command{ID: "k", Op: "kick", Room: "lobby", User: "mallory", Reason: "spam"}},
	{name: "kick without reason", in: userOp("kick", "mallory"), want: user("kick", "mallory")},
	{name: "kick a guest", in: userOp("kick", "Troll 42"), want: user("kick", "Troll 42")},
	{name: "kick a guest, not ASCII", in: userOp("kick", "Zoë 李"), want: user("kick", "Zoë 李")},
	{name: "kick a guest of 1 character", in: userOp("kick", "x"), want: user("kick", "x")},
	{name: "kick user of 33", in: userOp("kick", strings.Repeat("u", 33)), code: protocol.CodeTooLong},
	{name: "kick user of 33 characters", in: userOp("kick", strings.Repeat("é", 33)), code: protocol.CodeTooLong},
	{name: "kick user empty", in: userOp("kick", ""), code: protocol.CodeInvalidValue},
	{name: "kick user with ESC", in: userOp("kick", "a\x1bb"), code: protocol.CodeInvalidValue},
	{name: "kick user with leading space", in: userOp("kick", " mallory"), code: protocol.CodeInvalidValue},
	{name: "kick without user", in: `{"op":"kick","room":"lobby"}`, code: protocol.CodeMissingField},
	{name: "kick without room", in: `{"op":"kick","user":"mallory"}`, code: protocol.CodeMissingField},
	{name: "kick takes no seconds", in: `{"op":"kick","room":"lobby","user":"mallory","seconds":60}`, code: protocol.CodeUnknownField},
	{name: "kick reason number", in: `{"op":"kick","room":"lobby","user":"mallory","reason":1}`, code: protocol.CodeBadType},
	{name: "reason empty", in: kick(""), want: user("kick", "mallory")},
	{name: "reason with HTML", in: kick("<b>no</b> & stop"), want: protocol.Command{Op: "kick", Room: "lobby", User: "mallory", Reason: "<b>no</b> & stop"}},
	{name: "reason of 256 characters", in: kick(strings.Repeat("ü", 256)), want: protocol.Command{Op: "kick", Room: "lobby", User: "mallory", Reason: strings.Repeat("ü", 256)}},
	{name: "reason of 257 characters", in: kick(strings.Repeat("r", 257)), code: protocol.CodeTooLong},
	{name: "reason with newline", in: kick("a\nb"), code: protocol.CodeInvalidValue},
	{name: "reason with ESC", in: kick("\x1b[2J"), code: protocol.CodeInvalidValue},
	{name: "reason with bidi override", in: kick("a\u202Eb"), code: protocol.CodeInvalidValue},
	{name: "reason with lone surrogate escape", in: `{"op":"kick","room":"lobby","user":"mallory","reason":"a\ud800"}`, code: protocol.CodeInvalidValue},
	{name: "ban", in: `{"id":"b","op":"ban","room":"lobby","user":"mallory","reason":"spam","seconds":86400}`,
		want: protocol.Command{ID: "b", Op: "ban", Room: "lobby", User: "mallory", Reason: "spam", Seconds: 86400}},
	{name: "ban for ever", in: userOp("ban", "mallory"), want: user("ban", "mallory")},
	{name: "ban a guest", in: userOp("ban", "Troll 42"), want: user("ban", "Troll 42")},
	{name: "ban reason too long", in: `{"op":"ban","room":"lobby","user":"mallory","reason":"` + strings.Repeat("r", 257) + `"}`, code: protocol.CodeTooLong},
	{name: "seconds 0 means until lifted", in: banSeconds(`0`), want: protocol.Command{ID: "b", Op: "ban", Room: "lobby", User: "mallory"}},
	{name: "seconds 1", in: banSeconds(`1`), want: protocol.Command{ID: "b", Op: "ban", Room: "lobby", User: "mallory", Seconds: 1}},
	{name: "seconds of a year", in: banSeconds(strconv.Itoa(protocol.MaxSanctionSeconds)),
		want: protocol.Command{ID: "b", Op: "ban", Room: "lobby", User: "mallory", Seconds: protocol.MaxSanctionSeconds}},
	{name: "seconds over a year", in: banSeconds(strconv.Itoa(protocol.MaxSanctionSeconds + 1)), code: protocol.CodeInvalidValue, want: protocol.Command{ID: "b"}},
	{name: "seconds -1", in: banSeconds(`-1`), code: protocol.CodeInvalidValue, want: protocol.Command{ID: "b"}},
	{name: "seconds that wraps a 32-bit int", in: banSeconds(`4294967297`), code: protocol.CodeInvalidValue, want: protocol.Command{ID: "b"}},
	{name: "seconds most negative", in: banSeconds(`-9223372036854775808`), code: protocol.CodeInvalidValue, want: protocol.Command{ID: "b"}},
	{name: "seconds largest int64", in: banSeconds(`9223372036854775807`), code: protocol.CodeInvalidValue, want: protocol.Command{ID: "b"}},
	{name: "seconds overflows int64", in: banSeconds(`99999999999999999999`), code: protocol.CodeBadType, want: protocol.Command{ID: "b"}},
	{name: "seconds fraction", in: banSeconds(`1.5`), code: protocol.CodeBadType, want: protocol.Command{ID: "b"}},
	{name: "seconds string", in: banSeconds(`"60"`), code: protocol.CodeBadType, want: protocol.Command{ID: "b"}},
	{name: "seconds null", in: banSeconds(`null`), code: protocol.CodeBadType, want: protocol.Command{ID: "b"}},
	{name: "unban", in: userOp("unban", "mallory"), want: user("unban", "mallory")},
	{name: "unban a guest", in: userOp("unban", "Troll 42"), want: user("unban", "Troll 42")},
	{name: "unban takes no reason", in: `{"op":"unban","room":"lobby","user":"mallory","reason":"x"}`, code: protocol.CodeUnknownField},
	{name: "unban takes no seconds", in: `{"op":"unban","room":"lobby","user":"mallory","seconds":1}`, code: protocol.CodeUnknownField},
	{name: "unban without user", in: `{"op":"unban","room":"lobby"}`, code: protocol.CodeMissingField},
	{name: "mute", in: `{"op":"mute","room":"lobby","user":"mallory","reason":"cool down","seconds":600}`,
		want: protocol.Command{Op: "mute", Room: "lobby", User: "mallory", Reason: "cool down", Seconds: 600}},
	{name: "mute for ever", in: userOp("mute", "mallory"), want: user("mute", "mallory")},
	{name: "mute seconds -1", in: `{"op":"mute","room":"lobby","user":"mallory","seconds":-1}`, code: protocol.CodeInvalidValue},
	{name: "mute seconds over a year", in: `{"op":"mute","room":"lobby","user":"mallory","seconds":31536001}`, code: protocol.CodeInvalidValue},
	{name: "mute without room", in: `{"op":"mute","user":"mallory"}`, code: protocol.CodeMissingField},
	{name: "mute user with tab", in: userOp("mute", "a\tb"), code: protocol.CodeInvalidValue},
	{name: "unmute", in: userOp("unmute", "mallory"), want: user("unmute", "mallory")},
	{name: "unmute takes no seconds", in: `{"op":"unmute","room":"lobby","user":"mallory","seconds":0}`, code: protocol.CodeUnknownField},
	{name: "unmute without user", in: `{"op":"unmute","room":"lobby"}`, code: protocol.CodeMissingField},
	{name: "user on join", in: `{"op":"join","room":"lobby","user":"grace"}`, code: protocol.CodeUnknownField},
	{name: "user on hello", in: `{"op":"hello","user":"grace"}`, code: protocol.CodeUnknownField},
	{name: "seconds on send", in: `{"op":"send","room":"lobby","body":"hi","seconds":1}`, code: protocol.CodeUnknownField},

	// Topic.
	{name: "topic", in: topic("SICP, chapter 3"), want: protocol.Command{Op: "topic", Room: "books", Topic: "SICP, chapter 3"}},
	{name: "topic empty clears it", in: topic(""), want: protocol.Command{Op: "topic", Room: "books"}},
	{name: "topic without topic", in: `{"id":"t","op":"topic","room":"books"}`, code: protocol.CodeMissingField, want: protocol.Command{ID: "t"}},
	{name: "topic without room", in: `{"op":"topic","topic":"x"}`, code: protocol.CodeMissingField},
	{name: "topic op of 256 characters", in: topic(strings.Repeat("ü", 256)), want: protocol.Command{Op: "topic", Room: "books", Topic: strings.Repeat("ü", 256)}},
	{name: "topic op of 257 characters", in: topic(strings.Repeat("t", 257)), code: protocol.CodeTooLong},
	{name: "topic op with ESC", in: topic("\x1b]0;pwned\x07"), code: protocol.CodeInvalidValue},
	{name: "topic op number", in: `{"op":"topic","room":"books","topic":3}`, code: protocol.CodeBadType},
	{name: "topic op takes no private", in: `{"op":"topic","room":"books","topic":"x","private":true}`, code: protocol.CodeUnknownField},

	// Direct-message room names in room commands.
	{name: "join a DM room", in: join("dm:alice:grace"), want: protocol.Command{Op: "join", Room: "dm:alice:grace"}},
	{name: "send to a DM room", in: `{"op":"send","room":"dm:alice:grace","body":"hi"}`, want: protocol.Command{Op: "send", Room: "dm:alice:grace", Body: "hi"}},
	{name: "history of a DM room", in: `{"op":"history","room":"dm:alice:grace","after":0}`, want: protocol.Command{Op: "history", Room: "dm:alice:grace", After: i64(0)}},
	{name: "DM room of two 32-byte names", in: join("dm:" + strings.Repeat("a", 32) + ":" + strings.Repeat("b", 32)),
		want: protocol.Command{Op: "join", Room: "dm:" + strings.Repeat("a", 32) + ":" + strings.Repeat("b", 32)}},
	{name: "DM room unsorted", in: join("dm:grace:alice"), code: protocol.CodeInvalidValue},
	{name: "DM room with oneself", in: join("dm:alice:alice"), code: protocol.CodeInvalidValue},
	{name: "DM room without users", in: join("dm:"), code: protocol.CodeInvalidValue},
	{name: "DM room with one user", in: join("dm:alice"), code: protocol.CodeInvalidValue},
	{name: "DM room with short names", in: join("dm:a:b"), code: protocol.CodeInvalidValue},
	{name: "DM room with upper case", in: join("dm:Alice:grace"), code: protocol.CodeInvalidValue},
	{name: "DM room with three users", in: join("dm:alice:bob:grace"), code: protocol.CodeInvalidValue},
	{name: "DM prefix upper case", in: join("DM:alice:grace"), code: protocol.CodeInvalidValue},
	{name: "create a DM room", in: `{"id":"c","op":"create","room":"dm:alice:grace"}`, code: protocol.CodeInvalidValue, want: protocol.Command{ID: "c"}},
	{name: "room named dm", in: `{"op":"create","room":"dm"}`, want: protocol.Command{Op: "create", Room: "dm"}},
	{name: "room starting with dm", in: `{"op":"create","room":"dm-help"}`, want: protocol.Command{Op: "create", Room: "dm-help"}},
}

func TestDecode(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := protocol.Decode([]byte(tc.in))
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Decode(%q) error: %v", tc.in, err)
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("Decode(%q) mismatch (-want +got):\n%s", tc.in, diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("Decode(%q) = %+v, want error %s", tc.in, got, tc.code)
			}
			if gotCode := protocol.CodeOf(err); gotCode != tc.code {
				t.Errorf("Decode(%q) code = %s (%v), want %s", tc.in, gotCode, err, tc.code)
			}
			if got.ID != tc.want.ID {
				t.Errorf("Decode(%q) returned ID %q, want %q", tc.in, got.ID, tc.want.ID)
			}
		})
	}
}

// TestDecodeDeterministic checks that a frame breaking several rules gets
// the same code every time, whatever the order Go iterates maps in.
func TestDecodeDeterministic(t *testing.T) {
	in := []byte(`{"op":"send","room":1,"body":2,"x":3,"y":4,"cmid":5}`)
	_, err := protocol.Decode(in)
	want := err.Error()
	for range 100 {
		if _, err := protocol.Decode(in); err.Error() != want {
			t.Fatalf("Decode(%q) = %v, earlier %v", in, err, want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cmd  protocol.Command
		code protocol.Code // "" for valid
	}{
		{"ping", protocol.Command{Op: "ping"}, ""},
		{"history limit 101", protocol.Command{Op: "history", Room: "lobby", Limit: 101}, protocol.CodeInvalidValue},
		{"history limit 0", protocol.Command{Op: "history", Room: "lobby"}, ""},
		{"history before and after", protocol.Command{Op: "history", Room: "lobby", Before: i64(5), After: i64(1)}, protocol.CodeInvalidValue},
		{"send body too long", protocol.Command{Op: "send", Room: "lobby", Body: strings.Repeat("x", protocol.MaxBodyBytes+1)}, protocol.CodeTooLong},
		{"send body invalid UTF-8", protocol.Command{Op: "send", Room: "lobby", Body: "a\xffb"}, protocol.CodeInvalidValue},
		{"join without room", protocol.Command{Op: "join"}, protocol.CodeInvalidValue},
		{"id too long", protocol.Command{ID: strings.Repeat("x", protocol.MaxIDBytes+1), Op: "ping"}, protocol.CodeTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cmd.Validate()
			if tc.code == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if got := protocol.CodeOf(err); err == nil || got != tc.code {
				t.Errorf("Validate() = %v, want code %s", err, tc.code)
			}
		})
	}
}

func TestCodeOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want protocol.Code
	}{
		{"Error", protocol.Errorf(protocol.CodeMuted, "shh"), protocol.CodeMuted},
		{"wrapped", fmt.Errorf("conn 7: %w", protocol.Errorf(protocol.CodeBanned, "bye")), protocol.CodeBanned},
		{"other error", errors.New("disk on fire"), protocol.CodeInternal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := protocol.CodeOf(tc.err); got != tc.want {
				t.Errorf("CodeOf(%v) = %s, want %s", tc.err, got, tc.want)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	got := protocol.Errorf(protocol.CodeTooLong, "name is longer than %d characters", 32).Error()
	if want := "too_long: name is longer than 32 characters"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
