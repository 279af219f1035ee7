package main

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSessionsFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "config")
	a := &app{configDir: func() (string, error) { return dir, nil }}
	if s, err := a.savedSession("http://a"); s != nil || err != nil {
		t.Fatalf("savedSession with no file = %v, %v; want nil, nil", s, err)
	}
	if _, err := a.saveSession("http://a", "alice", "tok-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.saveSession("https://b", "bob", "tok-b"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hubbub", "sessions.json")
	for p, want := range map[string]fs.FileMode{path: 0o600, filepath.Dir(path): 0o700 | fs.ModeDir} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode(); got != want {
			t.Errorf("mode of %s = %v, want %v", p, got, want)
		}
	}
	s, err := a.savedSession("http://a")
	if err != nil || s == nil || s.Token != "tok-a" || s.User != "alice" {
		t.Errorf("savedSession(http://a) = %+v, %v; want alice's", s, err)
	}
	if err := a.forgetSession("http://a"); err != nil {
		t.Fatal(err)
	}
	if s, _ := a.savedSession("http://a"); s != nil {
		t.Errorf("session of http://a still saved after forgetting it: %+v", s)
	}
	if s, _ := a.savedSession("https://b"); s == nil || s.Token != "tok-b" {
		t.Errorf("session of https://b = %+v, want kept", s)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("files in the config directory = %v, want sessions.json only", entries)
	}

	// A damaged file is an error, not a silent logout.
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := a.savedSession("https://b"); err == nil {
		t.Errorf("savedSession of a damaged file: no error")
	}
}

// fakeAccounts is the account API of a server, as docs/protocol.md
// describes it, for the tests of register, login and logout.
type fakeAccounts struct {
	mu       sync.Mutex
	users    map[string]string // name → password
	tokens   map[string]string // token → name
	requests []string
}

func newFakeAccounts() *fakeAccounts {
	return &fakeAccounts{users: map[string]string{"alice": "correct horse"}, tokens: map[string]string{}}
}

func (f *fakeAccounts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	fail := func(status int, code, reason string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"code": code, "reason": reason})
	}
	var creds struct {
		Username, Password string
		Bearer             bool
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		fail(http.StatusUnsupportedMediaType, "bad_json", "send application/json")
		return
	}
	switch r.URL.Path {
	case "/api/register", "/api/login":
		if err := json.NewDecoder(r.Body).Decode(&creds); err != nil || !creds.Bearer {
			fail(http.StatusBadRequest, "bad_json", "bad body")
			return
		}
		status := http.StatusOK
		if r.URL.Path == "/api/register" {
			if _, taken := f.users[creds.Username]; taken {
				fail(http.StatusConflict, "name_taken", "the name \x1b[31mis taken")
				return
			}
			f.users[creds.Username] = creds.Password
			status = http.StatusCreated
		} else if pw, ok := f.users[creds.Username]; !ok || pw != creds.Password {
			fail(http.StatusUnauthorized, "bad_credentials", "wrong user name or password")
			return
		}
		token := "tok-" + creds.Username
		f.tokens[token] = creds.Username
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"self": map[string]string{"name": creds.Username}, "token": token})
	case "/api/logout":
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if _, known := f.tokens[token]; !ok || !known {
			fail(http.StatusUnauthorized, "unauthorized", "no session")
			return
		}
		delete(f.tokens, token)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

func TestAccountCommands(t *testing.T) {
	fake := newFakeAccounts()
	ts := httptest.NewServer(fake)
	defer ts.Close()
	a, stdout, stderr := testApp(t, "", nil)
	steps := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStdout string
		wantStderr string
		wantToken  string // saved after the step; "-" for none
	}{
		{name: "login", args: []string{"login"}, stdin: "Alice\ncorrect horse\n", wantCode: exitOK,
			wantStdout: "Logged in to " + ts.URL + " as alice; session saved in ", wantToken: "tok-alice"},
		{name: "logout", args: []string{"logout"}, wantCode: exitOK, wantStdout: "Logged out of " + ts.URL, wantToken: "-"},
		{name: "logout again", args: []string{"logout"}, wantCode: exitOK, wantStdout: "Not logged in to " + ts.URL, wantToken: "-"},
		{name: "wrong password", args: []string{"login", "--user", "alice"}, stdin: "wrong password\n", wantCode: exitError,
			wantStderr: "hubbub: wrong user name or password\n", wantToken: "-"},
		{name: "register taken", args: []string{"register"}, stdin: "alice\nsome password\n", wantCode: exitError,
			wantStderr: "hubbub: the name ^[[31mis taken\n", wantToken: "-"},
		{name: "register short password", args: []string{"register"}, stdin: "bob\nshort\n", wantCode: exitError,
			wantStderr: "hubbub: ", wantToken: "-"},
		{name: "register bad name", args: []string{"register", "--user", "Bob Smith"}, stdin: "long enough\n", wantCode: exitError,
			wantStderr: `bad user name "bob smith"`, wantToken: "-"},
		{name: "register", args: []string{"register", "--user", "bob"}, stdin: "long enough\n", wantCode: exitOK,
			wantStdout: "Registered and logged in to " + ts.URL + " as bob", wantToken: "tok-bob"},
		{name: "login without stdin", args: []string{"login"}, wantCode: exitError, wantStderr: "read user name: EOF", wantToken: "tok-bob"},
		{name: "session ended on the server", args: []string{"logout"}, wantCode: exitOK, wantStdout: "Logged out", wantToken: "-"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.name == "session ended on the server" {
				fake.mu.Lock()
				clear(fake.tokens)
				fake.mu.Unlock()
			}
			a.stdin = strings.NewReader(s.stdin)
			before, beforeErr := len(stdout.String()), len(stderr.String())
			code := a.run(t.Context(), append([]string{"--server", ts.URL + "/"}, s.args...))
			out, errOut := stdout.String()[before:], stderr.String()[beforeErr:]
			if code != s.wantCode {
				t.Errorf("exit code = %d, want %d; stderr: %q", code, s.wantCode, errOut)
			}
			if !strings.Contains(out, s.wantStdout) {
				t.Errorf("stdout = %q, want it to contain %q", out, s.wantStdout)
			}
			if !strings.Contains(errOut, s.wantStderr) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, s.wantStderr)
			}
			saved, err := a.savedSession(ts.URL)
			if err != nil {
				t.Fatal(err)
			}
			got := "-"
			if saved != nil {
				got = saved.Token
			}
			if got != s.wantToken {
				t.Errorf("saved token = %q, want %q", got, s.wantToken)
			}
		})
	}
}

func TestLogoutServerDown(t *testing.T) {
	a, _, stderr := testApp(t, "", nil)
	const server = "http://127.0.0.1:1"
	if _, err := a.saveSession(server, "alice", "tok"); err != nil {
		t.Fatal(err)
	}
	if code := a.run(t.Context(), []string{"--server", server, "logout"}); code != exitError {
		t.Errorf("exit code = %d, want %d", code, exitError)
	}
	if want := "forgot the session, but could not end it on the server"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
	if s, _ := a.savedSession(server); s != nil {
		t.Errorf("session still saved: %+v", s)
	}
}

func TestNoAccountAPI(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	defer ts.Close()
	a, _, stderr := testApp(t, "alice\npassword1\n", nil)
	if code := a.run(t.Context(), []string{"--server", ts.URL, "login"}); code != exitError {
		t.Errorf("exit code = %d, want %d", code, exitError)
	}
	if want := "has no account API (HTTP 404 on /api/login)"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr = %q, want %q", stderr, want)
	}
}
