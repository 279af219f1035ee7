package server

import (
	"context"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestJoinMissesNoKick: mia joins a room on node b, where the room has
// no member (or got its first only after she was removed), on an access
// decision made before her kick or ban on node a: from node b's cached
// answer, or from a read that came just before the kick or ban was
// committed. The nodes share no broker, so the kicked or banned event is
// lost, and her join subscribes to the room after the entry was
// committed and reads the room past it: the entry never reaches node b
// as an event. The join must not let her in all the same: it ends with
// the kicked or banned error, after the event, and nothing more of the
// room reaches her. A kick from a public room lets her in: she may join
// it again.
func TestJoinMissesNoKick(t *testing.T) {
	tests := []struct {
		name    string
		private bool
		op      string
		paused  bool // decided on a read made just before the kick or ban; else on node b's cache
		served  bool // wes, on node b, joins the room after the kick or ban, before mia
		told    string
		code    protocol.Code
		guest   bool // mia is a guest, Mia, moderated by her identity
	}{
		{"ban, cached answer", false, protocol.OpBan, false, false, protocol.TypeBanned, protocol.CodeBanned, false},
		{"ban, cached answer, private room", true, protocol.OpBan, false, false, protocol.TypeBanned, protocol.CodeBanned, false},
		{"ban, cached answer, room served since", false, protocol.OpBan, false, true, protocol.TypeBanned, protocol.CodeBanned, false},
		{"ban, read just before", false, protocol.OpBan, true, false, protocol.TypeBanned, protocol.CodeBanned, false},
		{"ban, read just before, private room", true, protocol.OpBan, true, false, protocol.TypeBanned, protocol.CodeBanned, false},
		{"kick, read just before, private room", true, protocol.OpKick, true, false, protocol.TypeKicked, protocol.CodeKicked, false},
		{"kick, read just before, public room", false, protocol.OpKick, true, false, "", "", false},
		{"kick, cached answer, public room", false, protocol.OpKick, false, false, "", "", false},
		{"guest, ban, cached answer", false, protocol.OpBan, false, false, protocol.TypeBanned, protocol.CodeBanned, true},
		{"guest, ban, read just before", false, protocol.OpBan, true, false, protocol.TypeBanned, protocol.CodeBanned, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, paused := pausedPair(t)
			owner := a.account(t, a.register(t, "olga"))
			wes := b.account(t, b.register(t, "wes"))
			var mia *tclient
			name := "mia"
			if tt.guest {
				name = "Mia"
				mia = b.client(t, name)
			} else {
				mia = b.account(t, b.register(t, name))
			}
			owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "club", Private: tt.private})
			owner.ok(protocol.Command{Op: protocol.OpJoin, Room: "club"})
			if tt.private {
				for _, u := range []string{"wes", "mia"} {
					owner.ok(protocol.Command{Op: protocol.OpInvite, Room: "club", User: u})
				}
			}
			owner.ok(protocol.Command{Op: protocol.OpSend, Room: "club", Body: "before"})
			// mia has been in club on node b, which cached its row and
			// sanctions then; nobody is in it there now.
			mia.ok(protocol.Command{Op: protocol.OpJoin, Room: "club"})
			mia.ok(protocol.Command{Op: protocol.OpLeave, Room: "club"})

			mia.nextID++
			join := protocol.Command{ID: "join-club", Op: protocol.OpJoin, Room: "club"}
			if tt.paused {
				// Her join reads the room's sanctions afresh, and waits
				// with the answer while she is removed.
				paused.arm("club")
				b.srv.sanctions.forget("club", "mia")
				mia.write(join)
				<-paused.holding
			}
			owner.ok(protocol.Command{Op: tt.op, Room: "club", User: name, Reason: "bye"})
			owner.ok(protocol.Command{Op: protocol.OpSend, Room: "club", Body: "between"})
			if tt.served {
				wes.ok(protocol.Command{Op: protocol.OpJoin, Room: "club"})
			}
			if tt.paused {
				close(paused.release)
			} else {
				mia.write(join)
			}

			var told []string
			reply := mia.waitFor("the join's reply", func(ev protocol.Event) bool {
				if ev.Type == protocol.TypeKicked || ev.Type == protocol.TypeBanned {
					told = append(told, ev.Type+" by "+ev.By+": "+ev.Reason)
				}
				return ev.ID == join.ID
			})
			stays := tt.told == ""
			if stays {
				if reply.Type != protocol.TypeOK {
					t.Fatalf("join after a kick from a public room: %s %s (%s), want ok", reply.Type, reply.Code, reply.Reason)
				}
			} else {
				if reply.Type != protocol.TypeError || reply.Code != tt.code {
					t.Errorf("join: %s %s (%s), want error %s", reply.Type, reply.Code, reply.Reason, tt.code)
				}
				// Refused by the store's word at the join's access, as
				// any banned user's join is, she is told by the error
				// alone; refused for the entry, by the entry too.
				want := []string{tt.told + " by olga: bye"}
				if tt.served && len(told) == 0 {
					want = nil
				}
				if !slices.Equal(told, want) {
					t.Errorf("mia was told %q before the reply, want %q", told, want)
				}
			}

			// The room goes on: a message reaches node b by heal.
			after := owner.ok(protocol.Command{Op: protocol.OpSend, Room: "club", Body: "after"})
			b.srv.healOnce(t.Context())
			inHub := false
			for _, m := range b.srv.hub.Members("club", 10) {
				inHub = inHub || m == name
			}
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
		})
	}
}

// joinReads is a real store that counts the reads a join may make of
// a room's row, its kick and ban entries, its sanctions and roles.
type joinReads struct {
	*sqlitestore.Store
	room, outs, sanctions, roles atomic.Int64
}

func (s *joinReads) Room(ctx context.Context, name string) (chat.Room, error) {
	s.room.Add(1)
	return s.Store.Room(ctx, name)
}

func (s *joinReads) RoomWithOuts(ctx context.Context, name string, after int64, user, userKey string) (chat.Room, chat.Outs, error) {
	s.outs.Add(1)
	return s.Store.RoomWithOuts(ctx, name, after, user, userKey)
}

func (s *joinReads) RoomSanctions(ctx context.Context, room string, now time.Time, limit int) ([]chat.Sanction, error) {
	s.sanctions.Add(1)
	return s.Store.RoomSanctions(ctx, room, now, limit)
}

func (s *joinReads) ActiveSanction(ctx context.Context, room, user, kind string, now time.Time) (chat.Sanction, bool, error) {
	s.sanctions.Add(1)
	return s.Store.ActiveSanction(ctx, room, user, kind, now)
}

func (s *joinReads) Role(ctx context.Context, room, user string) (string, error) {
	s.roles.Add(1)
	return s.Store.Role(ctx, room, user)
}

func (s *joinReads) Members(ctx context.Context, room string) ([]chat.Member, error) {
	s.roles.Add(1)
	return s.Store.Members(ctx, room)
}

// reads returns what was counted since the last call, and starts over.
func (s *joinReads) reads() [4]int64 {
	return [4]int64{s.room.Swap(0), s.outs.Swap(0), s.sanctions.Swap(0), s.roles.Swap(0)}
}

// TestJoinGapReads: what TestJoinMissesNoKick's check costs the joins
// that need none. The first join of a room on node b, decided on node
// b's cached answers with messages committed since, reads the room's row
// with its kick and ban entries in one read, as it read the row alone
// before, and nothing else; a join of the room that node b then serves
// reads no entries, its answers raised to where node b began to serve
// the room. A kick of someone else between the decision and the join
// costs the first joiner no more, and the next join one read of the
// room's sanctions, as of a sequence node b delivered.
func TestJoinGapReads(t *testing.T) {
	inner, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	st := &joinReads{Store: inner}
	node := func(s interface {
		chat.Store
		chat.Accounts
		chat.Access
	}) func(*Config) {
		return func(c *Config) {
			c.Accounts, c.Access, c.Reads, c.Search, c.Names = s, s, inner, inner, inner
			c.ModerationCheck, c.HealInterval = time.Hour, time.Hour
		}
	}
	a := newTestServerOn(t, inner, nil, node(inner))
	b := newTestServerOn(t, st, nil, node(st))
	owner := a.account(t, a.register(t, "olga"))
	zed := a.account(t, a.register(t, "zed"))
	users := make(map[string]*tclient)
	for _, u := range []string{"uma", "vic", "wes", "yan", "zoe"} {
		users[u] = b.account(t, b.register(t, u))
	}
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "pub"})
	owner.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
	zed.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
	owner.ok(protocol.Command{Op: protocol.OpSend, Room: "pub", Body: "1"})
	// uma's join and leave fill node b's caches of pub.
	users["uma"].ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
	users["uma"].ok(protocol.Command{Op: protocol.OpLeave, Room: "pub"})
	for _, body := range []string{"2", "3"} {
		owner.ok(protocol.Command{Op: protocol.OpSend, Room: "pub", Body: body})
	}

	join := func(user string, want [4]int64) {
		t.Helper()
		st.reads()
		users[user].ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
		if got := st.reads(); got != want {
			t.Errorf("%s's join read [row, row with outs, sanctions, roles] %v, want %v", user, got, want)
		}
	}
	join("vic", [4]int64{0, 1, 0, 0})
	owner.ok(protocol.Command{Op: protocol.OpSend, Room: "pub", Body: "4"})
	b.srv.healOnce(t.Context())
	users["vic"].waitFor("4", func(ev protocol.Event) bool { return ev.Type == protocol.TypeMessage && ev.Message.Body == "4" })
	// The head moved past node b's cached row: the row is read, alone.
	join("wes", [4]int64{1, 0, 0, 0})

	for _, u := range []string{"vic", "wes"} {
		users[u].ok(protocol.Command{Op: protocol.OpLeave, Room: "pub"})
	}
	owner.ok(protocol.Command{Op: protocol.OpKick, Room: "pub", User: "zed"})
	join("yan", [4]int64{0, 1, 0, 0})
	join("zoe", [4]int64{0, 0, 1, 0})
}
