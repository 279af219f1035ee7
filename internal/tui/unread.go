package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// Unread messages and read positions. A window knows up to which seq its
// room was read (readSeq): the server's position for an account (join
// replies carry it, read events move it when another session of the user
// reads), the position at the first join for a guest. Plain messages of
// others after it are unread, and those that mention the user are counted
// apart. Showing a room reads it: the position moves to the newest entry
// and is sent to the server, at most every readEvery per room. A room
// shown with unread messages gets a "── new ──" line where they start,
// which stays until the room is shown again.

const readEvery = time.Second // the most often a room's read position is sent

// markRead reads w up to its newest entry, and returns the command that
// tells the server, if one is due.
func (m *Model) markRead(w *window) tea.Cmd {
	if last := w.lastSeq(); last > w.readSeq {
		w.readSeq = last
	}
	w.unread, w.mentioned = 0, 0
	return m.sendRead(w, false)
}

// sendRead sends w's read position to the server if it moved since it was
// last sent and, unless due, readEvery has passed since. Guests' positions
// are kept nowhere on the server, so theirs are not sent.
func (m *Model) sendRead(w *window, due bool) tea.Cmd {
	if !w.joined || m.self.Guest || w.readSeq <= w.sentRead {
		return nil
	}
	if !m.othersAfter(w, w.sentRead) {
		// Only the user's own messages, or entries that are not messages:
		// nothing another session would count as unread.
		return nil
	}
	now := m.now()
	if !due && now.Sub(w.readAt) < readEvery {
		return nil
	}
	w.sentRead, w.readAt = w.readSeq, now
	c, room, seq := m.c, w.room, w.readSeq
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		_ = c.Read(ctx, room, seq) // advisory: the next one carries the position again
		return nil
	}
}

// othersAfter reports whether w holds a plain message of someone else
// after seq.
func (m *Model) othersAfter(w *window, seq int64) bool {
	for i := len(w.entries) - 1; i >= 0 && w.entries[i].seq > seq; i-- {
		if msg := w.entries[i].msg; msg != nil && msg.Kind == "" && !m.own(msg) {
			return true
		}
	}
	return false
}

// readElsewhere applies a read position from another session of the user.
func (m *Model) readElsewhere(room string, seq int64) {
	w := m.find(room)
	if w == nil || seq <= w.readSeq {
		return
	}
	w.readSeq = max(w.readSeq, seq)
	w.sentRead = max(w.sentRead, seq)
	m.recount(w)
	m.dirty = true // the room list
}

// recount counts w's unread messages and mentions from what it holds.
func (m *Model) recount(w *window) {
	w.unread, w.mentioned = 0, 0
	for i := len(w.entries) - 1; i >= 0 && w.entries[i].seq > w.readSeq; i-- {
		msg := w.entries[i].msg
		if msg == nil || msg.Kind != "" || msg.Deleted || m.own(msg) || m.fromBlocked(msg) {
			continue
		}
		w.unread++
		if m.mentions(msg) {
			w.mentioned++
		}
	}
}

// newLineAt returns the seq of the message before which w shows its
// "── new ──" line, 0 for none.
func (w *window) newLineAt() int64 {
	if !w.marked {
		return 0
	}
	for _, e := range w.entries {
		if e.msg != nil && e.seq > w.mark && shown(e.msg.Kind) {
			return e.seq
		}
	}
	return 0
}
