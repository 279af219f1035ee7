package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/hubbub-chat/hubbub/protocol"
)

// Blocking (docs/protocol.md, "Blocking"). An account's client asks for
// the accounts it blocks once connected, and again after every reconnect
// (an event may have been missed); the blocked and unblocked events keep
// the list. A run of messages in a row from blocked accounts shows as one
// dim line ("2 messages from blocked users — /show to reveal"); /show
// reveals them in the room shown. Their messages count neither as unread
// nor as mentions, ring no bell, and their typing is not shown. The DM
// with a blocked account says "blocked" in the room list, and takes no
// messages (the server would still take the blocker's) until unblocked.

// blocksMsg is the answer to blocks.
type blocksMsg struct {
	list []string
	err  error
}

// blockedMsg is the outcome of /block or /unblock.
type blockedMsg struct {
	user string
	on   bool
	err  error
}

// fetchBlocks asks for the accounts the user blocks; guests block nobody.
func (m *Model) fetchBlocks() tea.Cmd {
	if m.self.Guest || m.self.Name == "" {
		return nil
	}
	c := m.c
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		list, err := c.Blocks(ctx)
		return blocksMsg{list: list, err: err}
	}
}

func (m *Model) blocksListed(msg blocksMsg) {
	if msg.err != nil {
		m.noteTo(m.wins[0], "could not fetch the accounts you block: "+m.errText(msg.err))
		return
	}
	m.blocked = map[string]bool{}
	for _, u := range msg.list {
		m.blocked[u] = true
	}
	m.blocksChanged()
}

// setBlocked applies a blocked (on) or unblocked event.
func (m *Model) setBlocked(user string, on bool) {
	if user == "" || m.blocked[user] == on {
		return
	}
	if m.blocked == nil {
		m.blocked = map[string]bool{}
	}
	if on {
		m.blocked[user] = true
	} else {
		delete(m.blocked, user)
	}
	m.blocksChanged()
}

// blocksChanged counts every room's unread messages and mentions again,
// drops the blocked accounts' typing and folds their messages again.
func (m *Model) blocksChanged() {
	for _, w := range m.wins {
		w.showBlocked = false
		for u := range w.typing {
			if m.blocked[u] {
				delete(w.typing, u)
			}
		}
		if w.room != "" {
			m.recount(w)
		}
	}
	m.dirty = true
}

// fromBlocked reports whether msg, a plain message, is from an account
// the user blocks (a guest may go by a blocked account's name: not them).
func (m *Model) fromBlocked(msg *protocol.Message) bool {
	return msg.Kind == "" && !msg.Guest && m.blocked[msg.From] && !m.own(msg)
}

// blockedPeer returns the other user of w if w is the DM with an account
// the user blocks, and "" otherwise.
func (m *Model) blockedPeer(w *window) string {
	peer := w.peer
	if peer == "" {
		_, peer, _ = dmPeer(w.room, m.self.Name)
	}
	if peer == "" || !m.blocked[peer] {
		return ""
	}
	return peer
}

// blockedText says why nothing is sent to the DM with peer, blocked.
func blockedText(peer string) string {
	name := SanitizeLine(peer)
	return fmt.Sprintf("You block %s: /unblock %s to write here", name, name)
}

// blockCmd runs /block (on) or /unblock.
func (m *Model) blockCmd(name, arg string, on bool) tea.Cmd {
	user, ok := m.otherAccount(name, "Blocking is for accounts", arg)
	if !ok {
		return nil
	}
	c := m.c
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		var err error
		if on {
			err = c.Block(ctx, user)
		} else {
			err = c.Unblock(ctx, user)
		}
		return blockedMsg{user: user, on: on, err: err}
	}
}

func (m *Model) blockDone(msg blockedMsg) {
	verb := map[bool]string{true: "block", false: "unblock"}[msg.on]
	if msg.err != nil {
		m.note(fmt.Sprintf("Could not %s %s: %s", verb, msg.user, m.errText(msg.err)))
		return
	}
	// The event that follows says the same; a block made already sends none.
	m.setBlocked(msg.user, msg.on)
	if msg.on {
		m.note(fmt.Sprintf("You block %s: they cannot message you, and their messages fold away (/show reveals them). /unblock %s lifts it.", msg.user, msg.user))
	} else {
		m.note(fmt.Sprintf("You no longer block %s.", msg.user))
	}
}

// listBlocks runs /blocks.
func (m *Model) listBlocks() {
	if m.self.Guest {
		m.note("Blocking is for accounts.")
		return
	}
	if len(m.blocked) == 0 {
		m.note("You block nobody.")
		return
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for u := range m.blocked {
			if !yield(SanitizeLine(u)) {
				return
			}
		}
	})
	m.note("You block: " + strings.Join(names, ", "))
}

// showBlocked runs /show: the shown room's messages from blocked accounts
// are shown until the list of blocks changes.
func (m *Model) showBlockedCmd() {
	w := m.current()
	if w.room == "" || w.showBlocked || !m.anyFolded(w) {
		m.note("Nothing folded here.")
		return
	}
	w.showBlocked = true
	m.dirty = true
}

// anyFolded reports whether w holds a message it folds.
func (m *Model) anyFolded(w *window) bool {
	for _, e := range w.entries {
		if e.msg != nil && m.fromBlocked(e.msg) {
			return true
		}
	}
	return false
}

// foldedRun returns how many of w.entries from i on are a run of messages
// from blocked accounts that w folds (entries not shown, such as edits,
// do not end a run), and the index after the run; 0 if entry i starts none.
func (m *Model) foldedRun(w *window, i int) (n, next int) {
	if w.showBlocked {
		return 0, i
	}
	for next = i; next < len(w.entries); next++ {
		msg := w.entries[next].msg
		if msg == nil {
			break
		}
		if !shown(msg.Kind) {
			continue
		}
		if !m.fromBlocked(msg) {
			break
		}
		n++
	}
	if n == 0 {
		return 0, i
	}
	return n, next
}

// foldLine is the line a run of n messages from blocked accounts shows as.
func foldLine(n int) string {
	if n == 1 {
		return "1 message from a blocked user — /show to reveal"
	}
	return fmt.Sprintf("%d messages from blocked users — /show to reveal", n)
}
