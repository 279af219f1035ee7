package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hubbub-chat/hubbub/protocol"
)

// The commands that act on a message: /edit, /delete, /react and /reply.
// They name a message by its number, its seq in the room, which the view
// shows before each message while one of them is being typed. /react and
// /reply without a number act on the newest message; /edit without one
// puts "/edit N" and the text of the user's newest message into the input
// line to change it there.

// entryMsg is the outcome of /edit, /delete or /react: the entry the
// server stored, or why not.
type entryMsg struct {
	room string
	what string // "edit #42", for the error line
	msg  protocol.Message
	err  error
}

// PickHelp lists the commands that act on a message, as /help shows them.
var PickHelp = []string{
	"  /edit [N] [TEXT]      change your message N; without TEXT, edit it in the input",
	"  /delete N             delete message N (yours; moderators: anyone's)",
	"  /react [N] EMOJI      add or take back a reaction (:+1: :heart: :tada: …)",
	"  /reply [N] TEXT       answer message N (default: the newest), quoting it",
	"  Typing one of these shows the message numbers.",
}

// pick runs one of the commands on messages; it reports false when name is
// not one of them. rest is what follows the command's name, trimmed; typed
// is the same as typed, for the text of /edit and /reply.
func (m *Model) pick(name, rest, typed string) (tea.Cmd, bool) {
	switch name {
	case "/edit", "/delete", "/del", "/react", "/reply", "/re":
	default:
		return nil, false
	}
	w := m.current()
	if !w.joined {
		m.note("Show the room first: " + name + " acts on the room shown.")
		return nil, true
	}
	seq, text := numberArg(rest)
	if text != "" && (name == "/edit" || name == "/reply" || name == "/re") {
		text = messageArg(typed, seq > 0)
	}
	switch name {
	case "/edit":
		return m.edit(w, seq, text), true
	case "/delete", "/del":
		if seq == 0 || text != "" {
			m.note("Usage: /delete N, N the number of the message (typing /delete shows them)")
			return nil, true
		}
		if m.held(w, seq) == nil {
			return nil, true
		}
		return m.entryCmd(w.room, fmt.Sprintf("delete #%d", seq), func(ctx context.Context, c Client) (protocol.Message, error) {
			return c.Delete(ctx, w.room, seq)
		}), true
	case "/react":
		if text == "" {
			m.note("Usage: /react [N] EMOJI, e.g. /react :+1: or /react 42 🎉")
			return nil, true
		}
		if seq == 0 {
			seq = m.newest(w)
		}
		if m.held(w, seq) == nil {
			return nil, true
		}
		emoji := emojiArg(text)
		return m.entryCmd(w.room, fmt.Sprintf("react to #%d", seq), func(ctx context.Context, c Client) (protocol.Message, error) {
			return c.React(ctx, w.room, seq, emoji)
		}), true
	default: // reply
		if text == "" {
			m.note("Usage: /reply [N] TEXT")
			return nil, true
		}
		if seq == 0 {
			seq = m.newest(w)
		}
		if m.held(w, seq) == nil {
			return nil, true
		}
		return m.sendMessage(text, seq), true
	}
}

// numberArg splits a leading message number ("42" or "#42") off rest.
func numberArg(rest string) (int64, string) {
	first, tail, _ := strings.Cut(rest, " ")
	n, err := strconv.ParseInt(strings.TrimPrefix(first, "#"), 10, 64)
	if err != nil || n <= 0 {
		return 0, rest
	}
	return n, strings.TrimSpace(tail)
}

// messageArg returns the TEXT of "/edit N TEXT" or "/reply [N] TEXT" as
// typed after the command's name, the number (if numbered) and the one
// space after each: a message's text keeps its lines and the indentation
// of its first line, so that /edit, loaded with a message, changes nothing
// but what the user changed.
func messageArg(typed string, numbered bool) string {
	if !numbered {
		return typed
	}
	_, text, _ := strings.Cut(strings.TrimLeft(typed, " "), " ")
	return text
}

// held returns message seq of w, a plain message not deleted, or says why
// there is none.
func (m *Model) held(w *window, seq int64) *protocol.Message {
	msg := w.message(seq)
	switch {
	case seq <= 0:
		m.note("No message to act on here.")
	case msg == nil:
		m.note(fmt.Sprintf("No message #%d here (typing the command shows the numbers; PgUp loads older ones).", seq))
	case msg.Deleted:
		m.note(fmt.Sprintf("Message #%d was deleted.", seq))
	default:
		return msg
	}
	return nil
}

// newest returns the seq of the newest message of w not deleted, 0 if none.
func (m *Model) newest(w *window) int64 {
	for i := len(w.entries) - 1; i >= 0; i-- {
		if msg := w.entries[i].msg; msg != nil && msg.Kind == "" && !msg.Deleted {
			return msg.Seq
		}
	}
	return 0
}

// edit runs /edit: with text it edits message seq; without, it puts the
// message's text into the input line (the user's newest if no seq).
func (m *Model) edit(w *window, seq int64, text string) tea.Cmd {
	if seq == 0 {
		if text != "" {
			m.note("Usage: /edit N TEXT, or /edit alone to change your last message")
			return nil
		}
		for i := len(w.entries) - 1; i >= 0 && seq == 0; i-- {
			if msg := w.entries[i].msg; msg != nil && msg.Kind == "" && !msg.Deleted && m.own(msg) {
				seq = msg.Seq
			}
		}
		if seq == 0 {
			m.note("You have no message here to edit.")
			return nil
		}
	}
	msg := m.held(w, seq)
	if msg == nil {
		return nil
	}
	if text == "" {
		m.setInput(fmt.Sprintf("/edit %d %s", seq, msg.Body))
		m.dirty = true
		return nil
	}
	if err := protocol.CheckBody(text); err != nil {
		m.note("Not edited: " + m.errText(err))
		return nil
	}
	room := w.room
	return m.entryCmd(room, fmt.Sprintf("edit #%d", seq), func(ctx context.Context, c Client) (protocol.Message, error) {
		return c.Edit(ctx, room, seq, text)
	})
}

// entryCmd runs op on the client.
func (m *Model) entryCmd(room, what string, op func(context.Context, Client) (protocol.Message, error)) tea.Cmd {
	c := m.c
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		msg, err := op(ctx, c)
		return entryMsg{room: room, what: what, msg: msg, err: err}
	}
}

// entryDone shows the outcome of /edit, /delete or /react: the entry
// stored is applied at once (the room's event follows and changes
// nothing), a refusal is shown as the server words it.
func (m *Model) entryDone(msg entryMsg) {
	w := m.find(msg.room)
	if w == nil {
		return
	}
	if msg.err != nil {
		m.noteTo(w, fmt.Sprintf("Cannot %s: %s", msg.what, m.errText(msg.err)))
		return
	}
	if msg.msg.Seq > 0 {
		w.addMessages(msg.msg)
		m.touch(w)
	}
}
