package protocol_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/protocol"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// goldenCommands holds one representative command of every op, and a few
// variants worth showing. Each is stored as testdata/command_<name>.json,
// where name defaults to the op. docs/protocol.md quotes them.
var goldenCommands = []struct {
	name string // "" means the op
	c    protocol.Command
}{
	{"", protocol.Command{ID: "1", Op: protocol.OpHello, Name: "ada"}},
	{"hello_account", protocol.Command{ID: "1", Op: protocol.OpHello}},
	{"", protocol.Command{ID: "2", Op: protocol.OpPing}},
	{"", protocol.Command{ID: "3", Op: protocol.OpRooms}},
	{"", protocol.Command{ID: "4", Op: protocol.OpCreate, Room: "books", Topic: "What we are reading", Private: true}},
	{"", protocol.Command{ID: "5", Op: protocol.OpJoin, Room: "lobby"}},
	{"", protocol.Command{ID: "6", Op: protocol.OpLeave, Room: "lobby"}},
	{"", protocol.Command{ID: "7", Op: protocol.OpSend, Room: "lobby", Body: "hello, <world> & \"friends\"\nsecond line", CMID: "k3J9-x_0b7e1f7c"}},
	{"", protocol.Command{ID: "8", Op: protocol.OpHistory, Room: "lobby", After: i64(40), Limit: 2}},
	{"", protocol.Command{ID: "9", Op: protocol.OpTyping, Room: "lobby"}},
	{"", protocol.Command{ID: "10", Op: protocol.OpDM, User: "grace"}},
	{"", protocol.Command{ID: "11", Op: protocol.OpInvite, Room: "books", User: "grace"}},
	{"", protocol.Command{ID: "12", Op: protocol.OpKick, Room: "lobby", User: "Troll 42", Reason: "please keep it friendly"}},
	{"", protocol.Command{ID: "13", Op: protocol.OpBan, Room: "lobby", User: "mallory", Reason: "spam", Seconds: 86400}},
	{"", protocol.Command{ID: "14", Op: protocol.OpUnban, Room: "lobby", User: "mallory"}},
	{"", protocol.Command{ID: "15", Op: protocol.OpMute, Room: "lobby", User: "mallory", Reason: "cool down", Seconds: 600}},
	{"", protocol.Command{ID: "16", Op: protocol.OpUnmute, Room: "lobby", User: "mallory"}},
	{"", protocol.Command{ID: "17", Op: protocol.OpTopic, Room: "books", Topic: "SICP, chapter 3"}},
	// The empty topic clears it; the field must still be on the wire.
	{"topic_clear", protocol.Command{ID: "18", Op: protocol.OpTopic, Room: "books"}},
	{"", protocol.Command{ID: "19", Op: protocol.OpPromote, Room: "books", User: "grace"}},
	{"", protocol.Command{ID: "20", Op: protocol.OpDemote, Room: "books", User: "grace"}},
	{"", protocol.Command{ID: "21", Op: protocol.OpRefuseGuests, Room: "books"}},
	{"", protocol.Command{ID: "22", Op: protocol.OpAllowGuests, Room: "books"}},

	{"send_reply", protocol.Command{ID: "23", Op: protocol.OpSend, Room: "lobby", Body: "SICP, chapter 1 :+1:", CMID: "k3J9-x_0b7e1f7d", ReplyTo: 41}},
	{"", protocol.Command{ID: "24", Op: protocol.OpEdit, Room: "lobby", Seq: 42, Body: "hello, world"}},
	{"", protocol.Command{ID: "25", Op: protocol.OpDelete, Room: "lobby", Seq: 42}},
	{"", protocol.Command{ID: "26", Op: protocol.OpReact, Room: "lobby", Seq: 41, Emoji: "👍"}},
	{"", protocol.Command{ID: "27", Op: protocol.OpRead, Room: "lobby", Seq: 42}},
	{"", protocol.Command{ID: "28", Op: protocol.OpSearch, Query: "sicp chapter", Limit: 20}},
	{"search_room", protocol.Command{ID: "29", Op: protocol.OpSearch, Query: "sicp", Room: "lobby", Before: i64(41)}},

	// Files.
	{"", protocol.Command{ID: "30", Op: protocol.OpUpload, Name: "sicp.jpg", Size: 48213, Type: "image/jpeg", SHA256: sicpSHA256}},
	{"upload_resume", protocol.Command{ID: "31", Op: protocol.OpUpload, Upload: "f_7QmZ2xWcKpR4"}},
	{"send_file", protocol.Command{ID: "32", Op: protocol.OpSend, Room: "lobby", Body: "the cover", CMID: "k3J9-x_0b7e1f7e", File: "f_7QmZ2xWcKpR4"}},
	// Room lifecycle and directory search.
	{"rooms_query", protocol.Command{ID: "30", Op: protocol.OpRooms, Query: "Read", Archived: true, Room: "books"}},
	{"", protocol.Command{ID: "31", Op: protocol.OpArchiveRoom, Room: "books"}},
	{"", protocol.Command{ID: "32", Op: protocol.OpUnarchiveRoom, Room: "books"}},
	{"", protocol.Command{ID: "33", Op: protocol.OpDeleteRoom, Room: "books"}},
	// Blocks.
	{"", protocol.Command{ID: "34", Op: protocol.OpBlock, User: "mallory"}},
	{"", protocol.Command{ID: "35", Op: protocol.OpUnblock, User: "mallory"}},
	{"", protocol.Command{ID: "36", Op: protocol.OpBlocks}},
}

// sicpSHA256 is the checksum of the file in the upload goldens.
const sicpSHA256 = "9f2c1d7e4b8a0c3f5e6d7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d"

var sicpFile = protocol.File{ID: "f_7QmZ2xWcKpR4", Name: "sicp.jpg", Size: 48213, Type: "image/jpeg", Width: 800, Height: 1000, Thumb: true}

var (
	msg41 = protocol.Message{Room: "lobby", Seq: 41, From: "grace", Body: "has anyone read SICP?", TS: 1764085490000}
	msg42 = protocol.Message{Room: "lobby", Seq: 42, From: "ada", Guest: true, Body: "hello, <world> & \"friends\"\nsecond line", CMID: "k3J9-x_0b7e1f7c", TS: 1764085497123}
	msg43 = protocol.Message{Room: "lobby", Seq: 43, From: "linus", Body: "SICP, chapter 1 :+1:", CMID: "k3J9-x_0b7e1f7d", TS: 1764085520000, ReplyTo: 41}
)

// goldenEvents holds one representative event of every kind: the ok reply
// of every op, and every event type. Each is stored as
// testdata/event_<name>.json.
var goldenEvents = []struct {
	name string
	ev   protocol.Event
}{
	{"ok_hello", protocol.Event{Type: protocol.TypeOK, ID: "1", Self: &protocol.Identity{Name: "ada", Guest: true}}},
	{"ok_ping", protocol.Event{Type: protocol.TypeOK, ID: "2"}},
	// As alice sees them: her private room, her DM with grace, a public room.
	{"ok_rooms", protocol.Event{Type: protocol.TypeOK, ID: "3", Rooms: []protocol.RoomInfo{
		{Name: "books", Topic: "What we are reading", Private: true, LastSeq: 7, Online: 1, Role: protocol.RoleOwner},
		{Name: "dm:alice:grace", LastSeq: 12, Online: 2, Peer: "grace", Role: protocol.RoleMember},
		{Name: "lobby", Topic: "Say hello", LastSeq: 42, Online: 3},
	}}},
	{"ok_create", protocol.Event{Type: protocol.TypeOK, ID: "4", Room: "books",
		Info: &protocol.RoomInfo{Name: "books", Topic: "What we are reading", Private: true, Role: protocol.RoleOwner}}},
	{"ok_join_private", protocol.Event{Type: protocol.TypeOK, ID: "5", Room: "books",
		Info:    &protocol.RoomInfo{Name: "books", Topic: "What we are reading", Private: true, LastSeq: 7, Online: 1, Role: protocol.RoleOwner},
		Members: []string{"alice"},
		Roster:  []protocol.Member{{Name: "alice", Role: protocol.RoleOwner}, {Name: "grace", Role: protocol.RoleModerator}, {Name: "linus", Role: protocol.RoleMember}}}},
	{"ok_join", protocol.Event{Type: protocol.TypeOK, ID: "5", Room: "lobby",
		Info:    &protocol.RoomInfo{Name: "lobby", Topic: "Say hello", LastSeq: 41, Online: 3},
		Members: []string{"ada", "grace", "linus"}}},
	// A public room with a server administrator, an owner and a
	// moderator, as anyone sees it.
	{"ok_join_staff", protocol.Event{Type: protocol.TypeOK, ID: "5", Room: "chess",
		Info: &protocol.RoomInfo{Name: "chess", Topic: "Openings and endgames", LastSeq: 12, Online: 2, Owner: "grace",
			Staff: []protocol.Member{{Name: "alice", Role: protocol.RoleAdmin}, {Name: "grace", Role: protocol.RoleOwner}, {Name: "linus", Role: protocol.RoleModerator}}},
		Members: []string{"ada", "linus"}}},
	{"ok_leave", protocol.Event{Type: protocol.TypeOK, ID: "6", Room: "lobby"}},
	{"ok_send", protocol.Event{Type: protocol.TypeOK, ID: "7", Room: "lobby", Message: &msg42}},
	{"ok_history", protocol.Event{Type: protocol.TypeOK, ID: "8", Room: "lobby", Messages: []protocol.Message{msg41, msg42}, More: true}},
	{"ok_typing", protocol.Event{Type: protocol.TypeOK, ID: "9", Room: "lobby"}},
	{"error", protocol.Event{Type: protocol.TypeError, ID: "5", Code: protocol.CodeNoSuchRoom, Reason: "room \"lobbby\" does not exist"}},
	{"message", protocol.Event{Type: protocol.TypeMessage, Message: &msg42}},
	{"join", protocol.Event{Type: protocol.TypeJoin, Room: "lobby", User: "grace"}},
	{"leave", protocol.Event{Type: protocol.TypeLeave, Room: "lobby", User: "grace"}},
	{"typing", protocol.Event{Type: protocol.TypeTyping, Room: "lobby", User: "grace"}},

	// Accounts, private rooms, DMs and moderation.
	{"ok_hello_account", protocol.Event{Type: protocol.TypeOK, ID: "1", Self: &protocol.Identity{Name: "alice", Admin: true}}},
	{"ok_dm", protocol.Event{Type: protocol.TypeOK, ID: "10", Room: "dm:alice:grace",
		Info: &protocol.RoomInfo{Name: "dm:alice:grace", Online: 1, Peer: "grace", Role: protocol.RoleMember}}},
	{"ok_invite", protocol.Event{Type: protocol.TypeOK, ID: "11", Room: "books", User: "grace"}},
	{"ok_kick", protocol.Event{Type: protocol.TypeOK, ID: "12", Room: "lobby", User: "Troll 42"}},
	{"ok_ban", protocol.Event{Type: protocol.TypeOK, ID: "13", Room: "lobby", User: "mallory"}},
	{"ok_unban", protocol.Event{Type: protocol.TypeOK, ID: "14", Room: "lobby", User: "mallory"}},
	{"ok_mute", protocol.Event{Type: protocol.TypeOK, ID: "15", Room: "lobby", User: "mallory"}},
	{"ok_unmute", protocol.Event{Type: protocol.TypeOK, ID: "16", Room: "lobby", User: "mallory"}},
	{"ok_topic", protocol.Event{Type: protocol.TypeOK, ID: "17", Room: "books"}},
	{"ok_promote", protocol.Event{Type: protocol.TypeOK, ID: "19", Room: "books", User: "grace", Role: protocol.RoleModerator}},
	{"ok_demote", protocol.Event{Type: protocol.TypeOK, ID: "20", Room: "books", User: "grace", Role: protocol.RoleMember}},
	{"ok_refuse_guests", protocol.Event{Type: protocol.TypeOK, ID: "21", Room: "books"}},
	{"ok_allow_guests", protocol.Event{Type: protocol.TypeOK, ID: "22", Room: "books"}},
	{"invited", protocol.Event{Type: protocol.TypeInvited, Room: "books", User: "grace", By: "alice"}},
	{"invited_dm", protocol.Event{Type: protocol.TypeInvited, Room: "dm:alice:grace", User: "grace", By: "alice"}},
	{"kicked", protocol.Event{Type: protocol.TypeKicked, Room: "lobby", User: "Troll 42", By: "alice", Reason: "please keep it friendly"}},
	{"banned", protocol.Event{Type: protocol.TypeBanned, Room: "lobby", User: "mallory", By: "alice", Reason: "spam", Until: 1764171897123}},
	{"muted", protocol.Event{Type: protocol.TypeMuted, Room: "lobby", User: "mallory", By: "alice", Reason: "cool down", Until: 1764086097123}},
	{"unmuted", protocol.Event{Type: protocol.TypeUnmuted, Room: "lobby", User: "mallory", By: "alice"}},
	{"unbanned", protocol.Event{Type: protocol.TypeUnbanned, Room: "lobby", User: "mallory", By: "alice"}},
	{"role", protocol.Event{Type: protocol.TypeRole, Room: "books", User: "grace", By: "alice", Role: protocol.RoleModerator}},

	// Blocks.
	{"ok_block", protocol.Event{Type: protocol.TypeOK, ID: "34", User: "mallory"}},
	{"ok_unblock", protocol.Event{Type: protocol.TypeOK, ID: "35", User: "mallory"}},
	{"ok_blocks", protocol.Event{Type: protocol.TypeOK, ID: "36", Blocks: []string{"mallory", "troll"}}},
	{"blocked", protocol.Event{Type: protocol.TypeBlocked, User: "mallory"}},
	{"unblocked", protocol.Event{Type: protocol.TypeUnblocked, User: "mallory"}},

	// Entries that act on messages, and the state they leave in history.
	{"ok_send_reply", protocol.Event{Type: protocol.TypeOK, ID: "23", Room: "lobby", Message: &msg43}},
	{"ok_edit", protocol.Event{Type: protocol.TypeOK, ID: "24", Room: "lobby", Message: &protocol.Message{
		Room: "lobby", Seq: 44, Kind: protocol.KindEdit, From: "ada", Guest: true, Body: "hello, world", Target: 42, TS: 1764085530000}}},
	{"ok_delete", protocol.Event{Type: protocol.TypeOK, ID: "25", Room: "lobby", Message: &protocol.Message{
		Room: "lobby", Seq: 46, Kind: protocol.KindDelete, From: "ada", Guest: true, Target: 42, TS: 1764085550000}}},
	{"ok_react", protocol.Event{Type: protocol.TypeOK, ID: "26", Room: "lobby", Message: &protocol.Message{
		Room: "lobby", Seq: 45, Kind: protocol.KindReact, From: "ada", Guest: true, Body: "👍", Target: 41, TS: 1764085540000}}},
	{"message_unreact", protocol.Event{Type: protocol.TypeMessage, Message: &protocol.Message{
		Room: "lobby", Seq: 47, Kind: protocol.KindUnreact, From: "grace", Body: "👍", Target: 41, TS: 1764085560000}}},
	{"ok_history_state", protocol.Event{Type: protocol.TypeOK, ID: "8", Room: "lobby", Messages: []protocol.Message{
		{Room: "lobby", Seq: 41, From: "grace", Body: "has anyone read SICP?", TS: 1764085490000,
			Reactions: []protocol.Reaction{{Emoji: "👍", Users: []string{"ada"}}}, V: 47},
		{Room: "lobby", Seq: 42, From: "ada", Guest: true, CMID: "k3J9-x_0b7e1f7c", TS: 1764085497123, Edited: 1764085530000, Deleted: true, V: 46},
		msg43,
		{Room: "lobby", Seq: 44, Kind: protocol.KindEdit, From: "ada", Guest: true, Target: 42, TS: 1764085530000},
	}, More: true}},
	{"message_kick", protocol.Event{Type: protocol.TypeMessage, Message: &protocol.Message{
		Room: "lobby", Seq: 48, Kind: protocol.KindKick, From: "alice", User: "Troll 42", Body: "please keep it friendly", TS: 1764085570000}}},
	{"message_ban", protocol.Event{Type: protocol.TypeMessage, Message: &protocol.Message{
		Room: "lobby", Seq: 49, Kind: protocol.KindBan, From: "alice", User: "mallory", Body: "spam", Until: 1764171897123, TS: 1764085497123}}},
	{"message_topic", protocol.Event{Type: protocol.TypeMessage, Message: &protocol.Message{
		Room: "books", Seq: 8, Kind: protocol.KindTopic, From: "alice", Body: "SICP, chapter 3", TS: 1764085497123}}},
	{"message_file", protocol.Event{Type: protocol.TypeMessage, Message: &protocol.Message{
		Room: "lobby", Seq: 50, From: "grace", Body: "the cover", TS: 1764085580000,
		File: &sicpFile}}},
	{"ok_read", protocol.Event{Type: protocol.TypeOK, ID: "27", Room: "lobby"}},
	{"read", protocol.Event{Type: protocol.TypeRead, Room: "lobby", Seq: 42}},
	{"ok_search", protocol.Event{Type: protocol.TypeOK, ID: "28", Messages: []protocol.Message{msg43, msg41}}},
	{"ok_rooms_read", protocol.Event{Type: protocol.TypeOK, ID: "3", Rooms: []protocol.RoomInfo{
		{Name: "lobby", Topic: "Say hello", LastSeq: 47, Online: 3, ReadSeq: 42},
	}}},

	// Files.
	{"ok_upload", protocol.Event{Type: protocol.TypeOK, ID: "30", Upload: &protocol.UploadState{ID: "f_7QmZ2xWcKpR4", Size: 48213, Chunk: protocol.MaxChunkBytes}}},
	{"ok_upload_resume", protocol.Event{Type: protocol.TypeOK, ID: "31", Upload: &protocol.UploadState{ID: "f_7QmZ2xWcKpR4", Offset: 40960, Size: 48213, Chunk: protocol.MaxChunkBytes}}},
	{"upload", protocol.Event{Type: protocol.TypeUpload, Upload: &protocol.UploadState{ID: "f_7QmZ2xWcKpR4", Offset: 40960, Size: 48213}}},
	{"upload_done", protocol.Event{Type: protocol.TypeUpload, Upload: &protocol.UploadState{ID: "f_7QmZ2xWcKpR4", Offset: 48213, Size: 48213, File: &sicpFile}}},
	{"error_bad_offset", protocol.Event{Type: protocol.TypeError, Code: protocol.CodeBadOffset, Reason: "the upload stands at 40960; send from there",
		Upload: &protocol.UploadState{ID: "f_7QmZ2xWcKpR4", Offset: 40960, Size: 48213}}},
	{"ok_send_file", protocol.Event{Type: protocol.TypeOK, ID: "32", Room: "lobby", Message: &protocol.Message{
		Room: "lobby", Seq: 50, From: "grace", Body: "the cover", CMID: "k3J9-x_0b7e1f7e", TS: 1764085580000, File: &sicpFile}}},
	// Room lifecycle and directory push.
	{"ok_rooms_query", protocol.Event{Type: protocol.TypeOK, ID: "30", Rooms: []protocol.RoomInfo{
		{Name: "reading-club", Topic: "Books we read in 2024", LastSeq: 310, Archived: true},
	}}},
	{"ok_archive_room", protocol.Event{Type: protocol.TypeOK, ID: "31", Room: "books"}},
	{"ok_unarchive_room", protocol.Event{Type: protocol.TypeOK, ID: "32", Room: "books"}},
	{"ok_delete_room", protocol.Event{Type: protocol.TypeOK, ID: "33", Room: "books"}},
	{"directory_created", protocol.Event{Type: protocol.TypeDirectory, Change: protocol.ChangeCreated, Room: "poetry", By: "grace",
		Info: &protocol.RoomInfo{Name: "poetry", Topic: "Verse only"}}},
	{"directory_archived", protocol.Event{Type: protocol.TypeDirectory, Change: protocol.ChangeArchived, Room: "books", By: "alice",
		Info: &protocol.RoomInfo{Name: "books", Topic: "What we are reading", LastSeq: 7, Archived: true}}},
	{"directory_unarchived", protocol.Event{Type: protocol.TypeDirectory, Change: protocol.ChangeUnarchived, Room: "books", By: "alice",
		Info: &protocol.RoomInfo{Name: "books", Topic: "What we are reading", LastSeq: 7}}},
	{"directory_deleted", protocol.Event{Type: protocol.TypeDirectory, Change: protocol.ChangeDeleted, Room: "books", By: "alice"}},
	{"directory_expired", protocol.Event{Type: protocol.TypeDirectory, Change: protocol.ChangeDeleted, Room: "guest-den"}},
}

// checkGolden compares got with the golden file path, or rewrites the file
// when -update is given.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("encoding differs from %s (run go test -update if the change is intended)\n got: %s\nwant: %s", path, got, want)
	}
}

func commandGoldenName(name string, c protocol.Command) string {
	if name == "" {
		name = c.Op
	}
	return name
}

func commandGoldenPath(name string, c protocol.Command) string {
	return filepath.Join("testdata", "command_"+commandGoldenName(name, c)+".json")
}

func TestGoldenCommands(t *testing.T) {
	for _, tc := range goldenCommands {
		c := tc.c
		t.Run(commandGoldenName(tc.name, c), func(t *testing.T) {
			if err := c.Validate(); err != nil {
				t.Fatalf("golden command is invalid: %v", err)
			}
			got, err := protocol.EncodeCommand(&c)
			if err != nil {
				t.Fatalf("EncodeCommand: %v", err)
			}
			path := commandGoldenPath(tc.name, c)
			checkGolden(t, path, got)

			file, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			back, err := protocol.Decode(file)
			if err != nil {
				t.Fatalf("Decode(%s): %v", path, err)
			}
			if diff := cmp.Diff(c, back); diff != "" {
				t.Errorf("Decode(%s) round trip mismatch (-want +got):\n%s", path, diff)
			}
		})
	}
}

func TestGoldenEvents(t *testing.T) {
	for _, tc := range goldenEvents {
		t.Run(tc.name, func(t *testing.T) {
			got, err := protocol.EncodeEvent(&tc.ev)
			if err != nil {
				t.Fatalf("EncodeEvent: %v", err)
			}
			if bytes.IndexByte(got, '\n') >= 0 {
				t.Errorf("EncodeEvent = %s, contains a newline; frames are split on newlines", got)
			}
			path := filepath.Join("testdata", "event_"+tc.name+".json")
			checkGolden(t, path, got)

			back, err := protocol.DecodeEvent(got)
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			if diff := cmp.Diff(tc.ev, back); diff != "" {
				t.Errorf("DecodeEvent round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGoldenCoverage checks that every op and event type has a golden file
// and that testdata holds no stale golden file.
func TestGoldenCoverage(t *testing.T) {
	want := map[string]bool{}
	for _, tc := range goldenCommands {
		want[filepath.Base(commandGoldenPath(tc.name, tc.c))] = true
	}
	for _, tc := range goldenEvents {
		want["event_"+tc.name+".json"] = true
	}
	for _, op := range protocol.Ops() {
		for _, name := range []string{"command_" + op + ".json", "event_ok_" + op + ".json"} {
			if !want[name] {
				t.Errorf("no golden %s for op %s", name, op)
			}
		}
	}
	for _, typ := range []string{
		protocol.TypeError, protocol.TypeMessage, protocol.TypeJoin, protocol.TypeLeave, protocol.TypeTyping,
		protocol.TypeInvited, protocol.TypeKicked, protocol.TypeBanned, protocol.TypeMuted, protocol.TypeUnmuted,
		protocol.TypeRole, protocol.TypeRead,
	} {
		if !want["event_"+typ+".json"] {
			t.Errorf("no golden for event type %s", typ)
		}
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !want[filepath.Base(f)] {
			t.Errorf("%s is not produced by any golden test; delete it", f)
		}
	}
}

// TestDecodeEventLenient checks that clients ignore fields a newer server
// adds.
func TestDecodeEventLenient(t *testing.T) {
	got, err := protocol.DecodeEvent([]byte(`{"type":"join","room":"lobby","user":"grace","avatar":"g.png","since":3}`))
	if err != nil {
		t.Fatal(err)
	}
	want := protocol.Event{Type: protocol.TypeJoin, Room: "lobby", User: "grace"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DecodeEvent mismatch (-want +got):\n%s", diff)
	}
}

func TestEncodeEventDoesNotEscapeHTML(t *testing.T) {
	got, err := protocol.EncodeEvent(&protocol.Event{Type: protocol.TypeError, Code: protocol.CodeBadJSON, Reason: "<&>"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"error","code":"bad_json","reason":"<&>"}`; string(got) != want {
		t.Errorf("EncodeEvent = %s, want %s", got, want)
	}
}

func TestSplitFrame(t *testing.T) {
	a, b, c := `{"type":"ok","id":"1"}`, `{"type":"join","room":"lobby","user":"grace"}`, `{"type":"typing","room":"lobby","user":"grace"}`
	tests := []struct {
		name  string
		frame string
		want  []string
	}{
		{"one object", a, []string{a}},
		{"one object with trailing newline", a + "\n", []string{a}},
		{"three objects", a + "\n" + b + "\n" + c, []string{a, b, c}},
		{"three objects with trailing newline", a + "\n" + b + "\n" + c + "\n", []string{a, b, c}},
		{"empty lines", "\n" + a + "\n\n\n" + b + "\n", []string{a, b}},
		{"white space lines", " \t\n" + a + "\n \r\n" + b, []string{a, b}},
		{"empty frame", "", nil},
		{"only newlines", "\n\n", nil},
		{"newline inside a JSON string is escaped", `{"type":"message","message":{"body":"a\nb"}}` + "\n" + a,
			[]string{`{"type":"message","message":{"body":"a\nb"}}`, a}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			err := protocol.SplitFrame([]byte(tc.frame), func(obj []byte) error {
				got = append(got, string(obj))
				return nil
			})
			if err != nil {
				t.Fatalf("SplitFrame: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("SplitFrame(%q) mismatch (-want +got):\n%s", tc.frame, diff)
			}
		})
	}
}

func TestSplitFrameStopsAtError(t *testing.T) {
	stop := errors.New("stop")
	frame := []byte("{\"n\":1}\n{\"n\":2}\n{\"n\":3}")
	var calls int
	err := protocol.SplitFrame(frame, func(obj []byte) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Errorf("SplitFrame error = %v, want %v", err, stop)
	}
	if calls != 2 {
		t.Errorf("SplitFrame called fn %d times, want 2", calls)
	}
}

// TestEncodedEventsSplit checks that a frame built the way the server
// batches events (encodings joined by '\n') splits back into the same events.
func TestEncodedEventsSplit(t *testing.T) {
	var frame []byte
	var want []protocol.Event
	for _, tc := range goldenEvents {
		b, err := protocol.EncodeEvent(&tc.ev)
		if err != nil {
			t.Fatal(err)
		}
		if len(frame) > 0 {
			frame = append(frame, '\n')
		}
		frame = append(frame, b...)
		want = append(want, tc.ev)
	}
	var got []protocol.Event
	err := protocol.SplitFrame(frame, func(obj []byte) error {
		ev, err := protocol.DecodeEvent(obj)
		got = append(got, ev)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("split events mismatch (-want +got):\n%s", diff)
	}
}

func TestOps(t *testing.T) {
	got := protocol.Ops()
	slices.Sort(got)
	want := []string{
		"allow_guests", "ban", "create", "delete", "demote", "dm", "edit", "hello", "history", "invite", "join",
		"kick", "leave", "mute", "ping", "promote", "react", "read", "refuse_guests", "rooms", "search", "send",
		"topic", "typing", "unban", "unmute", "upload",
		"archive_room", "delete_room", "unarchive_room",
		"block", "unblock", "blocks",
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Ops() mismatch (-want +got):\n%s", diff)
	}
	for _, op := range got {
		if strings.ToLower(op) != op {
			t.Errorf("op %q is not lower case", op)
		}
	}
}
