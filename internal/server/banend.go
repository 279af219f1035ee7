package server

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/ratelimit"
	"github.com/hubbub-chat/hubbub/protocol"
)

// A timed ban ends by itself: every check compares its Until with the
// clock, so it stops binding on time on every node. Its end is also
// announced, as an unban is: the room gets an unban entry and the user an
// unbanned event, neither with a by (nobody lifted it). Every node looks
// for ended bans every Config.ModerationCheck; the store hands each one
// to a single node (banEnder.EndBans removes it as it returns it), which
// announces it, so the cluster announces each end once. If that node
// fails to commit the entry, the end goes unannounced; the ban has ended
// all the same.

// banEnder is the part of the store that hands over the timed bans that
// have ended (sqlitestore.Store and pgstore.Store have it): each is
// removed as it is returned, and so returned once, to one caller.
type banEnder interface {
	EndBans(ctx context.Context, now time.Time, limit int) ([]chat.Sanction, error)
}

const (
	// endBansMax is the most ended bans one call hands over.
	endBansMax = 500
	// endBansWait bounds one call; a round that fails is tried again at
	// the next.
	endBansWait = 10 * time.Second
)

// endBansEvery takes the bans that have ended from e every interval, and
// gives each to announce, until quit is closed. Failures are logged at
// most once per warnEvery, with a count.
func endBansEvery(quit <-chan struct{}, interval time.Duration, e banEnder, announce func(chat.Sanction), log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	warn := ratelimit.NewLog(log, "looking for ended bans failed; their ends are announced once it works", warnEvery)
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		for {
			ctx, cancel := context.WithTimeout(context.Background(), endBansWait)
			ended, err := e.EndBans(ctx, time.Now(), endBansMax)
			cancel()
			if err != nil {
				warn.Add("", "err", err)
				break
			}
			for _, sn := range ended {
				announce(sn)
			}
			if len(ended) < endBansMax {
				break
			}
		}
	}
}

// announceBanEnd tells of the end of sn, a timed ban: the room gets an
// unban entry without a from, the user's connections an unbanned event
// without a by, in that order of effect (the event at the entry's commit,
// before the entry is published, as for unban). A ban bound to a guest's
// address (guestIPKey) or the room's refusal of guests (guestsKey) is not
// announced: the guest's own ban is. A guest whose name this node does not
// know (it is not online here and was not seen here within guestMemory)
// is told by its own connections' name; the room's entry then names it
// "a guest".
func (s *Server) announceBanEnd(sn chat.Sanction) {
	if strings.HasPrefix(sn.User, "~ip:") || sn.User == guestsKey {
		return
	}
	s.sanctions.forget(sn.Room, sn.User)
	name, key := sn.User, "" // an account
	if strings.HasPrefix(sn.User, "~g") {
		key = sn.User
		name = s.guests.nameOf(key, time.Now())
		if name == "" {
			name = "a guest"
		}
	}
	s.log.Info("ban ended", "room", sn.Room, "target", sn.User)
	ev := &protocol.Event{Type: protocol.TypeUnbanned, Room: sn.Room, User: name}
	b, err := protocol.EncodeEvent(ev)
	if err != nil {
		return
	}
	tell := func() { s.hub.UserEvent(sn.User, sn.Room, b) }
	p := pendingSend{
		msg: chat.NewMessage{Room: sn.Room, Kind: chat.KindUnban, User: name, UserKey: key},
		at:  time.Now(),
		done: func(res chat.AppendResult, err error) {
			tell()
			if err == nil {
				err = res.Err
			}
			if err != nil {
				s.log.Warn("announcing the end of a ban failed", "room", sn.Room, "err", err)
			}
		},
	}
	if !s.commit.submit(p) {
		tell()
	}
}
