// Package tui is the full-screen terminal user interface of hubbub's
// terminal client, built with Bubble Tea: a room list with unread counts,
// the message view of the current room with scrollback that loads older
// messages from history, who is in the room and who is typing, an input
// line that sends messages and takes slash commands, and a status bar with
// the connection's state.
//
// Everything that comes from the network (names, bodies, topics, room
// names, error reasons) goes through Sanitize or SanitizeLine before it
// reaches the terminal, so a message can never move the cursor, change the
// window title, hide text or reverse it.
//
// The Model talks to the server through the Client interface, which
// *client.Client implements, and reads the client's events from a channel;
// tests drive it with a fake and by feeding messages to Update.
package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// Client is what the user interface needs of a connection to a hubbub
// server. *client.Client implements it; its methods must be safe for
// concurrent use, because the Model calls them from Bubble Tea commands.
type Client interface {
	Self() protocol.Identity
	Rooms(ctx context.Context) ([]protocol.RoomInfo, error)
	Create(ctx context.Context, room, topic string) (protocol.RoomInfo, error)
	Join(ctx context.Context, room string) (protocol.RoomInfo, []string, error)
	Leave(ctx context.Context, room string) error
	Send(ctx context.Context, room, body string) (protocol.Message, error)
	HistoryBefore(ctx context.Context, room string, before int64, limit int) ([]protocol.Message, bool, error)
	Typing(ctx context.Context, room string) error
}

var _ Client = (*client.Client)(nil)

// dmOpener is implemented by a client that can open a direct-message room
// (protocol op "dm"). Package client does not offer it yet; /dm uses it
// when the client has it and otherwise joins the DM room by name, which
// works once the room exists.
type dmOpener interface {
	DM(ctx context.Context, user string) (protocol.RoomInfo, error)
}

// Options configure a Model. Client is required; every other field may
// be left zero.
type Options struct {
	Client Client

	// Events is the client's event channel (client.Client.Events). Nil
	// means no events: nothing but the replies to commands is shown.
	Events <-chan client.Event

	// Server is the server's URL, shown in the status window.
	Server string

	// Join lists rooms to join at start; the first is shown.
	Join []string

	// Mouse turns on mouse reporting, for the wheel (Run only). It keeps
	// the terminal from selecting text with the mouse.
	Mouse bool

	// Location is the time zone of message times (default time.Local).
	Location *time.Location

	// Now returns the current time (default time.Now).
	Now func() time.Time
}

const (
	opTimeout   = 20 * time.Second // most operations
	sendTimeout = 2 * time.Minute  // a send, which survives reconnects
	typingEvery = 3 * time.Second  // the most often a typing command is sent
	historyPage = 50               // messages per history fetch
	eventBatch  = 256              // the most client events handled in one Update
	groupGap    = 5 * time.Minute  // messages of one author further apart start a new group
	maxEntries  = 3000             // messages and notes a window keeps while its end is shown
	maxRecall   = 100              // lines entered that Up recalls
)

// Model is the state of the user interface: a tea.Model. Use it through
// a tea.Program (see Run); its methods are not safe for concurrent use.
type Model struct {
	// Immutable after New.
	c      Client
	events <-chan client.Event
	server string
	loc    *time.Location
	now    func() time.Time
	join   []string
	tick   func() tea.Cmd // the once-a-second clock; tests stop it

	width, height int
	wins          []*window // wins[0] is the status window
	cur           int       // index in wins of the window shown
	input         textinput.Model
	vp            viewport.Model
	dirty         bool // the shown window changed: re-render the viewport

	// The connection, as the client's state events tell it.
	state    client.State
	self     protocol.Identity
	attempt  int
	next     time.Time
	stateErr error
	wasDown  bool // Reconnecting was seen since the last Connected

	lastTyping  map[string]time.Time // room → when typing was last sent
	recall      []string             // lines entered, oldest first, for Up and Down
	recallAt    int                  // index in recall of the line shown; len(recall) when none
	draft       string               // what was typed before Up recalled a line
	nextPending int
	quitting    bool
}

// New returns a Model for opts. The model is connected already: the
// caller dialled the client.
func New(opts Options) *Model {
	in := textinput.New()
	in.Prompt = "> "
	in.Placeholder = "message, or /help"
	in.CharLimit = protocol.MaxBodyBytes
	in.Cursor.SetMode(cursor.CursorStatic)
	in.Focus()
	m := &Model{
		c:          opts.Client,
		events:     opts.Events,
		server:     opts.Server,
		loc:        opts.Location,
		now:        opts.Now,
		join:       opts.Join,
		input:      in,
		vp:         viewport.New(0, 0),
		state:      client.Connected,
		self:       opts.Client.Self(),
		lastTyping: map[string]time.Time{},
		tick:       tick,
	}
	if m.loc == nil {
		m.loc = time.Local
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.vp.KeyMap = viewport.KeyMap{} // keys are the input's; the model scrolls the viewport itself
	status := newWindow("")
	if m.server != "" {
		status.addNote(fmt.Sprintf("Connected to %s as %s.", m.server, m.selfLabel()))
	}
	status.addNote("Type /help for the commands. Tab or Ctrl+N/Ctrl+P switch rooms, PgUp/PgDn scroll.")
	m.wins = []*window{status}
	m.dirty = true
	return m
}

// Init joins the rooms of Options.Join and starts reading events.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{waitEvents(m.events), m.tick(), m.listRooms(m.wins[0])}
	for i, room := range m.join {
		cmds = append(cmds, m.startJoin(room, "", i == 0))
	}
	return tea.Batch(cmds...)
}

// Messages the model sends itself from commands.
type (
	eventsMsg       []client.Event // a batch of client events, in order
	eventsClosedMsg struct{}       // the client's events channel is closed
	tickMsg         time.Time
	joinedMsg       struct {
		room    string
		info    protocol.RoomInfo
		members []string
		refresh bool // a re-join after a reconnect, for members and topic
		err     error
	}
	historyMsg struct {
		room  string
		msgs  []protocol.Message
		more  bool
		older bool // fetched because the user scrolled to the top
		err   error
	}
	sentMsg struct {
		room string
		id   int // of the pending message
		msg  protocol.Message
		err  error
	}
	leftMsg struct {
		room string
		err  error
	}
	createdMsg struct {
		room string
		err  error
	}
	roomsMsg struct {
		to    *window // where to show the list
		rooms []protocol.RoomInfo
		err   error
	}
)

// waitEvents returns a command that waits for the next client event and
// takes whatever else is ready with it, up to eventBatch.
func waitEvents(ch <-chan client.Event) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return eventsClosedMsg{}
		}
		batch := eventsMsg{ev}
		for len(batch) < eventBatch {
			select {
			case ev, ok := <-ch:
				if !ok {
					return batch // the next wait reports the close
				}
				batch = append(batch, ev)
			default:
				return batch
			}
		}
		return batch
	}
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Update applies msg to the model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
	case tea.KeyMsg:
		cmd = m.key(msg)
	case tea.MouseMsg:
		cmd = m.mouse(msg)
	case eventsMsg:
		var cmds []tea.Cmd
		for _, ev := range msg {
			cmds = append(cmds, m.event(ev))
		}
		cmds = append(cmds, waitEvents(m.events))
		cmd = tea.Batch(cmds...)
	case eventsClosedMsg:
		if m.state != client.Closed {
			m.state = client.Closed
		}
	case tickMsg:
		now := m.now()
		for _, w := range m.wins {
			w.expireTyping(now)
		}
		cmd = m.tick()
	case joinedMsg:
		cmd = m.joined(msg)
	case historyMsg:
		m.history(msg)
	case sentMsg:
		m.sent(msg)
	case leftMsg:
		m.left(msg)
	case createdMsg:
		cmd = m.created(msg)
	case roomsMsg:
		m.roomsListed(msg)
	}
	if m.dirty {
		m.render()
	}
	return m, cmd
}

// event applies one client event.
func (m *Model) event(ev client.Event) tea.Cmd {
	switch ev := ev.(type) {
	case client.MessageEvent:
		msg := ev.Message
		w := m.find(msg.Room)
		if w == nil || w.addMessages(msg) == 0 {
			return nil
		}
		delete(w.typing, msg.From)
		if len(w.entries) > maxEntries+maxEntries/4 && (w != m.current() || m.vp.AtBottom()) {
			// Nobody is reading the old end: let it go (PgUp fetches it
			// again).
			w.trim(maxEntries)
			w.yOffset, w.atBottom = 0, true
		}
		if msg.From == m.self.Name && msg.Guest == m.self.Guest {
			w.dropPending(-1, msg.Body)
		} else if w != m.current() {
			w.unread++
		}
		m.touch(w)
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
		if w := m.find(ev.Room); w != nil && ev.User != m.self.Name {
			w.typing[ev.User] = m.now().Add(typingShownFor)
		}
	case client.StateEvent:
		return m.stateChanged(ev)
	case client.OtherEvent:
		m.other(ev.Event)
	case client.ErrorEvent:
		w := m.find(ev.Room)
		if ev.Room == "" || w == nil {
			m.noteTo(m.wins[0], "error: "+errText(ev.Err))
			return nil
		}
		w.joined = false
		m.noteTo(w, fmt.Sprintf("lost %s: %s; /join %s to try again", w.title(), errText(ev.Err), SanitizeLine(w.room)))
	}
	return nil
}

// other applies a server event the client has no type of its own for:
// the moderation events, topic and role changes, and invitations.
func (m *Model) other(ev protocol.Event) {
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
		until = " until " + time.UnixMilli(ev.Until).In(m.loc).Format("Mon 2 Jan 15:04")
	}
	var text string
	switch ev.Type {
	case protocol.TypeInvited:
		if _, peer, ok := dmPeer(ev.Room, m.self.Name); ok {
			m.noteTo(m.wins[0], fmt.Sprintf("%s opened a direct-message room with you: /dm %s", by, SanitizeLine(peer)))
		} else {
			m.noteTo(m.wins[0], fmt.Sprintf("%s invited you to %s: /join %s", by, room, SanitizeLine(ev.Room)))
		}
		return
	case protocol.TypeKicked, protocol.TypeBanned:
		verb := map[string]string{protocol.TypeKicked: "kicked from", protocol.TypeBanned: "banned from"}[ev.Type]
		text = fmt.Sprintf("%s %s %s by %s%s%s", who, verbFor(who, "was", "were"), verb+" "+room, by, until, why)
		if w != nil {
			delete(w.members, ev.User)
			if self {
				w.joined = false
			}
		}
	case protocol.TypeMuted:
		text = fmt.Sprintf("%s %s muted in %s by %s%s%s", who, verbFor(who, "was", "were"), room, by, until, why)
	case protocol.TypeUnmuted:
		text = fmt.Sprintf("%s can speak again in %s (%s lifted the mute)", who, room, by)
	case protocol.TypeUnbanned:
		text = fmt.Sprintf("%s may join %s again (%s lifted the ban)", who, room, by)
	case protocol.TypeTopic:
		if w != nil {
			w.topic = ev.Topic
		}
		text = fmt.Sprintf("%s set the topic: %s", by, SanitizeLine(ev.Topic))
		if ev.Topic == "" {
			text = by + " cleared the topic"
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
		return
	}
	if w == nil {
		w = m.wins[0]
	}
	m.noteTo(w, text)
}

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
		if !m.wasDown {
			return nil
		}
		m.wasDown = false
		m.noteTo(m.wins[0], "connected again")
		var cmds []tea.Cmd
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
			text += ": " + errText(ev.Err)
		}
		m.noteTo(m.current(), text+"; /quit to exit")
	}
	return nil
}

// key handles a key press.
func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	switch msg.String() {
	case "ctrl+c":
		return m.quit()
	case "enter":
		return m.submit()
	case "tab", "ctrl+n":
		m.show((m.cur + 1) % len(m.wins))
		return nil
	case "shift+tab", "ctrl+p":
		m.show((m.cur + len(m.wins) - 1) % len(m.wins))
		return nil
	case "pgup":
		m.vp.PageUp()
		return m.scrolled()
	case "pgdown":
		m.vp.PageDown()
		return m.scrolled()
	case "esc":
		m.vp.GotoBottom()
		return m.scrolled()
	case "up", "down":
		m.recallLine(msg.String() == "up")
		return nil
	case "alt+1", "alt+2", "alt+3", "alt+4", "alt+5", "alt+6", "alt+7", "alt+8", "alt+9":
		if i := int(msg.String()[4] - '1'); i < len(m.wins) {
			m.show(i)
		}
		return nil
	}
	before := m.input.Value()
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if m.input.Value() != before {
		return tea.Batch(cmd, m.typed())
	}
	return cmd
}

// mouse handles the wheel (when Options.Mouse turned mouse reporting on).
func (m *Model) mouse(msg tea.MouseMsg) tea.Cmd {
	if msg.Action != tea.MouseActionPress {
		return nil
	}
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		m.vp.ScrollUp(3)
	case tea.MouseButtonWheelDown:
		m.vp.ScrollDown(3)
	default:
		return nil
	}
	return m.scrolled()
}

// scrolled remembers where the shown window is scrolled to, and loads
// older messages when the view reached the top.
func (m *Model) scrolled() tea.Cmd {
	w := m.current()
	w.yOffset, w.atBottom = m.vp.YOffset, m.vp.AtBottom()
	if !m.vp.AtTop() || !w.joined || !w.more || w.loading {
		return nil
	}
	w.loading = true
	m.touch(w)
	return m.historyCmd(w.room, w.oldestSeq(), true)
}

// typed sends a typing command for the shown room, at most every
// typingEvery, while the user types a message (not a command).
func (m *Model) typed() tea.Cmd {
	w := m.current()
	v := m.input.Value()
	if !w.joined || v == "" || strings.HasPrefix(v, "/") {
		return nil
	}
	now := m.now()
	if last, ok := m.lastTyping[w.room]; ok && now.Sub(last) < typingEvery {
		return nil
	}
	m.lastTyping[w.room] = now
	c, room := m.c, w.room
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		_ = c.Typing(ctx, room) // advisory: a lost typing is not worth a word
		return nil
	}
}

// submit handles Enter: a command, or a message to the shown room.
func (m *Model) submit() tea.Cmd {
	text := m.input.Value()
	m.input.Reset()
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if n := len(m.recall); n == 0 || m.recall[n-1] != text {
		m.recall = append(m.recall, text)
		if len(m.recall) > maxRecall {
			m.recall = slices.Delete(m.recall, 0, len(m.recall)-maxRecall)
		}
	}
	m.recallAt, m.draft = len(m.recall), ""
	if strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "//") {
		return m.command(text)
	}
	text = strings.TrimPrefix(text, "/") // "//x" sends "/x"
	return m.send(text)
}

// recallLine puts the line entered before (older) or after the one shown
// into the input, as shells do.
func (m *Model) recallLine(older bool) {
	switch {
	case older && m.recallAt > 0:
		if m.recallAt == len(m.recall) {
			m.draft = m.input.Value()
		}
		m.recallAt--
	case !older && m.recallAt < len(m.recall):
		m.recallAt++
	default:
		return
	}
	line := m.draft
	if m.recallAt < len(m.recall) {
		line = m.recall[m.recallAt]
	}
	m.input.SetValue(line)
	m.input.CursorEnd()
}

func (m *Model) quit() tea.Cmd {
	m.quitting = true
	return tea.Quit
}

// send sends body to the shown room, showing it as pending until the
// server acknowledges it.
func (m *Model) send(body string) tea.Cmd {
	w := m.current()
	if !w.joined {
		m.note("You are not in a room here: /join ROOM first.")
		return nil
	}
	if err := protocol.CheckBody(body); err != nil {
		m.note("Not sent: " + errText(err))
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
		msg, err := c.Send(ctx, room, body)
		return sentMsg{room: room, id: id, msg: msg, err: err}
	}
}

func (m *Model) sent(msg sentMsg) {
	w := m.find(msg.room)
	if w == nil {
		return
	}
	w.dropPending(msg.id, "")
	if msg.err != nil {
		m.noteTo(w, "Not sent: "+errText(msg.err))
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
		info, members, err := c.Join(ctx, room)
		return joinedMsg{room: room, info: info, members: members, refresh: refresh, err: err}
	}
}

func (m *Model) joined(msg joinedMsg) tea.Cmd {
	w := m.find(msg.room)
	if w == nil {
		return nil // closed meanwhile
	}
	if msg.err != nil {
		if msg.refresh || w.joined {
			m.noteTo(w, "could not refresh the room: "+errText(msg.err))
			return nil
		}
		text := fmt.Sprintf("Cannot join %s: %s", w.title(), errText(msg.err))
		if w.peer != "" && protocol.CodeOf(msg.err) == protocol.CodeNoSuchRoom {
			text += " (this client cannot open a direct-message room yet: its library has no dm operation)"
		}
		m.close(w)
		m.note(text)
		return nil
	}
	first := !w.joined
	w.joining, w.joined = false, true
	w.topic = msg.info.Topic
	if msg.info.Peer != "" {
		w.peer = msg.info.Peer
	}
	clear(w.members)
	for _, u := range msg.members {
		w.members[u] = true
	}
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

func (m *Model) history(msg historyMsg) {
	w := m.find(msg.room)
	if w == nil {
		return
	}
	w.loading = false
	m.touch(w)
	if msg.err != nil {
		m.noteTo(w, "could not load history: "+errText(msg.err))
		return
	}
	w.more = msg.more
	w.addMessages(msg.msgs...)
	if !msg.older || w != m.current() {
		return
	}
	// Keep the lines the user was reading where they are: the new ones
	// go above them.
	before := m.vp.TotalLineCount()
	m.render()
	m.vp.SetYOffset(m.vp.YOffset + m.vp.TotalLineCount() - before)
	w.yOffset, w.atBottom = m.vp.YOffset, m.vp.AtBottom()
}

func (m *Model) left(msg leftMsg) {
	w := m.find(msg.room)
	if w == nil {
		return
	}
	if msg.err != nil {
		m.noteTo(w, "Cannot leave: "+errText(msg.err))
		return
	}
	m.close(w)
	m.note("Left #" + SanitizeLine(msg.room) + ".")
}

func (m *Model) created(msg createdMsg) tea.Cmd {
	if msg.err != nil {
		m.note(fmt.Sprintf("Cannot create #%s: %s", msg.room, errText(msg.err)))
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

func (m *Model) roomsListed(msg roomsMsg) {
	to := msg.to
	if m.index(to.room) < 0 && to != m.wins[0] {
		to = m.current() // closed meanwhile
	}
	if msg.err != nil {
		m.noteTo(to, "Cannot list rooms: "+errText(msg.err))
		return
	}
	if len(msg.rooms) == 0 {
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
		if w := m.find(r.Name); w != nil && w.joined {
			line += " joined"
		}
		if r.Topic != "" {
			line += "  " + SanitizeLine(r.Topic)
		}
		m.noteTo(to, line)
	}
}

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
	w.unread = 0
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
// error text otherwise. The caller sanitizes it.
func errText(err error) string {
	var perr *protocol.Error
	if errors.As(err, &perr) && perr.Reason != "" {
		return perr.Reason
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer from the server in time"
	case errors.Is(err, client.ErrClosed):
		return "the connection is closed"
	}
	return err.Error()
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
