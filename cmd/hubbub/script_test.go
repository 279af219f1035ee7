package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

func TestSendAndTail(t *testing.T) {
	url := startServer(t)
	grace := dialPeer(t, url, "grace")
	if _, _, err := grace.Join(t.Context(), "lobby"); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HUBBUB_SERVER": url, "USER": "ada"}

	// send: the argument text, or stdin; prints the seq.
	sends := []struct {
		args       []string
		stdin      string
		wantStdout string
		wantFrom   string
		wantBody   string
	}{
		{args: []string{"send", "lobby", "hello,", "world"}, wantStdout: "1\n", wantFrom: "ada", wantBody: "hello, world"},
		{args: []string{"--name", "bot", "send", "#Lobby"}, stdin: "from\tstdin\n", wantStdout: "2\n", wantFrom: "bot", wantBody: "from\tstdin"},
		{args: []string{"send", "--name", "bot", "lobby", hostileBody}, wantStdout: "3\n", wantFrom: "bot", wantBody: hostileBody},
	}
	for _, s := range sends {
		a, stdout, stderr := testApp(t, s.stdin, env)
		if code := a.run(t.Context(), s.args); code != exitOK {
			t.Fatalf("%q: exit code %d; stderr: %s", s.args, code, stderr)
		}
		if got := stdout.String(); got != s.wantStdout {
			t.Errorf("%q: stdout = %q, want %q", s.args, got, s.wantStdout)
		}
		grace.waitEvent(t, "message "+s.wantBody, isMessage("lobby", s.wantFrom, s.wantBody))
	}

	// send --json prints the stored message.
	a, stdout, _ := testApp(t, "", env)
	if code := a.run(t.Context(), []string{"send", "--json", "lobby", "as json"}); code != exitOK {
		t.Fatalf("send --json: exit code %d", code)
	}
	var sent protocol.Message
	if err := json.Unmarshal([]byte(stdout.String()), &sent); err != nil || sent.Seq != 4 || sent.Body != "as json" || !sent.Guest {
		t.Errorf("send --json printed %q (%v); want message 4", stdout, err)
	}

	// tail -n N prints the last N, then follows.
	tests := []struct {
		name string
		args []string
		live []string
		want []string // the whole output
	}{
		{name: "text", args: []string{"tail", "-n", "2", "lobby"}, live: []string{"live one", "live two"}, want: []string{
			"bot (guest): ^[[2J^[]0;pwned^G hello^Jline two",
			"ada (guest): as json",
			"grace (guest): live one",
			"grace (guest): live two",
		}},
		{name: "json", args: []string{"tail", "--json", "-n", "3", "lobby"}, live: []string{"live three"}, want: []string{
			`{"room":"lobby","seq":4,"from":"ada","guest":true,"body":"as json",`,
			`{"room":"lobby","seq":5,"from":"grace","guest":true,"body":"live one",`,
			`{"room":"lobby","seq":6,"from":"grace","guest":true,"body":"live two",`,
			`{"room":"lobby","seq":7,"from":"grace","guest":true,"body":"live three",`,
		}},
		{name: "json escapes", args: []string{"tail", "--json", "-n", "1", "lobby"}, live: []string{hostileBody}, want: []string{
			`{"room":"lobby","seq":7,`,
			`{"room":"lobby","seq":8,"from":"grace","guest":true,"body":"\u001b[2J\u001b]0;pwned\u0007 hello\nline two",`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, stdout, stderr := testApp(t, "", env)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan int)
			go func() { done <- a.run(ctx, tt.args) }()
			waitLines(t, stdout, len(tt.want)-len(tt.live))
			for _, body := range tt.live {
				if _, err := grace.Send(t.Context(), "lobby", body); err != nil {
					t.Fatal(err)
				}
			}
			waitLines(t, stdout, len(tt.want))
			cancel()
			select {
			case code := <-done:
				if code != exitOK {
					t.Errorf("exit code after interrupt = %d, want 0; stderr: %s", code, stderr)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("tail did not stop after its context ended")
			}
			lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("output has %d lines, want %d:\n%s", len(lines), len(tt.want), stdout)
			}
			for j, want := range tt.want {
				if !strings.Contains(lines[j], want) {
					t.Errorf("line %d = %q, want it to contain %q", j+1, lines[j], want)
				}
				if tt.name == "text" && !timePrefix.MatchString(lines[j]) {
					t.Errorf("line %d = %q, want a [15:04] time first", j+1, lines[j])
				}
				if strings.HasPrefix(tt.name, "json") {
					var m protocol.Message
					if err := json.Unmarshal([]byte(lines[j]), &m); err != nil || m.Room != "lobby" || m.TS == 0 || m.Seq == 0 {
						t.Errorf("line %q is not a protocol.Message: %v", lines[j], err)
					}
				}
			}
		})
	}
}

var timePrefix = regexp.MustCompile(`^\[\d\d:\d\d\] `)

// waitLines waits until out has n complete lines.
func waitLines(t *testing.T, out *syncBuffer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Count(out.String(), "\n") >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("output has fewer than %d lines within 10s:\n%s", n, out)
}

// hostileBody tries to clear the screen and set the window title.
const hostileBody = "\x1b[2J\x1b]0;pwned\x07 hello\nline two"

func TestTailHistoryPages(t *testing.T) {
	url := startServer(t)
	grace := dialPeer(t, url, "grace")
	if _, err := grace.Create(t.Context(), "long", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := grace.Join(t.Context(), "long"); err != nil {
		t.Fatal(err)
	}
	// Sent by several clients, each under the server's message rate limit.
	const total = 130
	senders := []*peer{grace}
	for i := range 5 {
		p := dialPeer(t, url, fmt.Sprintf("helper%d", i))
		if _, _, err := p.Join(t.Context(), "long"); err != nil {
			t.Fatal(err)
		}
		senders = append(senders, p)
	}
	for i := range total {
		p := senders[i/25]
		if _, err := p.Send(t.Context(), "long", fmt.Sprintf("m%d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		n         int
		wantFirst string
		wantLines int
	}{
		{n: 0, wantLines: 0},
		{n: 3, wantFirst: "m128", wantLines: 3},
		{n: 120, wantFirst: "m11", wantLines: 120},
		{n: 500, wantFirst: "m1", wantLines: total},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			a, stdout, _ := testApp(t, "", map[string]string{"HUBBUB_SERVER": url})
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan int)
			go func() { done <- a.run(ctx, []string{"tail", "-n", fmt.Sprint(tt.n), "--name", "reader", "long"}) }()
			if tt.n > 0 {
				waitOutput(t, stdout, "m130\n", 10*time.Second)
			} else {
				time.Sleep(300 * time.Millisecond)
			}
			cancel()
			<-done
			out := strings.TrimSuffix(stdout.String(), "\n")
			var lines []string
			if out != "" {
				lines = strings.Split(out, "\n")
			}
			if len(lines) != tt.wantLines {
				t.Fatalf("%d lines, want %d", len(lines), tt.wantLines)
			}
			if tt.n > 0 && !strings.HasSuffix(lines[0], ": "+tt.wantFirst) {
				t.Errorf("first line = %q, want message %s", lines[0], tt.wantFirst)
			}
		})
	}
}

func TestWriteJSONSafe(t *testing.T) {
	tests := []struct {
		body string
		want string
	}{
		{"plain <b> & é 👋", `{"body":"plain <b> & é 👋"}`},
		{"\x1b[2J\x07\n\t", `{"body":"\u001b[2J\u0007\n\t"}`},
		{"del\x7f c1\u009b", `{"body":"del\u007f c1\u009b"}`},
		{"bidi\u202e zw\u200b\u200d", `{"body":"bidi\u202e zw\u200b\u200d"}`},
		{"tag\U000E0041", `{"body":"tag\udb40\udc41"}`},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := writeJSON(&b, struct {
			Body string `json:"body"`
		}{tt.body}); err != nil {
			t.Fatal(err)
		}
		if got := b.String(); got != tt.want+"\n" {
			t.Errorf("writeJSON(%q) = %q, want %q", tt.body, got, tt.want+"\n")
		}
		var back struct{ Body string }
		if err := json.Unmarshal([]byte(b.String()), &back); err != nil || back.Body != tt.body {
			t.Errorf("writeJSON(%q) decodes to %q, %v", tt.body, back.Body, err)
		}
	}
}

func TestFormatLineMarksGuests(t *testing.T) {
	ts := time.Date(2026, 1, 2, 15, 4, 0, 0, time.Local).UnixMilli()
	tests := []struct {
		m    protocol.Message
		want string
	}{
		{protocol.Message{From: "alice", Body: "hi", TS: ts}, "[15:04] alice: hi"},
		{protocol.Message{From: "dave", Guest: true, Body: "I am dave", TS: ts}, "[15:04] dave (guest): I am dave"},
		{protocol.Message{From: "x\x1b[2Jy", Guest: true, Body: "b", TS: ts}, "[15:04] x^[[2Jy (guest): b"},
		{protocol.Message{From: "alice", Body: "hi all", Edited: ts, ReplyTo: 3, TS: ts}, "[15:04] alice: (reply to #3) hi all (edited)"},
		{protocol.Message{From: "alice", Deleted: true, TS: ts}, "[15:04] alice: (deleted)"},
		{protocol.Message{From: "alice", Body: "the cover", File: &protocol.File{Name: "a\x1b.jpg", Size: 12}, TS: ts}, "[15:04] alice: the cover [file a^[.jpg, 12 bytes]"},
		{protocol.Message{From: "alice", File: &protocol.File{Name: "b.png", Size: 7}, TS: ts}, "[15:04] alice: [file b.png, 7 bytes]"},
		{protocol.Message{Kind: protocol.KindEdit, From: "alice", Body: "hi\x07", Target: 41, TS: ts}, "[15:04] alice edited #41: hi^G"},
		{protocol.Message{Kind: protocol.KindDelete, From: "bob", Target: 41, TS: ts}, "[15:04] bob deleted #41"},
		{protocol.Message{Kind: protocol.KindReact, From: "bob", Body: "👍", Target: 41, TS: ts}, "[15:04] bob reacted 👍 to #41"},
		{protocol.Message{Kind: protocol.KindUnreact, From: "bob", Body: "👍", Target: 41, TS: ts}, "[15:04] bob took back 👍 from #41"},
		{protocol.Message{Kind: protocol.KindKick, From: "bob", User: "mallory", Body: "spam", TS: ts}, "[15:04] bob kicked mallory: spam"},
		{protocol.Message{Kind: protocol.KindMute, From: "bob", User: "eve", Until: ts, TS: ts}, "[15:04] bob muted eve until 2026-01-02 15:04"},
		{protocol.Message{Kind: protocol.KindTopic, From: "bob", TS: ts}, "[15:04] bob cleared the topic"},
		{protocol.Message{Kind: protocol.KindRole, From: "bob", User: "eve", Body: "moderator", TS: ts}, "[15:04] bob made eve moderator"},
		{protocol.Message{Kind: "future", From: "bob", TS: ts}, "[15:04] bob did future"},
	}
	for _, tt := range tests {
		if got := formatLine(tt.m); got != tt.want {
			t.Errorf("formatLine(%+v) = %q, want %q", tt.m, got, tt.want)
		}
	}
}

// TestTailRemoved: "hubbub tail ROOM" stops with exit status 1, and says
// why on stderr, when its account is kicked or banned from ROOM or ROOM
// is deleted. The client does not join such a room again, so a tail that
// went on would wait for ever for messages that never come.
func TestTailRemoved(t *testing.T) {
	url := startServer(t)
	tests := []struct {
		name       string
		act        func(ctx context.Context, owner *peer, room, user string) error
		wantStderr string
	}{
		{"kick", func(ctx context.Context, o *peer, room, user string) error {
			return o.Kick(ctx, room, user, "spam")
		}, "hubbub: kicked from #rkick by ownkick: spam\n"},
		{"ban", func(ctx context.Context, o *peer, room, user string) error {
			return o.Ban(ctx, room, user, "", 0)
		}, "hubbub: banned from #rban by ownban\n"},
		{"delete", func(ctx context.Context, o *peer, room, user string) error {
			return o.DeleteRoom(ctx, room)
		}, "hubbub: #rdelete was deleted\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			owner, user, room := "own"+tt.name, "usr"+tt.name, "r"+tt.name
			ro, err := accountRequest(t.Context(), url, "register", owner, "correct horse")
			if err != nil {
				t.Fatal(err)
			}
			ru, err := accountRequest(t.Context(), url, "register", user, "correct horse")
			if err != nil {
				t.Fatal(err)
			}
			o := dialPeerWith(t, url, client.Options{Token: ro.Token})
			if _, err := o.Create(t.Context(), room, ""); err != nil {
				t.Fatal(err)
			}
			if _, _, err := o.Join(t.Context(), room); err != nil {
				t.Fatal(err)
			}
			config := t.TempDir()
			a, _, stderr := testApp(t, "", map[string]string{"HUBBUB_SERVER": url})
			a.configDir = func() (string, error) { return config, nil }
			if _, err := a.saveSession(url, user, ru.Token); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan int, 1)
			go func() { done <- a.run(ctx, []string{"tail", "-n", "0", room}) }()
			o.waitEvent(t, user+" joining", func(ev client.Event) bool {
				j, ok := ev.(client.JoinEvent)
				return ok && j.Room == room && j.User == user
			})
			if err := tt.act(t.Context(), o, room, user); err != nil {
				t.Fatal(err)
			}
			select {
			case code := <-done:
				if code != exitError {
					t.Errorf("exit code %d, want %d", code, exitError)
				}
			case <-time.After(10 * time.Second):
				cancel()
				<-done
				t.Fatal("tail still running 10s after it was taken out of the room")
			}
			if got := stderr.String(); got != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", got, tt.wantStderr)
			}
		})
	}
}
