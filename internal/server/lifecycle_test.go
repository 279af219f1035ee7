package server

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/pgstore"
	"github.com/hubbub-chat/hubbub/internal/pgtest"
	"github.com/hubbub-chat/hubbub/protocol"
)

func isDirectory(change, room string) func(protocol.Event) bool {
	return func(ev protocol.Event) bool {
		return ev.Type == protocol.TypeDirectory && ev.Change == change && ev.Room == room
	}
}

func roomNames(ev protocol.Event) []string {
	var out []string
	for _, r := range ev.Rooms {
		out = append(out, r.Name)
	}
	return out
}

// TestArchiveAndDeleteRoom walks a room through its life as its owner, a
// member in it and a guest outside it see it.
func TestArchiveAndDeleteRoom(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	alice := s.account(t, s.register(t, "alice"))
	bob := s.account(t, s.register(t, "bob"))
	watcher := s.client(t, "watcher")

	alice.ok(protocol.Command{Op: protocol.OpCreate, Room: "pub", Topic: "Public things"})
	// Pushed, not polled: the guest outside the room hears of it.
	if ev := watcher.waitFor("directory created", isDirectory(protocol.ChangeCreated, "pub")); ev.By != "alice" || ev.Info == nil || ev.Info.Topic != "Public things" {
		t.Errorf("created event = %+v", ev)
	}
	bob.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
	bob.ok(protocol.Command{Op: protocol.OpSend, Room: "pub", Body: "before"})

	for _, tc := range []struct {
		who  *tclient
		cmd  protocol.Command
		want protocol.Code
	}{
		{bob, protocol.Command{Op: protocol.OpArchiveRoom, Room: "pub"}, protocol.CodeForbidden},
		{bob, protocol.Command{Op: protocol.OpDeleteRoom, Room: "pub"}, protocol.CodeForbidden},
		{watcher, protocol.Command{Op: protocol.OpDeleteRoom, Room: "pub"}, protocol.CodeForbidden},
		{alice, protocol.Command{Op: protocol.OpDeleteRoom, Room: "lobby"}, protocol.CodeForbidden},
		{alice, protocol.Command{Op: protocol.OpArchiveRoom, Room: "lobby"}, protocol.CodeForbidden},
		{alice, protocol.Command{Op: protocol.OpDeleteRoom, Room: "nope"}, protocol.CodeNoSuchRoom},
	} {
		if ev := tc.who.do(tc.cmd); ev.Code != tc.want {
			t.Errorf("%s %s: %s %s, want %s", tc.cmd.Op, tc.cmd.Room, ev.Type, ev.Code, tc.want)
		}
	}

	alice.ok(protocol.Command{Op: protocol.OpArchiveRoom, Room: "pub"})
	if ev := bob.waitFor("directory archived", isDirectory(protocol.ChangeArchived, "pub")); ev.Info == nil || !ev.Info.Archived {
		t.Errorf("archived event = %+v", ev)
	}
	watcher.waitFor("directory archived", isDirectory(protocol.ChangeArchived, "pub"))
	for _, tc := range []struct {
		who *tclient
		cmd protocol.Command
	}{
		{bob, protocol.Command{Op: protocol.OpSend, Room: "pub", Body: "after"}},
		{bob, protocol.Command{Op: protocol.OpTyping, Room: "pub"}},
		{alice, protocol.Command{Op: protocol.OpKick, Room: "pub", User: "bob"}},
		{alice, protocol.Command{Op: protocol.OpTopic, Room: "pub", Topic: "x"}},
		{alice, protocol.Command{Op: protocol.OpPromote, Room: "pub", User: "bob"}},
		{alice, protocol.Command{Op: protocol.OpRefuseGuests, Room: "pub"}},
	} {
		if ev := tc.who.do(tc.cmd); ev.Code != protocol.CodeArchived {
			t.Errorf("%s in an archived room: %s %s, want archived", tc.cmd.Op, ev.Type, ev.Code)
		}
	}
	if ev := bob.ok(protocol.Command{Op: protocol.OpHistory, Room: "pub"}); len(ev.Messages) != 1 {
		t.Errorf("history of the archived room: %d messages, want 1", len(ev.Messages))
	}
	watcher.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"}) // read-only, still readable
	if got := roomNames(watcher.ok(protocol.Command{Op: protocol.OpRooms})); slices.Contains(got, "pub") {
		t.Errorf("rooms lists the archived room: %v", got)
	}
	ev := watcher.ok(protocol.Command{Op: protocol.OpRooms, Archived: true})
	if i := slices.Index(roomNames(ev), "pub"); i < 0 || !ev.Rooms[i].Archived {
		t.Errorf("rooms with archived = %+v, want pub marked archived", ev.Rooms)
	}

	alice.ok(protocol.Command{Op: protocol.OpUnarchiveRoom, Room: "pub"})
	bob.waitFor("directory unarchived", isDirectory(protocol.ChangeUnarchived, "pub"))
	bob.ok(protocol.Command{Op: protocol.OpSend, Room: "pub", Body: "writable again"})

	alice.ok(protocol.Command{Op: protocol.OpDeleteRoom, Room: "pub"})
	for _, c := range []*tclient{bob, watcher} {
		if ev := c.waitFor("directory deleted", isDirectory(protocol.ChangeDeleted, "pub")); ev.By != "alice" || ev.Info != nil {
			t.Errorf("deleted event = %+v", ev)
		}
	}
	// bob was in the room and is out of it now; the room is gone.
	deadline := time.Now().Add(5 * time.Second)
	for bob.do(protocol.Command{Op: protocol.OpSend, Room: "pub", Body: "anyone?"}).Code != protocol.CodeNotJoined {
		if time.Now().After(deadline) {
			t.Fatal("bob is still in the deleted room")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ev := bob.do(protocol.Command{Op: protocol.OpJoin, Room: "pub"}); ev.Code != protocol.CodeNoSuchRoom {
		t.Errorf("join of the deleted room: %s %s, want no_such_room", ev.Type, ev.Code)
	}
	// The name is free again, and the new room is new.
	bob.ok(protocol.Command{Op: protocol.OpCreate, Room: "pub"})
	if ev := bob.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"}); ev.Info.LastSeq != 0 || ev.Info.Role != protocol.RoleOwner {
		t.Errorf("the recreated room: %+v, want empty and bob's", ev.Info)
	}
}

// TestPrivateRoomDirectory: the directory events of a private room reach
// its members only.
func TestPrivateRoomDirectory(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	alice := s.account(t, s.register(t, "alice"))
	bob := s.account(t, s.register(t, "bob"))
	eve := s.account(t, s.register(t, "eve"))
	alice.ok(protocol.Command{Op: protocol.OpCreate, Room: "secret", Private: true})
	alice.ok(protocol.Command{Op: protocol.OpInvite, Room: "secret", User: "bob"})
	alice.ok(protocol.Command{Op: protocol.OpDeleteRoom, Room: "secret"})
	bob.waitFor("directory deleted", isDirectory(protocol.ChangeDeleted, "secret"))
	// eve hears of a public room created after, and of nothing before it.
	alice.ok(protocol.Command{Op: protocol.OpCreate, Room: "open"})
	ev := eve.waitFor("any directory event", func(ev protocol.Event) bool { return ev.Type == protocol.TypeDirectory })
	if ev.Room != "open" {
		t.Errorf("eve's first directory event is about %q, want open (never secret)", ev.Room)
	}
}

func TestRoomsQuery(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	alice := s.account(t, s.register(t, "alice"))
	for _, r := range []protocol.Command{
		{Op: protocol.OpCreate, Room: "go-nuts", Topic: "All about Go"},
		{Op: protocol.OpCreate, Room: "rust", Topic: "Crabs GOing fast"},
		{Op: protocol.OpCreate, Room: "cooking", Topic: "Recipes"},
		{Op: protocol.OpCreate, Room: "old-go", Topic: "gone"},
	} {
		alice.ok(r)
	}
	alice.ok(protocol.Command{Op: protocol.OpArchiveRoom, Room: "old-go"})
	tests := []struct {
		query    string
		archived bool
		after    string
		want     []string
	}{
		{"go", false, "", []string{"go-nuts", "rust"}},
		{"GO", true, "", []string{"go-nuts", "old-go", "rust"}},
		{"go", true, "go-nuts", []string{"old-go", "rust"}},
		{"recipe", false, "", []string{"cooking"}},
		{"nothing", false, "", nil},
		{"", false, "", []string{"cooking", "go-nuts", "lobby", "rust"}},
	}
	for _, tt := range tests {
		ev := alice.ok(protocol.Command{Op: protocol.OpRooms, Query: tt.query, Archived: tt.archived, Room: tt.after})
		if got := roomNames(ev); !slices.Equal(got, tt.want) {
			t.Errorf("rooms query %q archived %v after %q = %v, want %v", tt.query, tt.archived, tt.after, got, tt.want)
		}
	}
}

// pgSchema returns a DSN of a fresh schema on HUBBUB_TEST_POSTGRES, or
// skips the test.
func pgSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("HUBBUB_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("HUBBUB_TEST_POSTGRES is not set")
	}
	return pgtest.Schema(t, dsn, "hubbub_server_")
}

// twoNodesPG starts two servers on one PostgreSQL schema and one broker,
// as a cluster runs. Each node has a store (a pool) of its own.
func twoNodesPG(t *testing.T, mut func(*Config)) (a, b *testServer) {
	t.Helper()
	dsn := pgSchema(t)
	broker := membroker.New()
	t.Cleanup(func() { broker.Close() })
	node := func() *testServer {
		store, err := pgstore.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return newTestServerOn(t, store, nil, func(c *Config) {
			c.Broker = broker
			c.Accounts, c.Access, c.Names, c.Blocks = store, store, store, store
			if mut != nil {
				mut(c)
			}
		})
	}
	return node(), node()
}

// TestGuestRoomExpiresClusterWide: a guest's room with its guest in it on
// node b is not deleted by node a's sweeper, however long; once empty and
// idle for the TTL it is deleted, once, and every node hears of it.
func TestGuestRoomExpiresClusterWide(t *testing.T) {
	const ttl = time.Second
	a, b := twoNodesPG(t, func(c *Config) { c.GuestRoomTTL = ttl })
	owner := b.client(t, "zed")
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "den"})
	owner.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})
	watcher := a.client(t, "watcher")
	acct := a.account(t, a.register(t, "alice"))
	acct.ok(protocol.Command{Op: protocol.OpCreate, Room: "kept"}) // an account's room never expires

	time.Sleep(4 * ttl) // sixteen sweep rounds on each node
	if ev := watcher.do(protocol.Command{Op: protocol.OpJoin, Room: "den"}); ev.Type != protocol.TypeOK {
		t.Fatalf("the room with its guest in it on node b was deleted: join %s %s", ev.Type, ev.Code)
	}
	watcher.ok(protocol.Command{Op: protocol.OpLeave, Room: "den"})
	owner.ok(protocol.Command{Op: protocol.OpLeave, Room: "den"})
	start := time.Now()
	watcher.waitFor("den deleted", isDirectory(protocol.ChangeDeleted, "den"))
	if d := time.Since(start); d < ttl/2 {
		t.Errorf("den deleted %v after it emptied, before its TTL (%v)", d, ttl)
	}
	owner.waitFor("den deleted on node b", isDirectory(protocol.ChangeDeleted, "den"))
	// Announced once: nothing more about den arrives within a few rounds.
	time.Sleep(ttl)
	watcher.ok(protocol.Command{Op: protocol.OpPing})
	for _, ev := range watcher.pending {
		if isDirectory(protocol.ChangeDeleted, "den")(ev) {
			t.Errorf("den's deletion announced twice")
		}
	}
	if ev := watcher.do(protocol.Command{Op: protocol.OpJoin, Room: "kept"}); ev.Type != protocol.TypeOK {
		t.Errorf("an account's room was swept: %s %s", ev.Type, ev.Code)
	}
}

// TestGuestNamesAcrossNodes: a guest name held on node a is refused on
// node b, in any look-alike spelling, and is free there once a's guest
// leaves.
func TestGuestNamesAcrossNodes(t *testing.T) {
	a, b := twoNodesPG(t, nil)
	carol := a.client(t, "carol")
	for _, name := range []string{"carol", "CAROL", "caroI"} {
		c := b.dial(t)
		if ev := c.do(protocol.Command{Op: protocol.OpHello, Name: name}); ev.Code != protocol.CodeNameTaken {
			t.Errorf("hello %q on node b while carol is on node a: %s %s, want name_taken", name, ev.Type, ev.Code)
		}
		c.ws.Close()
	}
	carol.ws.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := b.dial(t)
		ev := c.do(protocol.Command{Op: protocol.OpHello, Name: "carol"})
		c.ws.Close()
		if ev.Type == protocol.TypeOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("carol still taken on node b after node a's carol left: %s", ev.Code)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
