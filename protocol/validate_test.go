package protocol_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/protocol"
)

// checkCode reports whether err has code want ("" meaning nil).
func checkCode(t *testing.T, call string, err error, want protocol.Code) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Errorf("%s = %v, want nil", call, err)
		}
		return
	}
	if got := protocol.CodeOf(err); err == nil || got != want {
		t.Errorf("%s = %v, want code %s", call, err, want)
	}
}

func TestCheckUsername(t *testing.T) {
	tests := []struct {
		name string
		code protocol.Code
	}{
		{"bob", ""},
		{"alice", ""},
		{"a-b_c9", ""},
		{"a99", ""},
		{"z--", ""},
		{strings.Repeat("u", 32), ""},
		{"", protocol.CodeInvalidValue},
		{"a", protocol.CodeInvalidValue},
		{"ab", protocol.CodeInvalidValue},
		{strings.Repeat("u", 33), protocol.CodeTooLong},
		{"Alice", protocol.CodeInvalidValue},
		{"alicE", protocol.CodeInvalidValue},
		{"ALICE", protocol.CodeInvalidValue},
		{"1abc", protocol.CodeInvalidValue},
		{"-abc", protocol.CodeInvalidValue},
		{"_abc", protocol.CodeInvalidValue},
		{"al ice", protocol.CodeInvalidValue},
		{"al.ce", protocol.CodeInvalidValue},
		{"al:ce", protocol.CodeInvalidValue},
		{"alicé", protocol.CodeInvalidValue},
		{"\u0430lice", protocol.CodeInvalidValue}, // Cyrillic a
		{"ali\x00", protocol.CodeInvalidValue},
		{"alice\n", protocol.CodeInvalidValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkCode(t, "CheckUsername("+str(tc.name)+")", protocol.CheckUsername(tc.name), tc.code)
		})
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name string
		pw   string
		code protocol.Code
	}{
		{"empty", "", protocol.CodeInvalidValue},
		{"7 bytes", "1234567", protocol.CodeInvalidValue},
		{"8 bytes", "12345678", ""},
		{"spaces count", "correct horse", ""},
		{"4 characters of 8 bytes", "éééé", ""},
		{"7 characters of 6 bytes", "abcdeé", protocol.CodeInvalidValue},
		{"any bytes", "\x00\x01\x1b\xff\xfe\t\n ", ""},
		{"128 bytes", strings.Repeat("p", 128), ""},
		{"129 bytes", strings.Repeat("p", 129), protocol.CodeTooLong},
		{"43 characters of 129 bytes", strings.Repeat("€", 43), protocol.CodeTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkCode(t, "CheckPassword("+str(tc.pw)+")", protocol.CheckPassword(tc.pw), tc.code)
		})
	}
}

func TestCheckReason(t *testing.T) {
	tests := []struct {
		name   string
		reason string
		code   protocol.Code
	}{
		{"empty", "", ""},
		{"sentence", "spam, three times", ""},
		{"HTML", "<b>stop</b> & go", ""},
		{"not ASCII", "Zoë 李 🦫", ""},
		{"256 characters", strings.Repeat("ü", 256), ""},
		{"257 characters", strings.Repeat("r", 257), protocol.CodeTooLong},
		{"newline", "a\nb", protocol.CodeInvalidValue},
		{"tab", "a\tb", protocol.CodeInvalidValue},
		{"ESC", "\x1b[31mred", protocol.CodeInvalidValue},
		{"DEL", "a\x7f", protocol.CodeInvalidValue},
		{"C1 control", "a\u0085b", protocol.CodeInvalidValue},
		{"bidi override", "a\u202Eb", protocol.CodeInvalidValue},
		{"zero-width joiner", "a\u200Db", protocol.CodeInvalidValue},
		{"invalid UTF-8", "a\xffb", protocol.CodeInvalidValue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkCode(t, "CheckReason("+str(tc.reason)+")", protocol.CheckReason(tc.reason), tc.code)
		})
	}
}

func TestDMRoom(t *testing.T) {
	tests := []struct {
		a, b string
		want string
	}{
		{"alice", "bob", "dm:alice:bob"},
		{"bob", "alice", "dm:alice:bob"},
		{"bob", "bob2", "dm:bob:bob2"},
		{"bob2", "bob", "dm:bob:bob2"},
		{"a_b", "a-b", "dm:a-b:a_b"}, // '-' < '_' in bytes
		{"ala", "al9", "dm:al9:ala"}, // digits before letters
		{"zed", "abe", "dm:abe:zed"},
		{strings.Repeat("b", 32), strings.Repeat("a", 32), "dm:" + strings.Repeat("a", 32) + ":" + strings.Repeat("b", 32)},
	}
	for _, tc := range tests {
		t.Run(tc.a+","+tc.b, func(t *testing.T) {
			got := protocol.DMRoom(tc.a, tc.b)
			if got != tc.want {
				t.Fatalf("DMRoom(%q, %q) = %q, want %q", tc.a, tc.b, got, tc.want)
			}
			a, b, ok := protocol.DMPeers(got)
			lo, hi := min(tc.a, tc.b), max(tc.a, tc.b)
			if !ok || a != lo || b != hi {
				t.Errorf("DMPeers(%q) = %q, %q, %v; want %q, %q, true", got, a, b, ok, lo, hi)
			}
			if err := protocol.CheckRoomName(got); err != nil {
				t.Errorf("CheckRoomName(%q) = %v, want nil", got, err)
			}
		})
	}
}

// TestDMPeersInvalid checks that DMPeers and CheckRoomName refuse every
// "dm:" name that DMRoom does not make.
func TestDMPeersInvalid(t *testing.T) {
	for _, name := range []string{
		"dm:",
		"dm:alice",
		"dm:alice:",
		"dm::alice",
		"dm:a:b",
		"dm:al:bob",
		"dm:bob:alice",
		"dm:alice:alice",
		"dm:Alice:bob",
		"dm:alice:Bob",
		"dm:alice:bob:carol",
		"dm:alice:bob ",
		"dm: alice:bob",
		"dm:alice::bob",
		"dm:" + strings.Repeat("a", 33) + ":bob",
		"dm:alice:9lives",
		"dm:alice:grace\x00",
	} {
		t.Run(name, func(t *testing.T) {
			if a, b, ok := protocol.DMPeers(name); ok {
				t.Errorf("DMPeers(%q) = %q, %q, true; want false", name, a, b)
			}
			checkCode(t, "CheckRoomName("+str(name)+")", protocol.CheckRoomName(name), protocol.CodeInvalidValue)
		})
	}
	// Names without the prefix are no DM rooms, valid room names or not.
	for _, name := range []string{"", "lobby", "dm", "dm-alice-bob", "DM:alice:bob", "xdm:alice:bob"} {
		if a, b, ok := protocol.DMPeers(name); ok {
			t.Errorf("DMPeers(%q) = %q, %q, true; want false", name, a, b)
		}
	}
}

func TestValidateModeration(t *testing.T) {
	tests := []struct {
		name string
		cmd  protocol.Command
		code protocol.Code
	}{
		{"ban seconds -1", protocol.Command{Op: "ban", Room: "lobby", User: "mallory", Seconds: -1}, protocol.CodeInvalidValue},
		{"ban seconds of a year", protocol.Command{Op: "ban", Room: "lobby", User: "mallory", Seconds: protocol.MaxSanctionSeconds}, ""},
		{"mute seconds over a year", protocol.Command{Op: "mute", Room: "lobby", User: "mallory", Seconds: protocol.MaxSanctionSeconds + 1}, protocol.CodeInvalidValue},
		{"kick reason too long", protocol.Command{Op: "kick", Room: "lobby", User: "mallory", Reason: strings.Repeat("r", protocol.MaxReasonRunes+1)}, protocol.CodeTooLong},
		{"kick without user", protocol.Command{Op: "kick", Room: "lobby"}, protocol.CodeInvalidValue},
		{"dm without user", protocol.Command{Op: "dm"}, protocol.CodeInvalidValue},
		{"dm a guest", protocol.Command{Op: "dm", User: "Troll 42"}, protocol.CodeInvalidValue},
		{"invite without room", protocol.Command{Op: "invite", User: "grace"}, protocol.CodeInvalidValue},
		{"topic empty", protocol.Command{Op: "topic", Room: "books"}, ""},
		{"topic too long", protocol.Command{Op: "topic", Room: "books", Topic: strings.Repeat("t", protocol.MaxTopicRunes+1)}, protocol.CodeTooLong},
		{"create a DM room", protocol.Command{Op: "create", Room: protocol.DMRoom("alice", "bob")}, protocol.CodeInvalidValue},
		{"join a DM room", protocol.Command{Op: "join", Room: protocol.DMRoom("bob", "alice")}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkCode(t, "Validate()", tc.cmd.Validate(), tc.code)
		})
	}
}

// TestEncodeCommandRoundTrip checks that every command Decode accepts
// survives EncodeCommand and Decode unchanged (the fuzz target checks the
// same on random input).
func TestEncodeCommandRoundTrip(t *testing.T) {
	for _, tc := range decodeCases {
		if tc.code != "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			enc, err := protocol.EncodeCommand(&tc.want)
			if err != nil {
				t.Fatalf("EncodeCommand(%+v): %v", tc.want, err)
			}
			back, err := protocol.Decode(enc)
			if err != nil {
				t.Fatalf("Decode(%s) of the encoding of %q: %v", enc, tc.in, err)
			}
			if diff := cmp.Diff(tc.want, back); diff != "" {
				t.Errorf("round trip through %s mismatch (-want +got):\n%s", enc, diff)
			}
		})
	}
}

func TestEncodeCommandKeepsEmptyTopic(t *testing.T) {
	tests := []struct {
		cmd  protocol.Command
		want string
	}{
		{protocol.Command{ID: "t", Op: protocol.OpTopic, Room: "books"}, `{"id":"t","op":"topic","room":"books","topic":""}`},
		{protocol.Command{Op: protocol.OpTopic, Room: "books", Topic: "x"}, `{"op":"topic","room":"books","topic":"x"}`},
		{protocol.Command{Op: protocol.OpCreate, Room: "books"}, `{"op":"create","room":"books"}`},
	}
	for _, tc := range tests {
		got, err := protocol.EncodeCommand(&tc.cmd)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("EncodeCommand(%+v) = %s, want %s", tc.cmd, got, tc.want)
		}
	}
}

func TestCheckEmoji(t *testing.T) {
	tests := []struct {
		in   string
		want protocol.Code // "" means valid
	}{
		{"👍", ""},
		{"❤️", ""},  // heart + variation selector 16
		{"👍🏽", ""},  // skin tone modifier (Sk)
		{"👩‍💻", ""}, // ZWJ sequence
		{"🇫🇷", ""},  // regional indicators
		{"1️⃣", ""}, // keycap
		{"", protocol.CodeInvalidValue},
		{"a", protocol.CodeInvalidValue},
		{"👍 ", protocol.CodeInvalidValue},
		{"1", protocol.CodeInvalidValue}, // a keycap base alone is not an emoji
		{"\u200d", protocol.CodeInvalidValue},
		{"👍\x1b[2J", protocol.CodeInvalidValue},
		{"👍👍👍👍👍👍👍👍👍", protocol.CodeTooLong}, // 36 bytes
	}
	for _, tc := range tests {
		err := protocol.CheckEmoji(tc.in)
		var got protocol.Code
		if err != nil {
			got = protocol.CodeOf(err)
		}
		if got != tc.want {
			t.Errorf("CheckEmoji(%q) = %v, want code %q", tc.in, err, tc.want)
		}
	}
}

func TestCheckQuery(t *testing.T) {
	tests := []struct {
		in   string
		want protocol.Code
	}{
		{"sicp", ""},
		{"sicp chapter 3", ""},
		{"", protocol.CodeInvalidValue},
		{"   ", protocol.CodeInvalidValue},
		{"a\x00b", protocol.CodeInvalidValue},
		{strings.Repeat("é", 256), ""},
		{strings.Repeat("é", 257), protocol.CodeTooLong},
	}
	for _, tc := range tests {
		err := protocol.CheckQuery(tc.in)
		var got protocol.Code
		if err != nil {
			got = protocol.CodeOf(err)
		}
		if got != tc.want {
			t.Errorf("CheckQuery(%q) = %v, want code %q", tc.in, err, tc.want)
		}
	}
}
