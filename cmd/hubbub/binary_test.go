package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
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

	cmd := exec.Command(bin, "--server", url, "--name", "ada", "--join=")
	cmd.Env = binEnv(t, "TERM=xterm-256color", "COLORTERM=", "NO_COLOR=")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		io.Copy(&out, ptmx) // ends with an error when the process and ptmx are gone
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		ptmx.Close()
		<-copied
	})
	answered := 0
	typeKeys := func(s string) {
		t.Helper()
		if _, err := ptmx.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}

	// Answer the terminal queries as a terminal would (lipgloss asks for
	// the background color and, to know whether that is supported, the
	// cursor position; unanswered, it waits 5 s), then wait for the UI.
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(out.String(), "ada (guest)") && time.Now().Before(deadline) {
		if strings.Count(out.String(), "\x1b[6n") > answered {
			typeKeys("\x1b]11;rgb:0000/0000/0000\x1b\\\x1b[1;1R")
			answered++
		}
		time.Sleep(5 * time.Millisecond)
	}
	waitOutput(t, &out, "ada (guest)", time.Second) // the status bar: the UI is up
	typeKeys("/join pty\r")
	waitOutput(t, &out, "#pty · testing the terminal", 10*time.Second)
	waitOutput(t, &out, "grace", 10*time.Second)

	// Typing is announced, and the message sent arrives at the other client.
	typeKeys("hello from the terminal")
	grace.waitEvent(t, "ada typing", func(ev client.Event) bool {
		te, ok := ev.(client.TypingEvent)
		return ok && te.Room == "pty" && te.User == "ada"
	})
	typeKeys("\r")
	grace.waitEvent(t, "ada's message", isMessage("pty", "ada", "hello from the terminal"))

	// The other client's message is shown with its escapes made visible.
	if err := grace.Typing(t.Context(), "pty"); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, &out, "grace is typing…", 10*time.Second)
	if _, err := grace.Send(t.Context(), "pty", "\x1b[2J\x1b]0;pwned\x07 hello"); err != nil {
		t.Fatal(err)
	}
	waitOutput(t, &out, "^[[2J^[]0;pwned^G hello", 10*time.Second)
	if s := out.String(); strings.Contains(s, "\x1b]0;pwned") {
		t.Errorf("the terminal received the raw title sequence:\n%q", s)
	}

	// A resize redraws the screen at the new width.
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 30, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	left, right := " ● ada (guest)", " Tab: rooms  /help "
	statusBar := left + strings.Repeat(" ", 100-utf8.RuneCountInString(left)-len(right)) + right
	waitOutput(t, &out, statusBar, 10*time.Second)

	typeKeys("/quit\r")
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("hubbub after /quit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("hubbub did not exit after /quit")
	}
}
