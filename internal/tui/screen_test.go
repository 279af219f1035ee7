package tui

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

var update = flag.Bool("update", false, "rewrite testdata/screen-80x24.txt from the model")

// TestScreen80x24 pins what the UI looks like at 80x24, as text. The
// capture in docs/terminal.md is this file; -update rewrites it.
func TestScreen80x24(t *testing.T) {
	f := newFake("ada", false)
	f.addRoom("lobby", "Say hello", 0, "grace", "linus", "mallory")
	f.rooms["lobby"].info.Staff = []protocol.Member{{Name: "grace", Role: protocol.RoleModerator}}
	f.addRoom("books", "What we are reading", 0)
	h := newHarness(t, f, 80, 24, "books", "lobby")
	h.send(keyAlt('3'))
	at := func(m int) int64 { return t0.Add(time.Duration(m) * time.Minute).UnixMilli() }
	h.events(
		client.MessageEvent{Message: protocol.Message{Room: "lobby", Seq: 1, From: "grace", Body: "morning all", TS: at(0)}},
		client.MessageEvent{Message: protocol.Message{Room: "lobby", Seq: 2, From: "grace", Body: "the release is out: v1.4 🎉", TS: at(1)}},
		client.MessageEvent{Message: protocol.Message{Room: "lobby", Seq: 3, From: "linus", Body: "nice. did the **resume fix** make it in?", TS: at(3), ReplyTo: 2}},
		client.MessageEvent{Message: protocol.Message{Room: "lobby", Seq: 4, From: "ada", Body: "it did, with a test that restarts the server once", TS: at(4)}},
		client.MessageEvent{Message: protocol.Message{Room: "lobby", Seq: 6, Kind: protocol.KindReact, From: "linus", Body: "🎉", Target: 2, TS: at(5)}},
		client.MessageEvent{Message: protocol.Message{Room: "lobby", Seq: 7, Kind: protocol.KindReact, From: "ada", Body: "🎉", Target: 2, TS: at(5)}},
		client.MessageEvent{Message: protocol.Message{Room: "lobby", Seq: 8, Kind: protocol.KindEdit, From: "ada", Body: "it did, with a test that restarts the server twice", Target: 4, TS: at(5)}},
		client.MessageEvent{Message: protocol.Message{Room: "lobby", Seq: 5, From: "mallory", Guest: true, Body: "\x1b[2J\x1b]0;pwned\x07 hello \u202eevil @ada", TS: at(6)}},
		client.MessageEvent{Message: protocol.Message{Room: "books", Seq: 1, From: "grace", Body: "SICP, chapter 3", TS: at(7)}},
		client.MessageEvent{Message: protocol.Message{Room: "books", Seq: 2, From: "grace", Body: "who is in?", TS: at(7)}},
		client.TypingEvent{Room: "lobby", User: "grace"},
	)
	h.typeText("sounds good, I'll try it tonight", false)
	got := h.view()
	path := filepath.Join("testdata", "screen-80x24.txt")
	if *update {
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got+"\n" != string(want) {
		t.Errorf("screen:\n%s\nwant (%s; go test -update rewrites it):\n%s", got, path, want)
	}

	// docs/terminal.md shows the same screen, without trailing spaces.
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "terminal.md"))
	if err != nil {
		t.Fatal(err)
	}
	var trimmed []string
	for _, l := range strings.Split(string(want), "\n") {
		trimmed = append(trimmed, strings.TrimRight(l, " "))
	}
	if !strings.Contains(string(doc), strings.Join(trimmed, "\n")) {
		t.Errorf("docs/terminal.md does not show %s (trailing spaces trimmed); copy it there", path)
	}
}
