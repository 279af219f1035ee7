package server

import (
	"bytes"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/hub"
	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// lateBroker is one node's side of a shared broker that loses the kicked
// and banned user events and holds back a room's kick or ban entry, and
// everything of that room after it, until released: the entry reaches
// the node late, after a join that read the room past it.
type lateBroker struct {
	chat.Broker
	room string

	mu       sync.Mutex
	holding  bool
	released bool
	held     []func()
	heldOne  chan struct{} // closed when the first entry is held
	once     sync.Once
}

var (
	kickedType = []byte(`"type":"` + protocol.TypeKicked + `"`)
	bannedType = []byte(`"type":"` + protocol.TypeBanned + `"`)
)

func (b *lateBroker) Subscribe(topic string, deliver func([]byte)) (func(), error) {
	return b.Broker.Subscribe(topic, func(p []byte) {
		if topic == hub.UsersTopic && (bytes.Contains(p, kickedType) || bytes.Contains(p, bannedType)) {
			return // lost between nodes
		}
		if topic != b.room {
			deliver(p)
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if !b.released && (b.holding || bytes.Contains(p, kickKind) || bytes.Contains(p, banKind)) {
			b.holding = true
			p := bytes.Clone(p)
			b.held = append(b.held, func() { deliver(p) })
			b.once.Do(func() { close(b.heldOne) })
			return
		}
		deliver(p)
	})
}

// release delivers what was held, in order, and everything after at once.
func (b *lateBroker) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.released = true
	for _, f := range b.held {
		f()
	}
	b.held = nil
}

// TestLateEntryAfterJoin: mia, on node b, joins a room just after she was
// banned from it (or kicked from it, a private room) on node a. Node b's
// cached answer still lets her in, the banned or kicked event never
// reaches node b, and the room's entry arrives there only after her join
// has read the room past it (its seq is at or before her join's since).
// The entry then has node b ask the store: she is out, told so, and gets
// nothing more of the room. Before, she stayed in the room. A kick from a
// public room leaves her in: she may join it again.
func TestLateEntryAfterJoin(t *testing.T) {
	tests := []struct {
		name    string
		private bool
		op      string
		told    string // "" for none: she stays
	}{
		{"ban, public room", false, protocol.OpBan, protocol.TypeBanned},
		{"ban, private room", true, protocol.OpBan, protocol.TypeBanned},
		{"kick, public room", false, protocol.OpKick, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
			if err != nil {
				t.Fatal(err)
			}
			inner := membroker.New()
			t.Cleanup(func() { inner.Close() })
			lb := &lateBroker{Broker: inner, room: "club", heldOne: make(chan struct{})}
			t.Cleanup(lb.release)
			node := func(br chat.Broker) func(*Config) {
				return func(c *Config) {
					c.Accounts, c.Access, c.Reads, c.Search, c.Names = store, store, store, store, store
					c.Broker = br
					// Node b's caches stay as they were; no heal
					// brings the entry before it is released.
					c.ModerationCheck, c.HealInterval = time.Minute, time.Minute
				}
			}
			a := newTestServerOn(t, store, nil, node(inner))
			b := newTestServerOn(t, store, nil, node(lb))
			owner := a.account(t, a.register(t, "olga"))
			wes := b.account(t, b.register(t, "wes"))
			mia := b.account(t, b.register(t, "mia"))
			owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "club", Private: tt.private})
			owner.ok(protocol.Command{Op: protocol.OpJoin, Room: "club"})
			for _, u := range []string{"wes", "mia"} {
				if tt.private {
					owner.ok(protocol.Command{Op: protocol.OpInvite, Room: "club", User: u})
				}
			}
			// wes keeps club served on node b, whose caches of it
			// (sanctions, the row) are from his join; a message
			// delivered there since makes mia's join read the row from
			// the store, past the entry.
			wes.ok(protocol.Command{Op: protocol.OpJoin, Room: "club"})
			owner.ok(protocol.Command{Op: protocol.OpSend, Room: "club", Body: "before"})
			wes.waitFor("before", func(ev protocol.Event) bool { return ev.Type == protocol.TypeMessage && ev.Message.Body == "before" })

			owner.ok(protocol.Command{Op: tt.op, Room: "club", User: "mia", Reason: "bye"})
			<-lb.heldOne
			join := mia.do(protocol.Command{Op: protocol.OpJoin, Room: "club"})
			if join.Type != protocol.TypeOK {
				t.Fatalf("join on node b: %s %s (%s); want ok, node b's cache is behind", join.Type, join.Code, join.Reason)
			}
			lb.release()

			if tt.told != "" {
				ev := mia.waitFor(tt.told, func(ev protocol.Event) bool { return ev.Type == tt.told && ev.Room == "club" })
				if ev.By != "olga" || ev.Reason != "bye" {
					t.Errorf("%s event = %+v, want by olga, reason bye", tt.told, ev)
				}
			}
			// wes's message follows the held entry on node b; mia is
			// told of her mute after it (the hub orders a room's user
			// events after its events).
			after := owner.ok(protocol.Command{Op: protocol.OpSend, Room: "club", Body: "after"})
			wes.waitFor("after", func(ev protocol.Event) bool { return ev.Type == protocol.TypeMessage && ev.Message.Body == "after" })
			owner.ok(protocol.Command{Op: protocol.OpMute, Room: "club", User: "mia"})
			var got []string
			mia.waitFor("muted", func(ev protocol.Event) bool {
				if ev.Type == protocol.TypeMessage && ev.Message.Room == "club" && ev.Message.Seq >= after.Message.Seq {
					got = append(got, ev.Message.Body)
				}
				return ev.Type == protocol.TypeMuted
			})
			inHub := false
			for _, m := range b.srv.hub.Members("club", 10) {
				inHub = inHub || m == "mia"
			}
			stays := tt.told == ""
			if inHub != stays || (len(got) > 0) != stays {
				t.Errorf("mia in club's hub on node b: %v, got its later messages %q; want in the room %v", inHub, got, stays)
			}
		})
	}
}
