package tui

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// chromeLines is how many lines the header, typing line, input line and
// status bar take; the message view gets the rest.
const chromeLines = 4

// Smallest terminal the layout is drawn in.
const (
	minWidth  = 20
	minHeight = chromeLines + 2
)

// Styles. Only plain ANSI attributes and the 16 basic colors, so they look
// right on any terminal; lipgloss drops them when the output is not one.
var (
	headerStyle  = lipgloss.NewStyle().Bold(true)
	statusStyle  = lipgloss.NewStyle().Reverse(true)
	dimStyle     = lipgloss.NewStyle().Faint(true)
	noteStyle    = lipgloss.NewStyle().Faint(true).Italic(true)
	boldStyle    = lipgloss.NewStyle().Bold(true)
	currentStyle = lipgloss.NewStyle().Bold(true).Reverse(true)
	unreadStyle  = lipgloss.NewStyle().Bold(true)
	errorStyle   = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("1"))
	nameColors   = []lipgloss.Color{"2", "3", "4", "5", "6", "9", "10", "11", "12", "13", "14"}
)

// sidebarWidth is the width of the room list, separator included, for a
// terminal width columns wide: none on a narrow terminal.
func sidebarWidth(width int) int {
	if width < 60 {
		return 0
	}
	return min(24, width/4)
}

// nameStyle colors a user's name, the same color every time.
func nameStyle(name string) lipgloss.Style {
	h := fnv.New32a()
	h.Write([]byte(name))
	return lipgloss.NewStyle().Bold(true).Foreground(nameColors[h.Sum32()%uint32(len(nameColors))])
}

// fit cuts s to width cells and pads it with spaces to exactly width.
func fit(s string, width int) string {
	if width <= 0 {
		return ""
	}
	s = ansi.Truncate(s, width, "…")
	if pad := width - lipgloss.Width(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// wrap breaks a line of text without escape sequences into lines at most
// width cells wide, at spaces where it can.
func wrap(s string, width int) []string {
	if width < 1 {
		width = 1
	}
	// ansi.Wrap can leave a line one cell too wide where it breaks after
	// a hyphen: cut what is left over.
	return strings.Split(ansi.Hardwrap(ansi.Wrap(s, width, ""), width, true), "\n")
}

// restAfter is what is left of s after the first of wrapped, the lines
// wrap made of it, to be wrapped again at another width. Where the first
// line ends at a space, the space goes; where it was cut in a word (a long
// URL, a run of CJK, which has no spaces), nothing is put in between.
func restAfter(s string, wrapped []string) string {
	if rest, ok := strings.CutPrefix(s, wrapped[0]); ok {
		return strings.TrimLeft(rest, " ")
	}
	// Not a prefix (wrap changed the text): the lines as wrap broke them.
	return strings.Join(wrapped[1:], " ")
}

// View renders the whole screen.
func (m *Model) View() string {
	if m.quitting || m.width == 0 || m.height == 0 {
		return ""
	}
	if m.width < minWidth || m.height < minHeight {
		return fit("terminal too small", m.width)
	}
	lines := make([]string, 0, m.height)
	lines = append(lines, m.headerView())
	lines = append(lines, m.bodyView()...)
	lines = append(lines, m.typingView(), fit(m.inputView(), m.width), m.statusView())
	return strings.Join(lines, "\n")
}

// headerView is the first line: the shown room and its topic.
func (m *Model) headerView() string {
	w := m.current()
	title := w.title()
	switch {
	case w.room == "":
		title = "hubbub"
		if m.server != "" {
			title += " · " + SanitizeLine(m.server)
		}
	case w.joining:
		title += " · joining…"
	case w.topic != "":
		title += " · " + SanitizeLine(w.topic)
	}
	right := ""
	if w.joined {
		right = fmt.Sprintf(" %d here ", len(w.members))
	}
	left := fit(" "+title, max(0, m.width-len(right)))
	return headerStyle.Render(left + right)
}

// bodyView is the room list beside the message view.
func (m *Model) bodyView() []string {
	msgs := strings.Split(m.vp.View(), "\n")
	side := sidebarWidth(m.width)
	if side == 0 {
		for i := range msgs {
			msgs[i] = " " + msgs[i]
		}
		return msgs
	}
	bar := m.sidebarLines(side-1, len(msgs))
	sep := dimStyle.Render("│")
	for i := range msgs {
		msgs[i] = bar[i] + sep + " " + msgs[i]
	}
	return msgs
}

// sidebarLines renders the room list and who is in the shown room, height
// lines of exactly width cells.
func (m *Model) sidebarLines(width, height int) []string {
	var lines []string
	add := func(s string, style lipgloss.Style) {
		lines = append(lines, style.Render(fit(s, width)))
	}
	add(" Rooms", boldStyle)
	for i, w := range m.wins {
		label := " " + w.title()
		if i < 9 {
			label = fmt.Sprintf(" %d %s", i+1, w.title())
		}
		count := ""
		if w.mentioned > 0 {
			count = fmt.Sprintf(" @%d", w.mentioned)
		}
		if w.unread > 0 {
			count += fmt.Sprintf(" (%d)", w.unread)
		}
		tag := "" // dim, after the counts
		if m.blockedPeer(w) != "" && width-len(count) > 2*len(" blocked") {
			tag = " blocked"
		}
		label = fit(label, width-len(count)-len(tag)) + count
		style := lipgloss.NewStyle()
		switch {
		case i == m.cur:
			style = currentStyle
		case w.unread > 0:
			style = unreadStyle
		}
		lines = append(lines, style.Render(fit(label, width-len(tag)))+style.Faint(true).Render(tag))
	}
	if w := m.current(); w.joined {
		add("", lipgloss.NewStyle())
		add(fmt.Sprintf(" Here (%d)", len(w.members)), boldStyle)
		for _, u := range w.hereList() {
			label := " " + roleMark(w.roles[u]) + SanitizeLine(u)
			if u == m.self.Name {
				label += " (you)"
			}
			add(label, lipgloss.NewStyle())
		}
	}
	if len(lines) > height {
		lines = lines[:height]
	}
	for len(lines) < height {
		lines = append(lines, strings.Repeat(" ", width))
	}
	return lines
}

// scrolledUp reports whether w's view is scrolled up from its newest
// entry: the shown window's viewport, or where another window was left.
func (m *Model) scrolledUp(w *window) bool {
	if w == m.current() {
		return m.height > 0 && !m.vp.AtBottom()
	}
	return !w.atBottom
}

// typingView is the line above the input: who is typing, and whether the
// view is scrolled up, with how many messages of others came in since.
func (m *Model) typingView() string {
	w := m.current()
	text := typingText(w.typers(m.now()))
	right := ""
	switch {
	case !m.vp.AtBottom() && w.below > 0:
		right = fmt.Sprintf(" %d new below: PgDn, Esc ", w.below)
	case !m.vp.AtBottom():
		right = " more below: PgDn, Esc "
	}
	if m.width-len(right) < 20 {
		right = ""
	}
	return noteStyle.Render(fit(text, m.width-len(right))) + dimStyle.Render(right)
}

// typingText says who is typing.
func typingText(who []string) string {
	for i, u := range who {
		who[i] = SanitizeLine(u)
	}
	switch len(who) {
	case 0:
		return ""
	case 1:
		return " " + who[0] + " is typing…"
	case 2, 3:
		return " " + strings.Join(who[:len(who)-1], ", ") + " and " + who[len(who)-1] + " are typing…"
	}
	return fmt.Sprintf(" %d people are typing…", len(who))
}

// statusView is the last line: the connection's state.
func (m *Model) statusView() string {
	var left string
	switch m.state {
	case client.Connected:
		left = " ● " + m.selfLabel()
	case client.Reconnecting:
		left = " ○ reconnecting"
		if wait := m.next.Sub(m.now()); wait > 0 {
			left += fmt.Sprintf(" in %ds", int((wait+time.Second-1)/time.Second))
		} else {
			left += "…"
		}
		if m.attempt > 1 {
			left += fmt.Sprintf(" (attempt %d)", m.attempt)
		}
		if m.stateErr != nil {
			left += ": " + SanitizeLine(m.errText(m.stateErr))
		}
	case client.Closed:
		left = " ✕ disconnected"
		if m.stateErr != nil {
			left += ": " + SanitizeLine(m.errText(m.stateErr))
		}
	}
	right := " Tab: rooms  /help "
	if sidebarWidth(m.width) == 0 {
		// No room list to show the other rooms' unread messages: the
		// status bar counts them, as the list would.
		if counts := m.unreadElsewhere(); counts != "" {
			right = " unread " + counts + "  Tab "
		}
	}
	if lipgloss.Width(left)+len(right) > m.width {
		right = ""
	}
	return statusStyle.Render(fit(left, m.width-len(right)) + right)
}

// unreadElsewhere counts the unread messages of the rooms not shown as
// the room list counts a room's: "@1 (3)", 3 unread of which 1 mentions
// the user; "" if none.
func (m *Model) unreadElsewhere() string {
	unread, mentioned := 0, 0
	for i, w := range m.wins {
		if i != m.cur {
			unread += w.unread
			mentioned += w.mentioned
		}
	}
	var counts string
	if mentioned > 0 {
		counts = fmt.Sprintf("@%d ", mentioned)
	}
	if unread > 0 {
		counts += fmt.Sprintf("(%d)", unread)
	}
	return strings.TrimSpace(counts)
}

// render lays out the shown window's scrollback into the viewport,
// keeping the view at the newest line if it was there.
func (m *Model) render() {
	m.dirty = false
	if m.vp.Width <= 0 || m.vp.Height <= 0 {
		return
	}
	bottom := m.vp.AtBottom()
	lines := m.windowLines(m.current(), m.vp.Width)
	if pad := m.vp.Height - len(lines); pad > 0 {
		// Few lines sit at the bottom, above the input, as in any chat.
		lines = append(make([]string, pad), lines...)
		for seq, i := range m.lineOf {
			m.lineOf[seq] = i + pad
		}
	}
	m.vp.SetContent(strings.Join(lines, "\n"))
	if bottom {
		m.vp.GotoBottom()
	}
}

// windowLines renders w's scrollback for a view width cells wide.
func (m *Model) windowLines(w *window, width int) []string {
	var lines []string
	// addWrapped adds text indented by indent, wrapped; the lines it
	// wraps onto are indented like its own leading spaces and two more.
	addWrapped := func(text string, indent int, style lipgloss.Style) {
		body := strings.TrimLeft(text, " ")
		lead := len(text) - len(body)
		pad := strings.Repeat(" ", indent+lead)
		hang := pad
		if width-indent-lead-2 >= 10 {
			hang += "  "
		}
		wrapped := wrap(body, width-len(pad))
		lines = append(lines, style.Render(pad+wrapped[0]))
		if len(wrapped) == 1 {
			return
		}
		for _, l := range wrap(restAfter(body, wrapped), width-len(hang)) {
			lines = append(lines, style.Render(hang+l))
		}
	}
	// addMessage adds a message's lines (messageLines), indent cells in;
	// indent 0 marks them as mentioning the user.
	addMessage := func(ls []msgLine, indent int) {
		for _, l := range ls {
			text := l.text
			if indent == 0 {
				text = "» " + text
			}
			if l.code {
				// Cut where the width ends, as code is; the lines cut
				// off keep the code's indentation.
				code := strings.TrimLeft(strings.TrimPrefix(text, "» "), " ")
				head := text[:len(text)-len(code)]
				lead := ansi.StringWidth(head)
				if width-indent-lead < 10 {
					code, head, lead = text, "", 0
				}
				for i, c := range strings.Split(ansi.Hardwrap(code, max(1, width-indent-lead), true), "\n") {
					if i > 0 {
						head = strings.Repeat(" ", lead)
					}
					lines = append(lines, strings.Repeat(" ", indent)+l.style.Render(head+c))
				}
				continue
			}
			addWrapped(text, indent, l.style)
		}
	}
	if w.room != "" {
		switch {
		case w.loading && w.oldestSeq() > 0:
			addWrapped("loading older messages…", 1, dimStyle)
		case w.more:
			addWrapped("↑ PgUp for older messages", 1, dimStyle)
		case w.joined:
			addWrapped("start of "+w.title(), 1, dimStyle)
		}
	}
	var prev *protocol.Message
	var prevDay string
	numbers := m.numbering()
	if w == m.current() {
		m.lineOf = map[int64]int{}
	}
	newAt := w.newLineAt()
	for i := 0; i < len(w.entries); i++ {
		e := &w.entries[i]
		if e.msg == nil {
			addWrapped(e.note, 1, noteStyle)
			prev = nil
			continue
		}
		msg := e.msg
		if !shown(msg.Kind) {
			continue
		}
		if n, next := m.foldedRun(w, i); n > 0 {
			addWrapped(foldLine(n), 1, dimStyle)
			prev = nil
			i = next - 1
			continue
		}
		if newAt > 0 && msg.Seq == newAt {
			label := "── new "
			lines = append(lines, unreadStyle.Render(label+strings.Repeat("─", max(0, width-lipgloss.Width(label)))))
			prev = nil
		}
		t := time.UnixMilli(msg.TS).In(m.loc)
		if day := t.Format(time.DateOnly); day != prevDay {
			prevDay = day
			label := ansi.Truncate("── "+t.Format("Mon 2 Jan 2006")+" ", width, "")
			lines = append(lines, dimStyle.Render(label+strings.Repeat("─", max(0, width-lipgloss.Width(label)))))
			prev = nil
		}
		if msg.Kind != "" {
			addWrapped(t.Format("15:04")+" "+m.entryLine(msg), 1, noteStyle)
			prev = nil
			continue
		}
		if prev == nil || prev.From != msg.From || prev.Guest != msg.Guest ||
			t.Sub(time.UnixMilli(prev.TS)) > groupGap {
			lines = append(lines, m.authorLine(msg.From, msg.Guest, t.Format("15:04"), width))
		}
		prev = msg
		indent := 2
		if m.mentions(msg) {
			indent = 0 // the mark takes the indent
		}
		if w == m.current() {
			m.lineOf[msg.Seq] = len(lines)
		}
		key := m.drawKey(w, msg, width, indent, numbers || msg.Seq == w.found)
		if e.drawn != nil && e.drawn.key == key {
			lines = append(lines, e.drawn.lines...)
			continue
		}
		start := len(lines)
		addMessage(m.messageLines(w, msg, key.number), indent)
		e.drawn = &drawnMsg{key: key, lines: slices.Clone(lines[start:])}
	}
	if len(w.pending) > 0 {
		// Drawn as they will be once stored, dim.
		lines = append(lines, m.authorLine(m.self.Name, m.self.Guest, "sending…", width))
		for _, p := range w.pending {
			msg := protocol.Message{From: m.self.Name, Guest: m.self.Guest, Body: p.body}
			ls := m.messageLines(w, &msg, false)
			for i := range ls {
				ls[i].style = dimStyle
			}
			addMessage(ls, 2)
		}
	}
	if w.joining {
		addWrapped("joining "+w.title()+"…", 1, noteStyle)
	}
	return lines
}

// drawKey returns what msg's lines in w's view are drawn from (see
// drawKey): when it is the same as when they were last drawn, the lines
// are too.
func (m *Model) drawKey(w *window, msg *protocol.Message, width, indent int, number bool) drawKey {
	k := drawKey{
		width: width, indent: indent, number: number, seq: msg.Seq,
		from: msg.From, body: msg.Body, deleted: msg.Deleted, edited: msg.Edited,
		reactions: m.reactionsLine(msg.Reactions), self: m.self.Name,
	}
	if msg.ReplyTo > 0 {
		k.quote = m.quoteLine(w, msg.ReplyTo)
	}
	if msg.File != nil && !msg.Deleted {
		k.file = m.fileLine(msg.File)
	}
	return k
}

// authorKey is what an author line is drawn from.
type authorKey struct {
	from  string
	guest bool
	when  string
	width int
}

// maxAuthorLines bounds Model.authors: a busy room's author lines of the
// last few hours.
const maxAuthorLines = 4096

// authorLine is the first line of a group of messages: who and when. The
// lines are kept for the next render (Model.authors): a room of many
// speakers has one in front of nearly every message.
func (m *Model) authorLine(from string, guest bool, when string, width int) string {
	k := authorKey{from, guest, when, width}
	if line, ok := m.authors[k]; ok {
		return line
	}
	if m.authors == nil || len(m.authors) >= maxAuthorLines {
		m.authors = make(map[authorKey]string)
	}
	line := m.drawAuthorLine(from, guest, when, width)
	m.authors[k] = line
	return line
}

func (m *Model) drawAuthorLine(from string, guest bool, when string, width int) string {
	name := SanitizeLine(from)
	suffix := "  " + when
	if guest {
		suffix = " (guest)" + suffix
	}
	// The name gives way to the time and the guest mark, down to 8
	// cells: a long name cut the time to "0…".
	if room := width - lipgloss.Width(suffix); room >= 8 {
		name = ansi.Truncate(name, room, "…")
	}
	line := nameStyle(from).Render(name) + dimStyle.Render(suffix)
	return ansi.Truncate(line, width, "…")
}
