package server

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/protocol"
)

// fakeBans is a banEnder over a list, for endBansEvery.
type fakeBans struct {
	mu   sync.Mutex
	bans []chat.Sanction
}

func (f *fakeBans) EndBans(_ context.Context, now time.Time, limit int) ([]chat.Sanction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ended []chat.Sanction
	f.bans = slices.DeleteFunc(f.bans, func(sn chat.Sanction) bool {
		if len(ended) < limit && !sn.Until.After(now) {
			ended = append(ended, sn)
			return true
		}
		return false
	})
	return ended, nil
}

// TestEndBansEvery: a timed ban is announced within one interval after it
// ends, not before, and once; a ban until lifted never is.
func TestEndBansEvery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = 2 * time.Second
		start := time.Now()
		f := &fakeBans{bans: []chat.Sanction{
			{Room: "lobby", User: "mia", Kind: chat.Ban, Until: start.Add(10 * time.Second)},
			{Room: "lobby", User: "max", Kind: chat.Ban, Until: start.Add(3 * time.Second)},
			{Room: "lobby", User: "forever", Kind: chat.Ban, Until: start.Add(100 * 365 * 24 * time.Hour)},
		}}
		var mu sync.Mutex
		announced := map[string]time.Duration{} // user → when, after start
		count := 0
		quit := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			endBansEvery(quit, interval, f, func(sn chat.Sanction) {
				mu.Lock()
				defer mu.Unlock()
				announced[sn.User] = time.Since(start)
				count++
			}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		}()

		time.Sleep(9 * time.Second)
		synctest.Wait()
		mu.Lock()
		if _, ok := announced["mia"]; ok {
			t.Errorf("mia's ban announced at %v, before it ends at 10s", announced["mia"])
		}
		mu.Unlock()
		time.Sleep(time.Minute)
		synctest.Wait()
		close(quit)
		<-done

		tests := []struct {
			user     string
			from, to time.Duration // announced in [from, to]
		}{
			{"max", 3 * time.Second, 3*time.Second + interval},
			{"mia", 10 * time.Second, 10*time.Second + interval},
		}
		for _, tt := range tests {
			got, ok := announced[tt.user]
			if !ok || got < tt.from || got > tt.to {
				t.Errorf("%s's ban end announced at %v (%v), want within [%v, %v]", tt.user, got, ok, tt.from, tt.to)
			}
		}
		if count != 2 {
			t.Errorf("%d announcements, want 2 (each ended ban once, none for the ban still running)", count)
		}
	})
}

// TestBanEndAnnounced: when a timed ban ends, the room gets an unban entry
// with no from and the user an unbanned event with no by, once across two
// nodes that both look for ended bans; the user may join again.
func TestBanEndAnnounced(t *testing.T) {
	broker := membroker.New()
	t.Cleanup(func() { broker.Close() })
	a, b := twoNodesApart(t, func(c *Config) { c.Broker, c.ModerationCheck = broker, 50*time.Millisecond })
	owner := a.account(t, a.register(t, "olga"))
	watcher := b.account(t, b.register(t, "wes"))
	mia := b.account(t, b.register(t, "mia"))
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "den"})
	owner.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})
	watcher.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})
	mia.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})
	owner.ok(protocol.Command{Op: protocol.OpBan, Room: "den", User: "mia", Seconds: 1})
	mia.waitFor("banned", func(ev protocol.Event) bool { return ev.Type == protocol.TypeBanned })

	ev := mia.waitFor("unbanned", func(ev protocol.Event) bool { return ev.Type == protocol.TypeUnbanned })
	if ev.Room != "den" || ev.User != "mia" || ev.By != "" {
		t.Errorf("unbanned event = %+v, want mia in den, no by", ev)
	}
	for _, c := range []*tclient{owner, watcher} {
		ev := c.waitFor("the unban entry", func(ev protocol.Event) bool {
			return ev.Type == protocol.TypeMessage && ev.Message.Kind == protocol.KindUnban
		})
		if m := ev.Message; m.Room != "den" || m.User != "mia" || m.From != "" {
			t.Errorf("unban entry = %+v, want mia in den, no from", m)
		}
	}
	mia.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})

	// Both nodes looked for ended bans many times meanwhile: one entry.
	time.Sleep(200 * time.Millisecond) // a few more rounds of both nodes
	hist := owner.ok(protocol.Command{Op: protocol.OpHistory, Room: "den"})
	n := 0
	for _, m := range hist.Messages {
		if m.Kind == protocol.KindUnban {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d unban entries in den's history, want 1", n)
	}
}
