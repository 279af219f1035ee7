package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestServerURL(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{in: "http://127.0.0.1:8080/", want: "http://127.0.0.1:8080"},
		{in: "127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{in: "HTTPS://Chat.Example.COM/hub/", want: "https://chat.example.com/hub"},
		{in: "wss://chat.example.com", want: "wss://chat.example.com"},
		{in: "https://user:pw@chat.example.com/?x=1#y", want: "https://chat.example.com"},
		{in: "ftp://chat.example.com", wantErr: true},
		{in: "http://", wantErr: true},
		{in: "http://bad host", wantErr: true},
	}
	for _, tt := range tests {
		got, err := serverURL(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("serverURL(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	for in, want := range map[string]string{
		"http://h":    "http://h",
		"https://h/p": "https://h/p",
		"ws://h:1":    "http://h:1",
		"wss://h/hub": "https://h/hub",
	} {
		if got := httpBase(in); got != want {
			t.Errorf("httpBase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUsageAndExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "help flag", args: []string{"-h"}, wantCode: exitOK, wantStderr: "hubbub tail     [--server URL]"},
		{name: "help command", args: []string{"help"}, wantCode: exitOK, wantStdout: "Exit status: 0 on success"},
		{name: "version flag", args: []string{"--version"}, wantCode: exitOK, wantStdout: "hubbub "},
		{name: "version command", args: []string{"version"}, wantCode: exitOK, wantStdout: "(go1."},
		{name: "unknown command", args: []string{"frob"}, wantCode: exitUsage, wantStderr: `unknown command "frob"`},
		{name: "unknown flag", args: []string{"--frob"}, wantCode: exitUsage, wantStderr: "flag provided but not defined: -frob"},
		{name: "send without room", args: []string{"send"}, wantCode: exitUsage, wantStderr: "usage: hubbub send"},
		{name: "send bad room", args: []string{"send", "Not A Room!", "hi"}, wantCode: exitUsage, wantStderr: `bad room name "Not A Room!"`},
		{name: "send blank", args: []string{"send", "lobby", "  "}, wantCode: exitUsage, wantStderr: "bad message"},
		{name: "tail without room", args: []string{"tail"}, wantCode: exitUsage, wantStderr: "usage: hubbub tail"},
		{name: "tail negative n", args: []string{"tail", "-n", "-1", "lobby"}, wantCode: exitUsage, wantStderr: "usage: hubbub tail"},
		{name: "login extra args", args: []string{"login", "alice"}, wantCode: exitUsage, wantStderr: "unexpected arguments"},
		{name: "bad join", args: []string{"--join", "a b"}, wantCode: exitUsage, wantStderr: "--join: bad room name"},
		{name: "chat without terminal", args: []string{"--join="}, wantCode: exitError, wantStderr: "the chat needs a terminal"},
		{name: "bad server", args: []string{"--server", "ftp://x", "send", "lobby", "hi"}, wantCode: exitError, wantStderr: "the scheme must be http"},
		{name: "unreachable server", args: []string{"--server", "http://127.0.0.1:1", "send", "lobby", "hi"}, wantCode: exitError, wantStderr: "cannot connect to http://127.0.0.1:1"},
		{name: "bad guest name", args: []string{"--server", "http://127.0.0.1:1", "send", "--name", "a\x1bb", "lobby", "hi"}, wantCode: exitError, wantStderr: "bad --name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, stdout, stderr := testApp(t, "", nil)
			if got := a.run(t.Context(), tt.args); got != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", got, tt.wantCode, stderr)
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout, tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.wantStderr)
			}
		})
	}
}

// TestSavedSessionUsed checks that a saved session is sent as a bearer
// token, and what a refusal says.
func TestSavedSessionUsed(t *testing.T) {
	var gotAuth string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"code":"unauthorized","reason":"session ended"}`))
	}))
	defer ts.Close()
	a, _, stderr := testApp(t, "", nil)
	if _, err := a.saveSession(ts.URL, "alice", "tok-123"); err != nil {
		t.Fatal(err)
	}
	if code := a.run(t.Context(), []string{"--server", ts.URL, "send", "lobby", "hi"}); code != exitError {
		t.Errorf("exit code = %d, want %d", code, exitError)
	}
	if gotAuth != "Bearer tok-123" {
		t.Errorf("Authorization = %q, want the saved token", gotAuth)
	}
	if want := "the saved session for " + ts.URL + " was refused"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}

	// --guest ignores the session.
	gotAuth = "unset"
	a.run(t.Context(), []string{"--server", ts.URL, "send", "--guest", "--name", "bob", "lobby", "hi"})
	if gotAuth != "" {
		t.Errorf("Authorization with --guest = %q, want none", gotAuth)
	}
	if want := "does not allow guests"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
}
