package server

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// pausedSanctions is a node's chat.Access whose first RoomSanctions of one
// room, once armed, reads the store and then waits, answer in hand, until
// released: a join that asks it has decided on the room's sanctions as
// they were before whatever happens meanwhile.
type pausedSanctions struct {
	chat.Access
	mu      sync.Mutex
	room    string        // armed for this room; "" once used
	holding chan struct{} // closed when the armed read has its answer
	release chan struct{} // closed by the test to let it return
}

// pausedPair starts two nodes on one SQLite store, with brokers of their
// own (an event of one never reaches the other), caches that outlive the
// test and heal rounds run by hand; node b reads the rooms' sanctions
// through paused.
func pausedPair(t *testing.T) (a, b *testServer, paused *pausedSanctions) {
	t.Helper()
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	paused = &pausedSanctions{Access: store}
	node := func(acc chat.Access) func(*Config) {
		return func(c *Config) {
			c.Accounts, c.Access, c.Reads, c.Search, c.Names = store, acc, store, store, store
			c.ModerationCheck, c.HealInterval = time.Hour, time.Hour
		}
	}
	return newTestServerOn(t, store, nil, node(store)), newTestServerOn(t, store, nil, node(paused)), paused
}

func (a *pausedSanctions) arm(room string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.room = room
	a.holding, a.release = make(chan struct{}), make(chan struct{})
}

func (a *pausedSanctions) RoomSanctions(ctx context.Context, room string, now time.Time, limit int) ([]chat.Sanction, error) {
	list, err := a.Access.RoomSanctions(ctx, room, now, limit)
	a.mu.Lock()
	armed := a.room != "" && a.room == room
	if armed {
		a.room = ""
	}
	holding, release := a.holding, a.release
	a.mu.Unlock()
	if armed {
		close(holding)
		<-release
	}
	return list, err
}

// lateOutOf reports whether a connection of user on s holds a lateOut
// for room: a kick or ban entry that came while it was not in the room.
func lateOutOf(s *Server, user, room string) bool {
	for _, u := range s.dir.snapshot() {
		if u.name != user {
			continue
		}
		u.ss.mu.Lock()
		_, ok := u.ss.lateOut[room]
		u.ss.mu.Unlock()
		if ok {
			return true
		}
	}
	return false
}

// TestEntryBeforeJoinAdds drives the lateOut path of a join: mia's join
// on node b has decided that she may enter (her role read, the room's
// sanctions read before the ban) but has not yet put the room in her
// joined set, when the room's kick or ban entry of her, made on node a,
// reaches node b (the room is served there for wes; the entry comes by
// heal, the kicked or banned event never: the nodes share no broker).
// entryOut finds her not in the room and leaves a lateOut; the join,
// which read the room past the entry, must consult it: it asks the store
// again and ends with the kicked or banned error, after the event, and
// nothing more of the room reaches her. A kick from a public room leaves
// her in: she may join it again. Without the consultation she stays in
// the room.
func TestEntryBeforeJoinAdds(t *testing.T) {
	tests := []struct {
		name    string
		private bool
		op      string
		told    string        // "" for none: she stays
		code    protocol.Code // the join's error
	}{
		{"ban, public room", false, protocol.OpBan, protocol.TypeBanned, protocol.CodeBanned},
		{"ban, private room", true, protocol.OpBan, protocol.TypeBanned, protocol.CodeBanned},
		{"kick, private room", true, protocol.OpKick, protocol.TypeKicked, protocol.CodeKicked},
		{"kick, public room", false, protocol.OpKick, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, paused := pausedPair(t)
			owner := a.account(t, a.register(t, "olga"))
			wes := b.account(t, b.register(t, "wes"))
			mia := b.account(t, b.register(t, "mia"))
			owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "club", Private: tt.private})
			owner.ok(protocol.Command{Op: protocol.OpJoin, Room: "club"})
			if tt.private {
				for _, u := range []string{"wes", "mia"} {
					owner.ok(protocol.Command{Op: protocol.OpInvite, Room: "club", User: u})
				}
			}
			wes.ok(protocol.Command{Op: protocol.OpJoin, Room: "club"})

			// Node b's cached sanctions of club have run out: mia's join
			// reads them, and waits with the answer.
			paused.arm("club")
			b.srv.sanctions.forget("club", "mia")
			mia.nextID++
			join := protocol.Command{ID: "join-club", Op: protocol.OpJoin, Room: "club"}
			mia.write(join)
			<-paused.holding

			owner.ok(protocol.Command{Op: tt.op, Room: "club", User: "mia", Reason: "bye"})
			b.srv.healOnce(t.Context())
			for deadline := time.Now().Add(5 * time.Second); !lateOutOf(b.srv, "mia", "club"); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					close(paused.release)
					t.Fatal("the entry did not reach mia's connection on node b as a lateOut")
				}
			}
			close(paused.release)

			var told []string
			reply := mia.waitFor("the join's reply", func(ev protocol.Event) bool {
				if ev.Type == protocol.TypeKicked || ev.Type == protocol.TypeBanned {
					told = append(told, ev.Type+" by "+ev.By+": "+ev.Reason)
				}
				return ev.ID == join.ID
			})
			if tt.told == "" {
				if reply.Type != protocol.TypeOK {
					t.Fatalf("join after a kick from a public room: %s %s (%s), want ok", reply.Type, reply.Code, reply.Reason)
				}
			} else {
				if reply.Type != protocol.TypeError || reply.Code != tt.code {
					t.Errorf("join: %s %s (%s), want error %s", reply.Type, reply.Code, reply.Reason, tt.code)
				}
				if want := tt.told + " by olga: bye"; len(told) != 1 || told[0] != want {
					t.Errorf("mia was told %q before the reply, want [%q]", told, want)
				}
			}

			// The room goes on: a message reaches node b by heal.
			after := owner.ok(protocol.Command{Op: protocol.OpSend, Room: "club", Body: "after"})
			b.srv.healOnce(t.Context())
			wes.waitFor("after", func(ev protocol.Event) bool { return ev.Type == protocol.TypeMessage && ev.Message.Body == "after" })
			inHub := false
			for _, m := range b.srv.hub.Members("club", 10) {
				inHub = inHub || m == "mia"
			}
			stays := tt.told == ""
			if inHub != stays {
				t.Errorf("mia in club's hub on node b: %v, want %v", inHub, stays)
			}
			if stays {
				mia.waitFor("after", func(ev protocol.Event) bool { return ev.Type == protocol.TypeMessage && ev.Message.Body == "after" })
			} else {
				for _, ev := range mia.eventsBeforePing() {
					if ev.Type == protocol.TypeMessage && ev.Message.Room == "club" && ev.Message.Seq >= after.Message.Seq {
						t.Errorf("mia, out of club, got its message %q", ev.Message.Body)
					}
				}
			}
			send := mia.do(protocol.Command{Op: protocol.OpSend, Room: "club", Body: "still here?"})
			if stays != (send.Type == protocol.TypeOK) {
				t.Errorf("mia's send after: %s %s; want ok: %v", send.Type, send.Code, stays)
			}
		})
	}
}
