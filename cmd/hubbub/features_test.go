package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// accountTerminal registers the accounts names on the server at url, runs
// the chat as the first of them in a pseudo-terminal with no room joined,
// and returns the terminal and a client signed in as each account (the
// first is the terminal user's other session).
func accountTerminal(t *testing.T, bin, url string, names ...string) (*terminal, []*peer) {
	t.Helper()
	config := t.TempDir()
	var peers []*peer
	for i, name := range names {
		reply, err := accountRequest(t.Context(), url, "register", name, "correct horse")
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			a := &app{configDir: func() (string, error) { return config, nil }}
			if _, err := a.saveSession(url, name, reply.Token); err != nil {
				t.Fatal(err)
			}
		}
		peers = append(peers, dialPeerWith(t, url, client.Options{Token: reply.Token}))
	}
	env := append(binEnv(t, "TERM=xterm-256color"), "XDG_CONFIG_HOME="+config)
	term := startTerminal(t, env, bin, "--server", url, "--join=")
	term.waitFor(" ● " + names[0] + " ")
	return term, peers
}

// TestBinaryUnreadAndMentions checks against a real server that the
// terminal starts the "new" line at the read position the account's other
// session left, tells the server it read the room, and rings the bell when
// someone mentions the user.
func TestBinaryUnreadAndMentions(t *testing.T) {
	bin := hubbubBinary(t)
	url := startServer(t)
	ctx := t.Context()
	term, peers := accountTerminal(t, bin, url, "ada", "grace")
	ada, grace := peers[0], peers[1]
	if _, err := grace.Create(ctx, "tea", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := grace.Join(ctx, "tea"); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"one", "two", "three"} {
		if _, err := grace.Send(ctx, "tea", body); err != nil {
			t.Fatal(err)
		}
	}
	if err := ada.Read(ctx, "tea", 1); err != nil {
		t.Fatal(err)
	}

	term.typeKeys("/join tea\r")
	term.waitFor("── new ─")
	// The terminal read the room: the other session hears of it.
	ada.waitEvent(t, "the terminal's read", func(ev client.Event) bool {
		r, ok := ev.(client.ReadEvent)
		return ok && r.Room == "tea" && r.Seq == 3
	})
	if s := term.out.String(); strings.Index(s, "── new") > strings.Index(s, "two") {
		t.Errorf("the new line comes after message two, want it before:\n%q", s)
	}

	if strings.Contains(term.out.String(), "\a") {
		t.Fatalf("the bell rang before a mention")
	}
	if _, err := grace.Send(ctx, "tea", "@ada tea is ready"); err != nil {
		t.Fatal(err)
	}
	term.waitFor("tea is ready")
	term.waitFor("» ")
	term.waitFor("\a")
	term.typeKeys("/quit\r")
	term.wait()
}

// isEntry matches an entry of kind in room from user acting on target.
func isEntry(room, kind, from string, target int64) func(client.Event) bool {
	return func(ev client.Event) bool {
		m, ok := ev.(client.MessageEvent)
		return ok && m.Message.Room == room && m.Message.Kind == kind && m.Message.From == from && m.Message.Target == target
	}
}

// TestBinaryMessageCommands replies to, edits, reacts to and deletes
// messages from the terminal against a real server, each seen by another
// client and shown on the terminal, and shows another user's reaction,
// topic and a refusal.
func TestBinaryMessageCommands(t *testing.T) {
	bin := hubbubBinary(t)
	url := startServer(t)
	ctx := t.Context()
	term, peers := accountTerminal(t, bin, url, "ada", "grace")
	grace := peers[1]
	if _, err := grace.Create(ctx, "den", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := grace.Join(ctx, "den"); err != nil {
		t.Fatal(err)
	}
	if _, err := grace.Send(ctx, "den", "has anyone read **SICP**?"); err != nil {
		t.Fatal(err)
	}
	term.typeKeys("/join den\r")
	term.waitFor("has anyone read ")

	term.typeKeys("/reply 1 yes, chapter 1 :+1:\r")
	grace.waitEvent(t, "ada's reply", func(ev client.Event) bool {
		m, ok := ev.(client.MessageEvent)
		return ok && m.Message.From == "ada" && m.Message.ReplyTo == 1 && m.Message.Body == "yes, chapter 1 :+1:"
	})
	term.waitFor("↪ grace: has anyone read SICP?")
	term.waitFor("yes, chapter 1 👍")

	term.typeKeys("/edit 2 yes, chapter 3\r")
	grace.waitEvent(t, "ada's edit", isEntry("den", protocol.KindEdit, "ada", 2))
	term.waitFor("yes, chapter 3")
	term.waitFor(" (edited)")

	term.typeKeys("/react 1 :tada:\r")
	grace.waitEvent(t, "ada's reaction", isEntry("den", protocol.KindReact, "ada", 1))
	term.waitFor("[🎉 1]")
	if _, err := grace.React(ctx, "den", 1, "🎉"); err != nil {
		t.Fatal(err)
	}
	term.waitFor("[🎉 2]")

	term.typeKeys("/delete 2\r")
	grace.waitEvent(t, "ada's deletion", isEntry("den", protocol.KindDelete, "ada", 2))
	term.waitFor("message deleted")

	term.typeKeys("/delete 1\r")
	term.waitFor("Cannot delete #1: ")

	if err := grace.SetTopic(ctx, "den", "SICP club"); err != nil {
		t.Fatal(err)
	}
	term.waitFor("grace set the topic: SICP club")
	term.waitFor("#den · SICP club")
	term.typeKeys("/quit\r")
	term.wait()
}

// TestBinarySearch searches from the terminal against a real server and
// goes to a result far back in a room the terminal has not joined.
func TestBinarySearch(t *testing.T) {
	bin := hubbubBinary(t)
	url := startServer(t)
	ctx := t.Context()
	term, peers := accountTerminal(t, bin, url, "ada", "grace")
	grace := peers[1]
	if _, err := grace.Create(ctx, "hay", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := grace.Join(ctx, "hay"); err != nil {
		t.Fatal(err)
	}
	bodies := []string{"a needle in the haystack"}
	for i := range 60 {
		bodies = append(bodies, fmt.Sprintf("straw %d", i))
	}
	for _, body := range bodies {
		for {
			_, err := grace.Send(ctx, "hay", body)
			if protocol.CodeOf(err) == protocol.CodeRateLimited {
				time.Sleep(200 * time.Millisecond)
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			break
		}
	}

	term.typeKeys("/search needle\r")
	term.waitFor(`1 messages with "needle"`)
	term.waitFor("1. #hay ")
	term.typeKeys("/goto 1\r")
	// The room is joined and shown at message 1, two pages back, marked
	// by its number.
	term.waitFor(" 2 #hay ")
	term.waitFor("#1 ")
	term.typeKeys("/quit\r")
	term.wait()
}
