package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// /search QUERY lists the messages of every room the user may read that
// contain all the words, newest first, numbered; /goto N shows result N
// in its room, joining it and loading older pages as needed, with the
// message's number in front of it.

const (
	searchLimit  = 20 // results asked for
	maxJumpPages = 20 // the most history pages /goto loads to reach a message
)

type searchedMsg struct {
	query string
	to    *window
	msgs  []protocol.Message
	more  bool
	err   error
}

// search runs /search.
func (m *Model) search(query string) tea.Cmd {
	query = strings.TrimSpace(query)
	if err := protocol.CheckQuery(query); err != nil || query == "" {
		m.note("Usage: /search WORDS: messages with all of them, in every room you may read")
		return nil
	}
	c, to := m.c, m.current()
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		msgs, more, err := c.Search(ctx, query, client.SearchOptions{Limit: searchLimit})
		return searchedMsg{query: query, to: to, msgs: msgs, more: more, err: err}
	}
}

// searched lists results in the window the search was typed in.
func (m *Model) searched(msg searchedMsg) {
	to := msg.to
	if m.index(to.room) < 0 && to != m.wins[0] {
		to = m.current()
	}
	if msg.err != nil {
		m.noteTo(to, "Cannot search: "+m.errText(msg.err))
		return
	}
	m.results = msg.msgs
	if len(msg.msgs) == 0 {
		m.noteTo(to, fmt.Sprintf("No messages with %q.", msg.query))
		return
	}
	more := ""
	if msg.more {
		more = "; more exist, add words to narrow"
	}
	m.noteTo(to, fmt.Sprintf("%d messages with %q (/goto N shows one%s):", len(msg.msgs), msg.query, more))
	for i, r := range msg.msgs {
		t := time.UnixMilli(r.TS).In(m.loc).Format(untilLayout)
		room := "#" + r.Room
		if _, peer, ok := dmPeer(r.Room, m.self.Name); ok {
			room = "@" + peer
		}
		body := strings.Join(strings.Fields(SanitizeLine(r.Body)), " ")
		m.noteTo(to, fmt.Sprintf("%3d. %s  %s  %s: %s", i+1, room, t, r.From, plainInline(body)))
	}
}

// goTo runs /goto N: shows search result N in its room.
func (m *Model) goTo(arg string) tea.Cmd {
	n, _ := numberArg(arg)
	if len(m.results) == 0 {
		m.note("No search results to go to: /search WORDS first.")
		return nil
	}
	if n <= 0 || int(n) > len(m.results) {
		m.note(fmt.Sprintf("Usage: /goto N, N a result of the last /search (1 to %d)", len(m.results)))
		return nil
	}
	r := m.results[n-1]
	peer := ""
	if _, p, ok := dmPeer(r.Room, m.self.Name); ok {
		peer = p
	}
	cmd := m.startJoin(r.Room, peer, true)
	w := m.current()
	w.jumpTo, w.jumpPages = r.Seq, 0
	if w.joined {
		return tea.Batch(cmd, m.jump(w))
	}
	return cmd // joined: the history that comes calls jump
}

// jump scrolls to w.jumpTo if w holds it, or loads the next older page.
func (m *Model) jump(w *window) tea.Cmd {
	if w.jumpTo == 0 || w.loading {
		return nil
	}
	if w.message(w.jumpTo) != nil && w.oldestSeq() <= w.jumpTo {
		w.found, w.jumpTo = w.jumpTo, 0
		if w == m.current() {
			m.render()
			if line, ok := m.lineOf[w.found]; ok {
				m.vp.SetYOffset(max(0, line-2))
				w.yOffset, w.atBottom = m.vp.YOffset, m.vp.AtBottom()
			}
		}
		return nil
	}
	if !w.more || w.jumpPages >= maxJumpPages {
		m.noteTo(w, fmt.Sprintf("Message #%d is too far back to show here.", w.jumpTo))
		w.jumpTo = 0
		return nil
	}
	w.jumpPages++
	w.loading = true
	return m.historyCmd(w.room, w.oldestSeq(), true)
}
