package tui

import (
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

// typingShownFor is how long "alice is typing…" stays after her last
// typing event. Clients repeat typing every typingEvery while typing.
const typingShownFor = 6 * time.Second

// window is one entry of the room list: the status window (room "") or a
// room. Owned by the Model's Update.
type window struct {
	room  string // "" for the status window
	topic string
	peer  string // direct-message rooms: the other user

	joining bool // a join is in flight and has not been answered yet
	joined  bool // the join succeeded and no leave since
	gone    bool // the room was deleted: a room joined later is another one

	// entries are the messages (ascending seq, unique) and notes to show.
	entries []entry
	pending []pending // messages sent and not acknowledged yet

	// quotes are messages fetched for a reply's quote that are older than
	// the entries held; fetching marks what is being fetched.
	quotes   map[int64]*protocol.Message
	fetching map[int64]bool

	members map[string]bool
	typing  map[string]time.Time // user → when to stop showing it

	// Who moderates the room (staff.go): the owner and moderators the
	// last join reply named, as of the room's seq staffSeq, with the role
	// and kick entries after it applied.
	private   bool              // a private room or DM: a kick ends a role
	staffList []protocol.Member // the join reply's info.staff or roster
	staffSeq  int64             // the reply's info.last_seq
	roles     map[string]string // account → owner or moderator
	rolesSeq  int64             // the newest entry applied to roles; staffSeq if none

	// The user's own mute here, as the server told it (the muted event
	// of a join, of a mute, and the mute and unmute entries).
	muted      bool
	mutedUntil time.Time // zero: until lifted

	showBlocked bool // /show: messages from blocked accounts are not folded (blocks.go)

	unread    int // plain messages of others after readSeq
	mentioned int // of them, those that mention the user

	// Read positions (unread.go).
	readSeq  int64     // read up to here
	sentRead int64     // the position the server was last told
	readAt   time.Time // when it was told
	mark     int64     // the "── new ──" line goes after this seq…
	marked   bool      // …if set

	topicSeq int64 // seq of the topic entry that set topic; 0: from the join reply

	jumpTo    int64 // /goto: the message to show once held; 0: none
	jumpPages int   // history pages loaded for it
	found     int64 // the message /goto showed, marked by its number

	more    bool // older messages exist on the server than the oldest here
	loading bool // a history page is being fetched

	// Scroll position, saved while another window is shown.
	yOffset  int
	atBottom bool
	// below counts the plain messages of others that arrived while the
	// view was scrolled up, shown as "3 new below"; back at the bottom,
	// it starts again from 0.
	below int
}

// entry is one item of a window's scrollback: a message, or a note (an
// error, the answer to /rooms, …) placed after the message with seq.
type entry struct {
	seq  int64
	msg  *protocol.Message
	note string
	// drawn is the message's lines as windowLines last drew them, with
	// what they were drawn from; nil before. The view draws the window
	// again for every event, and a busy room's thousands of messages,
	// Markdown and wrapping each, took about 100 ms: drawn keeps it to
	// the messages that changed.
	drawn *drawnMsg
}

// drawnMsg is a message's lines in the view and every input they depend
// on: the lines are reused only while all of these are the same.
type drawnMsg struct {
	key   drawKey
	lines []string
}

// drawKey is what a message's lines in the view are made from: the
// message's own fields, and what windowLines and messageLines take from
// elsewhere (the width, the indent a mention takes, the number shown, the
// quoted message's line, the reactions' and the file's lines, who the
// user is).
type drawKey struct {
	width, indent int
	number        bool
	seq           int64
	from, body    string
	deleted       bool
	edited        int64
	quote         string
	reactions     string
	file          string
	self          string
}

// pending is a message the user sent whose acknowledgement has not come.
type pending struct {
	id   int
	body string
}

func newWindow(room string) *window {
	return &window{
		room:     room,
		quotes:   map[int64]*protocol.Message{},
		fetching: map[int64]bool{},
		members:  map[string]bool{},
		typing:   map[string]time.Time{},
		roles:    map[string]string{},
		atBottom: true,
	}
}

// title is how the window is named in the room list and header.
func (w *window) title() string {
	switch {
	case w.room == "":
		return "status"
	case w.peer != "":
		return "@" + SanitizeLine(w.peer)
	}
	return "#" + SanitizeLine(w.room)
}

// oldestSeq returns the smallest seq of the messages held, 0 if none.
func (w *window) oldestSeq() int64 {
	for _, e := range w.entries {
		if e.msg != nil {
			return e.msg.Seq
		}
	}
	return 0
}

// lastSeq returns the largest seq of the messages held, 0 if none.
func (w *window) lastSeq() int64 {
	for i := len(w.entries) - 1; i >= 0; i-- {
		if e := w.entries[i]; e.msg != nil {
			return e.msg.Seq
		}
	}
	return 0
}

// addMessages inserts msgs in seq order, skipping those already held. It
// returns how many were new.
func (w *window) addMessages(msgs ...protocol.Message) int {
	if len(msgs) == 1 && msgs[0].Seq > w.lastSeq() {
		// The common case, a live message: it goes last (notes at the
		// end have the seq of the message before it).
		m := msgs[0]
		w.entries = append(w.entries, entry{seq: m.Seq, msg: &m})
		if acts(m.Kind) {
			w.apply(m)
		}
		return 1
	}
	have := make(map[int64]bool, len(w.entries))
	for _, e := range w.entries {
		if e.msg != nil {
			have[e.msg.Seq] = true
		}
	}
	added := 0
	for _, m := range msgs {
		if have[m.Seq] {
			continue
		}
		have[m.Seq] = true
		m := m
		w.entries = append(w.entries, entry{seq: m.Seq, msg: &m})
		added++
	}
	if added > 0 {
		// Notes sort after the message of the same seq; the sort is
		// stable, so notes keep their order among themselves.
		sort.SliceStable(w.entries, func(i, j int) bool {
			a, b := w.entries[i], w.entries[j]
			if a.seq != b.seq {
				return a.seq < b.seq
			}
			return a.msg != nil && b.msg == nil
		})
		w.fold()
	}
	return added
}

// trim keeps the newest keep entries, and notes that older messages
// exist on the server if it dropped any message.
func (w *window) trim(keep int) {
	if len(w.entries) <= keep {
		return
	}
	drop := w.entries[:len(w.entries)-keep]
	for _, e := range drop {
		if e.msg != nil {
			w.more = true
			break
		}
	}
	w.entries = slices.Clone(w.entries[len(w.entries)-keep:])
}

// restart makes w the window of a new room of the same name, made after
// the room it showed was deleted: the new room's sequence starts again at
// 1, so the deleted room's messages go, and with them what depends on
// their seqs. The notes stay, before the new room's messages.
func (w *window) restart() {
	var notes []entry
	for _, e := range w.entries {
		if e.msg == nil {
			notes = append(notes, entry{note: e.note})
		}
	}
	w.entries, w.pending = notes, nil
	clear(w.quotes)
	clear(w.fetching)
	w.unread, w.mentioned = 0, 0
	w.readSeq, w.sentRead, w.mark, w.marked = 0, 0, 0, false
	w.topicSeq, w.jumpTo, w.jumpPages, w.found = 0, 0, 0, 0
	w.more, w.loading, w.gone = false, false, false
	w.below = 0
	w.staffList, w.staffSeq, w.rolesSeq = nil, 0, 0
	clear(w.roles)
}

// addNote appends a note after the newest message.
func (w *window) addNote(text string) {
	w.entries = append(w.entries, entry{seq: w.lastSeq(), note: text})
}

// dropPending forgets the pending message with id, or else (id < 0) the
// first with body; it reports whether one was dropped.
func (w *window) dropPending(id int, body string) bool {
	for i, p := range w.pending {
		if (id >= 0 && p.id == id) || (id < 0 && p.body == body) {
			w.pending = slices.Delete(w.pending, i, i+1)
			return true
		}
	}
	return false
}

// mutedAt reports whether the user may not write here at now: muted, and
// the mute has not ended by itself. A timed mute ends without a word from
// the server.
func (w *window) mutedAt(now time.Time) bool {
	return w.muted && (w.mutedUntil.IsZero() || now.Before(w.mutedUntil))
}

// setMuted records the user's own mute here, until the Unix ms until (0:
// until lifted), or its end (on false).
func (w *window) setMuted(on bool, until int64) {
	w.muted, w.mutedUntil = on, time.Time{}
	if on && until > 0 {
		w.mutedUntil = time.UnixMilli(until)
	}
}

// typers returns who is typing at now, sorted.
func (w *window) typers(now time.Time) []string {
	var who []string
	for u, until := range w.typing {
		if now.Before(until) {
			who = append(who, u)
		}
	}
	slices.Sort(who)
	return who
}

// expireTyping forgets the typing users whose time ran out at now.
func (w *window) expireTyping(now time.Time) {
	for u, until := range w.typing {
		if !now.Before(until) {
			delete(w.typing, u)
		}
	}
}

// memberList returns the members, sorted.
func (w *window) memberList() []string {
	return slices.Sorted(maps.Keys(w.members))
}
