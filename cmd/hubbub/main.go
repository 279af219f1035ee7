// Command hubbub is hubbub's terminal client: a full-screen chat in the
// terminal, and the subcommands register, login, logout, send and tail
// for accounts and scripts. Run `hubbub -h` for everything it does.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/tui"
	"github.com/hubbub-chat/hubbub/internal/version"
	"github.com/hubbub-chat/hubbub/protocol"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command failed
	exitUsage = 2 // bad flags or arguments
)

const (
	defaultServer = "http://127.0.0.1:8080"
	defaultRoom   = "lobby" // the room every server has
	dialTimeout   = 15 * time.Second
	opTimeout     = 30 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{
		stdin:     os.Stdin,
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		getenv:    os.Getenv,
		configDir: os.UserConfigDir,
	}
	code := a.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// app is the hubbub program: what its commands read, write and look up.
// Tests run it in-process with their own streams and directories.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	configDir      func() (string, error) // where hubbub/sessions.json lives
	tracer         *tracer                // --trace: set by the first dial that asks
}

// commonFlags are the flags every command that talks to a server takes.
type commonFlags struct {
	server string
	name   string
	guest  bool
	trace  bool
}

// register defines the common flags on fs, with the values c already
// holds as defaults, so that flags given before a subcommand carry over.
func (c *commonFlags) register(fs *flag.FlagSet, withName bool) {
	fs.StringVar(&c.server, "server", c.server, "server `URL` (env HUBBUB_SERVER)")
	fs.BoolVar(&c.trace, "trace", c.trace, "print every WebSocket frame of this client, decoded, to stderr")
	if withName {
		fs.StringVar(&c.name, "name", c.name, "guest display `name` (default $USER)")
		fs.BoolVar(&c.guest, "guest", c.guest, "connect as a guest even if a session is saved for the server")
	}
}

func (a *app) run(ctx context.Context, args []string) int {
	defer func() {
		if a.tracer != nil {
			a.tracer.wait() // the connections are closed: their traces end
		}
	}()
	cf := commonFlags{server: a.getenv("HUBBUB_SERVER")}
	if cf.server == "" {
		cf.server = defaultServer
	}
	fs := flag.NewFlagSet("hubbub", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() { a.usage(fs.Output()) }
	cf.register(fs, true)
	join := fs.String("join", defaultRoom, "comma-separated `rooms` to join at start (\"\" for none)")
	mouse := fs.Bool("mouse", false, "scroll with the mouse wheel (the terminal can then not select text)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if *showVersion {
		fmt.Fprintln(a.stdout, version.String("hubbub"))
		return exitOK
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return a.chat(ctx, cf, splitList(*join), *mouse)
	}
	cmd, args := rest[0], rest[1:]
	switch cmd {
	case "send":
		return a.send(ctx, cf, args)
	case "tail":
		return a.tail(ctx, cf, args)
	case "register", "login":
		return a.login(ctx, cf, cmd, args)
	case "logout":
		return a.logout(ctx, cf, args)
	case "help":
		a.usage(a.stdout)
		return exitOK
	case "version":
		fmt.Fprintln(a.stdout, version.String("hubbub"))
		return exitOK
	}
	fmt.Fprintf(a.stderr, "hubbub: unknown command %q; run hubbub -h for help\n", cmd)
	return exitUsage
}

// usageExit is the exit code for a flag parsing error; -h is not one.
func usageExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

func (a *app) usage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  hubbub [--server URL] [--name NAME] [--guest] [--join ROOMS] [--mouse] [--trace]
  hubbub register [--server URL] [--user NAME]
  hubbub login    [--server URL] [--user NAME]
  hubbub logout   [--server URL]
  hubbub send     [--server URL] [--name NAME] [--guest] [--json] [--file PATH] ROOM [TEXT...]
  hubbub tail     [--server URL] [--name NAME] [--guest] [--json] [-n N] ROOM
  hubbub --version

hubbub is the terminal client of the hubbub chat server.

With no command it opens the chat full-screen. It signs in with the session
saved for the server by "hubbub login", or else joins as a guest named
--name (default: $USER). Inside, type /help for the commands and keys:
  /join ROOM  /leave  /create ROOM [TOPIC]  /dm USER  /rooms  /me  /help
  /quit; room owners and moderators: /help mod (/kick /ban /mute /invite
  /topic /promote ...).
  Enter sends, Alt+Enter or Ctrl+J starts a new line (a paste keeps its
  lines), Tab or Ctrl+N/Ctrl+P switch rooms, PgUp/PgDn scroll (PgUp at the
  top loads older messages), Esc jumps to the newest, Up/Down recall what
  you entered, Ctrl+C quits.
Control characters and escape sequences in what others send are shown as
text (ESC as ^[, U+202E as <U+202E>), never passed to the terminal.

Commands:
  register  create an account and log in: asks for a user name and a
            password (twice on a terminal; one line of stdin otherwise)
  login     log in to an account; the session token is saved in
            $XDG_CONFIG_HOME/hubbub/sessions.json (os.UserConfigDir), by
            server URL, readable only by you
  logout    end the saved session on the server and forget it
  send      join ROOM and send one message, TEXT (the arguments joined by
            spaces, or else all of stdin); prints the message's sequence
            number (or, with --json, the stored message). With --file PATH
            it uploads the file and sends it, TEXT (optional, never stdin)
            as its caption, under its base name (a name the server would
            refuse is cleaned, and stderr says to what); a file of 1 MiB
            or more shows its progress on stderr, and an upload cut by a
            lost connection carries on
  tail      join ROOM, print its last N messages and then every new one,
            one per line, "[15:04] alice: hi" (newlines in a message shown
            as ^J), or with --json one JSON message object per line
            (protocol.Message: room, seq, from, guest, body, cmid, ts,
            and file, kind, target, ... when set);
            runs until interrupted, or fails when kicked or banned from
            ROOM or ROOM is deleted
  help      print this help
  version   print the version (also --version)

Flags (before or after the command name, before its arguments):
  --server URL   the server (default http://127.0.0.1:8080, env HUBBUB_SERVER)
  --trace        print every WebSocket frame this client sends and receives,
                 decoded (handshake, header fields, masking key, events), to
                 stderr; with the full-screen chat, redirect it:
                 hubbub --trace 2>trace.log. It connects without a proxy.
  --name NAME    guest display name (default $USER)
  --guest        ignore a saved session: connect as a guest
  --join ROOMS   chat: comma-separated rooms to join at start (default lobby;
                 --join= for none)
  --mouse        chat: scroll with the mouse wheel
  --user NAME    register, login: the account name (asked if not given)
  --json         send, tail: print JSON
  --file PATH    send: upload the file at PATH and send it (10 MiB at most
                 by default, the server's --file-max-bytes)
  -n N           tail: how many earlier messages to print first (default 10)

Exit status: 0 on success (tail: when interrupted), 1 when the command
failed, 2 for bad usage. Errors go to stderr.
`)
}

// splitList splits a comma-separated flag value.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// serverURL checks and normalizes a server URL: a scheme (http, https,
// ws or wss; http if none is given), lower-case host, no trailing slash.
// It is the key of saved sessions.
func serverURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("bad server URL %q: %w", raw, err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return "", fmt.Errorf("bad server URL %q: the scheme must be http, https, ws or wss", raw)
	}
	if u.Host == "" {
		return "", fmt.Errorf("bad server URL %q: no host", raw)
	}
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u.String(), nil
}

// httpBase is the http(s) URL of a server given as any serverURL.
func httpBase(server string) string {
	switch {
	case strings.HasPrefix(server, "ws://"):
		return "http://" + strings.TrimPrefix(server, "ws://")
	case strings.HasPrefix(server, "wss://"):
		return "https://" + strings.TrimPrefix(server, "wss://")
	}
	return server
}

// guestName is the display name of a guest: --name, else $USER, else
// "guest".
func (a *app) guestName(cf commonFlags) string {
	if cf.name != "" {
		return cf.name
	}
	if u := a.getenv("USER"); u != "" && protocol.CheckDisplayName(u) == nil {
		return u
	}
	return "guest"
}

// dial connects to the server of cf with the session saved for it, or as
// a guest. The caller must Close the client and read its events.
func (a *app) dial(ctx context.Context, cf commonFlags) (*client.Client, string, error) {
	server, err := serverURL(cf.server)
	if err != nil {
		return nil, "", err
	}
	opts := client.Options{Logger: slog.New(slog.DiscardHandler)}
	if cf.trace {
		if a.tracer == nil {
			a.tracer = newTracer(a.stderr)
		}
		opts.Dialer = a.tracer.dialer()
	}
	if !cf.guest {
		if s, err := a.savedSession(server); err != nil {
			return nil, server, err
		} else if s != nil {
			opts.Token = s.Token
		}
	}
	if opts.Token == "" {
		opts.Name = a.guestName(cf)
		if err := protocol.CheckDisplayName(opts.Name); err != nil {
			return nil, server, fmt.Errorf("bad --name %q: %w", opts.Name, err)
		}
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	c, err := client.Dial(dctx, server, opts)
	if err == nil {
		return c, server, nil
	}
	var he *client.HandshakeError
	var pe *protocol.Error
	switch {
	case errors.As(err, &he) && he.StatusCode == 401 && opts.Token != "":
		err = fmt.Errorf("the saved session for %s was refused (it expired or was ended): log in again with \"hubbub login\", or connect with --guest", server)
	case errors.As(err, &he) && he.StatusCode == 401:
		err = fmt.Errorf("%s does not allow guests: \"hubbub login\" first", server)
	case errors.As(err, &pe) && pe.Code == protocol.CodeNameTaken:
		// The server's reason says whose the name is: an account's, or
		// another guest's online now.
		err = fmt.Errorf("%s (--name NAME for another; \"hubbub login\" for an account)", tui.SanitizeLine(pe.Reason))
	default:
		err = fmt.Errorf("cannot connect to %s: %s", server, tui.SanitizeLine(err.Error()))
	}
	return nil, server, err
}

// drain reads and drops c's events until c is closed; the returned
// channel is closed then.
func drain(c *client.Client) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range c.Events() {
		}
	}()
	return done
}

// fail prints err to stderr and returns exitError.
func (a *app) fail(err error) int {
	fmt.Fprintln(a.stderr, "hubbub:", err)
	return exitError
}

// roomArg checks a room name argument: lower-cased, without a leading '#'.
func roomArg(s string) (string, error) {
	room := strings.ToLower(strings.TrimPrefix(s, "#"))
	if err := protocol.CheckRoomName(room); err != nil {
		return "", fmt.Errorf("bad room name %q: %w", s, err)
	}
	return room, nil
}
