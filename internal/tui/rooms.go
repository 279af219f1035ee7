package tui

import (
	"context"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hubbub-chat/hubbub/protocol"
)

// send sends body to the shown room, showing it as pending until the
// server acknowledges it.
func (m *Model) send(body string) tea.Cmd { return m.sendMessage(body, 0) }

// sendMessage sends body to the shown room, as a reply to the message
// replyTo if it is not 0.
func (m *Model) sendMessage(body string, replyTo int64) tea.Cmd {
	w := m.current()
	if !w.joined {
		m.note("You are not in a room here: /join ROOM first.")
		return nil
	}
	if peer := m.blockedPeer(w); peer != "" { // /me, /reply
		m.note(blockedText(peer))
		return nil
	}
	if err := protocol.CheckBody(body); err != nil {
		m.note("Not sent: " + m.errText(err))
		return nil
	}
	id := m.nextPending
	m.nextPending++
	w.pending = append(w.pending, pending{id: id, body: body})
	delete(m.lastTyping, w.room)
	m.touch(w)
	m.vp.GotoBottom()
	w.atBottom = true
	c, room := m.c, w.room
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
		defer cancel()
		if replyTo > 0 {
			msg, err := c.SendReply(ctx, room, replyTo, body)
			return sentMsg{room: room, id: id, msg: msg, err: err}
		}
		msg, err := c.Send(ctx, room, body)
		return sentMsg{room: room, id: id, msg: msg, err: err}
	}
}

func (m *Model) sent(msg sentMsg) {
	w := m.find(msg.room)
	if w == nil {
		return
	}
	body := ""
	for _, p := range w.pending {
		if p.id == msg.id {
			body = p.body
		}
	}
	w.dropPending(msg.id, "")
	if msg.err != nil {
		// Which message: of a burst refused (rate_limited), some went
		// and some did not.
		text := "Not sent: " + m.errText(msg.err)
		if body != "" {
			text += fmt.Sprintf(": %q", excerpt(body, 40))
		}
		m.noteTo(w, text)
		if code := protocol.CodeOf(msg.err); (code == protocol.CodeMuted || code == protocol.CodeRateLimited) &&
			w == m.current() && m.input.Value() == "" {
			// Muted before the client heard of it, or sent too fast:
			// the text is not lost, and Enter sends it again.
			m.setInput(body)
		}
	} else {
		w.addMessages(msg.msg)
	}
	m.touch(w)
}

// startJoin opens a window for room (if it has none) and joins it; focus
// shows the window. peer names the other user of a direct-message room.
func (m *Model) startJoin(room, peer string, focus bool) tea.Cmd {
	i := m.index(room)
	if i < 0 {
		w := newWindow(room)
		w.peer = peer
		w.joining = true
		m.wins = append(m.wins, w)
		i = len(m.wins) - 1
	}
	if focus {
		m.show(i)
	}
	if w := m.wins[i]; w.joined {
		return nil
	}
	return m.joinCmd(room, false)
}

func (m *Model) joinCmd(room string, refresh bool) tea.Cmd {
	c := m.c
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		info, members, roster, err := c.JoinRoster(ctx, room)
		return joinedMsg{room: room, info: info, members: members, roster: roster, refresh: refresh, err: err}
	}
}

func (m *Model) joined(msg joinedMsg) tea.Cmd {
	w := m.find(msg.room)
	if w == nil {
		return nil // closed meanwhile
	}
	if msg.err != nil {
		if msg.refresh || w.joined {
			m.noteTo(w, "could not refresh the room: "+m.errText(msg.err))
			return nil
		}
		text := fmt.Sprintf("Cannot join %s: %s", w.title(), m.errText(msg.err))
		if _, _, dm := protocol.DMPeers(w.room); protocol.CodeOf(msg.err) == protocol.CodeNoSuchRoom && !dm {
			text += fmt.Sprintf(" (/create %s makes it)", SanitizeLine(w.room))
		}
		m.close(w)
		m.note(text)
		return nil
	}
	first := !w.joined
	if first && w.gone {
		w.restart()
	}
	w.joining, w.joined = false, true
	w.topic, w.topicSeq = msg.info.Topic, msg.info.LastSeq
	if first {
		// Read positions: the server's, or (a guest, or a room never read)
		// everything before the join.
		read := msg.info.ReadSeq
		if read <= 0 {
			read = msg.info.LastSeq
		}
		w.readSeq, w.sentRead = max(w.readSeq, read), max(w.sentRead, msg.info.ReadSeq)
		if w == m.current() && read < msg.info.LastSeq {
			w.mark, w.marked = read, true
		}
	} else if msg.info.ReadSeq > w.readSeq {
		// Joined again after a reconnect: another session of the account
		// may have read further meanwhile, and its read event is lost.
		w.readSeq, w.sentRead = msg.info.ReadSeq, max(w.sentRead, msg.info.ReadSeq)
		m.recount(w)
	}
	if msg.info.Peer != "" {
		w.peer = msg.info.Peer
	}
	clear(w.members)
	for _, u := range msg.members {
		w.members[u] = true
	}
	staff := msg.info.Staff
	if msg.info.Private {
		staff = msg.roster
	}
	w.setStaff(staff, msg.info.Private, msg.info.LastSeq)
	m.touch(w)
	if !first || msg.info.LastSeq == 0 {
		return nil
	}
	w.more, w.loading = true, true
	return m.historyCmd(w.room, msg.info.LastSeq+1, false)
}

// historyCmd fetches the page of room's messages before seq.
func (m *Model) historyCmd(room string, before int64, older bool) tea.Cmd {
	c := m.c
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		msgs, more, err := c.HistoryBefore(ctx, room, before, historyPage)
		return historyMsg{room: room, msgs: msgs, more: more, older: older, err: err}
	}
}

func (m *Model) history(msg historyMsg) tea.Cmd {
	w := m.find(msg.room)
	if w == nil {
		return nil
	}
	w.loading = false
	m.touch(w)
	if msg.err != nil {
		m.noteTo(w, "could not load history: "+m.errText(msg.err))
		return nil
	}
	w.more = msg.more
	w.addMessages(msg.msgs...)
	m.recount(w)
	cmd := m.fetchQuotes(w)
	if !msg.older || w != m.current() {
		return tea.Batch(cmd, m.jump(w))
	}
	// Keep the lines the user was reading where they are: the new ones
	// go above them.
	before := m.vp.TotalLineCount()
	m.render()
	m.vp.SetYOffset(m.vp.YOffset + m.vp.TotalLineCount() - before)
	w.yOffset, w.atBottom = m.vp.YOffset, m.vp.AtBottom()
	return tea.Batch(cmd, m.jump(w))
}

func (m *Model) left(msg leftMsg) {
	w := m.find(msg.room)
	if w == nil {
		return
	}
	if msg.err != nil {
		m.noteTo(w, "Cannot leave: "+m.errText(msg.err))
		return
	}
	m.close(w)
	m.note("Left #" + SanitizeLine(msg.room) + ".")
}

func (m *Model) created(msg createdMsg) tea.Cmd {
	if msg.err != nil {
		m.note(fmt.Sprintf("Cannot create #%s: %s", msg.room, m.errText(msg.err)))
		return nil
	}
	return m.startJoin(msg.room, "", true)
}

// listRooms lists the server's rooms in window to.
func (m *Model) listRooms(to *window) tea.Cmd {
	c := m.c
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		rooms, err := c.Rooms(ctx)
		return roomsMsg{to: to, rooms: rooms, err: err}
	}
}

// searchRooms lists in window to the rooms whose name or topic contains
// query (all for ""), archived ones too if archived is set.
func (m *Model) searchRooms(to *window, query string, archived bool) tea.Cmd {
	if query == "" && !archived {
		return m.listRooms(to)
	}
	c := m.c
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		rooms, err := c.SearchRooms(ctx, query, archived)
		return roomsMsg{to: to, query: query, archived: archived, rooms: rooms, err: err}
	}
}

func (m *Model) roomsListed(msg roomsMsg) {
	to := msg.to
	if m.index(to.room) < 0 && to != m.wins[0] {
		to = m.current() // closed meanwhile
	}
	if msg.err != nil {
		m.noteTo(to, "Cannot list rooms: "+m.errText(msg.err))
		return
	}
	switch {
	case len(msg.rooms) == 0 && msg.query != "":
		// Rooms there may be, just none that matches.
		archived := ""
		if msg.archived {
			archived = ", archived or not,"
		}
		m.noteTo(to, fmt.Sprintf("No room%s has %q in its name or topic.", archived, msg.query))
		return
	case len(msg.rooms) == 0:
		m.noteTo(to, "No rooms yet: /create ROOM makes one.")
		return
	}
	count := fmt.Sprintf("%d rooms", len(msg.rooms))
	if len(msg.rooms) == 1 {
		count = "1 room"
	}
	m.noteTo(to, count+" (/join ROOM):")
	for _, r := range msg.rooms {
		name := "#" + SanitizeLine(r.Name)
		if r.Peer != "" {
			name = "@" + SanitizeLine(r.Peer)
		}
		line := fmt.Sprintf("  %-17s %3d online", name, r.Online)
		if r.Private {
			line += " private"
		}
		if r.Archived {
			line += " archived"
		}
		if w := m.find(r.Name); w != nil && w.joined {
			line += " joined"
		}
		if r.Topic != "" {
			line += "  " + SanitizeLine(r.Topic)
		}
		m.noteTo(to, line)
	}
}

// excerpt is the first n characters of body on one line, with "…" if
// there was more.
func excerpt(body string, n int) string {
	line := strings.Join(strings.Fields(body), " ")
	if r := []rune(line); len(r) > n {
		return string(r[:n]) + "…"
	}
	return line
}
