package server

import (
	"sync"
	"testing"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/protocol"
)

// gatedBroker holds the first subscription of one topic until released:
// the first joiner of that room on the node waits in the middle of its
// join, subscribed to the room's local events, its reply not yet sent.
type gatedBroker struct {
	chat.Broker
	topic       string
	subscribing chan struct{} // closed when the gated Subscribe is called
	release     chan struct{} // closed by the test to let it through
	once        sync.Once
}

func (b *gatedBroker) Subscribe(topic string, deliver func([]byte)) (func(), error) {
	if topic == b.topic {
		gated := false
		b.once.Do(func() { gated = true })
		if gated {
			close(b.subscribing)
			<-b.release
		}
	}
	return b.Broker.Subscribe(topic, deliver)
}

// TestKickDuringJoin: a kick or ban of mia committed while her join of
// the room is in flight (she is subscribed to its events, her reply not
// sent) ends that join: she is told of the kick or ban, the join answers
// kicked or banned instead of ok, she is not in the room, and no later
// event of the room reaches her. Before, the join answered ok after the
// kicked event, and her connection could stay subscribed to the room.
func TestKickDuringJoin(t *testing.T) {
	tests := []struct {
		name    string
		private bool
		op      string
		told    string
		code    protocol.Code
	}{
		{"kick, public room", false, protocol.OpKick, protocol.TypeKicked, protocol.CodeKicked},
		{"kick, private room", true, protocol.OpKick, protocol.TypeKicked, protocol.CodeKicked},
		{"ban, public room", false, protocol.OpBan, protocol.TypeBanned, protocol.CodeBanned},
		{"ban, private room", true, protocol.OpBan, protocol.TypeBanned, protocol.CodeBanned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := membroker.New()
			t.Cleanup(func() { inner.Close() })
			gb := &gatedBroker{Broker: inner, topic: "club", subscribing: make(chan struct{}), release: make(chan struct{})}
			released := sync.OnceFunc(func() { close(gb.release) })
			t.Cleanup(released)
			s, _ := newAccountServer(t, func(c *Config) { c.Broker = gb })
			owner := s.account(t, s.register(t, "olga"))
			mia := s.account(t, s.register(t, "mia"))
			owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "club", Private: tt.private})
			if tt.private {
				owner.ok(protocol.Command{Op: protocol.OpInvite, Room: "club", User: "mia"})
			}

			// mia is the room's first joiner on the node: her join waits
			// for the subscription, in the room already.
			mia.nextID++
			join := protocol.Command{ID: "join-club", Op: protocol.OpJoin, Room: "club"}
			mia.write(join)
			<-gb.subscribing
			owner.ok(protocol.Command{Op: tt.op, Room: "club", User: "mia", Reason: "bye"})
			mia.waitFor(tt.told, func(ev protocol.Event) bool { return ev.Type == tt.told && ev.Room == "club" })
			released()
			reply := mia.waitFor("the join's reply", func(ev protocol.Event) bool { return ev.ID == join.ID })
			if reply.Type != protocol.TypeError || reply.Code != tt.code {
				t.Errorf("join during the %s: %s %s (%s), want error %s", tt.op, reply.Type, reply.Code, reply.Reason, tt.code)
			}

			// The room goes on; nothing of it reaches mia. Her muted
			// event follows the room's message on her connection (the
			// hub orders a room's user events after its events).
			owner.ok(protocol.Command{Op: protocol.OpJoin, Room: "club"})
			after := owner.ok(protocol.Command{Op: protocol.OpSend, Room: "club", Body: "after"})
			owner.ok(protocol.Command{Op: protocol.OpMute, Room: "club", User: "mia"})
			var got []string
			mia.waitFor("muted", func(ev protocol.Event) bool {
				if ev.Type == protocol.TypeMessage && ev.Message.Room == "club" && ev.Message.Seq >= after.Message.Seq {
					got = append(got, ev.Message.Body)
				}
				return ev.Type == protocol.TypeMuted
			})
			if len(got) > 0 {
				t.Errorf("mia, out of club, got its messages %q", got)
			}
			if ev := mia.do(protocol.Command{Op: protocol.OpSend, Room: "club", Body: "still here?"}); ev.Code != protocol.CodeNotJoined {
				t.Errorf("mia's send after: %s %s, want not_joined", ev.Type, ev.Code)
			}
			for _, m := range s.srv.hub.Members("club", 10) {
				if m == "mia" {
					t.Errorf("the hub lists mia in club: %q", s.srv.hub.Members("club", 10))
				}
			}
		})
	}
}
