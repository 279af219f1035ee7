package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/tui"
	"github.com/hubbub-chat/hubbub/protocol"
)

// send runs "hubbub send [--file PATH] ROOM TEXT...": it joins ROOM,
// uploads the file if there is one, sends one message (carrying the file,
// with TEXT as its caption) and prints its sequence number once the
// server has stored it.
func (a *app) send(ctx context.Context, cf commonFlags, args []string) int {
	fs := flag.NewFlagSet("hubbub send", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	cf.register(fs, true)
	asJSON := fs.Bool("json", false, "print the stored message as JSON")
	path := fs.String("file", "", "upload the file at `PATH` and send it, with TEXT (optional) as its caption")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() < 1 {
		fmt.Fprintln(a.stderr, "usage: hubbub send [flags] [--file PATH] ROOM [TEXT...] (TEXT from stdin if not given and no --file)")
		return exitUsage
	}
	room, err := roomArg(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(a.stderr, "hubbub send:", err)
		return exitUsage
	}
	body := strings.Join(fs.Args()[1:], " ")
	if fs.NArg() == 1 && *path == "" {
		data, err := io.ReadAll(io.LimitReader(a.stdin, protocol.MaxBodyBytes+1))
		if err != nil {
			return a.fail(fmt.Errorf("read the message from stdin: %w", err))
		}
		body = strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	}
	if *path == "" || body != "" {
		if err := protocol.CheckBody(body); err != nil {
			fmt.Fprintln(a.stderr, "hubbub send: bad message:", err)
			return exitUsage
		}
	}
	var file *os.File
	if *path != "" {
		if file, err = openUpload(*path); err != nil {
			fmt.Fprintln(a.stderr, "hubbub send:", err)
			return exitError
		}
		defer file.Close()
	}

	c, _, err := a.dial(ctx, cf)
	if err != nil {
		return a.fail(err)
	}
	drained := drain(c)
	defer func() { c.Close(); <-drained }()
	jctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if _, _, err := c.Join(jctx, room); err != nil {
		return a.fail(fmt.Errorf("join #%s: %s", room, opError(err)))
	}
	var fileID string
	if file != nil {
		// No time limit but the user's: a big file on a slow link takes
		// what it takes, and the progress shows it moving.
		f, err := a.upload(ctx, c, file)
		if err != nil {
			return a.fail(fmt.Errorf("upload %s: %s", tui.SanitizeLine(filepath.Base(file.Name())), opError(err)))
		}
		fileID = f.ID
	}
	sctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	var msg protocol.Message
	if fileID != "" {
		msg, err = c.SendFile(sctx, room, fileID, body)
	} else {
		msg, err = c.Send(sctx, room, body)
	}
	if err != nil {
		return a.fail(fmt.Errorf("send to #%s: %s", room, opError(err)))
	}
	if *asJSON {
		err = writeJSON(a.stdout, msg)
	} else {
		_, err = fmt.Fprintln(a.stdout, msg.Seq)
	}
	if err != nil {
		return a.fail(err)
	}
	return exitOK
}

// progressMin is the smallest file whose upload reports progress.
const progressMin = 1 << 20

// openUpload opens the regular file at path for an upload.
func openUpload(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", path)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// upload uploads file under its base name, cleaned by uploadName; when
// the name had to change it says so on stderr. For a file of progressMin
// bytes or more it reports progress on stderr, a line at every tenth.
func (a *app) upload(ctx context.Context, c *client.Client, file *os.File) (protocol.File, error) {
	st, err := file.Stat()
	if err != nil {
		return protocol.File{}, err
	}
	base := filepath.Base(file.Name())
	name, size := uploadName(base), st.Size()
	if name != base {
		fmt.Fprintf(a.stderr, "hubbub: sending %s as %q (the server takes no control or format characters, no spaces at the ends, at most %d bytes)\n",
			tui.SanitizeLine(base), name, protocol.MaxFileNameBytes)
	}
	var opts client.UploadOptions
	if size >= progressMin {
		shown := -1
		opts.Progress = func(stored, size int64) {
			tenth := int(stored * 10 / size)
			if tenth == shown {
				return
			}
			shown = tenth
			fmt.Fprintf(a.stderr, "hubbub: uploading %s: %d%% (%s of %s)\n", tui.SanitizeLine(name), tenth*10, mib(stored), mib(size))
		}
	}
	return c.Upload(ctx, name, file, size, opts)
}

// uploadName is base, a file's base name, as protocol.CheckFileName takes
// it, cleaned as the browser client cleans the names of what it sends
// (web/static/attach.js, safeName): format characters dropped (bidi
// overrides that make "exe.txt" read as "txt.exe", zero-width
// characters), control characters, path separators and bytes that are not
// UTF-8 made "_", no spaces at the ends, and at most
// protocol.MaxFileNameBytes bytes, cut before an extension of up to 16
// characters so that the type still shows. A name with nothing left is
// "file".
func uploadName(base string) string {
	var b strings.Builder
	for _, r := range base {
		switch {
		case unicode.Is(unicode.Cf, r):
		case r == '/' || r == '\\' || unicode.IsControl(r) || r == utf8.RuneError:
			// RuneError: U+FFFD itself, or a byte that is not UTF-8.
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	name := strings.TrimSpace(b.String())
	if len(name) > protocol.MaxFileNameBytes {
		ext := ""
		if dot := strings.LastIndexByte(name, '.'); dot > 0 && utf8.RuneCountInString(name[dot:]) <= 16 {
			ext = name[dot:]
		}
		stem := name[:len(name)-len(ext)]
		room := protocol.MaxFileNameBytes - len(ext)
		for len(stem) > room {
			_, n := utf8.DecodeLastRuneInString(stem)
			stem = stem[:len(stem)-n]
		}
		name = strings.TrimSpace(strings.TrimSpace(stem) + ext)
	}
	if name == "" || name == "." || name == ".." {
		return "file"
	}
	return name
}

// mib formats a byte count in MiB, one decimal.
func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// tail runs "hubbub tail ROOM": it joins ROOM, prints its last -n
// messages and then every new message until ctx ends, or until the client
// is taken out of ROOM (kicked, banned, the room deleted) or stops: then
// it fails, saying why.
func (a *app) tail(ctx context.Context, cf commonFlags, args []string) int {
	fs := flag.NewFlagSet("hubbub tail", flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	cf.register(fs, true)
	asJSON := fs.Bool("json", false, "print one JSON message object per line")
	n := fs.Int("n", 10, "how many earlier `messages` to print first")
	if err := fs.Parse(args); err != nil {
		return usageExit(err)
	}
	if fs.NArg() != 1 || *n < 0 {
		fmt.Fprintln(a.stderr, "usage: hubbub tail [flags] [-n N] ROOM")
		return exitUsage
	}
	room, err := roomArg(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(a.stderr, "hubbub tail:", err)
		return exitUsage
	}
	emit := func(m protocol.Message) error {
		if *asJSON {
			return writeJSON(a.stdout, m)
		}
		_, err := fmt.Fprintln(a.stdout, formatLine(m))
		return err
	}

	c, _, err := a.dial(ctx, cf)
	if err != nil {
		return a.fail(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait() // after Close: the history fetch ends with ErrClosed at the latest
	defer c.Close()
	events := c.Events()

	// Join while reading events: the client cannot read replies while its
	// events buffer is full.
	type joinResult struct {
		info protocol.RoomInfo
		err  error
	}
	joinc := make(chan joinResult, 1)
	jctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	wg.Go(func() {
		info, _, err := c.Join(jctx, room)
		joinc <- joinResult{info, err}
	})
	type historyResult struct {
		msgs []protocol.Message
		err  error
	}
	var histc chan historyResult
	var held []protocol.Message // live messages that came before the history
	for {
		select {
		case <-ctx.Done():
			return exitOK
		case r := <-joinc:
			joinc = nil
			if r.err != nil {
				return a.fail(fmt.Errorf("join #%s: %s", room, opError(r.err)))
			}
			histc = make(chan historyResult, 1)
			wg.Go(func() {
				msgs, err := lastMessages(jctx, c, room, r.info.LastSeq, *n)
				histc <- historyResult{msgs, err}
			})
		case r := <-histc:
			histc = nil
			if r.err != nil {
				return a.fail(fmt.Errorf("history of #%s: %s", room, opError(r.err)))
			}
			for _, m := range append(r.msgs, held...) {
				if err := emit(m); err != nil {
					return a.fail(err)
				}
			}
			held = nil
		case ev, ok := <-events:
			if !ok {
				return a.fail(errors.New("the client stopped"))
			}
			switch ev := ev.(type) {
			case client.MessageEvent:
				if ev.Message.Room != room {
					continue
				}
				if joinc != nil || histc != nil {
					held = append(held, ev.Message)
					continue
				}
				if err := emit(ev.Message); err != nil {
					return a.fail(err)
				}
			case client.StateEvent:
				switch ev.State {
				case client.Reconnecting:
					if ev.Err != nil {
						fmt.Fprintf(a.stderr, "hubbub: connection lost (%s); reconnecting\n", tui.SanitizeLine(ev.Err.Error()))
					}
				case client.Closed:
					if ev.Err == nil {
						return exitOK
					}
					return a.fail(fmt.Errorf("disconnected: %s", opError(ev.Err)))
				}
			case client.ErrorEvent:
				if ev.Room == room {
					return a.fail(fmt.Errorf("lost #%s: %s", room, opError(ev.Err)))
				}
			case client.OtherEvent:
				// Taken out of the room, the client does not join it again:
				// nothing more would come, so say why and stop.
				if why := removedFrom(ev.Event, room, c.Self()); why != "" {
					return a.fail(errors.New(why))
				}
			}
		}
	}
}

// removedFrom says how ev took self out of room (kicked, banned, the room
// deleted), as a sentence for stderr, or returns "" if it did not.
func removedFrom(ev protocol.Event, room string, self protocol.Identity) string {
	if ev.Room != room {
		return ""
	}
	var what string
	switch {
	case ev.Type == protocol.TypeDirectory && ev.Change == protocol.ChangeDeleted:
		return fmt.Sprintf("#%s was deleted", room)
	case ev.Type == protocol.TypeKicked && ev.User == self.Name:
		what = "kicked from"
	case ev.Type == protocol.TypeBanned && ev.User == self.Name:
		what = "banned from"
	default:
		return ""
	}
	why := fmt.Sprintf("%s #%s", what, room)
	if ev.By != "" {
		why += " by " + tui.SanitizeLine(ev.By)
	}
	if ev.Until > 0 {
		why += " until " + time.UnixMilli(ev.Until).Format("2006-01-02 15:04")
	}
	if ev.Reason != "" {
		why += ": " + tui.SanitizeLine(ev.Reason)
	}
	return why
}

// lastMessages returns the last n messages of room up to seq last, in
// ascending order, fetching as many pages as it takes.
func lastMessages(ctx context.Context, c *client.Client, room string, last int64, n int) ([]protocol.Message, error) {
	var out []protocol.Message
	before := last + 1
	for len(out) < n && before > 1 {
		page, more, err := c.HistoryBefore(ctx, room, before, min(n-len(out), protocol.MaxHistoryLimit))
		if err != nil {
			return nil, err
		}
		out = append(slices.Clone(page), out...)
		if !more || len(page) == 0 {
			break
		}
		before = page[0].Seq
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out, nil
}

// formatLine is a message as tail prints it: "[15:04] alice: hi", in local
// time, sanitized, on one line. A guest's name carries " (guest)", as in
// the full-screen client, so that a guest called like an account (before
// the account existed, say) cannot pass for it. Entries that are not plain
// messages say what they did, naming the message they act on by its seq:
// "[15:05] alice edited #41: hi all", "[15:06] bob kicked mallory: spam".
// A plain message from history shows its state: "(edited)", "(deleted)".
func formatLine(m protocol.Message) string {
	t := time.UnixMilli(m.TS).Format("15:04")
	from := tui.SanitizeLine(m.From)
	if m.Guest {
		from += " (guest)"
	}
	body, user := tui.SanitizeLine(m.Body), tui.SanitizeLine(m.User)
	why := ""
	if body != "" {
		why = ": " + body
	}
	var what string
	switch m.Kind {
	case "":
		switch {
		case m.Deleted:
			body = "(deleted)"
		case m.Edited > 0:
			body += " (edited)"
		}
		if m.ReplyTo > 0 {
			body = fmt.Sprintf("(reply to #%d) %s", m.ReplyTo, body)
		}
		if m.File != nil {
			body = strings.TrimPrefix(body+fmt.Sprintf(" [file %s, %d bytes]", tui.SanitizeLine(m.File.Name), m.File.Size), " ")
		}
		return fmt.Sprintf("[%s] %s: %s", t, from, body)
	case protocol.KindEdit:
		what = fmt.Sprintf("edited #%d%s", m.Target, why)
	case protocol.KindDelete:
		what = fmt.Sprintf("deleted #%d", m.Target)
	case protocol.KindReact:
		what = fmt.Sprintf("reacted %s to #%d", body, m.Target)
	case protocol.KindUnreact:
		what = fmt.Sprintf("took back %s from #%d", body, m.Target)
	case protocol.KindTopic:
		what = "set the topic" + why
		if body == "" {
			what = "cleared the topic"
		}
	case protocol.KindRole:
		what = fmt.Sprintf("made %s %s", user, body)
	case protocol.KindKick, protocol.KindInvite, protocol.KindBan, protocol.KindUnban, protocol.KindMute, protocol.KindUnmute:
		until := ""
		if m.Until > 0 {
			until = " until " + time.UnixMilli(m.Until).Format("2006-01-02 15:04")
		}
		what = pastTense[m.Kind] + " " + user + until + why
	default:
		what = "did " + tui.SanitizeLine(m.Kind)
	}
	return fmt.Sprintf("[%s] %s %s", t, from, what)
}

// pastTense says what a moderation entry did.
var pastTense = map[string]string{
	protocol.KindKick: "kicked", protocol.KindInvite: "invited", protocol.KindBan: "banned",
	protocol.KindUnban: "unbanned", protocol.KindMute: "muted", protocol.KindUnmute: "unmuted",
}

// writeJSON writes v as one line of JSON that is safe to show on a
// terminal: besides the control characters JSON escapes anyway, DEL, C1
// controls and format characters (bidi overrides, zero-width characters)
// are written as \u escapes. They can only occur inside strings, where
// the escape means the same character.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	out := make([]byte, 0, buf.Len())
	for _, r := range buf.String() {
		if r < 0x80 && r != 0x7f || !tui.Unsafe(r) {
			out = utf8.AppendRune(out, r)
			continue
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
	}
	_, err := w.Write(out)
	return err
}

// opError is an operation's error for the terminal: the server's reason
// for a refusal, sanitized.
func opError(err error) string {
	var perr *protocol.Error
	if errors.As(err, &perr) && perr.Reason != "" {
		return fmt.Sprintf("%s (%s)", tui.SanitizeLine(perr.Reason), perr.Code)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer from the server in time"
	}
	return tui.SanitizeLine(err.Error())
}
