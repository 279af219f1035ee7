package tui

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

func entryAt(seq int64, kind, from, body string, target int64) protocol.Message {
	return protocol.Message{Room: "lobby", Seq: seq, Kind: kind, From: from, Body: body, Target: target,
		TS: t0.Add(time.Duration(seq) * time.Minute).UnixMilli()}
}

// TestEntriesShown feeds a room's entries live and checks what the room
// shows: edits, reactions and deletions folded into their messages, a
// reply's quote, moderation as lines naming who acted, a file, and
// nothing for kinds the client does not know.
func TestEntriesShown(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("lobby", "Say hello", 0, "grace")
	h := newHarness(t, f, 120, 40, "lobby")
	reply := entryAt(2, "", "linus", "chapter 1 :+1:", 0)
	reply.ReplyTo = 1
	ban := entryAt(11, protocol.KindBan, "alice", "spam", 0)
	ban.User, ban.Until = "mallory", time.Date(2026, 3, 16, 8, 0, 0, 0, time.UTC).UnixMilli()
	kick := entryAt(12, protocol.KindKick, "alice", "", 0)
	kick.User = "ada"
	file := entryAt(15, "", "grace", "the cover", 0)
	file.File = &protocol.File{ID: "f_7Q", Name: "sicp cover.jpg", Size: 48213, Type: "image/jpeg", Width: 800, Height: 1000}
	role := entryAt(16, protocol.KindRole, "alice", "moderator", 0)
	role.User = "linus"
	ended := entryAt(17, protocol.KindUnban, "", "", 0) // no from: the ban ran out
	ended.User = "mallory"
	muteEnded := entryAt(18, protocol.KindUnmute, "", "", 0) // no from: the mute ran out
	muteEnded.User = "trudy"
	for _, e := range []protocol.Message{
		entryAt(1, "", "grace", "has anyone read **SICP**?", 0),
		reply,
		entryAt(3, protocol.KindEdit, "linus", "chapter 1, *really*", 2),
		entryAt(4, protocol.KindReact, "ada", "👍", 1),
		entryAt(5, protocol.KindReact, "grace", "👍", 1),
		entryAt(6, protocol.KindReact, "grace", "❤️", 1),
		entryAt(7, protocol.KindReact, "linus", "🎉", 1),
		entryAt(8, protocol.KindUnreact, "grace", "❤️", 1),
		entryAt(9, "", "grace", "oops, wrong room", 0),
		entryAt(10, protocol.KindDelete, "grace", "", 9),
		ban,
		kick,
		entryAt(13, protocol.KindTopic, "alice", "SICP, chapter 3", 0),
		entryAt(14, "from-the-future", "alice", "do not show me", 0),
		file,
		role,
		ended,
		muteEnded,
	} {
		h.events(client.MessageEvent{Message: e})
	}
	h.wantView(
		"has anyone read SICP?",
		"↪ grace: has anyone read SICP?",
		"chapter 1, really (edited)",
		"[👍 2]  🎉 1",
		"message deleted",
		"09:37 alice banned mallory until Mon 16 Mar 08:00: spam",
		"09:38 alice kicked you",
		"09:39 alice set the topic: SICP, chapter 3",
		"#lobby · SICP, chapter 3",
		"📎 sicp cover.jpg (47.1 KiB, 800×1000) http://127.0.0.1:8080/files/f_7Q/sicp%20cover.jpg",
		"alice made linus moderator",
		"the ban of mallory ended",
		"the mute of trudy ended",
	)
	h.wantNotView("do not show me", "oops", "❤️", "**", ":+1:", "chapter 1 👍")
	if got := h.m.find("lobby").unread; got != 0 {
		t.Errorf("unread in the shown room = %d, want 0", got)
	}
}

// TestEntriesBeforeTarget checks the V rule when history and live events
// race: a page computed after entries the client has not received yet
// holds them folded already, and the entries it holds that the page
// folded are not applied again.
func TestEntriesBeforeTarget(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 100, 30, "lobby")
	w := h.m.current()
	// Live: grace reacts to message 5, which is not held.
	w.addMessages(entryAt(20, protocol.KindReact, "grace", "👍", 5))
	// The older page holds message 5 as it was after seq 25: grace took
	// the reaction back, in an entry that has not arrived yet.
	old := entryAt(5, "", "grace", "edited", 0)
	old.V, old.Edited = 25, 1
	w.addMessages(old)
	if got := w.message(5); len(got.Reactions) != 0 || got.V != 25 {
		t.Errorf("message 5 = %+v, want no reactions, v 25", *got)
	}
	w.addMessages(entryAt(25, protocol.KindUnreact, "grace", "👍", 5), entryAt(26, protocol.KindEdit, "grace", "again", 5))
	if got := w.message(5); got.Body != "again" || len(got.Reactions) != 0 || got.V != 26 {
		t.Errorf("message 5 = %+v, want the edit of 26 and no reactions, v 26", *got)
	}
}

// TestReplyQuoteFetched checks that a reply to a message not held fetches
// it with history, once, and shows it.
func TestReplyQuoteFetched(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("lobby", "", 80) // history loads 31 to 80
	h := newHarness(t, f, 100, 30, "lobby")
	reply := entryAt(81, "", "grace", "as I said", 0)
	reply.ReplyTo = 7
	h.events(client.MessageEvent{Message: reply})
	h.wantView("↪ grace: message 7", "as I said")
	again := entryAt(82, "", "grace", "and again", 0)
	again.ReplyTo = 7
	h.events(client.MessageEvent{Message: again})
	if got := f.called("history"); len(got) != 2 || got[1] != "history lobby before 8" {
		t.Errorf("history calls = %q, want the page and one fetch of message 7", got)
	}
	// Entries that act on the quoted message reach the quote too.
	h.events(client.MessageEvent{Message: entryAt(83, protocol.KindDelete, "grace", "", 7)})
	h.wantView("↪ grace: message deleted")
}

func TestPlainInline(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"**bold** and __bold__", "bold and bold"},
		{"*it* and _it_", "it and it"},
		{"snake_case_name and 2*3*4", "snake_case_name and 2*3*4"},
		{"a ** b ** c", "a ** b ** c"},
		{"run `go test ./...` now", "run go test ./... now"},
		{"`**not bold**`", "**not bold**"},
		{"see [the docs](https://x.example/d) or [https://y](https://y)", "see the docs (https://x.example/d) or https://y"},
		{"[not a link] (x)", "[not a link] (x)"},
		{"nice :+1: :tada: :nope:", "nice 👍 🎉 :nope:"},
		{"unclosed `code and *star", "unclosed `code and *star"},
		{"**bold with _italic_ inside**", "bold with italic inside"},
	}
	for _, tt := range tests {
		if got := plainInline(tt.in); got != tt.want {
			t.Errorf("plainInline(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPlainLines(t *testing.T) {
	body := "look:\n```go\nfunc f() { return *p }\n```\n> quoted **text**\nafter"
	var got []string
	for _, l := range plainLines(body) {
		got = append(got, l.text)
	}
	want := []string{"look:", "  func f() { return *p }", "│ quoted text", "after"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if s := strings.Join(got, "\n"); strings.Contains(s, "```") {
		t.Errorf("fences shown: %q", s)
	}
}
