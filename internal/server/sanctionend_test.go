package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/natsbroker"
	"github.com/hubbub-chat/hubbub/internal/pgstore"
	"github.com/hubbub-chat/hubbub/internal/redisbroker"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// fakeSanctions is EndBans and EndMutes over a list, for endSanctionsEvery.
type fakeSanctions struct {
	mu   sync.Mutex
	list []chat.Sanction
}

func (f *fakeSanctions) end(kind string) sanctionEnd {
	return func(_ context.Context, now time.Time, limit int) ([]chat.Sanction, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var ended []chat.Sanction
		f.list = slices.DeleteFunc(f.list, func(sn chat.Sanction) bool {
			if sn.Kind == kind && len(ended) < limit && !sn.Until.After(now) {
				ended = append(ended, sn)
				return true
			}
			return false
		})
		return ended, nil
	}
}

// TestEndSanctionsEvery: a timed ban or mute is announced within one
// interval after it ends, not before, and once; one until lifted never is.
func TestEndSanctionsEvery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = 2 * time.Second
		start := time.Now()
		f := &fakeSanctions{list: []chat.Sanction{
			{Room: "lobby", User: "mia", Kind: chat.Ban, Until: start.Add(10 * time.Second)},
			{Room: "lobby", User: "max", Kind: chat.Ban, Until: start.Add(3 * time.Second)},
			{Room: "lobby", User: "forever", Kind: chat.Ban, Until: start.Add(100 * 365 * 24 * time.Hour)},
			{Room: "lobby", User: "mia", Kind: chat.Mute, Until: start.Add(5 * time.Second)},
			{Room: "lobby", User: "moe", Kind: chat.Mute, Until: start.Add(12 * time.Second)},
			{Room: "lobby", User: "forever", Kind: chat.Mute, Until: start.Add(100 * 365 * 24 * time.Hour)},
		}}
		type key struct{ user, kind string }
		var mu sync.Mutex
		announced := map[key]time.Duration{} // when, after start
		count := 0
		quit := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			ends := []sanctionEnd{f.end(chat.Ban), f.end(chat.Mute)}
			endSanctionsEvery(quit, interval, ends, func(sn chat.Sanction) {
				mu.Lock()
				defer mu.Unlock()
				announced[key{sn.User, sn.Kind}] = time.Since(start)
				count++
			}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		}()

		time.Sleep(9 * time.Second)
		synctest.Wait()
		mu.Lock()
		for _, k := range []key{{"mia", chat.Ban}, {"moe", chat.Mute}} {
			if at, ok := announced[k]; ok {
				t.Errorf("%s's %s announced at %v, before it ends", k.user, k.kind, at)
			}
		}
		mu.Unlock()
		time.Sleep(time.Minute)
		synctest.Wait()
		close(quit)
		<-done

		tests := []struct {
			user, kind string
			from, to   time.Duration // announced in [from, to]
		}{
			{"max", chat.Ban, 3 * time.Second, 3*time.Second + interval},
			{"mia", chat.Ban, 10 * time.Second, 10*time.Second + interval},
			{"mia", chat.Mute, 5 * time.Second, 5*time.Second + interval},
			{"moe", chat.Mute, 12 * time.Second, 12*time.Second + interval},
		}
		for _, tt := range tests {
			got, ok := announced[key{tt.user, tt.kind}]
			if !ok || got < tt.from || got > tt.to {
				t.Errorf("%s's %s end announced at %v (%v), want within [%v, %v]", tt.user, tt.kind, got, ok, tt.from, tt.to)
			}
		}
		if count != len(tests) {
			t.Errorf("%d announcements, want %d (each ended sanction once, none for those still running)", count, len(tests))
		}
	})
}

// endCase is a timed sanction whose end is announced: the command that
// sets one, the event that tells its user, the event and the entry that
// announce its end, and what the user may do again after it.
type endCase struct {
	name        string
	op          string
	told, ended string
	entry       string
	again       protocol.Command
}

// endCases are the timed sanctions, bans and mutes.
var endCases = []endCase{
	{"ban", protocol.OpBan, protocol.TypeBanned, protocol.TypeUnbanned, protocol.KindUnban,
		protocol.Command{Op: protocol.OpJoin, Room: "den"}},
	{"mute", protocol.OpMute, protocol.TypeMuted, protocol.TypeUnmuted, protocol.KindUnmute,
		protocol.Command{Op: protocol.OpSend, Room: "den", Body: "back"}},
}

// TestSanctionEndAnnounced: when a timed ban or mute ends, the room gets
// an unban or unmute entry with no from and the user an unbanned or
// unmuted event with no by, once across two nodes that both look for
// ended sanctions; the user may join or send again.
func TestSanctionEndAnnounced(t *testing.T) {
	for _, tt := range endCases {
		t.Run(tt.name, func(t *testing.T) {
			broker := membroker.New()
			t.Cleanup(func() { broker.Close() })
			a, b := twoNodesApart(t, func(c *Config) { c.Broker, c.ModerationCheck = broker, 50*time.Millisecond })
			sanctionEndOnce(t, a, b, tt)
		})
	}
}

// TestSanctionEndAnnouncedCluster is TestSanctionEndAnnounced on
// PostgreSQL, each node with a Redis or NATS broker of its own, as a
// cluster runs.
func TestSanctionEndAnnouncedCluster(t *testing.T) {
	for _, kind := range []string{"redis", "nats"} {
		for _, tt := range endCases {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				a, b := twoNodesPGBroker(t, kind, func(c *Config) { c.ModerationCheck = 50 * time.Millisecond })
				sanctionEndOnce(t, a, b, tt)
			})
		}
	}
}

// sanctionEndOnce bans or mutes (tt) mia, on node b,
// for a second from node a and checks the end's announcement: one event
// to her, without by; one entry without from to the room's members on
// both nodes and in its history; she may join or send again.
func sanctionEndOnce(t *testing.T, a, b *testServer, tt endCase) {
	t.Helper()
	owner := a.account(t, a.register(t, "olga"))
	watcher := b.account(t, b.register(t, "wes"))
	mia := b.account(t, b.register(t, "mia"))
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "den"})
	owner.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})
	watcher.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})
	mia.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})
	owner.ok(protocol.Command{Op: tt.op, Room: "den", User: "mia", Seconds: 1})
	mia.waitFor(tt.told, func(ev protocol.Event) bool { return ev.Type == tt.told })

	ev := mia.waitFor(tt.ended, func(ev protocol.Event) bool { return ev.Type == tt.ended })
	if ev.Room != "den" || ev.User != "mia" || ev.By != "" {
		t.Errorf("%s event = %+v, want mia in den, no by", tt.ended, ev)
	}
	for _, c := range []*tclient{owner, watcher} {
		ev := c.waitFor("the "+tt.entry+" entry", func(ev protocol.Event) bool {
			return ev.Type == protocol.TypeMessage && ev.Message.Kind == tt.entry
		})
		if m := ev.Message; m.Room != "den" || m.User != "mia" || m.From != "" {
			t.Errorf("%s entry = %+v, want mia in den, no from", tt.entry, m)
		}
	}
	mia.ok(tt.again)

	// Both nodes looked for ended sanctions many times meanwhile: one
	// entry, one event.
	time.Sleep(300 * time.Millisecond) // a few more rounds of both nodes
	for _, c := range []*tclient{owner, watcher, mia} {
		for _, ev := range c.eventsBeforePing() {
			if ev.Type == tt.ended || ev.Type == protocol.TypeMessage && ev.Message.Kind == tt.entry {
				t.Errorf("announced again: %s %+v", ev.Type, ev.Message)
			}
		}
	}
	hist := owner.ok(protocol.Command{Op: protocol.OpHistory, Room: "den"})
	n := 0
	for _, m := range hist.Messages {
		if m.Kind == tt.entry {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d %s entries in den's history, want 1", n, tt.entry)
	}
}

// twoNodesPGBroker starts two servers on one PostgreSQL schema, each with
// a broker of its own of kind ("redis" or "nats") on a prefix of this
// test's, as a cluster runs. It skips the test when the broker's
// HUBBUB_TEST_ variable is not set.
func twoNodesPGBroker(t *testing.T, kind string, mut func(*Config)) (a, b *testServer) {
	t.Helper()
	dsn := pgSchema(t)
	env := "HUBBUB_TEST_" + strings.ToUpper(kind)
	url := os.Getenv(env)
	if url == "" {
		t.Skip(env + " is not set")
	}
	prefix := fmt.Sprintf("hubbubtest.t%d.", time.Now().UnixNano())
	node := func() *testServer {
		var broker chat.Broker
		var err error
		switch kind {
		case "redis":
			broker, err = redisbroker.Open(t.Context(), url, redisbroker.Config{Prefix: prefix})
		default:
			broker, err = natsbroker.Open(t.Context(), url, natsbroker.Config{Prefix: prefix})
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { broker.Close() })
		store, err := pgstore.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return newTestServerOn(t, store, nil, func(c *Config) {
			c.Broker = broker
			c.Accounts, c.Access, c.Names = store, store, store
			if mut != nil {
				mut(c)
			}
		})
	}
	return node(), node()
}

// TestSanctionEndNamesGuestUnknownHere: the end of a guest's timed ban or
// mute is announced by a node that never saw the guest (online on the
// other node, whose news is lost to it). The room's entry names the guest
// by the name it had when it was sanctioned, kept with the sanction;
// before, it said "a guest". A sanction stored without a name (before
// stores kept it) still ends as "a guest".
func TestSanctionEndNamesGuestUnknownHere(t *testing.T) {
	for _, tt := range endCases {
		t.Run(tt.name, func(t *testing.T) {
			store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
			if err != nil {
				t.Fatal(err)
			}
			node := func(check time.Duration) func(*Config) {
				return func(c *Config) {
					c.Accounts, c.Access, c.Reads, c.Search, c.Names = store, store, store, store, store
					c.ModerationCheck = check
				}
			}
			// Node a never looks for ended sanctions within the test:
			// node b, which the guest never reached, announces them.
			a := newTestServerOn(t, store, nil, node(time.Hour))
			b := newTestServerOn(t, store, nil, node(50*time.Millisecond))
			owner := a.account(t, a.register(t, "olga"))
			owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "den"})
			owner.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})
			gus := a.client(t, "Gus")
			gus.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})
			wes := b.account(t, b.register(t, "wes"))
			wes.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})

			owner.ok(protocol.Command{Op: tt.op, Room: "den", User: "Gus", Seconds: 1})
			gus.waitFor(tt.told, func(ev protocol.Event) bool { return ev.Type == tt.told })
			// A sanction of another guest stored before the name was kept.
			if err := store.SetSanction(t.Context(), chat.Sanction{Room: "den", User: "~gstoredbefore0000000", Kind: kindOf(tt.op), Until: time.Now().Add(time.Second), By: "olga"}); err != nil {
				t.Fatal(err)
			}

			got := make(map[string]protocol.Message)
			for range 2 {
				ev := wes.waitFor("the "+tt.entry+" entries", func(ev protocol.Event) bool {
					return ev.Type == protocol.TypeMessage && ev.Message.Kind == tt.entry
				})
				got[ev.Message.User] = *ev.Message
			}
			for _, name := range []string{"Gus", "a guest"} {
				m, ok := got[name]
				if !ok {
					t.Errorf("%s entries name %q; want Gus and a guest", tt.entry, slices.Collect(maps.Keys(got)))
					break
				}
				if m.Room != "den" || m.From != "" || m.UserTag == "" {
					t.Errorf("%s entry of %s = %+v, want den, no from, a user_tag", tt.entry, name, m)
				}
			}
			gus.ok(tt.again)
		})
	}
}

// kindOf is the sanction kind an operation sets.
func kindOf(op string) string {
	if op == protocol.OpMute {
		return chat.Mute
	}
	return chat.Ban
}
