package tui

import (
	"errors"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// event applies one client event.
func (m *Model) event(ev client.Event) tea.Cmd {
	switch ev := ev.(type) {
	case client.MessageEvent:
		return m.message(ev.Message)
	case client.JoinEvent:
		if w := m.find(ev.Room); w != nil {
			w.members[ev.User] = true
			m.touch(w)
		}
	case client.LeaveEvent:
		if w := m.find(ev.Room); w != nil {
			delete(w.members, ev.User)
			delete(w.typing, ev.User)
			m.touch(w)
		}
	case client.TypingEvent:
		if w := m.find(ev.Room); w != nil && ev.User != m.self.Name && !m.blocked[ev.User] {
			w.typing[ev.User] = m.now().Add(typingShownFor)
		}
	case client.StateEvent:
		return m.stateChanged(ev)
	case client.ReadEvent:
		m.readElsewhere(ev.Room, ev.Seq)
	case client.BlockedEvent:
		m.setBlocked(ev.User, true)
	case client.UnblockedEvent:
		m.setBlocked(ev.User, false)
	case client.OtherEvent:
		return m.other(ev.Event)
	case client.ErrorEvent:
		w := m.find(ev.Room)
		if ev.Room == "" || w == nil {
			m.noteTo(m.wins[0], "error: "+m.errText(ev.Err))
			return nil
		}
		w.joined = false
		if protocol.CodeOf(ev.Err) == protocol.CodeNoSuchRoom {
			w.gone = true // deleted while the client was away
		}
		m.noteTo(w, fmt.Sprintf("lost %s: %s; /join %s to try again", w.title(), m.errText(ev.Err), SanitizeLine(w.room)))
	}
	return nil
}

// message applies a message event: a new entry of a room's sequence.
func (m *Model) message(msg protocol.Message) tea.Cmd {
	w := m.find(msg.Room)
	if w == nil {
		return nil
	}
	live := msg.Seq > w.lastSeq()
	if w.addMessages(msg) == 0 {
		return nil
	}
	if len(w.entries) > maxEntries+maxEntries/4 && (w != m.current() || m.vp.AtBottom()) {
		// Nobody is reading the old end: let it go (PgUp fetches it
		// again).
		w.trim(maxEntries)
		w.yOffset, w.atBottom, w.below = 0, true, 0
	}
	m.touch(w)
	if changesRole(msg.Kind) {
		w.roleEntry(&msg)
	}
	switch msg.Kind {
	case "":
		delete(w.typing, msg.From)
	case protocol.KindTopic:
		if live && msg.Seq > w.topicSeq {
			w.topic, w.topicSeq = msg.Body, msg.Seq
		}
		return nil
	case protocol.KindKick, protocol.KindBan:
		if live {
			delete(w.members, msg.User)
		}
		return nil
	case protocol.KindMute, protocol.KindUnmute:
		if live && msg.User == m.self.Name {
			w.setMuted(msg.Kind == protocol.KindMute, msg.Until)
		}
		return nil
	case protocol.KindEdit, protocol.KindDelete:
		// A deleted message is not unread any more, and an edit may add
		// or take away a mention: count again (without the bell).
		if msg.Target > w.readSeq {
			m.recount(w)
		}
		return nil
	default:
		return nil
	}
	if m.own(&msg) {
		w.dropPending(-1, msg.Body)
		return m.fetchQuotes(w)
	}
	if live && !m.fromBlocked(&msg) && m.scrolledUp(w) {
		w.below++
	}
	var ring tea.Cmd
	if msg.Seq > w.readSeq && !m.fromBlocked(&msg) {
		w.unread++
		if m.mentions(&msg) {
			w.mentioned++
			if live {
				ring = m.bell()
			}
		}
	}
	return tea.Batch(ring, m.fetchQuotes(w))
}

// other applies a server event the client has no type of its own for:
// the notices to the user a moderator acted on (kicked, banned, muted,
// unmuted, unbanned, role) and invitations. They reach only the user's own
// sessions and go to the status window: the room itself shows the action
// as an entry of its sequence (message), so it is not said twice there.
// A direct-message room opened to the user also joins the room list, as
// in the browser, without being shown: what is written there counts as
// unread, and a mention rings, as in any room, where an invitation alone
// in the status window went unnoticed.
func (m *Model) other(ev protocol.Event) tea.Cmd {
	w := m.find(ev.Room)
	room := "#" + SanitizeLine(ev.Room)
	if w != nil {
		room = w.title()
	}
	by := SanitizeLine(ev.By)
	who := SanitizeLine(ev.User)
	self := ev.User != "" && ev.User == m.self.Name
	if self {
		who = "you"
	}
	why := ""
	if ev.Reason != "" {
		why = ": " + SanitizeLine(ev.Reason)
	}
	until := ""
	if ev.Until > 0 {
		until = " until " + time.UnixMilli(ev.Until).In(m.loc).Format(untilLayout)
	}
	var text string
	switch ev.Type {
	case protocol.TypeInvited:
		if _, peer, ok := dmPeer(ev.Room, m.self.Name); ok {
			m.noteTo(m.wins[0], fmt.Sprintf("%s opened a direct-message room with you: /dm %s", by, SanitizeLine(peer)))
			if (ev.User == "" || ev.User == m.self.Name) && w == nil && !m.blocked[peer] {
				return m.startJoin(ev.Room, peer, false)
			}
		} else {
			m.news(fmt.Sprintf("%s invited you to %s: /join %s", by, room, SanitizeLine(ev.Room)))
		}
		return nil
	case protocol.TypeKicked, protocol.TypeBanned:
		verb := map[string]string{protocol.TypeKicked: "kicked from", protocol.TypeBanned: "banned from"}[ev.Type]
		text = fmt.Sprintf("%s %s %s by %s%s%s", who, verbFor(who, "was", "were"), verb+" "+room, by, until, why)
		if w != nil {
			delete(w.members, ev.User)
			if self {
				w.joined = false
				w.setMuted(false, 0) // a join again says if it still holds
			}
		}
	case protocol.TypeMuted:
		if self && w != nil {
			w.setMuted(true, ev.Until)
		}
		if self && ev.By == "" && w != nil {
			// The reminder that a join of a room one is muted in brings.
			m.noteTo(w, fmt.Sprintf("You are muted in %s%s: you can read along, not write.", room, until))
			return nil
		}
		text = fmt.Sprintf("%s %s muted in %s by %s%s%s", who, verbFor(who, "was", "were"), room, by, until, why)
	case protocol.TypeUnmuted:
		if self && w != nil {
			w.setMuted(false, 0)
		}
		if ev.By == "" { // nobody lifted it: its time ran out
			text = fmt.Sprintf("%s can speak again in %s (the mute ended)", who, room)
		} else {
			text = fmt.Sprintf("%s can speak again in %s (%s lifted the mute)", who, room, by)
		}
	case protocol.TypeUnbanned:
		if ev.By == "" { // nobody lifted it: its time ran out
			text = fmt.Sprintf("%s may join %s again (the ban ended)", who, room)
		} else {
			text = fmt.Sprintf("%s may join %s again (%s lifted the ban)", who, room, by)
		}
	case protocol.TypeDirectory:
		by = " by " + by
		if ev.By == "" {
			by = " (nobody used it)"
		}
		switch ev.Change {
		case protocol.ChangeArchived:
			text = fmt.Sprintf("%s was archived%s: it is read-only", room, by)
		case protocol.ChangeUnarchived:
			text = fmt.Sprintf("%s was unarchived%s", room, by)
		case protocol.ChangeDeleted:
			text = fmt.Sprintf("%s was deleted%s", room, by)
			if w != nil {
				w.joined, w.gone = false, true
				clear(w.members) // kept, not nil: a join of the room made again fills it
			}
		default:
			return nil // new rooms: /rooms lists them
		}
	case protocol.TypeRole:
		if ev.Role == "" {
			whose := who + "'s"
			if self {
				whose = "your"
			}
			text = fmt.Sprintf("%s removed %s role in %s", by, whose, room)
		} else {
			text = fmt.Sprintf("%s made %s %s of %s", by, who, SanitizeLine(ev.Role), room)
		}
	default:
		return nil
	}
	switch {
	case ev.Type == protocol.TypeDirectory && w == nil:
		// Every room anyone may see: not news for the user.
		m.noteTo(m.wins[0], text)
		return nil
	case self || w == nil:
		m.news(text)
		return nil
	}
	m.noteTo(w, text)
	return nil
}

// news notes text in the status window, news for the user from no room
// shown (an invitation, a kick, a ban, a mute): while another window is
// shown, the room list counts it as unread there, or it went unseen.
func (m *Model) news(text string) {
	if w := m.wins[0]; w != m.current() {
		w.unread++
	}
	m.noteTo(m.wins[0], text)
}

// untilLayout is how the end of a ban or mute is shown.
const untilLayout = "Mon 2 Jan 15:04"

// verbFor picks the form of a word for "you" or someone else.
func verbFor(who, other, you string) string {
	if who == "you" {
		return you
	}
	return other
}

// dmPeer returns the users of a direct-message room name and which of
// them is not self.
func dmPeer(room, self string) (string, string, bool) {
	a, b, ok := protocol.DMPeers(room)
	if !ok {
		return "", "", false
	}
	if a == self {
		return a, b, true
	}
	return b, a, true
}

// stateChanged applies a change of the connection's state. After a
// reconnect it joins every room again, which the client has done already,
// to learn who is in them now.
func (m *Model) stateChanged(ev client.StateEvent) tea.Cmd {
	m.state, m.attempt, m.next, m.stateErr = ev.State, ev.Attempt, ev.Next, ev.Err
	switch ev.State {
	case client.Connected:
		if ev.Self.Name != "" {
			m.self = ev.Self
		}
		// A connection numbered past the last one is a reconnect even
		// when its Reconnecting events were dropped (a full buffer).
		again := m.wasDown || (m.conn > 0 && ev.Conn > m.conn)
		m.conn = max(m.conn, ev.Conn)
		if !again {
			return nil
		}
		m.wasDown = false
		m.noteTo(m.wins[0], "connected again")
		cmds := []tea.Cmd{m.fetchBlocks()}
		for _, w := range m.wins {
			if w.joined {
				cmds = append(cmds, m.joinCmd(w.room, true))
			}
		}
		return tea.Batch(cmds...)
	case client.Reconnecting:
		m.wasDown = true
	case client.Closed:
		text := "disconnected"
		if ev.Err != nil {
			text += ": " + m.errText(ev.Err)
		}
		var cerr *websocket.CloseError
		if errors.As(ev.Err, &cerr) && cerr.Code == protocol.ClosePolicy && !m.self.Guest {
			// The account's session is over (logged out, expired, the
			// password changed): reconnecting will not help.
			m.noteTo(m.current(), text+`; to sign in again: /quit, then "hubbub login" (or "hubbub --guest")`)
			return nil
		}
		m.noteTo(m.current(), text+"; /quit to exit")
	}
	return nil
}
