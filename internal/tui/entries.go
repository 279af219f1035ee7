package tui

import (
	"sort"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// Room entries (docs/protocol.md, "Room entries"). A window holds every
// entry of its room it has seen, in seq order: plain messages and
// moderation entries are shown as lines; edits, deletions and reactions
// are kept unseen and folded into the message they target by client.Apply
// (the V rule), so that history pages and live events may come in any
// order.

// acts reports whether an entry of kind acts on an earlier message
// (Target) rather than being shown itself.
func acts(kind string) bool {
	switch kind {
	case protocol.KindEdit, protocol.KindDelete, protocol.KindReact, protocol.KindUnreact:
		return true
	}
	return false
}

// shown reports whether an entry of kind is a line of the scrollback: a
// plain message or a moderator's action. Kinds this client does not know
// are not shown (docs/protocol.md: a newer server may add some).
func shown(kind string) bool {
	switch kind {
	case "", protocol.KindInvite, protocol.KindKick, protocol.KindBan, protocol.KindUnban,
		protocol.KindMute, protocol.KindUnmute, protocol.KindTopic, protocol.KindRole:
		return true
	}
	return false
}

// message returns the held plain message with seq, nil if none.
func (w *window) message(seq int64) *protocol.Message {
	i := sort.Search(len(w.entries), func(i int) bool { return w.entries[i].seq >= seq })
	for ; i < len(w.entries) && w.entries[i].seq == seq; i++ {
		if m := w.entries[i].msg; m != nil && m.Kind == "" {
			return m
		}
	}
	if m := w.quotes[seq]; m != nil {
		return m
	}
	return nil
}

// apply folds e into its target, if held (or fetched for a quote).
func (w *window) apply(e protocol.Message) {
	if t := w.message(e.Target); t != nil {
		client.Apply(t, e)
	}
	if q := w.quotes[e.Target]; q != nil {
		client.Apply(q, e)
	}
}

// fold applies every held entry that acts on a message to its target, in
// seq order. The V rule makes applying twice harmless.
func (w *window) fold() {
	for _, e := range w.entries {
		if e.msg != nil && acts(e.msg.Kind) {
			w.apply(*e.msg)
		}
	}
}
