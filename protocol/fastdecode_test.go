package protocol

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// reflectDecode is what DecodeEvent did before decodeEvent: encoding/json.
func reflectDecode(obj []byte) (Event, error) {
	var ev Event
	err := json.Unmarshal(obj, &ev)
	return ev, err
}

// checkDecode checks the contract of decodeEvent on obj: when it reads obj,
// it gives json.Unmarshal's event; and DecodeEvent gives json.Unmarshal's
// answer either way. It returns whether decodeEvent read obj.
func checkDecode(t *testing.T, obj []byte) bool {
	t.Helper()
	want, wantErr := reflectDecode(obj)
	got, ok := decodeEvent(obj)
	if ok {
		if wantErr != nil {
			t.Fatalf("decodeEvent(%q) read it; json.Unmarshal: %v", obj, wantErr)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("decodeEvent(%q) mismatch (-json.Unmarshal +decodeEvent):\n%s", obj, diff)
		}
	}
	ev, err := DecodeEvent(obj)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("DecodeEvent(%q) error %v, json.Unmarshal %v", obj, err, wantErr)
	}
	if diff := cmp.Diff(want, ev); err == nil && diff != "" {
		t.Fatalf("DecodeEvent(%q) mismatch (-json.Unmarshal +DecodeEvent):\n%s", obj, diff)
	}
	return ok
}

func TestDecodeEventFast(t *testing.T) {
	tests := []struct {
		name string
		obj  string
		fast bool // decodeEvent reads it; else it is left to encoding/json
	}{
		{"message", `{"type":"message","message":{"room":"lobby","seq":7,"from":"ann","body":"hi","cmid":"c1","ts":1764000000000}}`, true},
		{"white space", " {\n\t\"type\" : \"ok\" ,\r\"id\":\"h\" , \"more\" : true } \n", true},
		{"empty object", `{}`, true},
		{"escapes", `{"type":"error","reason":"a\"b\\c\/d\b\f\n\r\t\u0000\u00e9\u2028<>&\u003c"}`, true},
		{"raw UTF-8 and DEL", "{\"type\":\"x\",\"reason\":\"é 😀 \u2029 \x7f\"}", true},
		{"escape after UTF-8", `{"reason":"é\n😀"}`, true},
		{"negative and zero", `{"type":"banned","until":-1,"seq":0,"message":{"room":"r","seq":-0,"ts":9223372036854775807}}`, true},
		{"empty arrays", `{"members":[],"messages":[],"rooms":[],"roster":[],"message":{"reactions":[{"emoji":"x","users":[]}]}}`, true},
		{"join reply", `{"type":"ok","id":"j","room":"r","info":{"name":"r","topic":"t","private":true,"last_seq":9,"online":2,"peer":"p","role":"owner","read_seq":3,"archived":true},"members":["a","b"],"roster":[{"name":"a","role":"owner"}],"role":"owner"}`, true},
		{"join reply with staff", `{"type":"ok","id":"j","room":"r","info":{"name":"r","last_seq":9,"online":2,"owner":"o","staff":[{"name":"o","role":"owner"},{"name":"m","role":"moderator"}]},"members":["a"]}`, true},
		{"upload", `{"type":"upload","upload":{"id":"f_1","offset":10,"size":20,"chunk":5,"file":{"id":"f_1","name":"a.png","size":20,"type":"image/png","width":1,"height":2,"thumb":true}}}`, true},

		// Left to encoding/json, which decides.
		{"unknown field", `{"type":"join","room":"lobby","avatar":"g.png"}`, false},
		{"key in another case", `{"Type":"join"}`, false},
		{"key with an escape", `{"typ\u0065":"join"}`, false},
		{"duplicate key", `{"type":"a","type":"b"}`, false},
		{"duplicate pointer", `{"message":{"room":"a"},"message":{"seq":1}}`, false},
		{"nulls", `{"type":null,"seq":null,"more":null,"message":null,"members":null,"info":null,"rooms":null}`, true},
		{"null in a list", `{"members":["a",null],"message":{"reactions":[{"emoji":"x","users":null}]}}`, true},
		{"float", `{"seq":1.5}`, false},
		{"exponent", `{"seq":1e3}`, false},
		{"leading zero", `{"seq":01}`, false},
		{"overflow", `{"seq":9223372036854775808}`, false},
		{"string for a number", `{"seq":"1"}`, false},
		{"number for a string", `{"type":1}`, false},
		{"lone surrogate", `{"reason":"\ud83d"}`, false},
		{"surrogate pair", `{"reason":"\ud83d\ude00"}`, false},
		{"invalid UTF-8", "{\"reason\":\"\xff\"}", false},
		{"invalid UTF-8 with an escape", "{\"reason\":\"\\n\xff\"}", false},
		{"control character", "{\"reason\":\"a\nb\"}", false},
		{"bad escape", `{"reason":"\x"}`, false},
		{"short unicode escape", `{"reason":"\u12"}`, false},
		{"trailing data", `{"type":"ok"}x`, false},
		{"two objects", `{"type":"ok"}{}`, false},
		{"not an object", `["type"]`, false},
		{"unclosed", `{"type":"ok"`, false},
		{"trailing comma", `{"type":"ok",}`, false},
		{"bad literal", `{"more":tru}`, false},
		{"bad null", `{"type":nul}`, false},
		{"null object in a list", `{"messages":[null]}`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkDecode(t, []byte(tt.obj)); got != tt.fast {
				t.Errorf("decodeEvent read it: %v, want %v", got, tt.fast)
			}
		})
	}
}

// goldens returns the golden files of testdata that match pattern, by
// name, with their bytes.
func goldens(t testing.TB, pattern string) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files %s: %v", pattern, err)
	}
	out := make(map[string][]byte, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = data
	}
	return out
}

// TestDecodeEventGoldens: every event of the protocol's golden files, as
// the server writes it, is read without reflection.
func TestDecodeEventGoldens(t *testing.T) {
	for name, obj := range goldens(t, "event_*.json") {
		t.Run(name, func(t *testing.T) {
			if !checkDecode(t, obj) {
				t.Errorf("decodeEvent left %s to encoding/json", obj)
			}
		})
	}
}

// TestDecodeEventCoversEveryField sets each field of Event and of every
// struct inside it in turn, as encoding/json writes it: decodeEvent must
// read it. A field added to a struct and not to decodeEvent fails here
// (the decoder gives up on a key it does not know) instead of every event
// that carries it quietly going through reflection.
func TestDecodeEventCoversEveryField(t *testing.T) {
	// Each struct an event can hold, and where: part returns it inside a
	// fresh event.
	for _, w := range []struct {
		in   string
		part func(ev *Event) reflect.Value
	}{
		{"Event", func(ev *Event) reflect.Value { return reflect.ValueOf(ev).Elem() }},
		{"Message", func(ev *Event) reflect.Value { ev.Message = &Message{}; return reflect.ValueOf(ev.Message).Elem() }},
		{"Messages", func(ev *Event) reflect.Value {
			ev.Messages = []Message{{}}
			return reflect.ValueOf(&ev.Messages[0]).Elem()
		}},
		{"Reaction", func(ev *Event) reflect.Value {
			ev.Message = &Message{Reactions: []Reaction{{}}}
			return reflect.ValueOf(&ev.Message.Reactions[0]).Elem()
		}},
		{"File", func(ev *Event) reflect.Value {
			ev.Message = &Message{File: &File{}}
			return reflect.ValueOf(ev.Message.File).Elem()
		}},
		{"RoomInfo", func(ev *Event) reflect.Value { ev.Info = &RoomInfo{}; return reflect.ValueOf(ev.Info).Elem() }},
		{"Rooms", func(ev *Event) reflect.Value { ev.Rooms = []RoomInfo{{}}; return reflect.ValueOf(&ev.Rooms[0]).Elem() }},
		{"Member", func(ev *Event) reflect.Value { ev.Roster = []Member{{}}; return reflect.ValueOf(&ev.Roster[0]).Elem() }},
		{"Identity", func(ev *Event) reflect.Value { ev.Self = &Identity{}; return reflect.ValueOf(ev.Self).Elem() }},
		{"UploadState", func(ev *Event) reflect.Value { ev.Upload = &UploadState{}; return reflect.ValueOf(ev.Upload).Elem() }},
		{"UploadState.File", func(ev *Event) reflect.Value {
			ev.Upload = &UploadState{File: &File{}}
			return reflect.ValueOf(ev.Upload.File).Elem()
		}},
	} {
		typ := w.part(&Event{}).Type()
		for i := range typ.NumField() {
			t.Run(w.in+"."+typ.Field(i).Name, func(t *testing.T) {
				ev := &Event{Type: "x"}
				setNonZero(t, w.part(ev).Field(i))
				obj, err := json.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				if !checkDecode(t, obj) {
					t.Errorf("decodeEvent left %s to encoding/json", obj)
				}
			})
		}
	}
}

// FuzzDecodeEvent: whatever the bytes, decodeEvent either leaves them to
// encoding/json or reads them as it does, and DecodeEvent answers as
// json.Unmarshal does.
func FuzzDecodeEvent(f *testing.F) {
	for _, obj := range goldens(f, "event_*.json") {
		f.Add(obj)
	}
	for _, s := range []string{
		`{"type":"error","reason":"a\"b\\c\/d\b\f\n\r\t\u0000\u00e9\u2028<>&\u003c\ud83d\ude00"}`,
		`{"type":"banned","until":-1,"seq":0,"message":{"room":"r","seq":-0,"ts":9223372036854775807}}`,
		`{"members":[],"messages":[{}],"message":{"reactions":[{"emoji":"x","users":[]}],"file":{}}}`,
		`{"type":"a","type":"b","TYPE":"c","message":null,"seq":1e3}`,
		`{"type":"ok","id":"36","blocks":["mallory","troll"]}`,
		`{"type":"ok","blocks":[],"blocks":null}`,
		`{"type":"blocked","user":"mallory","blocks":[1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, obj []byte) {
		checkDecode(t, obj)
	})
}

// BenchmarkDecodeEvent: a message event and the reply to a join of a room
// of many, without reflection and with encoding/json.
func BenchmarkDecodeEvent(b *testing.B) {
	for _, tc := range benchEvents() {
		obj, err := EncodeEvent(tc.ev)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name+"/decodeEvent", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeEvent(obj); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := reflectDecode(obj); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// checkDecodeCommand checks the contract of decodeCommand on data: when it
// reads data, Decode's strict path accepts data too and gives the same
// command. It returns whether decodeCommand read data.
func checkDecodeCommand(t *testing.T, data []byte) bool {
	t.Helper()
	want, wantErr := decodeStrict(data)
	got, ok := decodeCommand(data)
	if !ok {
		return false
	}
	if wantErr != nil {
		t.Fatalf("decodeCommand(%q) read it; the strict path refuses it: %v", data, wantErr)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("decodeCommand(%q) mismatch (-strict +decodeCommand):\n%s", data, diff)
	}
	return true
}

func TestDecodeCommandFast(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		fast  bool // decodeCommand reads it; else the strict path decides
	}{
		{"hello", `{"id":"1","op":"hello","name":"b1a2b3c4-17"}`, true},
		{"join", ` {"id":"2", "op" : "join",` + "\n\t" + `"room":"bench"} ` + "\r\n", true},
		{"send with escapes", `{"id":"7","op":"send","room":"lobby","body":"hello, <world> & \"friends\"\nsecond line \u00e9","cmid":"k3J9-x_0b7e1f7c","reply_to":3}`, true},
		{"op last", `{"room":"lobby","body":"hi","op":"send"}`, true},
		{"history", `{"op":"history","room":"r","before":10,"limit":50}`, true},
		{"history after", `{"op":"history","room":"r","after":-0}`, true},
		{"ban", `{"op":"ban","room":"r","user":"u","reason":"spam","seconds":3600}`, true},
		{"ban past the longest", `{"op":"ban","room":"r","user":"u","seconds":99999999999}`, false},
		{"create private", `{"op":"create","room":"r","topic":"t","private":true}`, true},
		{"rooms archived false", `{"op":"rooms","archived":false}`, true},

		// Left to the strict path.
		{"duplicate field", `{"op":"join","room":"a","room":"b"}`, false},
		{"unknown field", `{"op":"join","room":"a","x":1}`, false},
		{"field the op does not take", `{"op":"join","room":"a","body":"b"}`, false},
		{"missing field", `{"op":"send","room":"a"}`, false},
		{"missing field Validate takes", `{"op":"topic","room":"a"}`, false},
		{"unknown op", `{"op":"jump","room":"a"}`, false},
		{"no op", `{"room":"a"}`, false},
		{"null", `{"op":"hello","name":null}`, false},
		{"wrong type", `{"op":"delete","room":"a","seq":"1"}`, false},
		{"float", `{"op":"delete","room":"a","seq":1.0}`, false},
		{"limit zero", `{"op":"history","room":"a","limit":0}`, false},
		{"invalid value", `{"op":"join","room":"no spaces allowed"}`, false},
		{"key with an escape", `{"op":"join","r\u006fom":"a"}`, false},
		{"surrogate escape", `{"op":"send","room":"a","body":"\ud83d\ude00"}`, false},
		{"invalid UTF-8", "{\"op\":\"send\",\"room\":\"a\",\"body\":\"\xff\"}", false},
		{"trailing data", `{"op":"ping"} x`, false},
		{"not an object", `["op","ping"]`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkDecodeCommand(t, []byte(tt.frame)); got != tt.fast {
				t.Errorf("decodeCommand read it: %v, want %v", got, tt.fast)
			}
		})
	}
	// Every field an op names is a field decodeCommand has a bit for.
	for op, spec := range ops {
		for _, name := range append(append([]string{}, spec.required...), spec.optional...) {
			if commandFields[name].bit == 0 {
				t.Errorf("op %s names field %q, which has no bit", op, name)
			}
		}
	}
}

// TestDecodeCommandGoldens: every command of the golden files, as a client
// writes it, is read by decodeCommand.
func TestDecodeCommandGoldens(t *testing.T) {
	for name, data := range goldens(t, "command_*.json") {
		t.Run(name, func(t *testing.T) {
			if !checkDecodeCommand(t, data) {
				t.Errorf("decodeCommand left %s to the strict path", data)
			}
		})
	}
}

// FuzzDecodeCommand: whatever the bytes, decodeCommand either leaves them
// to the strict path or reads them as it does.
func FuzzDecodeCommand(f *testing.F) {
	for _, data := range goldens(f, "command_*.json") {
		f.Add(data)
	}
	for _, s := range []string{
		`{"id":"7","op":"send","room":"lobby","body":"a\"b\\c\/d\b\f\n\r\t\u0000\u00e9\u2028<>&","cmid":"k","reply_to":3}`,
		`{"op":"history","room":"r","before":10,"after":-0,"limit":50}`,
		`{"op":"ban","room":"r","user":"u","seconds":-99999999999}`,
		`{"op":"join","room":"a","room":"b","x":null,"seq":1e3}`,
		`{"id":"b","op":"block","user":"mallory"}`,
		`{"op":"unblock","user":"Mallory"}`,
		`{"op":"blocks","user":"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecodeCommand(t, data)
	})
}
