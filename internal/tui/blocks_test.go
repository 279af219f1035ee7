package tui

import (
	"slices"
	"strings"
	"testing"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestBlocks: an account's list of blocks is fetched at start and kept by
// the blocked and unblocked events; runs of messages from blocked accounts
// fold into one dim line, /show reveals them, and they count neither as
// unread nor as mentions, nor ring the bell; their typing is not shown.
func TestBlocks(t *testing.T) {
	tests := []struct {
		name          string
		guest         bool
		blocks        []string // the server's list at start
		events        []client.Event
		input         []string
		wantCalls     []string // calls of block, unblock and blocks
		wantView      []string
		wantNotView   []string
		wantUnread    int // of #books, not shown
		wantMentioned int
		wantBells     int32
	}{
		{
			name:   "runs fold",
			blocks: []string{"mallory"},
			events: []client.Event{
				msgAt("lobby", 1, "mallory", "first from mallory", t0),
				msgAt("lobby", 2, "mallory", "second from mallory", t0),
				msgAt("lobby", 3, "grace", "grace in between", t0),
				msgAt("lobby", 4, "mallory", "third from mallory", t0),
			},
			wantCalls:   []string{"blocks"},
			wantView:    []string{"2 messages from blocked users — /show to reveal", "grace in between", "1 message from a blocked user — /show to reveal"},
			wantNotView: []string{"from mallory"},
		},
		{
			name:        "show reveals",
			blocks:      []string{"mallory"},
			events:      []client.Event{msgAt("lobby", 1, "mallory", "first from mallory", t0)},
			input:       []string{"/show"},
			wantCalls:   []string{"blocks"},
			wantView:    []string{"first from mallory"},
			wantNotView: []string{"blocked user"},
		},
		{
			name:          "no unread, mention or bell",
			blocks:        []string{"mallory"},
			events:        []client.Event{msgAt("books", 1, "mallory", "hey @ada", t0), msgAt("books", 2, "grace", "hello", t0)},
			wantCalls:     []string{"blocks"},
			wantUnread:    1,
			wantMentioned: 0,
		},
		{
			name:          "a guest by a blocked name is not them",
			blocks:        []string{"mallory"},
			events:        []client.Event{client.MessageEvent{Message: protocol.Message{Room: "books", Seq: 1, From: "mallory", Guest: true, Body: "hey @ada", TS: t0.UnixMilli()}}},
			wantCalls:     []string{"blocks"},
			wantUnread:    1,
			wantMentioned: 1,
			wantBells:     1,
		},
		{
			name:        "typing dropped",
			blocks:      []string{"mallory"},
			events:      []client.Event{client.TypingEvent{Room: "lobby", User: "mallory"}},
			wantCalls:   []string{"blocks"},
			wantNotView: []string{"mallory is typing"},
		},
		{
			name:        "blocked event folds",
			events:      []client.Event{msgAt("lobby", 1, "mallory", "first from mallory", t0), client.BlockedEvent{User: "mallory"}},
			wantCalls:   []string{"blocks"},
			wantView:    []string{"1 message from a blocked user — /show to reveal"},
			wantNotView: []string{"first from mallory"},
		},
		{
			name:   "unblocked event unfolds and counts again",
			blocks: []string{"mallory"},
			events: []client.Event{
				msgAt("lobby", 1, "mallory", "first from mallory", t0),
				msgAt("books", 1, "mallory", "hey @ada", t0),
				client.UnblockedEvent{User: "mallory"},
			},
			wantCalls:     []string{"blocks"},
			wantView:      []string{"first from mallory"},
			wantNotView:   []string{"blocked user"},
			wantUnread:    1,
			wantMentioned: 1,
		},
		{
			name:      "block, unblock and list",
			input:     []string{"/block Mallory", "/blocks", "/block troll", "/unblock troll", "/blocks"},
			wantCalls: []string{"blocks", "block mallory", "block troll", "unblock troll"},
			wantView:  []string{"You block mallory: they cannot message you", "You no longer block troll.", "You block: mallory"},
		},
		{
			name:      "block yourself",
			input:     []string{"/block ada"},
			wantCalls: []string{"blocks"},
			wantView:  []string{"That is you."},
		},
		{
			name:      "guest",
			guest:     true,
			input:     []string{"/block mallory", "/blocks"},
			wantCalls: nil,
			wantView:  []string{"Blocking is for accounts: run `hubbub login`", "Blocking is for accounts."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("ada", tt.guest)
			f.blocks = tt.blocks
			f.addRoom("lobby", "", 0)
			f.addRoom("books", "", 0)
			h := newHarness(t, f, 100, 30, "lobby", "books")
			h.events(tt.events...)
			for _, in := range tt.input {
				h.typeText(in, true)
			}
			var got []string
			for _, c := range f.called("") {
				if op, _, _ := strings.Cut(c, " "); op == "block" || op == "unblock" || op == "blocks" {
					got = append(got, c)
				}
			}
			if !slices.Equal(got, tt.wantCalls) {
				t.Errorf("calls = %q, want %q", got, tt.wantCalls)
			}
			h.wantView(tt.wantView...)
			h.wantNotView(tt.wantNotView...)
			books := h.m.find("books")
			if books.unread != tt.wantUnread || books.mentioned != tt.wantMentioned {
				t.Errorf("#books unread, mentioned = %d, %d, want %d, %d", books.unread, books.mentioned, tt.wantUnread, tt.wantMentioned)
			}
			if got := h.bells.Load(); got != tt.wantBells {
				t.Errorf("bells = %d, want %d", got, tt.wantBells)
			}
		})
	}
}

// TestBlockRefused: a refused /block says why and changes nothing.
func TestBlockRefused(t *testing.T) {
	f := newFake("ada", false)
	f.fail["block"] = &protocol.Error{Code: protocol.CodeNoSuchUser, Reason: "no user nobody"}
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 100, 30, "lobby")
	h.typeText("/block nobody", true)
	h.wantView("Could not block nobody: no user nobody")
	if len(h.m.blocked) != 0 {
		t.Errorf("blocked = %v, want none", h.m.blocked)
	}
}

// TestBlockedDM: the DM with a blocked account says "blocked" in the room
// list, and text entered there (a message, /me, /reply) is not sent but
// explained, and kept in the input; no typing is sent from it. Other rooms
// are not marked and send as before, and unblocking opens the DM again.
func TestBlockedDM(t *testing.T) {
	dm := protocol.DMRoom("ada", "mallory")
	tests := []struct {
		name        string
		blocks      []string // the server's list at start
		events      []client.Event
		lobby       bool // show #lobby rather than the DM
		input       []string
		typed       string // typed after input, without Enter
		wantDMRow   string // the DM's row in the room list, spaces squeezed
		wantLobby   string // #lobby's row
		wantSends   []string
		wantTyping  []string
		wantInput   string
		wantView    []string
		wantNotView []string
	}{
		{
			name:        "not blocked",
			wantTyping:  []string{"typing " + dm},
			input:       []string{"hello"},
			wantDMRow:   "2 @mallory",
			wantLobby:   "3 #lobby",
			wantSends:   []string{`send ` + dm + ` "hello"`},
			wantNotView: []string{"You block mallory"},
		},
		{
			name:      "blocked at start",
			blocks:    []string{"mallory"},
			input:     []string{"hello"},
			wantDMRow: "2 @mallory blocked",
			wantLobby: "3 #lobby",
			wantInput: "hello",
			wantView:  []string{"You block mallory: /unblock mallory to write here"},
		},
		{
			name:      "the empty input says why",
			blocks:    []string{"mallory"},
			wantDMRow: "2 @mallory blocked",
			wantLobby: "3 #lobby",
			wantView:  []string{"> You block mallory: /unblock mallory to write here"},
		},
		{
			name:      "me, reply and a slash are not sent",
			blocks:    []string{"mallory"},
			input:     []string{"/me waves", "/reply 1 hi", "//slash"},
			wantDMRow: "2 @mallory blocked",
			wantLobby: "3 #lobby",
			wantInput: "//slash",
			wantView:  []string{"You block mallory: /unblock mallory to write here"},
		},
		{
			name:      "no typing",
			blocks:    []string{"mallory"},
			typed:     "hel",
			wantDMRow: "2 @mallory blocked",
			wantLobby: "3 #lobby",
			wantInput: "hel",
		},
		{
			name:       "typing when not blocked",
			typed:      "hel",
			wantDMRow:  "2 @mallory",
			wantLobby:  "3 #lobby",
			wantTyping: []string{"typing " + dm},
			wantInput:  "hel",
		},
		{
			name:      "blocked event marks",
			events:    []client.Event{client.BlockedEvent{User: "mallory"}},
			input:     []string{"hello"},
			wantDMRow: "2 @mallory blocked",
			wantLobby: "3 #lobby",
			wantInput: "hello",
			wantView:  []string{"You block mallory: /unblock mallory to write here"},
		},
		{
			name:       "unblocked event unmarks",
			wantTyping: []string{"typing " + dm},
			blocks:     []string{"mallory"},
			events:     []client.Event{client.UnblockedEvent{User: "mallory"}},
			input:      []string{"hello"},
			wantDMRow:  "2 @mallory",
			wantLobby:  "3 #lobby",
			wantSends:  []string{`send ` + dm + ` "hello"`},
		},
		{
			name:       "unblock, then it sends",
			wantTyping: []string{"typing " + dm},
			blocks:     []string{"mallory"},
			input:      []string{"hello", "", "/unblock mallory", "hello"},
			wantDMRow:  "2 @mallory",
			wantLobby:  "3 #lobby",
			wantSends:  []string{`send ` + dm + ` "hello"`},
			wantView:   []string{"You no longer block mallory."},
		},
		{
			name:        "other rooms send",
			wantTyping:  []string{"typing lobby"},
			blocks:      []string{"mallory"},
			lobby:       true,
			input:       []string{"hello"},
			wantDMRow:   "2 @mallory blocked",
			wantLobby:   "3 #lobby",
			wantSends:   []string{`send lobby "hello"`},
			wantNotView: []string{"You block mallory"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("ada", false)
			f.blocks = tt.blocks
			f.addRoom(dm, "", 1, "ada", "mallory")
			f.rooms[dm].info.Peer = "mallory"
			f.addRoom("lobby", "", 0)
			h := newHarness(t, f, 100, 30, dm, "lobby")
			h.events(tt.events...)
			if tt.lobby {
				h.send(keyAlt('3'))
			}
			for _, in := range tt.input {
				if in == "" { // clear the input
					h.m.input.Reset()
					continue
				}
				h.typeText(in, true)
			}
			h.typeText(tt.typed, false)
			if got := f.called("send"); !slices.Equal(got, tt.wantSends) {
				t.Errorf("sends = %q, want %q", got, tt.wantSends)
			}
			if got := f.called("typing"); !slices.Equal(got, tt.wantTyping) {
				t.Errorf("typing = %q, want %q", got, tt.wantTyping)
			}
			if got := h.m.input.Value(); got != tt.wantInput {
				t.Errorf("input = %q, want %q", got, tt.wantInput)
			}
			if got := sidebarRow(h.view(), "@mallory"); got != tt.wantDMRow {
				t.Errorf("DM row = %q, want %q", got, tt.wantDMRow)
			}
			if got := sidebarRow(h.view(), "#lobby"); got != tt.wantLobby {
				t.Errorf("#lobby row = %q, want %q", got, tt.wantLobby)
			}
			h.wantView(tt.wantView...)
			h.wantNotView(tt.wantNotView...)
		})
	}
}

// sidebarRow returns the room list's first row that holds title, its
// words joined by single spaces, or "" if there is none.
func sidebarRow(view, title string) string {
	for _, l := range strings.Split(view, "\n") {
		bar, _, ok := strings.Cut(l, "│")
		if ok && strings.Contains(bar, title) {
			return strings.Join(strings.Fields(bar), " ")
		}
	}
	return ""
}
