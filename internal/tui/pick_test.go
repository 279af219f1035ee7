package tui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

func TestPickCommands(t *testing.T) {
	forbidden := protocol.Errorf(protocol.CodeForbidden, "that is not your message")
	tests := []struct {
		name      string
		fail      string // kind whose call fails with forbidden
		input     []string
		wantCalls []string
		wantInput string
		wantView  []string
	}{
		{name: "edit", input: []string{"/edit 4 it did, *twice*"}, wantCalls: []string{`edit lobby 4 "it did, *twice*"`},
			wantView: []string{"it did, twice (edited)"}},
		{name: "edit in the input", input: []string{"/edit"}, wantInput: "/edit 4 mine", wantView: []string{"#4 mine", "#3 message 3"}},
		{name: "edit number in the input", input: []string{"/edit #2"}, wantInput: "/edit 2 message 2"},
		{name: "edit refused", fail: protocol.KindEdit, input: []string{"/edit 2 hijack"}, wantCalls: []string{`edit lobby 2 "hijack"`},
			wantView: []string{"Cannot edit #2: that is not your message"}},
		{name: "edit unknown", input: []string{"/edit 99 x"}, wantView: []string{"No message #99 here"}},
		{name: "delete", input: []string{"/delete 4"}, wantCalls: []string{"delete lobby 4"}, wantView: []string{"message deleted"}},
		{name: "delete twice", input: []string{"/delete 4", "/del 4"}, wantCalls: []string{"delete lobby 4"}, wantView: []string{"Message #4 was deleted."}},
		{name: "delete no number", input: []string{"/delete"}, wantView: []string{"Usage: /delete N"}},
		{name: "react shortcode", input: []string{"/react 2 :+1:"}, wantCalls: []string{"react lobby 2 👍"}, wantView: []string{"[👍 1]"}},
		{name: "react newest", input: []string{"/react 🎉"}, wantCalls: []string{"react lobby 4 🎉"}},
		{name: "react bare name", input: []string{"/react heart"}, wantCalls: []string{"react lobby 4 ❤️"}},
		{name: "react no emoji", input: []string{"/react"}, wantView: []string{"Usage: /react [N] EMOJI"}},
		{name: "reply", input: []string{"/reply 1 sure"}, wantCalls: []string{`reply lobby 1 "sure"`}, wantView: []string{"↪ grace: message 1", "sure"}},
		{name: "reply newest", input: []string{"/re sounds good"}, wantCalls: []string{`reply lobby 4 "sounds good"`}, wantView: []string{"↪ ada: mine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("ada", false)
			f.addRoom("lobby", "", 3)
			f.rooms["lobby"].msgs = append(f.rooms["lobby"].msgs, protocol.Message{Room: "lobby", Seq: 4, From: "ada", Body: "mine", TS: t0.Add(3 * time.Minute).UnixMilli()})
			f.rooms["lobby"].info.LastSeq = 4
			if tt.fail != "" {
				f.fail[tt.fail] = forbidden
			}
			h := newHarness(t, f, 100, 30, "lobby")
			start := len(f.called(""))
			for _, in := range tt.input {
				h.typeText(in, true)
			}
			var calls []string
			for _, c := range f.called("")[start:] {
				if !strings.HasPrefix(c, "read ") {
					calls = append(calls, c)
				}
			}
			if !slices.Equal(calls, tt.wantCalls) {
				t.Errorf("calls = %q, want %q", calls, tt.wantCalls)
			}
			if got := h.m.input.Value(); got != tt.wantInput {
				t.Errorf("input = %q, want %q", got, tt.wantInput)
			}
			h.wantView(tt.wantView...)
		})
	}
}

// TestNumbersWhileTyping checks that the message numbers show while a
// command that names a message is typed, and go after.
func TestNumbersWhileTyping(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("lobby", "", 2)
	h := newHarness(t, f, 100, 30, "lobby")
	h.wantNotView("#2 message 2")
	h.typeText("/react", false)
	h.wantView("#1 message 1", "#2 message 2")
	h.typeText(" 2 :tada:", true)
	h.wantNotView("#2 message 2")
	h.wantView("🎉 1")
}
