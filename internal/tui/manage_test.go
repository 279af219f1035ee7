package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

func TestManageCommands(t *testing.T) {
	forbidden := protocol.Errorf(protocol.CodeForbidden, "only the owner and moderators of lobby may do that")
	tests := []struct {
		name      string
		guest     bool
		status    bool   // type in the status window, not #lobby
		fail      string // op whose call fails with forbidden
		input     string
		wantCalls []string
		wantRoom  string // shown afterwards; "" means lobby
		wantView  []string
	}{
		{name: "kick", input: "/kick bob being rude", wantCalls: []string{`kick lobby bob "being rude"`}},
		{name: "kick at", input: "/KICK @bob", wantCalls: []string{`kick lobby bob ""`}},
		{name: "kick no user", input: "/kick", wantView: []string{"Usage: /kick USER (see /help)"}},
		{name: "kick refused", fail: "kick", input: "/kick bob", wantCalls: []string{`kick lobby bob ""`},
			wantView: []string{"Cannot kick bob: only the owner and moderators of lobby may do that"}},
		{name: "kick from status", status: true, input: "/kick bob", wantRoom: "status",
			wantView: []string{"Show the room first: /kick acts on the room shown."}},
		{name: "ban for hours", input: "/ban bob 2h spam", wantCalls: []string{`ban lobby bob 2h0m0s "spam"`}},
		{name: "ban for days", input: "/ban bob 7d", wantCalls: []string{`ban lobby bob 168h0m0s ""`}},
		{name: "ban for ever", input: "/ban bob spam forever", wantCalls: []string{`ban lobby bob 0s "spam forever"`}},
		{name: "ban too long", input: "/ban bob 400d", wantView: []string{"400d is not a duration between 1s and 365d"}},
		{name: "unban", input: "/unban bob", wantCalls: []string{"unban lobby bob"}},
		{name: "mute", input: "/mute bob 10m calm down", wantCalls: []string{`mute lobby bob 10m0s "calm down"`}},
		{name: "unmute", input: "/unmute bob", wantCalls: []string{"unmute lobby bob"}},
		{name: "invite", input: "/invite bob", wantCalls: []string{"invite lobby bob"}},
		{name: "promote", input: "/promote bob", wantCalls: []string{"promote lobby bob"}},
		{name: "demote", input: "/demote bob", wantCalls: []string{"demote lobby bob"}},
		{name: "topic set", input: "/topic Ship  it", wantCalls: []string{`topic lobby "Ship  it"`}},
		{name: "topic clear", input: "/topic -", wantCalls: []string{`topic lobby ""`}},
		{name: "topic show", input: "/topic", wantView: []string{"Topic of #lobby: Say hello"}},
		{name: "topic refused", fail: "topic", input: "/topic mine", wantCalls: []string{`topic lobby "mine"`},
			wantView: []string{"Cannot set the topic: only the owner"}},
		{name: "private", input: "/private secret Hush", wantCalls: []string{`create-private secret "Hush"`, "join secret"},
			wantRoom: "secret", wantView: []string{"#secret · Hush"}},
		{name: "private as guest", guest: true, input: "/private secret", wantView: []string{"Private rooms are for accounts"}},
		{name: "archive", input: "/archive", wantCalls: []string{"archive lobby"}},
		{name: "unarchive", input: "/unarchive", wantCalls: []string{"unarchive lobby"}},
		{name: "deleteroom unconfirmed", input: "/deleteroom", wantView: []string{"type /deleteroom lobby"}},
		{name: "deleteroom", input: "/deleteroom #lobby", wantCalls: []string{"deleteroom lobby"}},
		{name: "deleteroom refused", fail: "deleteroom", input: "/deleteroom lobby", wantCalls: []string{"deleteroom lobby"},
			wantView: []string{"Cannot deleteroom: only the owner"}},
		{name: "rooms search", input: "/rooms Hello", wantCalls: []string{`search "Hello" false`}, wantView: []string{"#lobby"}},
		{name: "rooms archived", input: "/rooms -a", wantCalls: []string{`search "" true`}},
		{name: "rooms search none", input: "/rooms zzz", wantCalls: []string{`search "zzz" false`},
			wantView: []string{`No room has "zzz" in its name or topic.`}},
		{name: "rooms search none archived", input: "/rooms -a zzz", wantCalls: []string{`search "zzz" true`},
			wantView: []string{`No room, archived or not, has "zzz" in its name or topic.`}},
		{name: "goto before search", input: "/goto 1", wantView: []string{"No search results to go to: /search WORDS first."}},
		{name: "me", input: "/me waves", wantCalls: []string{`send lobby "/me waves"`}, wantView: []string{"* ada waves"}},
		{name: "me empty", input: "/me", wantView: []string{`Usage: /me ACTION, shown as "* ada ACTION"`}},
		{name: "nick account", input: "/nick bob", wantView: []string{"an account's name cannot change"}},
		{name: "nick guest", guest: true, input: "/nick bob", wantView: []string{"A guest's name is chosen when connecting: /quit, then run"}},
		{name: "nick guest bad", guest: true, input: "/nick " + strings.Repeat("x", protocol.MaxNameRunes+1), wantView: []string{"is not a display name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("ada", tt.guest)
			f.addRoom("lobby", "Say hello", 0)
			if tt.fail != "" {
				f.fail[tt.fail] = forbidden
			}
			h := newHarness(t, f, 100, 30, "lobby")
			if tt.status {
				h.key(tea.KeyTab)
			}
			start := len(f.called(""))
			h.typeText(tt.input, true)
			if got := f.called("")[start:]; !slices.Equal(got, tt.wantCalls) {
				t.Errorf("calls = %q, want %q", got, tt.wantCalls)
			}
			want := tt.wantRoom
			switch want {
			case "":
				want = "lobby"
			case "status":
				want = ""
			}
			if got := h.m.current().room; got != want {
				t.Errorf("shown room = %q, want %q", got, want)
			}
			h.wantView(tt.wantView...)
		})
	}
}

// TestOthersInvited checks that the members of a room read who was
// invited into it, in the room (an entry), while an invitation of one's
// own goes to the status window.
func TestOthersInvited(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("ops", "", 0)
	h := newHarness(t, f, 80, 24, "ops")
	h.events(client.MessageEvent{Message: protocol.Message{Room: "ops", Seq: 1, Kind: protocol.KindInvite, From: "grace", User: "bob", TS: t0.UnixMilli()}})
	h.wantView("09:26 grace invited bob")
	h.events(client.OtherEvent{Event: protocol.Event{Type: protocol.TypeInvited, Room: "books", User: "ada", By: "grace"}})
	h.wantNotView("invited you")
	h.key(tea.KeyTab)
	h.wantView("grace invited you to #books: /join books")
}

func TestLocalTimes(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	tests := []struct{ in, want string }{
		{"you are banned from lobby until 2026-12-03T17:50:29Z", "you are banned from lobby until Thu 3 Dec 18:50"},
		{"you are muted in x until 2026-12-31T23:30:00.5Z", "you are muted in x until Fri 1 Jan 00:30"},
		{"no time here", "no time here"},
		{"not UTC 2026-12-03T17:50:29+01:00", "not UTC 2026-12-03T17:50:29+01:00"},
	}
	for _, tt := range tests {
		if got := localTimes(tt.in, berlin); got != tt.want {
			t.Errorf("localTimes(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestBannedErrorLocalTime checks that a refusal's time reaches the screen
// in the user's zone.
func TestBannedErrorLocalTime(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("lobby", "", 0)
	f.failJoin["ops"] = protocol.Errorf(protocol.CodeBanned, "you are banned from ops until 2026-12-03T17:50:29Z")
	h := newHarness(t, f, 100, 24, "lobby")
	h.m.loc = time.FixedZone("CET", 3600)
	h.typeText("/join ops", true)
	h.wantView("Cannot join #ops: you are banned from ops until Thu 3 Dec 18:50")
	h.wantNotView("2026-12-03T17:50:29Z")
}

// TestDirectoryEvents: archiving and deleting the shown room are said in
// it; a deleted room is no longer joined.
func TestDirectoryEvents(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("ops", "", 0)
	h := newHarness(t, f, 80, 24, "ops")
	h.events(client.OtherEvent{Event: protocol.Event{Type: protocol.TypeDirectory, Change: protocol.ChangeArchived, Room: "ops", By: "grace"}})
	h.wantView("#ops was archived by grace: it is read-only")
	h.events(client.OtherEvent{Event: protocol.Event{Type: protocol.TypeDirectory, Change: protocol.ChangeDeleted, Room: "ops"}})
	h.wantView("#ops was deleted (nobody used it)")
	if w := h.m.find("ops"); w == nil || w.joined {
		t.Errorf("after the deletion, window of ops = %+v, want it shown and not joined", w)
	}
}

// TestDeletedRoomJoinedAgain: a room deleted while its window is open,
// made again under the same name and joined from that window, shows who
// is in it (the window forgot its members with the deletion).
func TestDeletedRoomJoinedAgain(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{"join", "/join ops"},
		{"create", "/create ops again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("ada", false)
			f.addRoom("ops", "", 0, "grace")
			h := newHarness(t, f, 80, 24, "ops")
			h.events(client.OtherEvent{Event: protocol.Event{Type: protocol.TypeDirectory, Change: protocol.ChangeDeleted, Room: "ops", By: "ada"}})
			f.mu.Lock()
			delete(f.rooms, "ops")
			f.mu.Unlock()
			if tt.name == "join" {
				f.addRoom("ops", "", 0, "linus") // someone made it again
			}
			h.typeText(tt.input, true)
			h.events(client.JoinEvent{Room: "ops", User: "mallory"})
			w := h.m.find("ops")
			if w == nil || !w.joined {
				t.Fatalf("window of ops = %+v, want it joined", w)
			}
			want := []string{"ada", "mallory"}
			if tt.name == "join" {
				want = []string{"ada", "linus", "mallory"}
			}
			if got := w.memberList(); !slices.Equal(got, want) {
				t.Errorf("members = %q, want %q", got, want)
			}
		})
	}
}

// TestDeletedRoomMadeAgainShowsItsMessages: a room made again under the
// name of a deleted one starts again at seq 1; joined from the deleted
// room's window, its messages are shown, not taken for the deleted
// room's messages of the same seqs.
func TestDeletedRoomMadeAgainShowsItsMessages(t *testing.T) {
	tests := []struct {
		name string
		gone client.Event // how the client tells that the room is gone
	}{
		{"deleted", client.OtherEvent{Event: protocol.Event{Type: protocol.TypeDirectory, Change: protocol.ChangeDeleted, Room: "ops", By: "ada"}}},
		// Deleted while the client was away: its re-join is refused.
		{"re-join refused", client.ErrorEvent{Room: "ops", Err: fmt.Errorf("re-join ops: %w", protocol.Errorf(protocol.CodeNoSuchRoom, "no room ops"))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("ada", false)
			f.addRoom("ops", "", 3, "grace")
			h := newHarness(t, f, 80, 24, "ops")
			h.wantView("message 1", "message 3")
			h.events(tt.gone)
			f.mu.Lock()
			delete(f.rooms, "ops")
			f.mu.Unlock()
			h.typeText("/create ops", true)
			h.events(
				client.MessageEvent{Message: protocol.Message{Room: "ops", Seq: 1, From: "grace", Body: "fresh start", TS: t0.Add(time.Hour).UnixMilli()}},
				client.MessageEvent{Message: protocol.Message{Room: "ops", Seq: 2, From: "grace", Body: "second life", TS: t0.Add(time.Hour).UnixMilli()}},
			)
			h.wantView("fresh start", "second life")
			h.wantNotView("message 1", "message 3")
			w := h.m.find("ops")
			if got, want := w.lastSeq(), int64(2); got != want {
				t.Errorf("last seq = %d, want %d", got, want)
			}
			h.send(keyAlt('1'))
			h.events(client.MessageEvent{Message: protocol.Message{Room: "ops", Seq: 3, From: "grace", Body: "anyone?", TS: t0.Add(time.Hour).UnixMilli()}})
			if got, want := w.unread, 1; got != want {
				t.Errorf("unread = %d, want %d", got, want)
			}
		})
	}
}
