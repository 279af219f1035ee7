package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// hostile is a message body that tries to clear the screen and set the
// window title.
const hostile = "\x1b[2J\x1b]0;pwned\x07 hello"

func msgAt(room string, seq int64, from, body string, ts time.Time) client.MessageEvent {
	return client.MessageEvent{Message: protocol.Message{Room: room, Seq: seq, From: from, Body: body, TS: ts.UnixMilli()}}
}

func TestStartup(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "Say hello", 3, "grace")
	f.addRoom("books", "What we read", 0)
	h := newHarness(t, f, 80, 24)
	if got, want := f.called(""), []string{"rooms"}; !slices.Equal(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
	h.wantView("hubbub · http://127.0.0.1:8080", "1 status", "Connected to http://127.0.0.1:8080 as ada (guest).",
		"2 rooms (/join ROOM):", "#books", "What we read", "#lobby", "● ada (guest)")
}

func TestJoinShowsHistoryAndMembers(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "Say hello", 3, "grace", "linus")
	h := newHarness(t, f, 80, 24)
	h.typeText("/join #Lobby", true)

	want := []string{"rooms", "join lobby", "history lobby before 4"}
	if got := f.called(""); !slices.Equal(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
	if got := h.m.current().room; got != "lobby" {
		t.Errorf("shown room = %q, want lobby", got)
	}
	if got, want := h.m.current().memberList(), []string{"ada", "grace", "linus"}; !slices.Equal(got, want) {
		t.Errorf("members = %q, want %q", got, want)
	}
	h.wantView("#lobby · Say hello", "3 here", "start of #lobby", "Sat 14 Mar 2026",
		"grace  09:26", "message 1", "linus  09:27", "message 2", "message 3",
		"Here (3)", "ada (you)", "2 #lobby")
	if got := h.m.input.Value(); got != "" {
		t.Errorf("input after Enter = %q, want empty", got)
	}
}

func TestGroupsByAuthor(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 80, 24, "lobby")
	h.events(
		msgAt("lobby", 1, "grace", "one", t0),
		msgAt("lobby", 2, "grace", "two", t0.Add(time.Minute)),
		msgAt("lobby", 3, "grace", "three", t0.Add(time.Hour)), // past groupGap: a new header
		client.MessageEvent{Message: protocol.Message{Room: "lobby", Seq: 4, From: "bob", Guest: true, Body: "four", TS: t0.Add(time.Hour).UnixMilli()}},
	)
	lines := h.m.windowLines(h.m.current(), 60)
	want := []string{
		" start of #lobby",
		"── Sat 14 Mar 2026 ───────────────────────────────────────────",
		"grace  09:26",
		"  one",
		"  two",
		"grace  10:26",
		"  three",
		"bob (guest)  10:26",
		"  four",
	}
	for i := range want {
		want[i] = strings.TrimRight(want[i], " ")
	}
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " ")
	}
	if len(want[1]) > 0 {
		want[1] = lines[1] // checked below, by prefix
		if !strings.HasPrefix(lines[1], "── Sat 14 Mar 2026 ──") {
			t.Errorf("day line = %q", lines[1])
		}
	}
	if !slices.Equal(lines, want) {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestSendMessage(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 80, 24, "lobby")
	h.typeText("hello, world", false)

	// Enter shows the message as pending until the server acknowledges it.
	_, cmd := h.m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	h.wantView("ada (guest)  sending…", "hello, world")
	h.run(cmd)
	if got, want := f.called("send"), []string{`send lobby "hello, world"`}; !slices.Equal(got, want) {
		t.Errorf("sends = %q, want %q", got, want)
	}
	h.wantView("ada (guest)  10:26", "hello, world")
	h.wantNotView("sending…")

	// The client also delivers the message as an event: shown once.
	h.events(client.MessageEvent{Message: protocol.Message{Room: "lobby", Seq: 1, From: "ada", Guest: true, Body: "hello, world", TS: t0.Add(time.Hour).UnixMilli()}})
	if got := strings.Count(h.view(), "hello, world"); got != 1 {
		t.Errorf("message shown %d times, want 1", got)
	}

	// "//" sends a message that starts with "/"; blank input sends nothing.
	h.typeText("//shrug", true)
	h.typeText("   ", true)
	if got, want := f.called("send"), []string{`send lobby "hello, world"`, `send lobby "/shrug"`}; !slices.Equal(got, want) {
		t.Errorf("sends = %q, want %q", got, want)
	}
}

func TestSendOutsideRoom(t *testing.T) {
	f := newFake("ada", true)
	h := newHarness(t, f, 80, 24)
	h.typeText("hello?", true)
	if got := f.called("send"); len(got) != 0 {
		t.Errorf("sends = %q, want none", got)
	}
	h.wantView("You are not in a room here: /join ROOM first.")
	if got := h.m.input.Value(); got != "hello?" {
		t.Errorf("input = %q, want the text kept", got)
	}

	// It stays in the input (it used to go): in a room, Enter sends it.
	f.addRoom("lobby", "", 0)
	h.m.input.Reset()
	h.typeText("/join lobby", true)
	h.typeText("hello?", false)
	h.key(tea.KeyCtrlP) // the status window
	h.key(tea.KeyEnter)
	h.key(tea.KeyCtrlN)
	h.key(tea.KeyEnter)
	if got, want := f.called("send"), []string{`send lobby "hello?"`}; !slices.Equal(got, want) {
		t.Errorf("sends = %q, want %q", got, want)
	}
}

func TestSendError(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 80, 24, "lobby")
	f.mu.Lock()
	delete(f.rooms, "lobby") // the fake now refuses sends with not_joined
	f.mu.Unlock()
	h.typeText("lost", true)
	h.wantView("Not sent: not in lobby")
	h.wantNotView("sending…")
}

func TestIncomingSanitized(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "topic \u202eevil\x1b[5m", 0, "grace")
	h := newHarness(t, f, 80, 24, "lobby")
	h.events(
		client.JoinEvent{Room: "lobby", User: "ev\u200bil"},
		client.MessageEvent{Message: protocol.Message{Room: "lobby", Seq: 1, From: "mal\u202elory", Guest: true, Body: hostile + "\nline\ttwo\x00\u009b", TS: t0.UnixMilli()}},
		client.TypingEvent{Room: "lobby", User: "ty\x1bper"},
	)
	h.wantView("topic <U+202E>evil^[[5m", "mal<U+202E>lory (guest)", "^[[2J^[]0;pwned^G hello",
		"line    two^@<U+009B>", "ev<U+200B>il", "ty^[per is typing…")
	v := h.view()
	for _, raw := range []string{"\x1b", "\u202e", "\u200b", "\x00", "\u009b", "\x07", "\t"} {
		if strings.Contains(v, raw) {
			t.Errorf("view contains raw %q", raw)
		}
	}
}

func TestUnreadAndSwitching(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 0)
	f.addRoom("books", "", 0)
	h := newHarness(t, f, 80, 24, "lobby", "books")
	if got := h.m.current().room; got != "lobby" {
		t.Fatalf("shown room = %q, want lobby (the first joined)", got)
	}
	h.events(
		msgAt("books", 1, "grace", "b1", t0),
		msgAt("books", 2, "grace", "b2", t0),
		msgAt("lobby", 1, "grace", "l1", t0),
		msgAt("books", 2, "grace", "b2", t0), // a repeat is not counted
	)
	if got := h.m.find("books").unread; got != 2 {
		t.Errorf("books unread = %d, want 2", got)
	}
	if got := h.m.find("lobby").unread; got != 0 {
		t.Errorf("lobby (shown) unread = %d, want 0", got)
	}
	h.wantView(" 3 #books       (2)│")

	steps := []struct {
		key  tea.KeyMsg
		want string
	}{
		{tea.KeyMsg{Type: tea.KeyTab}, "books"},
		{tea.KeyMsg{Type: tea.KeyTab}, ""}, // wraps to the status window
		{tea.KeyMsg{Type: tea.KeyCtrlN}, "lobby"},
		{tea.KeyMsg{Type: tea.KeyCtrlP}, ""},
		{tea.KeyMsg{Type: tea.KeyShiftTab}, "books"},
		{tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'2'}, Alt: true}, "lobby"},
	}
	for _, s := range steps {
		h.send(s.key)
		if got := h.m.current().room; got != s.want {
			t.Errorf("after %s: shown room = %q, want %q", s.key, got, s.want)
		}
	}
	if got := h.m.find("books").unread; got != 0 {
		t.Errorf("books unread after showing it = %d, want 0", got)
	}
	if got := h.m.input.Value(); got != "" {
		t.Errorf("switching keys typed %q into the input", got)
	}
}

func TestTyping(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 80, 24, "lobby")

	// Sent at most every 3 s while typing a message, never for a command.
	h.typeText("hel", false)
	h.clock.advance(2 * time.Second)
	h.typeText("lo", false)
	if got := len(f.called("typing")); got != 1 {
		t.Errorf("typing sent %d times in 2 s, want 1", got)
	}
	h.clock.advance(time.Second)
	h.typeText("!", false)
	if got := len(f.called("typing")); got != 2 {
		t.Errorf("typing sent %d times in 3 s, want 2", got)
	}
	h.key(tea.KeyEnter)
	h.clock.advance(time.Minute)
	h.typeText("/rooms", false)
	if got := len(f.called("typing")); got != 2 {
		t.Errorf("typing sent %d times after typing a command, want still 2", got)
	}

	// Others typing is shown until it is stale, or they send.
	h.events(client.TypingEvent{Room: "lobby", User: "grace"}, client.TypingEvent{Room: "lobby", User: "ada"})
	h.wantView(" grace is typing…")
	h.wantNotView("ada is typing")
	h.events(client.TypingEvent{Room: "lobby", User: "linus"})
	h.wantView(" grace and linus are typing…")
	h.events(msgAt("lobby", 2, "linus", "hi", t0))
	h.wantView(" grace is typing…")
	h.clock.advance(typingShownFor)
	h.send(tickMsg(h.clock.now()))
	h.wantNotView("typing…")
	if got := len(h.m.current().typing); got != 0 {
		t.Errorf("typing users after expiry = %d, want 0", got)
	}
}

func TestTypingText(t *testing.T) {
	tests := []struct {
		who  []string
		want string
	}{
		{nil, ""},
		{[]string{"a"}, " a is typing…"},
		{[]string{"a", "b"}, " a and b are typing…"},
		{[]string{"a", "b", "c"}, " a, b and c are typing…"},
		{[]string{"a", "b", "c", "d"}, " 4 people are typing…"},
	}
	for _, tt := range tests {
		if got := typingText(tt.who); got != tt.want {
			t.Errorf("typingText(%q) = %q, want %q", tt.who, got, tt.want)
		}
	}
}

func TestConnectionState(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 0, "grace")
	h := newHarness(t, f, 80, 24, "lobby")
	now := h.clock.now()
	tests := []struct {
		name string
		ev   client.StateEvent
		want string
	}{
		{"reconnecting", client.StateEvent{State: client.Reconnecting, Attempt: 1, Next: now.Add(2500 * time.Millisecond), Err: errors.New("websocket: close 1006")},
			" ○ reconnecting in 3s: websocket: close 1006"},
		{"second attempt", client.StateEvent{State: client.Reconnecting, Attempt: 2, Next: now.Add(10 * time.Second), Err: errors.New("dial tcp: connection refused")},
			" ○ reconnecting in 10s (attempt 2): dial tcp: connection refused"},
		{"dialling", client.StateEvent{State: client.Reconnecting, Attempt: 3, Next: now.Add(-time.Second)},
			" ○ reconnecting… (attempt 3)"},
		{"connected", client.StateEvent{State: client.Connected, Self: protocol.Identity{Name: "ada", Guest: true}},
			" ● ada (guest)"},
		{"closed", client.StateEvent{State: client.Closed, Err: &client.HandshakeError{StatusCode: 401}},
			" ✕ disconnected: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.events(tt.ev)
			lines := strings.Split(h.view(), "\n")
			if got := lines[len(lines)-1]; !strings.HasPrefix(got, tt.want) {
				t.Errorf("status bar = %q, want prefix %q", got, tt.want)
			}
		})
	}
	// After the reconnect the rooms were joined again for their members.
	if got, want := f.called("join"), []string{"join lobby", "join lobby"}; !slices.Equal(got, want) {
		t.Errorf("joins = %q, want %q", got, want)
	}
	h.wantView("disconnected: ", "/quit")
}

// TestReconnectSeenByConnNumber: a Connected numbered past the last one
// is a reconnect even when no Reconnecting came before it (the client
// drops those when the events buffer stays full): the rooms are joined
// again for who is in them now, and the user is told.
func TestReconnectSeenByConnNumber(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 80, 24, "lobby")
	h.events(client.StateEvent{State: client.Connected, Self: protocol.Identity{Name: "ada", Guest: true}, Conn: 1})
	if got, want := f.called("join"), []string{"join lobby"}; !slices.Equal(got, want) {
		t.Fatalf("joins after the first connection = %q, want %q", got, want)
	}
	h.events(client.StateEvent{State: client.Connected, Self: protocol.Identity{Name: "ada", Guest: true}, Conn: 2})
	if got, want := f.called("join"), []string{"join lobby", "join lobby"}; !slices.Equal(got, want) {
		t.Errorf("joins after connection 2 = %q, want %q", got, want)
	}
	var notes []string
	for _, e := range h.m.wins[0].entries {
		notes = append(notes, e.note)
	}
	if !slices.Contains(notes, "connected again") {
		t.Errorf("status window notes = %q, want \"connected again\" among them", notes)
	}
}

func TestCountdown(t *testing.T) {
	f := newFake("ada", true)
	h := newHarness(t, f, 80, 24)
	h.events(client.StateEvent{State: client.Reconnecting, Attempt: 1, Next: h.clock.now().Add(5 * time.Second)})
	for _, want := range []string{"in 5s", "in 4s", "in 3s", "in 2s", "in 1s", "reconnecting…"} {
		h.wantView(want)
		h.clock.advance(time.Second)
		h.send(tickMsg(h.clock.now()))
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name        string
		input       []string
		wantCalls   []string // calls after startup (which lists rooms and joins lobby)
		wantRoom    string   // the room shown after
		wantView    []string
		wantNotView []string
		wantQuit    bool
	}{
		{name: "join", input: []string{"/join books"}, wantCalls: []string{"join books"}, wantRoom: "books"},
		{name: "join short", input: []string{"/j books"}, wantCalls: []string{"join books"}, wantRoom: "books"},
		{name: "join missing room", input: []string{"/join nowhere"}, wantCalls: []string{"join nowhere"}, wantRoom: "lobby",
			wantView: []string{"Cannot join #nowhere: no room nowhere (/create nowhere", "makes it)"}},
		{name: "join missing DM room", input: []string{"/join dm:bob:carl"}, wantCalls: []string{"join dm:bob:carl"}, wantRoom: "lobby",
			wantView: []string{"Cannot join #dm:bob:carl: no room dm:bob:carl"}, wantNotView: []string{"/create"}},
		{name: "join bad name", input: []string{"/join a/b"}, wantRoom: "lobby", wantView: []string{`"a/b" is not a room name`}},
		{name: "join no name", input: []string{"/join"}, wantRoom: "lobby", wantView: []string{"Usage: /join ROOM"}},
		{name: "join again", input: []string{"/join lobby"}, wantRoom: "lobby"},
		{name: "leave", input: []string{"/leave"}, wantCalls: []string{"leave lobby"}, wantRoom: "",
			wantView: []string{"Left #lobby."}},
		{name: "leave other", input: []string{"/join books", "/leave lobby"}, wantCalls: []string{"join books", "leave lobby"}, wantRoom: "books"},
		{name: "leave status", input: []string{"/leave", "/leave"}, wantCalls: []string{"leave lobby"}, wantRoom: "",
			wantView: []string{"The status window is no room: /leave ROOM leaves one."}},
		{name: "leave unknown", input: []string{"/leave books"}, wantRoom: "lobby", wantView: []string{"Not in that room."}},
		{name: "create", input: []string{"/create go-nuts All about  Go"}, wantCalls: []string{`create go-nuts "All about  Go"`, "join go-nuts"},
			wantRoom: "go-nuts", wantView: []string{"#go-nuts · All about  Go"}},
		{name: "create taken", input: []string{"/create books"}, wantCalls: []string{`create books ""`}, wantRoom: "lobby",
			wantView: []string{"Cannot create #books: room books exists"}},
		{name: "rooms", input: []string{"/rooms"}, wantCalls: []string{"rooms"}, wantRoom: "lobby",
			wantView: []string{"2 rooms (/join ROOM):", "#books", "0 online", "#lobby", "joined  Say hello"}},
		{name: "help", input: []string{"/help"}, wantRoom: "lobby", wantView: []string{"/join ROOM", "/create ROOM [TOPIC]", "PgUp, PgDn"}},
		{name: "help mod", input: []string{"/help mod"}, wantRoom: "lobby", wantView: []string{"/kick USER [REASON]", "/ban USER [FOR] [REASON]", "/private ROOM"}},
		{name: "unknown", input: []string{"/frobnicate now"}, wantRoom: "lobby", wantView: []string{"Unknown command /frobnicate: /help lists them."}},
		{name: "dm as guest", input: []string{"/dm grace"}, wantRoom: "lobby", wantView: []string{"Direct messages are for accounts"}},
		{name: "quit", input: []string{"/quit"}, wantRoom: "lobby", wantQuit: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake("ada", true)
			f.addRoom("lobby", "Say hello", 0)
			f.addRoom("books", "", 0)
			h := newHarness(t, f, 80, 48, "lobby") // tall enough for all of /help
			start := len(f.called(""))
			for _, in := range tt.input {
				h.typeText(in, true)
			}
			if got := f.called("")[start:]; !slices.Equal(got, tt.wantCalls) {
				t.Errorf("calls = %q, want %q", got, tt.wantCalls)
			}
			if got := h.m.current().room; got != tt.wantRoom {
				t.Errorf("shown room = %q, want %q", got, tt.wantRoom)
			}
			if h.quit != tt.wantQuit {
				t.Errorf("quit = %v, want %v", h.quit, tt.wantQuit)
			}
			if tt.wantQuit {
				if v := h.m.View(); v != "" {
					t.Errorf("View after quit = %q, want empty", v)
				}
				return
			}
			h.wantView(tt.wantView...)
			h.wantNotView(tt.wantNotView...)
		})
	}
}

func TestDM(t *testing.T) {
	f := newFake("ada", false)
	room := protocol.DMRoom("ada", "grace")
	f.addRoom(room, "", 2, "ada", "grace")
	h := newHarness(t, f, 80, 24)
	h.typeText("/dm @Grace", true)
	if got, want := f.called("join"), []string{"join " + room}; !slices.Equal(got, want) {
		t.Errorf("joins = %q, want %q", got, want)
	}
	h.wantView("@grace", "message 1")

	f.mu.Lock()
	f.rooms[room].info.Peer = "grace"
	f.mu.Unlock()
	h.typeText("/rooms", true)
	h.wantView("1 room (/join ROOM):", "@grace")

	// A DM room that does not exist yet is opened through the client's
	// dm operation, then joined.
	h.typeText("/dm linus", true)
	if got, want := f.called("dm"), []string{"dm grace", "dm linus"}; !slices.Equal(got, want) {
		t.Errorf("dm calls = %q, want %q", got, want)
	}
	if got, want := h.m.current().room, protocol.DMRoom("ada", "linus"); got != want {
		t.Errorf("shown room after /dm linus = %q, want %q", got, want)
	}
	room = protocol.DMRoom("ada", "linus")

	f.mu.Lock()
	f.fail["dm"] = protocol.Errorf(protocol.CodeNoSuchUser, "no user nobody")
	f.mu.Unlock()
	h.typeText("/dm nobody", true)
	h.wantView("Cannot join @nobody: no user nobody")
	if got := h.m.current().room; got != room {
		t.Errorf("shown room after a failed /dm = %q, want %q", got, room)
	}

	// /leave names a DM room as the room list does.
	h.typeText("/leave @Grace", true)
	if got, want := f.called("leave"), []string{"leave " + protocol.DMRoom("ada", "grace")}; !slices.Equal(got, want) {
		t.Errorf("leaves = %q, want %q", got, want)
	}
}

func TestLoadOlder(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 120)
	h := newHarness(t, f, 80, 24, "lobby")
	w := h.m.current()
	if got, want := len(w.entries), historyPage; got != want {
		t.Fatalf("messages after join = %d, want %d", got, want)
	}
	if !w.more {
		t.Fatalf("more = false after the first page of 120 messages")
	}
	h.wantView("message 120")

	// Page up to the top: the next page is fetched, and the lines the
	// user was reading stay on the screen.
	for range 100 {
		if len(f.called("history")) > 1 {
			break
		}
		h.key(tea.KeyPgUp)
	}
	if got := f.called("history"); !slices.Equal(got, []string{"history lobby before 121", "history lobby before 71"}) {
		t.Errorf("history calls = %q", got)
	}
	if got, want := w.oldestSeq(), int64(21); got != want {
		t.Errorf("oldest seq = %d, want %d", got, want)
	}
	h.wantView("message 71")
	if h.m.vp.AtTop() {
		t.Errorf("view at the top after loading older messages; want it to stay where the user was")
	}
	for range 100 {
		h.key(tea.KeyPgUp)
	}
	h.wantView("start of #lobby", "message 1")
	if got := len(f.called("history")); got != 3 {
		t.Errorf("history calls = %d, want 3", got)
	}
	for range 100 {
		h.key(tea.KeyPgUp) // at the start: nothing more to fetch
	}
	if got := len(f.called("history")); got != 3 {
		t.Errorf("history calls at the start = %d, want still 3", got)
	}
	h.wantView("more below: PgDn, Esc")

	// New messages do not pull the view down while the user reads, and
	// the line above the input counts those of others.
	h.events(msgAt("lobby", 121, "grace", "newer", t0.Add(3*time.Hour)))
	h.wantView("message 1", "1 new below: PgDn, Esc")
	mine := msgAt("lobby", 122, "ada", "mine", t0.Add(3*time.Hour))
	mine.Message.Guest = true // the user's own (a guest here): not counted
	h.events(mine, msgAt("lobby", 123, "grace", "newest", t0.Add(3*time.Hour)))
	h.wantView("message 1", "2 new below: PgDn, Esc")
	h.key(tea.KeyEsc)
	h.wantView("newest")
	h.wantNotView("more below", "new below")
	// Seen: scrolled up again, nothing new is counted.
	h.key(tea.KeyPgUp)
	h.wantView("more below: PgDn, Esc")
	h.wantNotView("new below")
	h.key(tea.KeyEsc)
	h.key(tea.KeyPgUp)
	h.key(tea.KeyPgDown)
	h.key(tea.KeyPgDown)
	h.wantView("newest")
}

func TestMouseWheel(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 30)
	h := newHarness(t, f, 80, 24, "lobby")
	h.send(tea.MouseMsg{Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
	if h.m.vp.AtBottom() {
		t.Errorf("at bottom after wheel up")
	}
	h.send(tea.MouseMsg{Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	if !h.m.vp.AtBottom() {
		t.Errorf("not at bottom after wheel up and down")
	}
}

func TestErrorEvent(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 80, 24, "lobby")
	h.events(client.ErrorEvent{Room: "lobby", Err: protocol.Errorf(protocol.CodeForbidden, "you were \x1b[31mbanned")})
	if h.m.current().joined {
		t.Errorf("room still joined after the client lost it")
	}
	h.wantView("lost #lobby: you were ^[[31mbanned; /join lobby to try")
	h.typeText("still here?", true)
	h.wantView("You are not in a room here")
}

func TestJoinLeavePresence(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 0, "grace")
	h := newHarness(t, f, 80, 24, "lobby")
	h.events(client.JoinEvent{Room: "lobby", User: "linus"}, client.JoinEvent{Room: "elsewhere", User: "x"})
	h.wantView("Here (3)", " linus", "3 here")
	h.events(client.LeaveEvent{Room: "lobby", User: "grace"})
	h.wantView("Here (2)")
	h.wantNotView(" grace ")
}

// TestLayoutFits checks that every screen fills the terminal and that no
// line is wider than it, for sizes from tiny to large, with content that
// is hard to lay out: long words, wide characters, tokens.
func TestLayoutFits(t *testing.T) {
	sizes := []struct{ w, h int }{{80, 24}, {120, 40}, {60, 20}, {59, 12}, {40, 10}, {20, 6}, {19, 5}, {200, 60}}
	for _, size := range sizes {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			f := newFake("a-rather-long-display-name-here", true)
			f.addRoom("lobby", strings.Repeat("a very long topic ", 10), 5, "grace")
			f.addRoom("a-room-with-a-long-name-32chars", "", 0)
			h := newHarness(t, f, 80, 24, "lobby", "a-room-with-a-long-name-32chars")
			h.events(
				msgAt("lobby", 6, strings.Repeat("W", 32), strings.Repeat("x", 500), t0),
				msgAt("lobby", 7, "grace", strings.Repeat("你好", 100)+"\n"+strings.Repeat("👋", 90), t0),
				msgAt("lobby", 8, "grace", strings.Repeat("\x1b[2J", 60), t0),
				client.MessageEvent{Message: protocol.Message{Room: "lobby", Seq: 9, From: "grace", TS: t0.UnixMilli(), ReplyTo: 7,
					Body: "```\n" + strings.Repeat("code_without_spaces", 20) + "\n```\n> " + strings.Repeat("quoted ", 40) + "@a-rather-long-display-name-here",
					File: &protocol.File{ID: "f_" + strings.Repeat("x", 40), Name: strings.Repeat("long name ", 10) + ".pdf", Size: 1 << 30}}},
				client.MessageEvent{Message: protocol.Message{Room: "lobby", Seq: 10, Kind: protocol.KindBan, From: strings.Repeat("M", 32), User: strings.Repeat("U", 32), Body: strings.Repeat("reason ", 40), Until: t0.UnixMilli(), TS: t0.UnixMilli()}},
				msgAt("a-room-with-a-long-name-32chars", 1, "grace", "unread", t0),
			)
			for i, e := range []string{"👍", "❤️", "🎉", "😂", "👀", "🚀", "🔥", "🙏", "💯", "✅", "🤔", "👋"} {
				h.events(client.MessageEvent{Message: protocol.Message{Room: "lobby", Seq: int64(11 + i), Kind: protocol.KindReact, From: "grace", Body: e, Target: 9, TS: t0.UnixMilli()}})
			}
			for range 5 {
				h.events(client.TypingEvent{Room: "lobby", User: strings.Repeat("T", 30)})
			}
			h.events(client.StateEvent{State: client.Reconnecting, Attempt: 12, Next: h.clock.now().Add(30 * time.Second),
				Err: errors.New(strings.Repeat("a long error ", 20))})
			h.typeText("/react "+strings.Repeat("typed ", 30), false) // with the numbers shown
			h.send(tea.WindowSizeMsg{Width: size.w, Height: size.h})
			v := h.m.View()
			if size.w < minWidth || size.h < minHeight {
				if !strings.Contains(v, "too small") && size.w >= len("too small") {
					t.Errorf("view = %q, want a too-small note", v)
				}
				checkFits(t, v, size.w, 1)
				return
			}
			checkFits(t, v, size.w, size.h)
			// The message view's own lines fit too: the viewport would
			// hide an overflow by cutting it.
			for i, l := range h.m.windowLines(h.m.find("lobby"), h.m.vp.Width) {
				if w := lipgloss.Width(l); w > h.m.vp.Width {
					t.Errorf("message line %d is %d cells wide, more than %d: %q", i, w, h.m.vp.Width, l)
				}
			}
			h.key(tea.KeyPgUp)
			checkFits(t, h.m.View(), size.w, size.h)
		})
	}
}

func TestResizeKeepsBottom(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 40)
	h := newHarness(t, f, 80, 24, "lobby")
	for _, size := range []tea.WindowSizeMsg{{Width: 120, Height: 40}, {Width: 60, Height: 15}, {Width: 80, Height: 24}} {
		h.send(size)
		if !h.m.vp.AtBottom() {
			t.Errorf("after resize to %dx%d: not at the newest message", size.Width, size.Height)
		}
		h.wantView("message 40")
	}
}

func TestEventsBatched(t *testing.T) {
	ch := make(chan client.Event, 10)
	for i := range 5 {
		ch <- msgAt("lobby", int64(i+1), "grace", "x", t0)
	}
	close(ch)
	cmd := waitEvents(ch)
	msg, ok := cmd().(eventsMsg)
	if !ok || len(msg) != 5 {
		t.Fatalf("first wait = %T len %d, want eventsMsg of 5", msg, len(msg))
	}
	if _, ok := cmd().(eventsClosedMsg); !ok {
		t.Errorf("wait on a closed channel did not report the close")
	}
}

func TestModerationEvents(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("lobby", "old topic", 0, "grace", "mallory")
	h := newHarness(t, f, 120, 40, "lobby")
	until := time.Date(2026, 3, 16, 8, 0, 0, 0, time.UTC).UnixMilli()
	// The notices to the user go to the status window; the room shows
	// the entries (TestEntriesShown).
	tests := []struct {
		ev   protocol.Event
		want string
	}{
		{protocol.Event{Type: protocol.TypeMuted, Room: "lobby", User: "ada", By: "grace", Until: until, Reason: "be \x1b[5mnice"}, "you were muted in #lobby by grace until Mon 16 Mar 08:00: be ^[[5mnice"},
		{protocol.Event{Type: protocol.TypeUnmuted, Room: "lobby", User: "ada", By: "grace"}, "you can speak again in #lobby (grace lifted the mute)"},
		{protocol.Event{Type: protocol.TypeUnbanned, Room: "lobby", User: "ada", By: "grace"}, "you may join #lobby again (grace lifted the ban)"},
		{protocol.Event{Type: protocol.TypeUnbanned, Room: "lobby", User: "ada"}, "you may join #lobby again (the ban ended)"},
		{protocol.Event{Type: protocol.TypeUnmuted, Room: "lobby", User: "ada"}, "you can speak again in #lobby (the mute ended)"},
		{protocol.Event{Type: protocol.TypeRole, Room: "lobby", User: "ada", By: "grace", Role: "moderator"}, "grace made you moderator of #lobby"},
		{protocol.Event{Type: protocol.TypeRole, Room: "lobby", User: "ada", By: "grace"}, "grace removed your role in #lobby"},
		{protocol.Event{Type: protocol.TypeBanned, Room: "lobby", User: "ada", By: "grace", Reason: "spam"}, "you were banned from #lobby by grace: spam"},
	}
	for _, tt := range tests {
		h.events(client.OtherEvent{Event: tt.ev})
		h.wantNotView(tt.want)
		h.key(tea.KeyCtrlP)
		h.wantView(tt.want)
		h.key(tea.KeyCtrlN)
	}
	if w := h.m.find("lobby"); w.joined {
		t.Errorf("still joined after a ban")
	}

	// Invitations go to the status window.
	h.events(
		client.OtherEvent{Event: protocol.Event{Type: protocol.TypeInvited, Room: "books", User: "ada", By: "grace"}},
		client.OtherEvent{Event: protocol.Event{Type: protocol.TypeInvited, Room: protocol.DMRoom("ada", "grace"), User: "ada", By: "grace"}},
	)
	h.key(tea.KeyCtrlP)
	h.wantView("grace invited you to #books: /join books", "grace opened a direct-message room with you: /dm grace")
}

func TestLongSessionTrims(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 0)
	f.addRoom("busy", "", 0)
	h := newHarness(t, f, 80, 24, "lobby", "busy")
	var evs []client.Event
	for i := range maxEntries + maxEntries/4 + 1 {
		evs = append(evs, msgAt("busy", int64(i+1), "grace", fmt.Sprint("m", i+1), t0))
	}
	h.events(evs...)
	w := h.m.find("busy")
	if got := len(w.entries); got != maxEntries {
		t.Errorf("entries = %d, want trimmed to %d", got, maxEntries)
	}
	if !w.more {
		t.Errorf("more = false after dropping old messages; want PgUp to fetch them again")
	}
	if got, want := w.lastSeq(), int64(maxEntries+maxEntries/4+1); got != want {
		t.Errorf("last seq = %d, want %d", got, want)
	}
	if got := w.unread; got != maxEntries+maxEntries/4+1 {
		t.Errorf("unread = %d", got)
	}
	h.key(tea.KeyTab)
	h.wantView(fmt.Sprint("m", maxEntries+maxEntries/4+1))
}

func TestRecall(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 80, 24, "lobby")
	h.typeText("first", true)
	h.typeText("/rooms", true)
	h.typeText("third", true)
	h.typeText("third", true) // a repeat is kept once
	h.typeText("draft", false)
	steps := []struct {
		key  tea.KeyType
		want string
	}{
		{tea.KeyUp, "third"},
		{tea.KeyUp, "/rooms"},
		{tea.KeyUp, "first"},
		{tea.KeyUp, "first"},
		{tea.KeyDown, "/rooms"},
		{tea.KeyDown, "third"},
		{tea.KeyDown, "draft"},
		{tea.KeyDown, "draft"},
	}
	for i, s := range steps {
		h.key(s.key)
		if got := h.m.input.Value(); got != s.want {
			t.Errorf("step %d (%s): input = %q, want %q", i+1, s.key, got, s.want)
		}
	}
}

// TestUnreadNarrow: below 60 columns there is no room list to count the
// other rooms' unread messages and mentions, and the status bar counts
// them instead; before, nothing on screen said that anything had come.
func TestUnreadNarrow(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("lobby", "", 0)
	f.addRoom("books", "", 0)
	f.addRoom("ops", "", 0)
	h := newHarness(t, f, 50, 12, "lobby", "books", "ops")
	h.send(keyAlt('2'))
	lastLine := func() string {
		v := h.view()
		return v[strings.LastIndex(v, "\n")+1:]
	}
	if got, want := lastLine(), " ● ada"+strings.Repeat(" ", 50-6-19)+" Tab: rooms  /help "; got != want {
		t.Errorf("status bar with nothing unread:\n%q, want\n%q", got, want)
	}
	h.events(
		msgAt("books", 1, "grace", "b1", t0),
		msgAt("books", 2, "grace", "hi @ada", t0),
		msgAt("ops", 1, "grace", "o1", t0),
		msgAt("lobby", 1, "grace", "l1", t0), // shown: read
	)
	if got, want := lastLine(), " ● ada"+strings.Repeat(" ", 50-6-20)+" unread @1 (3)  Tab "; got != want {
		t.Errorf("status bar with unread elsewhere:\n%q, want\n%q", got, want)
	}
	h.send(keyAlt('3')) // books
	if got, want := lastLine(), " ● ada"+strings.Repeat(" ", 50-6-17)+" unread (1)  Tab "; got != want {
		t.Errorf("status bar after reading books:\n%q, want\n%q", got, want)
	}

	// With the room list, the list counts them.
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.wantView(" 4 #ops         (1)│", "Tab: rooms  /help")
}

// TestSendTooLong: a message longer than the server takes is not sent and
// stays in the input, with its length, to be shortened; pasted over the
// limit, it was cut where the input stopped taking it and sent without its
// end, or, between the two limits (4096 bytes of CJK is 1366 characters),
// refused with the input emptied.
func TestSendTooLong(t *testing.T) {
	f := newFake("ada", true)
	f.addRoom("lobby", "", 0)
	h := newHarness(t, f, 80, 24, "lobby")
	for _, text := range []string{strings.Repeat("x", 5000), strings.Repeat("漢", 2000), "//" + strings.Repeat("x", protocol.MaxBodyBytes)} {
		h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(text), Paste: true})
		h.key(tea.KeyEnter)
		if got := f.called("send"); len(got) != 0 {
			t.Fatalf("sent %d bytes: %.40q", len(got[0]), got[0])
		}
		if got := h.m.input.Value(); got != text {
			t.Errorf("the input holds %d bytes, want the %d entered", len(got), len(text))
		}
		body, _ := messageText(text)
		h.wantView(fmt.Sprintf("Not sent: the message is %d bytes, more than the 4096", len(body)), "Your text stays")
		h.m.input.Reset()
	}

	// At the limit, it goes.
	h.typeText(strings.Repeat("y", protocol.MaxBodyBytes), true)
	if got := f.called("send"); len(got) != 1 {
		t.Errorf("sends = %d, want 1", len(got))
	}
}

// TestNewsCountsInStatus: news for the user that goes to the status window
// (an invitation, a kick, a ban) counts there as unread while another
// window is shown, as a room's messages do; before, nothing on screen
// said that it had come. A DM opened to the user is in the room list
// itself, and does not count.
func TestNewsCountsInStatus(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("lobby", "", 0, "grace")
	f.addRoom(protocol.DMRoom("ada", "grace"), "", 0, "grace")
	h := newHarness(t, f, 80, 24, "lobby")
	h.events(
		client.OtherEvent{Event: protocol.Event{Type: protocol.TypeInvited, Room: "books", User: "ada", By: "grace"}},
		client.OtherEvent{Event: protocol.Event{Type: protocol.TypeInvited, Room: protocol.DMRoom("ada", "grace"), User: "ada", By: "grace"}},
		client.OtherEvent{Event: protocol.Event{Type: protocol.TypeKicked, Room: "lobby", User: "ada", By: "grace", Reason: "out"}},
		// A room the user is not in, archived: every user hears of it.
		client.OtherEvent{Event: protocol.Event{Type: protocol.TypeDirectory, Change: protocol.ChangeArchived, Room: "attic", By: "grace"}},
	)
	h.wantView(" 1 status       (2)│", " 3 @grace          │")
	if got := h.m.current().room; got != "lobby" {
		t.Errorf("shown: %q, want lobby", got)
	}
	h.send(keyAlt('1'))
	h.wantView("grace invited you to #books", "you were kicked from #lobby by grace: out", "#attic was archived by grace", " 1 status          │")
	if got := h.m.wins[0].unread; got != 0 {
		t.Errorf("status unread after showing it = %d", got)
	}

	// Shown, it counts nothing.
	h.events(client.OtherEvent{Event: protocol.Event{Type: protocol.TypeBanned, Room: "lobby", User: "ada", By: "grace"}})
	if got := h.m.wins[0].unread; got != 0 {
		t.Errorf("status unread while shown = %d", got)
	}
}
