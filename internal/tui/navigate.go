package tui

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// current returns the window shown.
func (m *Model) current() *window { return m.wins[m.cur] }

// index returns the index of room's window, -1 if it has none.
func (m *Model) index(room string) int {
	for i, w := range m.wins {
		if room != "" && w.room == room {
			return i
		}
	}
	return -1
}

// find returns room's window, nil if it has none.
func (m *Model) find(room string) *window {
	if i := m.index(room); i >= 0 {
		return m.wins[i]
	}
	return nil
}

// show makes the window at index i the shown one.
func (m *Model) show(i int) {
	if w := m.current(); m.height > 0 {
		w.yOffset, w.atBottom = m.vp.YOffset, m.vp.AtBottom()
	}
	m.display(i)
}

// display shows the window at index i where it was scrolled to.
func (m *Model) display(i int) {
	m.cur = i
	w := m.current()
	w.mark, w.marked = w.readSeq, w.unread > 0
	w.unread, w.mentioned = 0, 0
	m.render()
	if w.atBottom {
		m.vp.GotoBottom()
	} else {
		m.vp.SetYOffset(w.yOffset)
	}
}

// close removes w from the room list; if it was shown, the window before
// it is shown.
func (m *Model) close(w *window) {
	i := m.index(w.room)
	if i <= 0 {
		return
	}
	shown := m.current()
	m.wins = append(m.wins[:i], m.wins[i+1:]...)
	switch {
	case shown == w:
		m.display(i - 1)
	case m.cur > i:
		m.cur--
	}
}

// note adds a line of text to the shown window.
func (m *Model) note(text string) { m.noteTo(m.current(), text) }

func (m *Model) noteTo(w *window, text string) {
	w.addNote(SanitizeLine(text))
	m.touch(w)
}

// touch marks w changed: if it is shown, the view is rendered again.
func (m *Model) touch(w *window) {
	if w == m.current() {
		m.dirty = true
	}
}

// selfLabel is how the user is named in the status bar.
func (m *Model) selfLabel() string {
	name := SanitizeLine(m.self.Name)
	if m.self.Guest {
		name += " (guest)"
	}
	return name
}

// errText is an error for the user: the reason of a server refusal, the
// error text otherwise, with the UTC times a server reason carries ("banned
// from lobby until 2026-12-03T17:50:29Z") shown in the model's time zone.
// The caller sanitizes it.
func (m *Model) errText(err error) string {
	var perr *protocol.Error
	if errors.As(err, &perr) && perr.Reason != "" {
		return localTimes(perr.Reason, m.loc)
	}
	var cerr *websocket.CloseError
	if errors.As(err, &cerr) && cerr.Text != "" {
		// The server's own words ("session ended"), not
		// "websocket: close 1008 (policy violation): session ended".
		return cerr.Text
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer from the server in time"
	case errors.Is(err, client.ErrClosed):
		return "the connection is closed"
	}
	return err.Error()
}

// rfc3339UTC matches the times server reasons carry: RFC 3339 in UTC,
// whole seconds or fractions.
var rfc3339UTC = regexp.MustCompile(`\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\b`)

// localTimes rewrites the RFC 3339 UTC times in s as local times in loc,
// in the form the rest of the screen uses ("Mon 2 Jan 15:04").
func localTimes(s string, loc *time.Location) string {
	return rfc3339UTC.ReplaceAllStringFunc(s, func(ts string) string {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return ts
		}
		return t.In(loc).Format(untilLayout)
	})
}

// layout sizes the parts to the terminal.
func (m *Model) layout() {
	side := sidebarWidth(m.width)
	m.vp.Width = max(1, m.width-side-1) // one column of margin
	m.vp.Height = max(1, m.height-chromeLines)
	m.input.Width = max(1, m.width-lipgloss.Width(m.input.Prompt)-1)
	m.dirty = true
	m.render()
	if m.current().atBottom {
		m.vp.GotoBottom()
	}
}
