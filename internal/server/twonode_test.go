package server

import (
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// twoNodesApart starts two servers on one SQLite store, each with a broker of
// its own: every event of one node is lost to the other, as Redis pub/sub
// or NATS core may lose it. What must hold across them can only hold
// through the store.
func twoNodesApart(t *testing.T, mut func(*Config)) (a, b *testServer) {
	t.Helper()
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := func(c *Config) {
		c.Accounts, c.Access, c.Reads, c.Search, c.Names = store, store, store, store, store
		c.SessionCheck = 50 * time.Millisecond
		if mut != nil {
			mut(c)
		}
	}
	return newTestServerOn(t, store, nil, cfg), newTestServerOn(t, store, nil, cfg)
}

// refusedWithin retries cmd on c until it gets code, and fails the test
// if that takes longer than within.
func refusedWithin(t *testing.T, c *tclient, cmd protocol.Command, code protocol.Code, within time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		ev := c.do(cmd)
		if ev.Code == code {
			return
		}
		if time.Since(start) > within {
			t.Errorf("%s still answers %s %s after %v; want %s within %v", cmd.Op, ev.Type, ev.Code, time.Since(start), code, within)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestModerationWithoutTheEvent: a ban or mute set on one node binds a
// connection on another node within Config.ModerationCheck, though the
// event never reaches it.
func TestModerationWithoutTheEvent(t *testing.T) {
	const check = 300 * time.Millisecond
	a, b := twoNodesApart(t, func(c *Config) { c.ModerationCheck = check })
	owner := a.account(t, a.register(t, "olga"))
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "pub"})
	user := b.account(t, b.register(t, "uma"))
	user.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
	// Fill node b's cache with "not sanctioned".
	user.ok(protocol.Command{Op: protocol.OpSend, Room: "pub", Body: "hello"})
	user.ok(protocol.Command{Op: protocol.OpHistory, Room: "pub"})

	owner.ok(protocol.Command{Op: protocol.OpMute, Room: "pub", User: "uma"})
	slack := check + 2*time.Second // the test's own scheduling on a busy machine
	refusedWithin(t, user, protocol.Command{Op: protocol.OpSend, Room: "pub", Body: "still here"}, protocol.CodeMuted, slack)
	owner.ok(protocol.Command{Op: protocol.OpUnmute, Room: "pub", User: "uma"})
	refusedWithin(t, user, protocol.Command{Op: protocol.OpSend, Room: "pub", Body: "back"}, "", slack)

	owner.ok(protocol.Command{Op: protocol.OpBan, Room: "pub", User: "uma"})
	refusedWithin(t, user, protocol.Command{Op: protocol.OpSend, Room: "pub", Body: "still here"}, protocol.CodeBanned, slack)
	// The refused send also took uma out of the room on node b.
	if ev := user.do(protocol.Command{Op: protocol.OpSend, Room: "pub", Body: "again"}); ev.Code != protocol.CodeNotJoined {
		t.Errorf("send after the refused one: %s, want not_joined", ev.Code)
	}
	for _, cmd := range []protocol.Command{{Op: protocol.OpJoin, Room: "pub"}, {Op: protocol.OpHistory, Room: "pub"}} {
		if ev := user.do(cmd); ev.Code != protocol.CodeBanned {
			t.Errorf("%s on the other node after the ban: %s, want banned", cmd.Op, ev.Code)
		}
	}
}

// TestSweeperEndsSessionRevokedElsewhere: a logout on one node closes the
// session's socket on another node within SessionCheck.
func TestSweeperEndsSessionRevokedElsewhere(t *testing.T) {
	a, b := twoNodesApart(t, nil)
	tok := a.register(t, "alice")
	c := b.dialWith(t, bearer(tok), websocket.DefaultDialer)
	c.ok(protocol.Command{Op: protocol.OpHello})
	resp := a.post(t, "/api/logout", bearer(tok), struct{}{}, nil)
	if resp.StatusCode != 204 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if code := c.closeCode(); code != protocol.ClosePolicy {
		t.Errorf("close code = %d, want %d", code, protocol.ClosePolicy)
	}
}

// TestEntriesReachAnotherNodeWithoutTheBroker: edits, deletions, reactions
// and moderation entries made on one node reach a member on another node
// in room order though the broker loses every event between them (they
// heal from the store), and the other node's history shows the same state.
func TestEntriesReachAnotherNodeWithoutTheBroker(t *testing.T) {
	a, b := twoNodesApart(t, func(c *Config) { c.HealInterval = 100 * time.Millisecond })
	owner := a.account(t, a.register(t, "olga"))
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "pub"})
	owner.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
	reader := b.account(t, b.register(t, "rita"))
	reader.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})

	cmds := []protocol.Command{
		{Op: protocol.OpSend, Room: "pub", Body: "first"},                             // 1
		{Op: protocol.OpSend, Room: "pub", Body: "second", ReplyTo: 1},                // 2
		{Op: protocol.OpEdit, Room: "pub", Seq: 1, Body: "first, edited"},             // 3
		{Op: protocol.OpReact, Room: "pub", Seq: 1, Emoji: "👍"},                       // 4
		{Op: protocol.OpDelete, Room: "pub", Seq: 2},                                  // 5
		{Op: protocol.OpTopic, Room: "pub", Topic: "news"},                            // 6
		{Op: protocol.OpMute, Room: "pub", User: "rita", Reason: "hush", Seconds: 60}, // 7
	}
	wantKinds := []string{"", "", protocol.KindEdit, protocol.KindReact, protocol.KindDelete, protocol.KindTopic, protocol.KindMute}
	for _, cmd := range cmds {
		owner.ok(cmd)
	}
	var got []protocol.Message
	for len(got) < len(wantKinds) {
		ev := reader.waitFor("entries from the other node", func(ev protocol.Event) bool {
			return ev.Type == protocol.TypeMessage && ev.Message.Room == "pub"
		})
		got = append(got, *ev.Message)
	}
	for i, m := range got {
		if m.Seq != int64(i+1) || m.Kind != wantKinds[i] {
			t.Errorf("entry %d = seq %d kind %q, want seq %d kind %q", i, m.Seq, m.Kind, i+1, wantKinds[i])
		}
	}
	if m := got[6]; m.User != "rita" || m.From != "olga" || m.Body != "hush" || m.Until == 0 {
		t.Errorf("mute entry = %+v, want rita muted by olga for hush, with an end", m)
	}

	// Both nodes' history shows the state the entries leave.
	for name, c := range map[string]*tclient{"a": owner, "b": reader} {
		h := c.ok(protocol.Command{Op: protocol.OpHistory, Room: "pub", After: i64(0), Limit: 2})
		if len(h.Messages) != 2 {
			t.Fatalf("node %s history = %d messages, want 2", name, len(h.Messages))
		}
		first, second := h.Messages[0], h.Messages[1]
		if first.Body != "first, edited" || first.Edited == 0 || len(first.Reactions) != 1 || first.V != 4 {
			t.Errorf("node %s: message 1 = %+v, want edited, one reaction, v 4", name, first)
		}
		if !second.Deleted || second.Body != "" || second.ReplyTo != 1 || second.V != 5 {
			t.Errorf("node %s: message 2 = %+v, want a deleted reply to 1 at v 5", name, second)
		}
	}
}

// TestRoomMadeAgainWithoutTheNews: a room deleted and created again under
// its name, private, on one node, while the other node hears nothing of it
// (its cached row still says the old room is public). The other node's
// member of the old room is taken out of it at the next heal round, told
// that it was deleted, and never gets the new room's messages; a
// non-member's join there, decided first on the cached row, is refused
// once the join reads the new room.
func TestRoomMadeAgainWithoutTheNews(t *testing.T) {
	// Heal rounds by hand (healOnce); cached rows that outlive the test.
	a, b := twoNodesApart(t, func(c *Config) { c.HealInterval, c.ModerationCheck = time.Hour, time.Hour })
	owner := a.account(t, a.register(t, "olga"))
	for _, room := range []string{"pub", "pub2"} {
		owner.ok(protocol.Command{Op: protocol.OpCreate, Room: room})
	}
	gus := b.client(t, "gus")
	gus.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
	uma := b.account(t, b.register(t, "uma"))
	uma.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub2"})
	uma.ok(protocol.Command{Op: protocol.OpLeave, Room: "pub2"})

	for _, room := range []string{"pub", "pub2"} {
		owner.ok(protocol.Command{Op: protocol.OpDeleteRoom, Room: room})
		owner.ok(protocol.Command{Op: protocol.OpCreate, Room: room, Private: true})
		owner.ok(protocol.Command{Op: protocol.OpJoin, Room: room})
		owner.ok(protocol.Command{Op: protocol.OpSend, Room: room, Body: "secret"})
	}

	if ev := uma.do(protocol.Command{Op: protocol.OpJoin, Room: "pub2"}); ev.Code != protocol.CodeNoSuchRoom {
		t.Errorf("uma's join of the new private pub2: %s %s, want %s", ev.Type, ev.Code, protocol.CodeNoSuchRoom)
	}

	leaked := func(ev protocol.Event) {
		t.Helper()
		if ev.Type == protocol.TypeMessage && ev.Message.Body == "secret" {
			t.Errorf("gus got the new private room's message: %+v", *ev.Message)
		}
	}
	b.srv.healOnce(t.Context())
	for {
		ev := gus.next()
		leaked(ev)
		if ev.Type == protocol.TypeDirectory && ev.Room == "pub" {
			if ev.Change != protocol.ChangeDeleted {
				t.Errorf("gus was told %s of pub, want %s", ev.Change, protocol.ChangeDeleted)
			}
			break
		}
	}
	for range 3 {
		b.srv.healOnce(t.Context())
	}
	// The reply comes after anything the heal rounds handed gus.
	gus.write(protocol.Command{Op: protocol.OpJoin, Room: "pub", ID: "rejoin"})
	var reply protocol.Event
	for reply.ID != "rejoin" {
		reply = gus.next()
		leaked(reply)
	}
	if reply.Code != protocol.CodeNoSuchRoom {
		t.Errorf("gus's join of the new private pub: %s %s, want %s", reply.Type, reply.Code, protocol.CodeNoSuchRoom)
	}
	if got := counterValue(b.srv.data.staleLeft); got != 1 {
		t.Errorf("hubbub_heal_stale_leaves_total = %v, want 1 (gus)", got)
	}
}

// pubMadeAgain starts two nodes apart (heal rounds by hand) where a guest
// on b is in a public room "pub" of olga's, made on a, and got its three
// messages; then olga deletes pub and makes it again, public, and sends
// it "new 1" (seq 1), which b never hears of. b's cached row is dropped,
// as it would be at most Config.ModerationCheck later.
func pubMadeAgain(t *testing.T) (b *testServer, owner, gus *tclient) {
	t.Helper()
	a, b := twoNodesApart(t, func(c *Config) { c.HealInterval = time.Hour })
	owner = a.account(t, a.register(t, "olga"))
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "pub"})
	owner.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
	gus = b.client(t, "gus")
	gus.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
	for range 3 {
		owner.ok(protocol.Command{Op: protocol.OpSend, Room: "pub", Body: "old"})
	}
	b.srv.healOnce(t.Context())
	for range 3 {
		gus.waitFor("an old message", func(ev protocol.Event) bool { return ev.Type == protocol.TypeMessage })
	}
	owner.ok(protocol.Command{Op: protocol.OpDeleteRoom, Room: "pub"})
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "pub"})
	owner.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
	owner.ok(protocol.Command{Op: protocol.OpSend, Room: "pub", Body: "new 1"})
	b.srv.roomRows.forget("pub")
	return b, owner, gus
}

// TestRejoinRoomMadeAgainWithoutTheNews: a guest on a node that never
// heard of its room's deletion joins the room made again under the name
// (public): it is out of the old room and in the new one from its
// last_seq, and every message of the new room after it reaches the guest,
// though the old room had delivered higher sequences on that node.
func TestRejoinRoomMadeAgainWithoutTheNews(t *testing.T) {
	b, owner, gus := pubMadeAgain(t)
	reply := gus.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
	if reply.Info.LastSeq != 1 {
		t.Fatalf("join of the new pub: last_seq %d, want 1", reply.Info.LastSeq)
	}
	owner.ok(protocol.Command{Op: protocol.OpSend, Room: "pub", Body: "new 2"})
	b.srv.healOnce(t.Context())
	ev := gus.waitFor("a message of the new pub", func(ev protocol.Event) bool { return ev.Type == protocol.TypeMessage })
	if ev.Message.Body != "new 2" || ev.Message.Seq != 2 {
		t.Errorf("gus got %q at seq %d, want \"new 2\" at 2", ev.Message.Body, ev.Message.Seq)
	}
}

// TestFreshMemberAfterStaleHead: on a node that never heard of a room's
// deletion, a guest joins the room made again under its name while a
// member of the old room is still there, and that member then leaves by
// itself (no heal round took it out): the room's messages still reach the
// new member, though the old room had delivered higher sequences here.
func TestFreshMemberAfterStaleHead(t *testing.T) {
	b, owner, old := pubMadeAgain(t)
	fresh := b.client(t, "nina")
	if reply := fresh.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"}); reply.Info.LastSeq != 1 {
		t.Fatalf("join of the new pub: last_seq %d, want 1", reply.Info.LastSeq)
	}
	old.ok(protocol.Command{Op: protocol.OpLeave, Room: "pub"})
	owner.ok(protocol.Command{Op: protocol.OpSend, Room: "pub", Body: "new 2"})
	// The first round finds the room's head past the store's and starts
	// its sequence over, on the hub's goroutine; the next one delivers.
	b.srv.healOnce(t.Context())
	for deadline := time.Now().Add(5 * time.Second); b.srv.hub.Head("pub") != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("after a heal round the room's head is %d, want 0", b.srv.hub.Head("pub"))
		}
		runtime.Gosched()
	}
	b.srv.healOnce(t.Context())
	ev := fresh.waitFor("new 2", func(ev protocol.Event) bool {
		return ev.Type == protocol.TypeMessage && ev.Message.Seq == 2
	})
	if ev.Message.Body != "new 2" {
		t.Errorf("nina got %q at seq 2, want \"new 2\"", ev.Message.Body)
	}
}

// gapBroker is the real in-process broker with a trigger for the report a
// Redis or NATS broker makes once it is back from a lost connection
// (chat.GapNotifier).
type gapBroker struct {
	*membroker.Broker
	mu sync.Mutex
	f  func()
}

func (b *gapBroker) NotifyGaps(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.f = f
}

func (b *gapBroker) gap() {
	b.mu.Lock()
	f := b.f
	b.mu.Unlock()
	if f != nil {
		f()
	}
}

// TestBrokerGapDropsCachesAndHeals: rooms deleted and made again,
// private, on one node while the other's broker was away. When that
// broker reports the gap, the other node forgets its cached rows at once
// (a non-member's history is refused, not answered from the new private
// room) and heals at once (its member of an old room is told it was
// deleted), without waiting for Config.ModerationCheck or HealInterval.
func TestBrokerGapDropsCachesAndHeals(t *testing.T) {
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	gb := &gapBroker{Broker: membroker.New()}
	t.Cleanup(func() { gb.Close() })
	common := func(c *Config) {
		c.Accounts, c.Access, c.Reads, c.Search = store, store, store, store
		c.HealInterval, c.ModerationCheck = time.Hour, time.Hour
	}
	a := newTestServerOn(t, store, nil, common)
	b := newTestServerOn(t, store, nil, func(c *Config) { common(c); c.Broker = gb })

	// pub has a member on b; pub2 only a row b read for uma's history.
	owner := a.account(t, a.register(t, "olga"))
	for _, room := range []string{"pub", "pub2"} {
		owner.ok(protocol.Command{Op: protocol.OpCreate, Room: room})
		owner.ok(protocol.Command{Op: protocol.OpJoin, Room: room})
		owner.ok(protocol.Command{Op: protocol.OpSend, Room: room, Body: "old"})
	}
	gus := b.client(t, "gus")
	gus.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
	uma := b.account(t, b.register(t, "uma"))
	uma.ok(protocol.Command{Op: protocol.OpHistory, Room: "pub2"})

	for _, room := range []string{"pub", "pub2"} {
		owner.ok(protocol.Command{Op: protocol.OpDeleteRoom, Room: room})
		owner.ok(protocol.Command{Op: protocol.OpCreate, Room: room, Private: true})
		owner.ok(protocol.Command{Op: protocol.OpJoin, Room: room})
		owner.ok(protocol.Command{Op: protocol.OpSend, Room: room, Body: "secret"})
	}

	gb.gap()
	ev := gus.waitFor("the deleted event", func(ev protocol.Event) bool {
		if ev.Type == protocol.TypeMessage && ev.Message.Body == "secret" {
			t.Errorf("gus got the new private room's message")
		}
		return ev.Type == protocol.TypeDirectory && ev.Room == "pub"
	})
	if ev.Change != protocol.ChangeDeleted {
		t.Errorf("gus was told %s of pub, want %s", ev.Change, protocol.ChangeDeleted)
	}
	if ev := uma.do(protocol.Command{Op: protocol.OpHistory, Room: "pub2"}); ev.Code != protocol.CodeNoSuchRoom {
		t.Errorf("uma's history of the new private pub2: %s %s (%d messages), want %s", ev.Type, ev.Code, len(ev.Messages), protocol.CodeNoSuchRoom)
	}
}

// TestRemovedWithoutTheEvent: a member kicked or banned from a private
// room on one node, whose connection is on another node that never gets
// the kicked or banned event, is taken out of the room there as soon as
// the room's kick or ban entry reaches that node (here by the heal round),
// and told so: the entry is in the store, the event is only news. Until
// then they would go on reading the room, and writing to it.
func TestRemovedWithoutTheEvent(t *testing.T) {
	tests := []struct {
		op     string
		told   string
		rejoin protocol.Code // what a join of the room answers after
	}{
		{protocol.OpKick, protocol.TypeKicked, protocol.CodeNoSuchRoom},
		{protocol.OpBan, protocol.TypeBanned, protocol.CodeBanned},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			// The moderation check is long: only the entry can tell node b.
			a, b := twoNodesApart(t, func(c *Config) { c.HealInterval, c.ModerationCheck = 50*time.Millisecond, time.Hour })
			owner := a.account(t, a.register(t, "olga"))
			mia := b.account(t, b.register(t, "mia"))
			owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "club", Private: true})
			owner.ok(protocol.Command{Op: protocol.OpInvite, Room: "club", User: "mia"})
			mia.ok(protocol.Command{Op: protocol.OpJoin, Room: "club"})
			mia.ok(protocol.Command{Op: protocol.OpSend, Room: "club", Body: "hi"})

			owner.ok(protocol.Command{Op: tt.op, Room: "club", User: "mia", Reason: "bye"})
			ev := mia.waitFor(tt.told, func(ev protocol.Event) bool { return ev.Type == tt.told })
			if ev.Room != "club" || ev.User != "mia" || ev.By != "olga" || ev.Reason != "bye" {
				t.Errorf("%s event = %+v, want mia out of club by olga for bye", tt.told, ev)
			}
			if ev := mia.do(protocol.Command{Op: protocol.OpSend, Room: "club", Body: "still here"}); ev.Code != protocol.CodeNotJoined {
				t.Errorf("send after the %s: %s %s, want not_joined", tt.op, ev.Type, ev.Code)
			}
			// Kicked from a private room, mia lost her role: the room is
			// hidden from her. Banned, she keeps it, and the ban answers.
			if ev := mia.do(protocol.Command{Op: protocol.OpJoin, Room: "club"}); ev.Code != tt.rejoin {
				t.Errorf("join after the %s: %s %s, want %s", tt.op, ev.Type, ev.Code, tt.rejoin)
			}
		})
	}
}

// TestGuestRemovedWithoutTheEvent: a guest kicked or banned on one node,
// whose connection is on another node that never gets the event, is taken
// out of the room there when the entry arrives: the entry's user_tag names
// the guest's identity, which the other node finds among its guests.
func TestGuestRemovedWithoutTheEvent(t *testing.T) {
	tests := []struct {
		op     string
		told   string
		rejoin protocol.Code // what a join of the room answers after; "" ok
	}{
		{protocol.OpKick, protocol.TypeKicked, ""},
		{protocol.OpBan, protocol.TypeBanned, protocol.CodeBanned},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			a, b := twoNodesApart(t, func(c *Config) { c.HealInterval, c.ModerationCheck = 50*time.Millisecond, time.Hour })
			owner := a.account(t, a.register(t, "olga"))
			owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "den"})
			mallory := b.client(t, "Mallory")
			mallory.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})

			owner.ok(protocol.Command{Op: tt.op, Room: "den", User: "mallory", Reason: "bye"})
			ev := mallory.waitFor(tt.told, func(ev protocol.Event) bool { return ev.Type == tt.told })
			if ev.Room != "den" || ev.User != "Mallory" || ev.By != "olga" || ev.Reason != "bye" {
				t.Errorf("%s event = %+v, want Mallory out of den by olga for bye", tt.told, ev)
			}
			if ev := mallory.do(protocol.Command{Op: protocol.OpSend, Room: "den", Body: "still here"}); ev.Code != protocol.CodeNotJoined {
				t.Errorf("send after the %s: %s %s, want not_joined", tt.op, ev.Type, ev.Code)
			}
			if ev := mallory.do(protocol.Command{Op: protocol.OpJoin, Room: "den"}); ev.Code != tt.rejoin {
				t.Errorf("join after the %s: %s %s, want %q", tt.op, ev.Type, ev.Code, tt.rejoin)
			}
		})
	}
}

// TestRemovedOnce: a kicked or banned member on the moderator's node, who
// gets both the room's entry and the event, is told once, after the
// entry.
func TestRemovedOnce(t *testing.T) {
	tests := []struct{ op, told, entry string }{
		{protocol.OpKick, protocol.TypeKicked, protocol.KindKick},
		{protocol.OpBan, protocol.TypeBanned, protocol.KindBan},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			s, _ := newAccountServer(t, nil)
			owner := s.account(t, s.register(t, "olga"))
			mia := s.account(t, s.register(t, "mia"))
			owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "club"})
			mia.ok(protocol.Command{Op: protocol.OpJoin, Room: "club"})
			owner.ok(protocol.Command{Op: tt.op, Room: "club", User: "mia", Reason: "bye"})
			// The muted event follows the kick's or ban's on mia's
			// connection: both reach the hub through the room, in order.
			owner.ok(protocol.Command{Op: protocol.OpMute, Room: "club", User: "mia"})
			var got []string
			mia.waitFor("muted", func(ev protocol.Event) bool {
				switch {
				case ev.Type == tt.told:
					got = append(got, ev.Type+" by "+ev.By+" for "+ev.Reason)
				case ev.Type == protocol.TypeMessage && ev.Message.Room == "club":
					got = append(got, "entry "+ev.Message.Kind)
				}
				return ev.Type == protocol.TypeMuted
			})
			want := []string{"entry " + tt.entry, tt.told + " by olga for bye"}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("mia got %q, want %q", got, want)
			}
		})
	}
}
