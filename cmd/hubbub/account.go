package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/hubbub-chat/hubbub/internal/tui"
	"github.com/hubbub-chat/hubbub/protocol"
)

// maxReplyBytes bounds what is read of an account API reply.
const maxReplyBytes = 64 << 10

// accountReply is the body of a successful register or login.
type accountReply struct {
	Self  protocol.Identity `json:"self"`
	Token string            `json:"token"`
}

// apiError is the body of a refused account API request.
type apiError struct {
	Code   protocol.Code `json:"code"`
	Reason string        `json:"reason"`
}

// login runs "hubbub register" or "hubbub login" (cmd): it asks for the
// account name and password, calls the server's account API and saves
// the session token.
func (a *app) login(ctx context.Context, cf commonFlags, cmd string, args []string) int {
	fs := flag.NewFlagSet("hubbub "+cmd, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	cf.register(fs, false)
	user := fs.String("user", "", "account `name` (asked if not given)")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "hubbub %s: unexpected arguments %q\n", cmd, fs.Args())
		return exitUsage
	}
	server, err := serverURL(cf.server)
	if err != nil {
		return a.fail(err)
	}
	p := a.newPrompter()
	name := *user
	if name == "" {
		if name, err = p.line("User name: "); err != nil {
			return a.fail(err)
		}
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if err := protocol.CheckUsername(name); err != nil {
		return a.fail(fmt.Errorf("bad user name %q: %w", name, err))
	}
	password, err := p.password("Password: ")
	if err != nil {
		return a.fail(err)
	}
	if cmd == "register" {
		if err := protocol.CheckPassword(password); err != nil {
			return a.fail(err)
		}
		if p.terminal {
			again, err := p.password("Password again: ")
			if err != nil {
				return a.fail(err)
			}
			if again != password {
				return a.fail(errors.New("the passwords differ"))
			}
		}
	}
	reply, err := accountRequest(ctx, server, cmd, name, password)
	if err != nil {
		return a.fail(err)
	}
	path, err := a.saveSession(server, reply.Self.Name, reply.Token)
	if err != nil {
		return a.fail(err)
	}
	verb := "Logged in"
	if cmd == "register" {
		verb = "Registered and logged in"
	}
	fmt.Fprintf(a.stdout, "%s to %s as %s; session saved in %s.\n", verb, server, tui.SanitizeLine(reply.Self.Name), path)
	return exitOK
}

// accountRequest posts a register or login (cmd) request for a bearer
// token to the server's account API.
func accountRequest(ctx context.Context, server, cmd, user, password string) (accountReply, error) {
	body, err := json.Marshal(struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Bearer   bool   `json:"bearer"`
	}{user, password, true})
	if err != nil {
		return accountReply{}, err
	}
	data, err := apiCall(ctx, server, "/api/"+cmd, "", body)
	if err != nil {
		return accountReply{}, err
	}
	var reply accountReply
	if err := json.Unmarshal(data, &reply); err != nil || reply.Token == "" || reply.Self.Name == "" {
		return accountReply{}, fmt.Errorf("%s: the server's reply has no session token", cmd)
	}
	return reply, nil
}

// apiCall posts body (JSON) to path on server, with a
// bearer token if token is set, and returns the body of a 2xx answer. Any
// other answer is returned as an error: the server's reason when it sent
// one, sanitized for the terminal; it wraps an *apiStatusError.
func apiCall(ctx context.Context, server, path, token string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, httpBase(server)+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach %s: %w", server, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return data, nil
	}
	serr := &apiStatusError{Status: resp.StatusCode}
	var e apiError
	if json.Unmarshal(data, &e) == nil && e.Reason != "" {
		serr.Code, serr.Reason = e.Code, tui.SanitizeLine(e.Reason)
	} else if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
		serr.Reason = fmt.Sprintf("%s has no account API (HTTP %d on %s)", server, resp.StatusCode, path)
	} else {
		serr.Reason = fmt.Sprintf("%s answered HTTP %d on %s", server, resp.StatusCode, path)
	}
	return nil, serr
}

// apiStatusError is an account API answer other than 2xx.
type apiStatusError struct {
	Status int
	Code   protocol.Code
	Reason string // sanitized
}

func (e *apiStatusError) Error() string { return e.Reason }

// logout runs "hubbub logout": it ends the saved session on the server
// and forgets it. The session is forgotten even if the server cannot be
// told, which is then reported.
func (a *app) logout(ctx context.Context, cf commonFlags, args []string) int {
	fs := flag.NewFlagSet("hubbub logout", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	cf.register(fs, false)
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(a.stderr, "hubbub logout: unexpected arguments %q\n", fs.Args())
		return exitUsage
	}
	server, err := serverURL(cf.server)
	if err != nil {
		return a.fail(err)
	}
	s, err := a.savedSession(server)
	if err != nil {
		return a.fail(err)
	}
	if s == nil {
		fmt.Fprintf(a.stdout, "Not logged in to %s.\n", server)
		return exitOK
	}
	// Every POST of the account API is JSON, even one without fields.
	_, callErr := apiCall(ctx, server, "/api/logout", s.Token, []byte("{}"))
	var serr *apiStatusError
	if errors.As(callErr, &serr) && serr.Status == http.StatusUnauthorized {
		callErr = nil // the session had ended already
	}
	if err := a.forgetSession(server); err != nil {
		return a.fail(err)
	}
	if callErr != nil {
		return a.fail(fmt.Errorf("forgot the session, but could not end it on the server: %w", callErr))
	}
	fmt.Fprintf(a.stdout, "Logged out of %s.\n", server)
	return exitOK
}

// prompter asks the user for a line or a password: on the terminal with
// the prompt on stderr (the password not echoed), or from stdin, one line
// each, when stdin is not a terminal.
type prompter struct {
	a        *app
	in       *bufio.Reader
	fd       int
	terminal bool
}

func (a *app) newPrompter() *prompter {
	p := &prompter{a: a, in: bufio.NewReader(a.stdin)}
	if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.fd, p.terminal = int(f.Fd()), true
	}
	return p
}

func (p *prompter) line(prompt string) (string, error) {
	if p.terminal {
		fmt.Fprint(p.a.stderr, prompt)
	}
	s, err := p.in.ReadString('\n')
	if err != nil && (err != io.EOF || s == "") {
		return "", fmt.Errorf("read %s: %w", strings.TrimSuffix(strings.ToLower(prompt), ": "), err)
	}
	return strings.TrimRight(s, "\r\n"), nil
}

func (p *prompter) password(prompt string) (string, error) {
	if !p.terminal {
		return p.line(prompt)
	}
	fmt.Fprint(p.a.stderr, prompt)
	b, err := term.ReadPassword(p.fd)
	fmt.Fprintln(p.a.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(b), nil
}
