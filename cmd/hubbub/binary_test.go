package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestBinarySendTail runs the built binary's send and tail --json against
// a real server, as a script would.
func TestBinarySendTail(t *testing.T) {
	bin := hubbubBinary(t)
	url := startServer(t)
	grace := dialPeer(t, url, "grace")
	if _, _, err := grace.Join(t.Context(), "lobby"); err != nil {
		t.Fatal(err)
	}

	send := exec.CommandContext(t.Context(), bin, "send", "--name", "script", "lobby", "from", "the", "binary")
	send.Env = binEnv(t, "HUBBUB_SERVER="+url)
	out, err := send.Output()
	if err != nil {
		t.Fatalf("hubbub send: %v", err)
	}
	if got := string(out); got != "1\n" {
		t.Errorf("hubbub send printed %q, want the seq 1", got)
	}
	grace.waitEvent(t, "the binary's message", isMessage("lobby", "script", "from the binary"))

	tail := exec.CommandContext(t.Context(), bin, "--server", url, "tail", "--json", "-n", "5", "--name", "reader", "lobby")
	tail.Env = binEnv(t)
	stdout, err := tail.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	tail.Stderr = &stderr
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func() protocol.Message {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("tail's output ended; stderr: %s", stderr.String())
			}
			var m protocol.Message
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("tail printed %q, not a message: %v", l, err)
			}
			return m
		case <-time.After(10 * time.Second):
			t.Fatalf("no line from tail within 10s; stderr: %s", stderr.String())
		}
		return protocol.Message{}
	}
	if m := next(); m.Seq != 1 || m.From != "script" || m.Body != "from the binary" {
		t.Errorf("first line = %+v, want message 1 from history", m)
	}
	if _, err := grace.Send(t.Context(), "lobby", hostileBody); err != nil {
		t.Fatal(err)
	}
	if m := next(); m.Seq != 2 || m.From != "grace" || m.Body != hostileBody {
		t.Errorf("second line = %+v, want grace's live message", m)
	}

	// Interrupted, tail exits 0.
	if err := tail.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	if err := tail.Wait(); err != nil {
		t.Errorf("tail after SIGINT: %v; stderr: %s", err, stderr.String())
	}

	// Errors go to stderr with exit status 1.
	bad := exec.CommandContext(t.Context(), bin, "--server", url, "send", "no-such-room", "hi")
	bad.Env = binEnv(t)
	var badErr syncBuffer
	bad.Stderr = &badErr
	err = bad.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitError {
		t.Errorf("send to a missing room: %v, want exit status 1", err)
	}
	if want := "hubbub: join #no-such-room: "; !strings.Contains(badErr.String(), want) {
		t.Errorf("stderr = %q, want %q", badErr.String(), want)
	}
}

// terminal is the binary running in a pseudo-terminal, and the terminal
// around it: it records what the program shows and answers the queries a
// terminal answers.
type terminal struct {
	t        *testing.T
	ptmx     *os.File
	out      syncBuffer
	exited   chan error
	answered int // cursor position queries answered
}

// startTerminal runs bin with args in a pseudo-terminal of 80x24 and kills
// it, if it is still running, when t ends.
func startTerminal(t *testing.T, env []string, bin string, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, ptmx: ptmx, exited: make(chan error, 1)}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		io.Copy(&term.out, ptmx) // ends with an error once the program and ptmx are gone
	}()
	go func() { term.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		ptmx.Close()
		<-copied
	})
	return term
}

// waitFor waits until the terminal shows want. Meanwhile it answers the
// queries lipgloss makes at start (the background color, and the cursor
// position to learn whether the first is supported), as a terminal does;
// unanswered, lipgloss waits 5 s.
func (term *terminal) waitFor(want string) {
	term.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s := term.out.String()
		if strings.Contains(s, want) {
			return
		}
		if strings.Count(s, "\x1b[6n") > term.answered {
			term.answered++
			term.typeKeys("\x1b]11;rgb:0000/0000/0000\x1b\\\x1b[1;1R")
		}
		time.Sleep(5 * time.Millisecond)
	}
	s := term.out.String()
	term.t.Fatalf("the terminal does not show %q within 10s; the last of it:\n%q", want, s[max(0, len(s)-3000):])
}

// waitEchoOff waits until the program has turned echo off, as it does to
// read a password (the prompt comes first).
func (term *terminal) waitEchoOff() {
	term.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		off, ok := echoOff(term.ptmx)
		if !ok {
			time.Sleep(200 * time.Millisecond) // cannot tell: give it time
			return
		}
		if off {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	term.t.Fatal("echo still on 10s after the password prompt")
}

func (term *terminal) typeKeys(s string) {
	term.t.Helper()
	if _, err := term.ptmx.Write([]byte(s)); err != nil {
		term.t.Fatal(err)
	}
}

// wait waits for the program to exit and checks that it succeeded.
func (term *terminal) wait() {
	term.t.Helper()
	select {
	case err := <-term.exited:
		if err != nil {
			term.t.Errorf("hubbub: %v; the terminal showed:\n%q", err, term.out.String())
		}
	case <-time.After(10 * time.Second):
		term.t.Fatalf("hubbub did not exit; the terminal showed:\n%q", term.out.String())
	}
}

// TestBinaryPTY runs the chat in a pseudo-terminal of 80x24: it joins a
// room and sends a message by keystrokes, and shows another client's
// message full of escape sequences as visible text.
func TestBinaryPTY(t *testing.T) {
	bin := hubbubBinary(t)
	url := startServer(t)
	grace := dialPeer(t, url, "grace")
	if _, err := grace.Create(t.Context(), "pty", "testing the terminal"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := grace.Join(t.Context(), "pty"); err != nil {
		t.Fatal(err)
	}

	env := binEnv(t, "TERM=xterm-256color", "COLORTERM=", "NO_COLOR=")
	term := startTerminal(t, env, bin, "--server", url, "--name", "ada", "--join=")
	term.waitFor("ada (guest)") // the status bar: the UI is up
	term.typeKeys("/join pty\r")
	term.waitFor("#pty · testing the terminal")
	term.waitFor("grace")

	// Typing is announced, and the message sent arrives at the other client.
	term.typeKeys("hello from the terminal")
	grace.waitEvent(t, "ada typing", func(ev client.Event) bool {
		te, ok := ev.(client.TypingEvent)
		return ok && te.Room == "pty" && te.User == "ada"
	})
	term.typeKeys("\r")
	grace.waitEvent(t, "ada's message", isMessage("pty", "ada", "hello from the terminal"))

	// The other client's message is shown with its escapes made visible.
	if err := grace.Typing(t.Context(), "pty"); err != nil {
		t.Fatal(err)
	}
	term.waitFor("grace is typing…")
	if _, err := grace.Send(t.Context(), "pty", "\x1b[2J\x1b]0;pwned\x07 hello"); err != nil {
		t.Fatal(err)
	}
	term.waitFor("^[[2J^[]0;pwned^G hello")
	if s := term.out.String(); strings.Contains(s, "\x1b]0;pwned") {
		t.Errorf("the terminal received the raw title sequence:\n%q", s)
	}

	// A resize redraws the screen at the new width.
	if err := pty.Setsize(term.ptmx, &pty.Winsize{Rows: 30, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	left, right := " ● ada (guest)", " Tab: rooms  /help "
	term.waitFor(left + strings.Repeat(" ", 100-utf8.RuneCountInString(left)-len(right)) + right)

	term.typeKeys("/quit\r")
	term.wait()
}

// TestBinaryPTYWideText types CJK text longer than one of bubbletea's
// 256-byte reads in one go, as a terminal without bracketed paste (tmux
// send-keys, an input method) delivers it: bubbletea dropped the character
// a read cut in two, and the message went out without it.
func TestBinaryPTYWideText(t *testing.T) {
	bin := hubbubBinary(t)
	url := startServer(t)
	grace := dialPeer(t, url, "grace")
	if _, err := grace.Create(t.Context(), "cjk", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := grace.Join(t.Context(), "cjk"); err != nil {
		t.Fatal(err)
	}
	term := startTerminal(t, binEnv(t, "TERM=xterm-256color", "COLORTERM=", "NO_COLOR="), bin, "--server", url, "--name", "ada", "--join=cjk")
	term.waitFor("ada (guest)")
	term.waitFor("grace")

	body := strings.Repeat("你好世界", 23) // 276 bytes
	term.typeKeys(body + "\r")
	var got string
	grace.waitEvent(t, "ada's message", func(ev client.Event) bool {
		m, ok := ev.(client.MessageEvent)
		if ok && m.Message.Room == "cjk" && m.Message.From == "ada" {
			got = m.Message.Body
		}
		return got != ""
	})
	if got != body {
		t.Errorf("sent %q (%d characters), want %q (%d)", got, utf8.RuneCountInString(got), body, utf8.RuneCountInString(body))
	}
	term.typeKeys("/quit\r")
	term.wait()
}

// TestBinaryLoginPTY registers and logs in on a terminal, where the
// password is read without echo, and then sends as the account.
func TestBinaryLoginPTY(t *testing.T) {
	bin := hubbubBinary(t)
	url := startServer(t)
	grace := dialPeer(t, url, "grace")
	if _, _, err := grace.Join(t.Context(), "lobby"); err != nil {
		t.Fatal(err)
	}
	env := append(binEnv(t, "HUBBUB_SERVER="+url), "XDG_CONFIG_HOME="+t.TempDir()) // the last one wins

	// interact runs hubbub with args on a terminal, answering each prompt
	// in turn, and returns what the terminal showed.
	interact := func(args []string, answers ...[2]string) string {
		t.Helper()
		term := startTerminal(t, env, bin, args...)
		for _, qa := range answers {
			term.waitFor(qa[0])
			if strings.HasPrefix(qa[0], "Password") {
				term.waitEchoOff()
			}
			term.typeKeys(qa[1] + "\r")
		}
		term.wait()
		time.Sleep(50 * time.Millisecond) // for the last output to be copied
		return term.out.String()
	}

	shown := interact([]string{"register"},
		[2]string{"User name: ", "ada"},
		[2]string{"Password: ", "correct horse"},
		[2]string{"Password again: ", "correct horse"})
	if want := "Registered and logged in to " + url + " as ada"; !strings.Contains(shown, want) {
		t.Errorf("register showed %q, want %q", shown, want)
	}
	if strings.Contains(shown, "correct horse") {
		t.Errorf("the password was echoed: %q", shown)
	}
	shown = interact([]string{"login", "--user", "ada"}, [2]string{"Password: ", "correct horse"})
	if want := "Logged in to " + url + " as ada"; !strings.Contains(shown, want) {
		t.Errorf("login showed %q, want %q", shown, want)
	}
	if strings.Contains(shown, "correct horse") {
		t.Errorf("the password was echoed: %q", shown)
	}

	send := exec.CommandContext(t.Context(), bin, "send", "lobby", "as an account")
	send.Env = env
	if out, err := send.CombinedOutput(); err != nil {
		t.Fatalf("hubbub send: %v\n%s", err, out)
	}
	grace.waitEvent(t, "ada's message", func(ev client.Event) bool {
		m, ok := ev.(client.MessageEvent)
		return ok && m.Message.From == "ada" && !m.Message.Guest && m.Message.Body == "as an account"
	})
}

// TestBinaryDM opens a direct-message room from another account and
// chats in it from the terminal with /dm, signed in with a saved session.
func TestBinaryDM(t *testing.T) {
	bin := hubbubBinary(t)
	url := startServer(t)
	ctx := t.Context()
	graceReply, err := accountRequest(ctx, url, "register", "grace", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	adaReply, err := accountRequest(ctx, url, "register", "ada", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	config := t.TempDir()
	a := &app{configDir: func() (string, error) { return config, nil }}
	if _, err := a.saveSession(url, "ada", adaReply.Token); err != nil {
		t.Fatal(err)
	}
	env := append(binEnv(t, "TERM=xterm-256color"), "XDG_CONFIG_HOME="+config)
	term := startTerminal(t, env, bin, "--server", url, "--join=")
	term.waitFor(" ● ada ")

	// grace opens the room, then chats with the terminal client.
	grace := dialPeerWith(t, url, client.Options{Token: graceReply.Token})
	if _, err := grace.DM(ctx, "ada"); err != nil {
		t.Fatal(err)
	}
	term.waitFor("grace opened a direct-message room with you: /dm grace")
	room := protocol.DMRoom("ada", "grace")
	if _, _, err := grace.Join(ctx, room); err != nil {
		t.Fatal(err)
	}
	if _, err := grace.Send(ctx, room, "psst"); err != nil {
		t.Fatal(err)
	}

	term.typeKeys("/dm Grace\r")
	term.waitFor(" @grace ")
	term.waitFor("psst")
	term.typeKeys("hi grace\r")
	grace.waitEvent(t, "ada's direct message", isMessage(room, "ada", "hi grace"))
	term.typeKeys("/quit\r")
	term.wait()
}

// TestBinaryManage manages a private room from the terminal: invite, the
// topic, an action, a mute, a kick and a ban, each seen by the user acted
// on, and the refusal of a command the user may not run.
func TestBinaryManage(t *testing.T) {
	bin := hubbubBinary(t)
	url := startServer(t)
	ctx := t.Context()
	adaReply, err := accountRequest(ctx, url, "register", "ada", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	bobReply, err := accountRequest(ctx, url, "register", "bob", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	config := t.TempDir()
	a := &app{configDir: func() (string, error) { return config, nil }}
	if _, err := a.saveSession(url, "ada", adaReply.Token); err != nil {
		t.Fatal(err)
	}
	env := append(binEnv(t, "TERM=xterm-256color"), "XDG_CONFIG_HOME="+config)
	term := startTerminal(t, env, bin, "--server", url, "--join=")
	term.waitFor(" ● ada ")
	bob := dialPeerWith(t, url, client.Options{Token: bobReply.Token})
	isOther := func(typ string) func(client.Event) bool {
		return func(ev client.Event) bool {
			o, ok := ev.(client.OtherEvent)
			return ok && o.Event.Type == typ && o.Event.Room == "ops" && o.Event.By == "ada"
		}
	}

	term.typeKeys("/private ops Staff only\r")
	term.waitFor("#ops · Staff only")
	term.typeKeys("/invite bob\r")
	bob.waitEvent(t, "the invitation", isOther(protocol.TypeInvited))
	term.waitFor("ada invited bob")
	if _, _, err := bob.Join(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	term.typeKeys("/topic Ship it\r")
	bob.waitEvent(t, "the topic", func(ev client.Event) bool {
		m, ok := ev.(client.MessageEvent)
		return ok && m.Message.Kind == protocol.KindTopic && m.Message.Body == "Ship it"
	})
	term.waitFor("#ops · Ship it")
	term.typeKeys("/me waves\r")
	bob.waitEvent(t, "the action", isMessage("ops", "ada", "/me waves"))
	term.waitFor("* ada waves")

	term.typeKeys("/mute bob 10m calm down\r")
	bob.waitEvent(t, "the mute", isOther(protocol.TypeMuted))
	term.waitFor("ada muted bob until")
	if _, err := bob.Send(ctx, "ops", "hello?"); protocol.CodeOf(err) != protocol.CodeMuted {
		t.Errorf("bob's send while muted: %v, want muted", err)
	}
	term.typeKeys("/kick bob bye\r")
	bob.waitEvent(t, "the kick", isOther(protocol.TypeKicked))
	term.waitFor("ada kicked bob: bye")
	term.typeKeys("/ban bob\r")
	bob.waitEvent(t, "the ban", isOther(protocol.TypeBanned))
	term.waitFor("ada banned bob")
	// A ban also takes bob off the private room's members, and a private
	// room one has no role in answers as if it did not exist.
	if _, _, err := bob.Join(ctx, "ops"); protocol.CodeOf(err) != protocol.CodeNoSuchRoom {
		t.Errorf("bob's join after the ban: %v, want no_such_room", err)
	}

	// Refusals are shown with the server's reason.
	term.typeKeys("/promote nobody\r")
	term.waitFor("Cannot promote nobody: no user nobody")
	term.typeKeys("/quit\r")
	term.wait()
}
