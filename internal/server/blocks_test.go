package server

import (
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestBlockTwoNodes: on two nodes sharing PostgreSQL and a broker, a block
// made on node a reaches the blocker's connection on node b as an event,
// refuses the blocked account's dm on node b at once and its sends in the
// DM within Config.ModerationCheck; the unblock lifts both as fast.
func TestBlockTwoNodes(t *testing.T) {
	const check = 200 * time.Millisecond
	a, b := twoNodesPG(t, func(c *Config) { c.ModerationCheck = check })
	aliceTok := a.register(t, "alice")
	aliceA := a.account(t, aliceTok)
	aliceB := b.account(t, aliceTok)
	mallory := b.account(t, b.register(t, "mallory"))

	dm := protocol.DMRoom("alice", "mallory")
	mallory.ok(protocol.Command{Op: protocol.OpDM, User: "alice"})
	mallory.ok(protocol.Command{Op: protocol.OpJoin, Room: dm})
	mallory.ok(protocol.Command{Op: protocol.OpSend, Room: dm, Body: "hi", CMID: "m1"})

	aliceA.ok(protocol.Command{Op: protocol.OpBlock, User: "mallory"})
	aliceB.waitFor("the blocked event on node b", func(ev protocol.Event) bool {
		return ev.Type == protocol.TypeBlocked && ev.User == "mallory"
	})
	if ev := aliceB.do(protocol.Command{Op: protocol.OpBlocks}); ev.Type != protocol.TypeOK || len(ev.Blocks) != 1 || ev.Blocks[0] != "mallory" {
		t.Errorf("blocks on node b = %s %s %q, want ok [mallory]", ev.Type, ev.Code, ev.Blocks)
	}
	if ev := mallory.do(protocol.Command{Op: protocol.OpDM, User: "alice"}); ev.Code != protocol.CodeForbidden {
		t.Errorf("dm on node b after the block: %s %s, want forbidden", ev.Type, ev.Code)
	}
	refusedWithin(t, mallory, protocol.Command{Op: protocol.OpSend, Room: dm, Body: "hello?", CMID: "m2"}, protocol.CodeForbidden, 5*check)

	aliceA.ok(protocol.Command{Op: protocol.OpUnblock, User: "mallory"})
	aliceB.waitFor("the unblocked event on node b", func(ev protocol.Event) bool {
		return ev.Type == protocol.TypeUnblocked && ev.User == "mallory"
	})
	mallory.ok(protocol.Command{Op: protocol.OpDM, User: "alice"})
	start := time.Now()
	for {
		ev := mallory.do(protocol.Command{Op: protocol.OpSend, Room: dm, Body: "sorry", CMID: "m3"})
		if ev.Type == protocol.TypeOK {
			break
		}
		if time.Since(start) > 5*check {
			t.Fatalf("send on node b still %s %s %v after the unblock", ev.Type, ev.Code, time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
