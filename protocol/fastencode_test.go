package protocol

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// reflectEncode is what EncodeEvent wrote before appendEvent: encoding/json.
func reflectEncode(t testing.TB, ev *Event) string {
	t.Helper()
	b, err := encode(ev)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAppendEvent(t *testing.T) {
	tricky := "a\"b\\c\x00\x01\x1f\b\f\n\r\t<>&\u2028\u2029\x7f é 😀 \xff\xfe end"
	tests := []struct {
		name string
		ev   Event
		fast bool // appendEvent writes it; else it defers to encoding/json
	}{
		{"empty", Event{}, true},
		{"message", Event{Type: TypeMessage, Message: &Message{Room: "lobby", Seq: 7, From: "ann", Body: "hi", TS: 1764000000000}}, true},
		{"ack with every message field", Event{Type: TypeOK, ID: "c1", Room: "r", Message: &Message{
			Room: "r", Seq: 1, Kind: "edit", From: "bo", Guest: true, Body: tricky, CMID: "m1", TS: -5,
			Target: 3, User: "cy", Until: 9, ReplyTo: 2, Edited: 4, Deleted: true, V: 8}}, true},
		{"empty body kept", Event{Type: TypeMessage, Message: &Message{Room: "r", Seq: 1, From: "a"}}, true},
		{"error", Event{Type: TypeError, ID: "x", Code: CodeRateLimited, Reason: tricky}, true},
		{"presence", Event{Type: TypeJoin, Room: "r", User: "u", Members: []string{"a", tricky}, More: true}, true},
		{"empty members left out", Event{Type: TypeJoin, Members: []string{}}, true},
		{"moderation", Event{Type: "banned", Room: "r", User: "u", By: "m", Role: "owner", Until: 1, Seq: -2, Change: "created"}, true},
		{"history page", Event{Type: TypeOK, Messages: []Message{{Room: "r", Seq: 1}}}, false},
		{"file", Event{Type: TypeMessage, Message: &Message{Room: "r", File: &File{ID: "f"}}}, false},
		{"reactions", Event{Type: TypeMessage, Message: &Message{Room: "r", Reactions: []Reaction{{Emoji: "x", Users: []string{"a"}}}}}, false},
		{"room info", Event{Type: TypeOK, Info: &RoomInfo{Name: "r"}}, true},
		{"join reply", Event{Type: TypeOK, ID: "j", Room: "r", Info: &RoomInfo{Name: "r", Topic: tricky, Private: true, LastSeq: 9,
			Online: 2, Peer: "p", Role: RoleOwner, ReadSeq: 3, Archived: true}, Members: []string{"a"}, Role: RoleOwner}, true},
		{"join reply with staff", Event{Type: TypeOK, ID: "j", Room: "r", Info: &RoomInfo{Name: "r", Owner: tricky,
			Staff: []Member{{Name: tricky, Role: RoleOwner}, {Name: "m", Role: RoleModerator}, {}}}}, true},
		{"empty staff left out", Event{Type: TypeOK, Info: &RoomInfo{Name: "r", Staff: []Member{}}}, true},
		{"hello reply", Event{Type: TypeOK, ID: "h", Self: &Identity{Name: tricky, Guest: true, Admin: true}}, true},
		{"roster", Event{Type: TypeOK, Roster: []Member{{Name: "a", Role: RoleMember}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := appendEvent(nil, &tt.ev)
			if ok != tt.fast {
				t.Fatalf("appendEvent wrote it: %v, want %v", ok, tt.fast)
			}
			want := reflectEncode(t, &tt.ev)
			if ok && string(got) != want {
				t.Errorf("appendEvent:\n got %s\nwant %s", got, want)
			}
			if enc, err := EncodeEvent(&tt.ev); err != nil || string(enc) != want {
				t.Errorf("EncodeEvent = %s, %v; want %s", enc, err, want)
			}
		})
	}
}

// FuzzEncodeEvent: for any event appendEvent writes, its bytes are
// encoding/json's.
func FuzzEncodeEvent(f *testing.F) {
	f.Add("message", "id", "reason", "room", "user", "body", "cmid", "kind", int64(1), int64(0), true, "a,b")
	f.Add("ok", "", "\x00\u2028\xff\"\\", "", "\t", "\u2029é", "", "", int64(-1), int64(1<<62), false, "")
	f.Fuzz(func(t *testing.T, typ, id, reason, room, user, body, cmid, kind string, seq, ts int64, flag bool, members string) {
		ev := Event{Type: typ, ID: id, Code: Code(kind), Reason: reason, Room: room, User: user,
			More: flag, By: cmid, Role: kind, Until: ts, Seq: seq, Change: reason}
		if members != "" {
			ev.Members = strings.Split(members, ",")
		}
		if flag || seq%2 == 0 {
			ev.Message = &Message{Room: room, Seq: seq, Kind: kind, From: user, Guest: flag, Body: body, CMID: cmid,
				TS: ts, Target: seq, User: id, Until: ts, ReplyTo: seq, Edited: ts, Deleted: !flag, V: seq}
		}
		if seq%3 == 0 {
			ev.Info = &RoomInfo{Name: room, Topic: body, Private: flag, LastSeq: seq, Online: int(ts % 1000), Peer: user,
				Role: kind, ReadSeq: ts, Archived: !flag}
		}
		if seq%5 == 0 {
			ev.Self = &Identity{Name: user, Guest: flag, Admin: !flag}
		}
		got, ok := appendEvent(nil, &ev)
		if !ok {
			t.Fatal("appendEvent refused an event of plain fields")
		}
		if want := reflectEncode(t, &ev); string(got) != want {
			t.Errorf("appendEvent:\n got %s\nwant %s", got, want)
		}
	})
}

// benchEvents are the events the encode and decode benchmarks take: a
// message event, and the reply to a join of a room of many, its member
// list as the hub caps it.
func benchEvents() []struct {
	name string
	ev   *Event
} {
	var members []string
	for i := range 160 {
		members = append(members, fmt.Sprintf("b1a2b3c4-%d", i))
	}
	return []struct {
		name string
		ev   *Event
	}{
		{"message", &Event{Type: TypeMessage, Message: &Message{Room: "lobby", Seq: 1234, From: "alice",
			Body: strings.Repeat("hello ", 12), CMID: "c-123", TS: 1764000000000}}},
		{"join-reply", &Event{Type: TypeOK, ID: "j", Room: "bench", Info: &RoomInfo{Name: "bench", Topic: "hubbub-bench",
			LastSeq: 1234, Online: 10000, Role: RoleMember}, Members: members, Role: RoleMember}},
	}
}

// BenchmarkEncodeEvent: a message event, and the reply to a join of a room
// of many (its member list as the hub caps it), by hand and by
// encoding/json.
func BenchmarkEncodeEvent(b *testing.B) {
	for _, tc := range benchEvents() {
		b.Run(tc.name+"/appendEvent", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := EncodeEvent(tc.ev); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encode(tc.ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// setNonZero sets v, a field of an event's struct, to a value that is
// not its zero, so that encoding/json writes it: a slice of one zero
// element, a pointer to a zero struct.
func setNonZero(t *testing.T, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Int64, reflect.Int:
		v.SetInt(7)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	default:
		t.Fatalf("field of kind %s: teach this test (and appendEvent and decodeEvent) about it", v.Kind())
	}
}

// TestAppendEventCoversEveryField sets each field of Event and of its
// Message in turn: appendEvent must write it as encoding/json does or
// leave the event to encoding/json. A field added to either struct and
// not to appendEvent fails here instead of vanishing from the wire.
func TestAppendEventCoversEveryField(t *testing.T) {
	check := func(t *testing.T, ev *Event) {
		t.Helper()
		if got, ok := appendEvent(nil, ev); ok {
			if want := reflectEncode(t, ev); string(got) != want {
				t.Errorf("appendEvent:\n got %s\nwant %s", got, want)
			}
		}
	}
	// Each field of Event, and of the structs appendEvent writes inside
	// one, set on its own: in names the struct, part returns the struct
	// inside a fresh event (the event itself for Event).
	for _, w := range []struct {
		in   string
		part func(ev *Event) reflect.Value
	}{
		{"Event", func(ev *Event) reflect.Value { return reflect.ValueOf(ev).Elem() }},
		{"Message", func(ev *Event) reflect.Value { ev.Message = &Message{}; return reflect.ValueOf(ev.Message).Elem() }},
		{"RoomInfo", func(ev *Event) reflect.Value { ev.Info = &RoomInfo{}; return reflect.ValueOf(ev.Info).Elem() }},
		{"Identity", func(ev *Event) reflect.Value { ev.Self = &Identity{}; return reflect.ValueOf(ev.Self).Elem() }},
	} {
		typ := w.part(&Event{}).Type()
		for i := range typ.NumField() {
			t.Run(w.in+"."+typ.Field(i).Name, func(t *testing.T) {
				ev := &Event{Type: "x"}
				setNonZero(t, w.part(ev).Field(i))
				check(t, ev)
			})
		}
	}
	// The replies of a guest's connect, whole, are written by hand.
	for _, ev := range []*Event{
		{Type: TypeOK, ID: "h", Self: &Identity{Name: "ada", Guest: true}},
		{Type: TypeOK, ID: "j", Room: "lobby", Info: &RoomInfo{Name: "lobby", Topic: "hi", LastSeq: 42, Online: 3, Role: RoleMember, ReadSeq: 40},
			Members: []string{"ada", "bob"}, Role: RoleMember},
	} {
		if _, ok := appendEvent(nil, ev); !ok {
			t.Errorf("appendEvent refused %+v", ev)
		}
		check(t, ev)
	}
}
