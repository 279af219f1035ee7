// Package tui is the full-screen terminal user interface of hubbub's
// terminal client, built with Bubble Tea: a room list with unread counts,
// the message view of the current room with scrollback that loads older
// messages from history, who is in the room (its owner and moderators
// marked and first, staff.go) and who is typing, an input line that sends
// messages and takes slash commands, and a status bar with the
// connection's state. A room shows every entry of its sequence: plain
// messages with their edits, deletions, reactions, reply quotes and files
// folded in (entries.go, message.go), and moderators' actions as lines.
// Unread counts follow the server's read positions (unread.go); mentions
// ring the bell (mention.go); /edit, /delete, /react, /reply (pick.go) and
// /search (search.go) act on messages by their number.
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
	"fmt"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

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
	// JoinRoster joins a room: its description, who is in it, and a
	// private room's or DM's roster (a public room's owner and
	// moderators are info.Staff).
	JoinRoster(ctx context.Context, room string) (protocol.RoomInfo, []string, []protocol.Member, error)
	Leave(ctx context.Context, room string) error
	Send(ctx context.Context, room, body string) (protocol.Message, error)
	HistoryBefore(ctx context.Context, room string, before int64, limit int) ([]protocol.Message, bool, error)
	Typing(ctx context.Context, room string) error
	DM(ctx context.Context, user string) (protocol.RoomInfo, error)
	Read(ctx context.Context, room string, seq int64) error

	// Acting on messages (pick.go).
	SendReply(ctx context.Context, room string, replyTo int64, body string) (protocol.Message, error)
	Edit(ctx context.Context, room string, seq int64, body string) (protocol.Message, error)
	Delete(ctx context.Context, room string, seq int64) (protocol.Message, error)
	React(ctx context.Context, room string, seq int64, emoji string) (protocol.Message, error)
	Search(ctx context.Context, query string, opts client.SearchOptions) ([]protocol.Message, bool, error)

	// Managing rooms (manage.go).
	CreatePrivate(ctx context.Context, room, topic string) (protocol.RoomInfo, error)
	Invite(ctx context.Context, room, user string) error
	Kick(ctx context.Context, room, user, reason string) error
	Ban(ctx context.Context, room, user, reason string, d time.Duration) error
	Unban(ctx context.Context, room, user string) error
	Mute(ctx context.Context, room, user, reason string, d time.Duration) error
	Unmute(ctx context.Context, room, user string) error
	SetTopic(ctx context.Context, room, topic string) error
	Promote(ctx context.Context, room, user string) error
	Demote(ctx context.Context, room, user string) error

	// Directory search and room lifecycle.
	SearchRooms(ctx context.Context, query string, archived bool) ([]protocol.RoomInfo, error)
	ArchiveRoom(ctx context.Context, room string) error
	UnarchiveRoom(ctx context.Context, room string) error
	DeleteRoom(ctx context.Context, room string) error

	// Blocking (blocks.go).
	Block(ctx context.Context, user string) error
	Unblock(ctx context.Context, user string) error
	Blocks(ctx context.Context) ([]string, error)
}

var _ Client = (*client.Client)(nil)

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

	// Bell rings the terminal's bell, when someone mentions the user. Nil
	// means no bell (Run writes BEL to the terminal).
	Bell func()
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
	ring   func()         // Options.Bell

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
	conn     int  // the number of the last connection Connected reported

	lastTyping  map[string]time.Time // room → when typing was last sent
	recall      []string             // lines entered, oldest first, for Up and Down
	recallAt    int                  // index in recall of the line shown; len(recall) when none
	draft       string               // what was typed before Up recalled a line
	completed   completion           // the last completion of a name by Tab (mention.go)
	nextPending int
	quitting    bool

	blocked map[string]bool // the accounts the user blocks (blocks.go)

	results []protocol.Message // of the last /search
	lineOf  map[int64]int      // seq → its first line in the view, as last rendered
	// authors holds author lines as authorLine drew them, for the next
	// render; emptied when it grows past maxAuthorLines.
	authors map[authorKey]string
}

// New returns a Model for opts. The model is connected already: the
// caller dialled the client.
func New(opts Options) *Model {
	in := textinput.New()
	in.Prompt = "> "
	in.Placeholder = inputPlaceholder
	// Room for more than a message may have (MaxBodyBytes, in bytes):
	// text pasted over the limit is refused whole (submit), not cut
	// where the input stops taking it and sent without its end.
	in.CharLimit = maxInputRunes
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
		ring:       opts.Bell,
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
	cmds := []tea.Cmd{waitEvents(m.events), m.tick(), m.listRooms(m.wins[0]), m.fetchBlocks()}
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
		roster  []protocol.Member // private rooms and DMs
		refresh bool              // a re-join after a reconnect, for members, topic and roles
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
	quoteMsg struct {
		room string
		seq  int64
		msgs []protocol.Message
	}
	roomsMsg struct {
		to       *window // where to show the list
		query    string  // /rooms TEXT: the TEXT
		archived bool    // /rooms -a
		rooms    []protocol.RoomInfo
		err      error
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
		cmds := []tea.Cmd{m.tick()}
		for _, w := range m.wins {
			w.expireTyping(now)
			cmds = append(cmds, m.sendRead(w, false))
		}
		cmd = tea.Batch(cmds...)
	case joinedMsg:
		cmd = m.joined(msg)
	case historyMsg:
		cmd = m.history(msg)
	case quoteMsg:
		m.quoted(msg)
	case sentMsg:
		m.sent(msg)
	case leftMsg:
		m.left(msg)
	case createdMsg:
		cmd = m.created(msg)
	case roomsMsg:
		m.roomsListed(msg)
	case managedMsg:
		m.managed(msg)
	case entryMsg:
		m.entryDone(msg)
	case searchedMsg:
		m.searched(msg)
	case blocksMsg:
		m.blocksListed(msg)
	case blockedMsg:
		m.blockDone(msg)
	}
	if w := m.current(); w.joined && w.lastSeq() > w.readSeq {
		cmd = tea.Batch(cmd, m.markRead(w))
	}
	m.syncPlaceholder()
	if m.dirty {
		m.render()
	}
	if w := m.current(); w.below > 0 && m.height > 0 && m.vp.AtBottom() {
		w.below = 0 // seen
	}
	return m, cmd
}
