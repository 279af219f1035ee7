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

// A timed ban or mute ends by itself: every check compares its Until with
// the clock, so it stops binding on time on every node. Its end is also
// announced, as an unban or unmute is: the room gets an unban or unmute
// entry and the user an unbanned or unmuted event, neither with a by
// (nobody lifted it). Every node looks for ended bans and mutes every
// Config.ModerationCheck; the store hands each one to a single node
// (EndBans and EndMutes remove it as they return it), which announces it,
// so the cluster announces each end once. If that node fails to commit
// the entry, the end goes unannounced; the sanction has ended all the
// same.

// banEnder and muteEnder are the parts of the store that hand over the
// timed bans and mutes that have ended (sqlitestore.Store and
// pgstore.Store have both): each is removed as it is returned, and so
// returned once, to one caller.
type banEnder interface {
	EndBans(ctx context.Context, now time.Time, limit int) ([]chat.Sanction, error)
}

type muteEnder interface {
	EndMutes(ctx context.Context, now time.Time, limit int) ([]chat.Sanction, error)
}

// sanctionEnd is one kind's EndBans or EndMutes.
type sanctionEnd func(ctx context.Context, now time.Time, limit int) ([]chat.Sanction, error)

// sanctionEnds returns the ends acc has, in the order a round asks them.
func sanctionEnds(acc chat.Access) []sanctionEnd {
	var ends []sanctionEnd
	if e, ok := acc.(banEnder); ok {
		ends = append(ends, e.EndBans)
	}
	if e, ok := acc.(muteEnder); ok {
		ends = append(ends, e.EndMutes)
	}
	return ends
}

const (
	// endSanctionsMax is the most ended sanctions one call hands over.
	endSanctionsMax = 500
	// endSanctionsWait bounds one call; a round that fails is tried
	// again at the next.
	endSanctionsWait = 10 * time.Second
)

// endSanctionsEvery takes the sanctions that have ended from each of ends
// every interval, and gives each to announce, until quit is closed.
// Failures are logged at most once per warnEvery, with a count.
func endSanctionsEvery(quit <-chan struct{}, interval time.Duration, ends []sanctionEnd, announce func(chat.Sanction), log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	warn := ratelimit.NewLog(log, "looking for ended bans and mutes failed; their ends are announced once it works", warnEvery)
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		for _, end := range ends {
			for {
				ctx, cancel := context.WithTimeout(context.Background(), endSanctionsWait)
				ended, err := end(ctx, time.Now(), endSanctionsMax)
				cancel()
				if err != nil {
					warn.Add("", "err", err)
					break
				}
				for _, sn := range ended {
					announce(sn)
				}
				if len(ended) < endSanctionsMax {
					break
				}
			}
		}
	}
}

// announceSanctionEnd tells of the end of sn, a timed ban or mute, as an
// unban or unmute tells of a lifted one: the room gets an unban or unmute
// entry without a from, the user's connections an unbanned or unmuted
// event without a by, in that order of effect (the event at the entry's
// commit, before the entry is published, as for unban and unmute). A
// sanction bound to a guest's address (guestIPKey) or the room's refusal
// of guests (guestsKey) is not announced: the guest's own is. A guest is
// named by the name this node knows it by (online here, or seen here
// within guestMemory), else by the name it had when it was sanctioned
// (sn.Name), else (a sanction stored before stores kept that name) as "a
// guest"; its own connections are told by their own name all the same.
func (s *Server) announceSanctionEnd(sn chat.Sanction) {
	if strings.HasPrefix(sn.User, "~ip:") || sn.User == guestsKey {
		return
	}
	kind, typ, what := chat.KindUnban, protocol.TypeUnbanned, "ban"
	if sn.Kind == chat.Mute {
		kind, typ, what = chat.KindUnmute, protocol.TypeUnmuted, "mute"
	}
	s.sanctions.forget(sn.Room, sn.User)
	name, key := sn.User, "" // an account
	if strings.HasPrefix(sn.User, "~g") {
		key = sn.User
		name = s.guests.nameOf(key, time.Now())
		if name == "" {
			name = sn.Name
		}
		if name == "" {
			name = "a guest"
		}
	}
	s.log.Info(what+" ended", "room", sn.Room, "target", sn.User)
	ev := &protocol.Event{Type: typ, Room: sn.Room, User: name}
	b, err := protocol.EncodeEvent(ev)
	if err != nil {
		return
	}
	tell := func() { s.hub.UserEvent(sn.User, sn.Room, b) }
	p := pendingSend{
		msg: chat.NewMessage{Room: sn.Room, Kind: kind, User: name, UserKey: key},
		at:  time.Now(),
		done: func(res chat.AppendResult, err error) {
			tell()
			if err == nil {
				err = res.Err
			}
			if err != nil {
				s.log.Warn("announcing the end of a "+what+" failed", "room", sn.Room, "err", err)
			}
		},
	}
	if !s.commit.submit(p) {
		tell()
	}
}
