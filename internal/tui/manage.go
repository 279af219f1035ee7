package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hubbub-chat/hubbub/protocol"
)

// The room-management commands: /invite, /kick, /ban, /unban, /mute,
// /unmute, /topic, /promote, /demote and /private. Each acts on the shown
// room through the client's operation of the same name; the server decides
// who may do what, and its refusal is shown as it gives it. Success is
// shown by the event the server sends the room (kicked, banned, topic, …),
// so the moderator reads the same line as everyone else in the room.

// meAction is how a message body marks an action (/me waves): the terminal
// shows such a message as "* ada waves". It is a convention between
// clients, not a protocol field: a client that does not know it shows the
// body as it is, which still reads as an action to anyone who used IRC.
const meAction = "/me "

// managedMsg is the outcome of a room-management command.
type managedMsg struct {
	room string
	what string // "kick bob", for the error line
	err  error
}

// ManageHelp lists the room-management commands, as /help mod shows them.
var ManageHelp = []string{
	"Managing the shown room (owner and moderators; accounts only):",
	"  /topic [TEXT]         show the topic, or set it; /topic - clears it",
	"  /invite USER          let USER into a private room",
	"  /kick USER [REASON]   remove USER from the room; they may come back",
	"  /ban USER [FOR] [REASON]   kick and keep out, FOR a while (30m, 2h, 7d)",
	"                        or until /unban USER",
	"  /mute USER [FOR] [REASON]  keep USER from sending, until /unmute USER",
	"  /promote USER         make USER a moderator (owner only); /demote USER",
	"  /private ROOM [TOPIC] create an invite-only room and join it",
	"  /archive, /unarchive  make the room read-only, or writable again (owner)",
	"  /deleteroom ROOM      delete the room and all its messages (owner; type",
	"                        the shown room's name to confirm)",
}

// manage runs the room-management command name with its arguments; it
// reports false when name is not one of them.
func (m *Model) manage(name, rest string) (tea.Cmd, bool) {
	c := m.c
	user, tail, _ := strings.Cut(rest, " ")
	user = strings.TrimPrefix(user, "@")
	tail = strings.TrimSpace(tail)
	var (
		what string
		op   func(ctx context.Context, room string) error
	)
	switch name {
	case "/topic":
		return m.topic(rest), true
	case "/archive", "/unarchive", "/deleteroom":
		return m.lifecycle(name, rest), true
	case "/private":
		return m.createPrivate(rest), true
	case "/invite":
		what, op = "invite", func(ctx context.Context, room string) error { return c.Invite(ctx, room, user) }
	case "/kick":
		what, op = "kick", func(ctx context.Context, room string) error { return c.Kick(ctx, room, user, tail) }
	case "/unban":
		what, op = "unban", func(ctx context.Context, room string) error { return c.Unban(ctx, room, user) }
	case "/unmute":
		what, op = "unmute", func(ctx context.Context, room string) error { return c.Unmute(ctx, room, user) }
	case "/promote":
		what, op = "promote", func(ctx context.Context, room string) error { return c.Promote(ctx, room, user) }
	case "/demote":
		what, op = "demote", func(ctx context.Context, room string) error { return c.Demote(ctx, room, user) }
	case "/ban", "/mute":
		d, reason, err := sanctionArgs(tail)
		if err != nil {
			m.note(err.Error())
			return nil, true
		}
		if name == "/ban" {
			what, op = "ban", func(ctx context.Context, room string) error { return c.Ban(ctx, room, user, reason, d) }
		} else {
			what, op = "mute", func(ctx context.Context, room string) error { return c.Mute(ctx, room, user, reason, d) }
		}
	default:
		return nil, false
	}
	if user == "" {
		m.note(fmt.Sprintf("Usage: %s USER (see /help)", name))
		return nil, true
	}
	w := m.current()
	if !w.joined {
		m.note("Show the room first: " + name + " acts on the room shown.")
		return nil, true
	}
	room := w.room
	what += " " + user
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		return managedMsg{room: room, what: what, err: op(ctx, room)}
	}, true
}

// lifecycle runs /archive, /unarchive and /deleteroom on the shown room.
// Deleting cannot be undone, so /deleteroom wants the room's name typed.
func (m *Model) lifecycle(name, rest string) tea.Cmd {
	w := m.current()
	if w.room == "" {
		m.note("Show the room first: " + name + " acts on the room shown.")
		return nil
	}
	room, c := w.room, m.c
	var op func(ctx context.Context) error
	switch name {
	case "/archive":
		op = func(ctx context.Context) error { return c.ArchiveRoom(ctx, room) }
	case "/unarchive":
		op = func(ctx context.Context) error { return c.UnarchiveRoom(ctx, room) }
	default:
		if strings.TrimPrefix(strings.TrimSpace(rest), "#") != room {
			m.note(fmt.Sprintf("To delete %s and all its messages for everyone, type /deleteroom %s", w.title(), SanitizeLine(room)))
			return nil
		}
		op = func(ctx context.Context) error { return c.DeleteRoom(ctx, room) }
	}
	what := strings.TrimPrefix(name, "/")
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		return managedMsg{room: room, what: what, err: op(ctx)}
	}
}

// managed shows the outcome of a room-management command. Success needs
// no line of its own: the event the server sends the room says it.
func (m *Model) managed(msg managedMsg) {
	w := m.find(msg.room)
	if w == nil {
		w = m.current()
	}
	if msg.err != nil {
		m.noteTo(w, fmt.Sprintf("Cannot %s: %s", msg.what, m.errText(msg.err)))
	}
}

// topic shows the shown room's topic (no text), clears it ("-") or sets it.
func (m *Model) topic(text string) tea.Cmd {
	w := m.current()
	if !w.joined {
		m.note("Show the room first: /topic acts on the room shown.")
		return nil
	}
	switch text {
	case "":
		if w.topic == "" {
			m.note(w.title() + " has no topic.")
		} else {
			m.note("Topic of " + w.title() + ": " + SanitizeLine(w.topic))
		}
		return nil
	case "-":
		text = ""
	}
	if err := protocol.CheckTopic(text); err != nil {
		m.note("Bad topic: " + m.errText(err))
		return nil
	}
	c, room := m.c, w.room
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		return managedMsg{room: room, what: "set the topic", err: c.SetTopic(ctx, room, text)}
	}
}

// createPrivate creates an invite-only room and joins it.
func (m *Model) createPrivate(rest string) tea.Cmd {
	arg, topic, _ := strings.Cut(rest, " ")
	topic = strings.TrimSpace(topic)
	room, ok := m.roomArg("/private", arg)
	if !ok {
		return nil
	}
	if m.self.Guest {
		m.note("Private rooms are for accounts: run `hubbub login` (or `hubbub register`) first.")
		return nil
	}
	if err := protocol.CheckTopic(topic); err != nil {
		m.note("Bad topic: " + m.errText(err))
		return nil
	}
	c := m.c
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		_, err := c.CreatePrivate(ctx, room, topic)
		return createdMsg{room: room, err: err}
	}
}

// sanctionArgs splits the arguments of /ban and /mute after the user: an
// optional duration first (30s, 10m, 2h, 7d, or combinations Go's
// time.ParseDuration takes), then the reason.
func sanctionArgs(s string) (time.Duration, string, error) {
	first, rest, _ := strings.Cut(s, " ")
	d, ok, err := parseFor(first)
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return 0, s, nil
	}
	return d, strings.TrimSpace(rest), nil
}

// parseFor parses a duration word; ok is false when s is not one (it
// starts the reason instead). Days are "d": 7d is a week.
func parseFor(s string) (d time.Duration, ok bool, err error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false, nil
	}
	if days, found := strings.CutSuffix(s, "d"); found {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, false, nil
		}
		d = time.Duration(n) * 24 * time.Hour
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, false, nil
	}
	if d <= 0 || d > protocol.MaxSanctionSeconds*time.Second {
		return 0, false, fmt.Errorf("%s is not a duration between 1s and 365d", s)
	}
	return d, true, nil
}

// me sends an action to the shown room: /me waves.
func (m *Model) me(action string) tea.Cmd {
	if action == "" {
		m.note("Usage: /me ACTION, shown as \"* " + SanitizeLine(m.self.Name) + " ACTION\"")
		return nil
	}
	return m.send(meAction + action)
}

// nick explains how to change one's name. A guest's name is what the
// connection said hello with: the server knows a guest's messages by it
// (resends are deduplicated per author), so a new name is a new
// connection. An account's name is the account's and does not change.
func (m *Model) nick(name string) {
	switch {
	case !m.self.Guest:
		m.note(fmt.Sprintf("You are signed in as %s: an account's name cannot change. "+
			"To chat under another name, run `hubbub --guest --name NAME`.", SanitizeLine(m.self.Name)))
	case name == "":
		m.note("Usage: /nick NAME")
	default:
		if err := protocol.CheckDisplayName(name); err != nil {
			m.note(fmt.Sprintf("%q is not a display name: %s", name, m.errText(err)))
			return
		}
		m.note(fmt.Sprintf("A guest's name is chosen when connecting: /quit, then run `hubbub --name %s`. "+
			"Your messages so far stay under %s.", SanitizeLine(name), SanitizeLine(m.self.Name)))
	}
}
