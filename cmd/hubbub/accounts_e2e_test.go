package main

import (
	"strings"
	"testing"

	"github.com/hubbub-chat/hubbub/client"
)

// TestAccountsEndToEnd registers, logs in, sends as the account and logs
// out against a real server's account API.
func TestAccountsEndToEnd(t *testing.T) {
	url := startServer(t)
	grace := dialPeer(t, url, "grace")
	if _, _, err := grace.Join(t.Context(), "lobby"); err != nil {
		t.Fatal(err)
	}
	a, stdout, stderr := testApp(t, "", map[string]string{"HUBBUB_SERVER": url})
	run := func(stdin string, args ...string) int {
		t.Helper()
		a.stdin = strings.NewReader(stdin)
		return a.run(t.Context(), args)
	}

	if code := run("Ada\ncorrect horse\n", "register"); code != exitOK {
		t.Fatalf("register: exit %d; stderr: %s", code, stderr)
	}
	if want := "Registered and logged in to " + url + " as ada"; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout = %q, want %q", stdout, want)
	}
	first, err := a.savedSession(url)
	if err != nil || first == nil || first.User != "ada" {
		t.Fatalf("saved session after register = %+v, %v", first, err)
	}

	// A second register of the name is refused with the server's reason.
	if code := run("ada\nanother password\n", "register"); code != exitError {
		t.Errorf("second register: exit %d, want %d", code, exitError)
	}
	if !strings.Contains(stderr.String(), "hubbub: ") {
		t.Errorf("stderr = %q, want the server's reason", stderr)
	}

	// Wrong password, then right: login replaces the session.
	if code := run("wrong password\n", "login", "--user", "ada"); code != exitError {
		t.Errorf("login with a wrong password: exit %d, want %d", code, exitError)
	}
	if code := run("correct horse\n", "login", "--user", "ada"); code != exitOK {
		t.Fatalf("login: exit %d; stderr: %s", code, stderr)
	}
	second, _ := a.savedSession(url)
	if second == nil || second.Token == first.Token {
		t.Errorf("login did not save a new session: %+v", second)
	}

	// Commands now speak as the account, not as a guest.
	if code := run("", "send", "lobby", "signed in"); code != exitOK {
		t.Fatalf("send: exit %d; stderr: %s", code, stderr)
	}
	grace.waitEvent(t, "ada's message", func(ev client.Event) bool {
		m, ok := ev.(client.MessageEvent)
		return ok && m.Message.From == "ada" && !m.Message.Guest && m.Message.Body == "signed in"
	})

	// --guest ignores the session; a name that is taken is refused with
	// the server's reason, which says whose it is.
	for _, tt := range []struct {
		name, want string
	}{
		{"ada", "hubbub: ada is an account's name; pick another or log in (--name NAME for another"},
		{"grace", "hubbub: someone online is called grace already; pick another name (--name NAME for another"},
	} {
		if code := run("", "send", "--guest", "--name", tt.name, "lobby", "impostor"); code != exitError {
			t.Errorf("guest send as %s: exit %d, want %d", tt.name, code, exitError)
		}
		if got := stderr.String(); !strings.Contains(got, tt.want) {
			t.Errorf("guest send as %s: stderr = %q, want %q", tt.name, got, tt.want)
		}
	}

	// Logout ends the session on the server and forgets it.
	if code := run("", "logout"); code != exitOK {
		t.Fatalf("logout: exit %d; stderr: %s", code, stderr)
	}
	if s, _ := a.savedSession(url); s != nil {
		t.Errorf("session still saved after logout: %+v", s)
	}
	c, err := client.Dial(t.Context(), url, client.Options{Token: second.Token})
	if err == nil {
		c.Close()
		t.Errorf("the logged-out token still connects")
	}

	// A saved session that the server no longer knows is reported.
	if _, err := a.saveSession(url, "ada", second.Token); err != nil {
		t.Fatal(err)
	}
	if code := run("", "send", "lobby", "hi"); code != exitError {
		t.Errorf("send with an ended session: exit %d, want %d", code, exitError)
	}
	if want := "was refused"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
}
