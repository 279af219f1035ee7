package server

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"

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
		c.Accounts, c.Access, c.Reads, c.Search = store, store, store, store
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
