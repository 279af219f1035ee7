package tui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"
)

// maxQuoteFetches is the most quotes a window fetches at once.
const maxQuoteFetches = 8

// fetchQuotes fetches the messages that replies in w answer and that w
// does not hold, newest replies first, with history (before = seq + 1,
// limit 1), as docs/protocol.md says.
func (m *Model) fetchQuotes(w *window) tea.Cmd {
	if !w.joined {
		return nil
	}
	var cmds []tea.Cmd
	inFlight := 0
	for _, busy := range w.fetching {
		if busy {
			inFlight++
		}
	}
	for i := len(w.entries) - 1; i >= 0 && inFlight < maxQuoteFetches; i-- {
		msg := w.entries[i].msg
		if msg == nil || msg.ReplyTo <= 0 || w.message(msg.ReplyTo) != nil {
			continue
		}
		if _, asked := w.fetching[msg.ReplyTo]; asked {
			continue
		}
		w.fetching[msg.ReplyTo] = true
		inFlight++
		c, room, seq := m.c, w.room, msg.ReplyTo
		cmds = append(cmds, func() tea.Msg {
			ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
			defer cancel()
			msgs, _, err := c.HistoryBefore(ctx, room, seq+1, 1)
			if err != nil {
				msgs = nil // shown as its number; not asked again
			}
			return quoteMsg{room: room, seq: seq, msgs: msgs}
		})
	}
	return tea.Batch(cmds...)
}

// quoted keeps a fetched quote.
func (m *Model) quoted(msg quoteMsg) {
	w := m.find(msg.room)
	if w == nil {
		return
	}
	w.fetching[msg.seq] = false // done: kept in fetching so as not to ask again
	for _, q := range msg.msgs {
		if q.Seq == msg.seq && q.Kind == "" && w.message(q.Seq) == nil {
			w.quotes[q.Seq] = &q
			w.fold()
			m.touch(w)
		}
	}
}
