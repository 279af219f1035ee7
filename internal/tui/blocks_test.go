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
