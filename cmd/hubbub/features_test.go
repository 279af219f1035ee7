package main

import (
	"strings"
	"testing"

	"github.com/hubbub-chat/hubbub/client"
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
