package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hubbub-chat/hubbub/protocol"
)

// Help lists the keys and commands, one line each, as /help shows them.
var Help = []string{
	"Commands:",
	"  /join ROOM            join a room and show it (also /j)",
	"  /leave [ROOM]         leave the shown room, or ROOM (also /part)",
	"  /create ROOM [TOPIC]  create a public room and join it",
	"  /dm USER              open the direct-message room with USER (accounts only)",
	"  /rooms [TEXT]         list the rooms of the server, or those whose name or",
	"                        topic has TEXT in it (also /list); /rooms -a: archived too",
	"  /me ACTION            send an action, shown as \"* you ACTION\"",
	"  /search WORDS         find messages in every room you may read (also /s)",
	"  /goto N               show result N of the last search in its room",
	"  /staff                list the administrators (&), owner (~) and",
	"                        moderators (@) of the shown room",
	"  /nick NAME            how to chat under another name",
	"  /block USER           block an account; /unblock USER; /blocks lists them",
	"  /show                 show the folded messages of blocked accounts here",
	"  /help                 show this help; /help mod: managing rooms",
	"  /quit                 leave hubbub (also Ctrl+C)",
	"  //text                send a message that starts with /",
	"Keys:",
	"  Enter                 send the message or run the command",
	"  Alt+Enter, Ctrl+J     start a new line in the message (shown as ↵)",
	"  Tab, Ctrl+N           next room;  Shift+Tab, Ctrl+P  previous room",
	"  Tab after @na         complete the name of someone in the room (again: the next)",
	"  Alt+1 … Alt+9         show room 1 … 9 of the list",
	"  PgUp, PgDn            scroll; PgUp at the top loads older messages",
	"  Esc                   back to the newest message",
	"  Up, Down              recall the lines entered before",
	"Control characters in what others send are shown as ^[ or <U+202E>.",
}

// command runs a slash command typed in the input line.
func (m *Model) command(text string) tea.Cmd {
	name, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
	rest = strings.TrimSpace(rest)
	arg, tail, _ := strings.Cut(rest, " ")
	tail = strings.TrimSpace(tail)
	switch strings.ToLower(name) {
	case "/join", "/j":
		room, ok := m.roomArg(name, arg)
		if !ok {
			return nil
		}
		return m.startJoin(room, "", true)
	case "/leave", "/part":
		return m.leave(arg)
	case "/create":
		room, ok := m.roomArg(name, arg)
		if !ok {
			return nil
		}
		if err := protocol.CheckTopic(tail); err != nil {
			m.note("Bad topic: " + m.errText(err))
			return nil
		}
		c := m.c
		return func() tea.Msg {
			ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
			defer cancel()
			_, err := c.Create(ctx, room, tail)
			return createdMsg{room: room, err: err}
		}
	case "/dm", "/msg":
		return m.dm(arg)
	case "/rooms", "/list":
		query, archived := rest, false
		if q, ok := strings.CutPrefix(rest, "-a"); ok && (q == "" || q[0] == ' ') {
			query, archived = strings.TrimSpace(q), true
		}
		if query != "" {
			if err := protocol.CheckQuery(query); err != nil {
				m.note("Bad search: " + m.errText(err))
				return nil
			}
		}
		return m.searchRooms(m.current(), query, archived)
	case "/search", "/s":
		return m.search(rest)
	case "/goto":
		return m.goTo(arg)
	case "/me":
		return m.me(rest)
	case "/nick":
		m.nick(rest)
		return nil
	case "/block", "/unblock":
		return m.blockCmd(name, arg, strings.ToLower(name) == "/block")
	case "/blocks":
		m.listBlocks()
		return nil
	case "/show":
		m.showBlockedCmd()
		return nil
	case "/staff":
		m.listStaff()
		return nil
	case "/quit", "/exit", "/q":
		return m.quit()
	case "/help", "/?":
		lines := slices.Concat(Help[:1], PickHelp, Help[1:])
		if strings.HasPrefix(strings.ToLower(arg), "mod") {
			lines = ManageHelp
		}
		for _, line := range lines {
			m.note(line)
		}
		return nil
	}
	if cmd, ok := m.manage(strings.ToLower(name), rest); ok {
		return cmd
	}
	_, typed, _ := strings.Cut(text, " ")
	if cmd, ok := m.pick(strings.ToLower(name), rest, typed); ok {
		return cmd
	}
	m.note(fmt.Sprintf("Unknown command %s: /help lists them.", name))
	return nil
}

// roomArg checks the room name argument of command cmd, lower-cased and
// without a leading '#'.
func (m *Model) roomArg(cmd, arg string) (string, bool) {
	room := strings.ToLower(strings.TrimPrefix(arg, "#"))
	if room == "" {
		m.note(fmt.Sprintf("Usage: %s ROOM", cmd))
		return "", false
	}
	if err := protocol.CheckRoomName(room); err != nil {
		m.note(fmt.Sprintf("%q is not a room name: %s", room, m.errText(err)))
		return "", false
	}
	return room, true
}

// leave leaves room, or the shown room if room is empty.
func (m *Model) leave(room string) tea.Cmd {
	w := m.current()
	if user, ok := strings.CutPrefix(room, "@"); ok {
		room = protocol.DMRoom(m.self.Name, strings.ToLower(user)) // as the room list names it
	}
	if room != "" {
		w = m.find(strings.ToLower(strings.TrimPrefix(room, "#")))
	}
	switch {
	case w == nil:
		m.note("Not in that room.")
		return nil
	case w.room == "":
		m.note("The status window is no room: /leave ROOM leaves one.")
		return nil
	}
	if !w.joined {
		// A room the client lost or is still joining: just close it.
		m.close(w)
		return nil
	}
	c, name := m.c, w.room
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		return leftMsg{room: name, err: c.Leave(ctx, name)}
	}
}

// otherAccount reads the USER argument of command (/dm, /block,
// /unblock), arg, as another account's name, lowercased and without a
// leading @. When it is missing, is the user's own, is no account name, or
// the user is a guest (forAccounts says what is for accounts only), it
// notes why and reports false.
func (m *Model) otherAccount(command, forAccounts, arg string) (string, bool) {
	user := strings.ToLower(strings.TrimPrefix(arg, "@"))
	switch {
	case user == "":
		m.note(fmt.Sprintf("Usage: %s USER", command))
		return "", false
	case m.self.Guest:
		m.note(forAccounts + ": run `hubbub login` (or `hubbub register`) first.")
		return "", false
	case user == m.self.Name:
		m.note("That is you.")
		return "", false
	}
	if err := protocol.CheckUsername(user); err != nil {
		m.note(fmt.Sprintf("%q is not a user name: %s", user, m.errText(err)))
		return "", false
	}
	return user, true
}

// dm opens the direct-message room with user (the server creates it if
// needed and tells the other user), then joins it.
func (m *Model) dm(arg string) tea.Cmd {
	user, ok := m.otherAccount("/dm", "Direct messages are for accounts", arg)
	if !ok {
		return nil
	}
	room := protocol.DMRoom(m.self.Name, user)
	if i := m.index(room); i >= 0 && m.wins[i].joined {
		m.show(i)
		return nil
	}
	i := m.index(room)
	if i < 0 {
		w := newWindow(room)
		w.peer, w.joining = user, true
		m.wins = append(m.wins, w)
		i = len(m.wins) - 1
	}
	m.show(i)
	c, join := m.c, m.joinCmd(room, false)
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if _, err := c.DM(ctx, user); err != nil {
			return joinedMsg{room: room, err: err}
		}
		return join()
	}
}
