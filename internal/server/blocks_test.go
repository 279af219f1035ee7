package server

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
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

// TestBlockLimit: an account blocks at most protocol.MaxBlocks others; the
// next block is refused with limit_reached and changes nothing (no event,
// the list as it was), a block already made is still ok, and after an
// unblock there is room for one more.
func TestBlockLimit(t *testing.T) {
	s, store := newAccountServer(t, nil)
	alice := s.account(t, s.register(t, "alice"))
	now := time.Now()
	for i := range protocol.MaxBlocks + 1 {
		if err := store.CreateUser(t.Context(), chat.User{Name: fmt.Sprintf("u%04d", i), PasswordHash: "x", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range protocol.MaxBlocks {
		alice.ok(protocol.Command{Op: protocol.OpBlock, User: fmt.Sprintf("u%04d", i)})
	}
	over := fmt.Sprintf("u%04d", protocol.MaxBlocks)
	tests := []struct {
		name string
		cmd  protocol.Command
		want protocol.Code // "" for ok
	}{
		{"one past the limit", protocol.Command{Op: protocol.OpBlock, User: over}, protocol.CodeLimitReached},
		{"again, a block already made", protocol.Command{Op: protocol.OpBlock, User: "u0000"}, ""},
		{"an unblock", protocol.Command{Op: protocol.OpUnblock, User: "u0001"}, ""},
		{"then the one past it", protocol.Command{Op: protocol.OpBlock, User: over}, ""},
		{"and one more", protocol.Command{Op: protocol.OpBlock, User: "u0001"}, protocol.CodeLimitReached},
	}
	for _, tt := range tests {
		ev := alice.do(tt.cmd)
		if got := ev.Code; got != tt.want || (tt.want == "") != (ev.Type == protocol.TypeOK) {
			t.Errorf("%s: %s %s %q, want code %q", tt.name, ev.Type, ev.Code, ev.Reason, tt.want)
		}
	}
	ev := alice.do(protocol.Command{Op: protocol.OpBlocks})
	if ev.Type != protocol.TypeOK || len(ev.Blocks) != protocol.MaxBlocks || !slices.Contains(ev.Blocks, over) || slices.Contains(ev.Blocks, "u0001") {
		t.Errorf("blocks: %s %s, %d names (u0001 in it: %v, %s in it: %v), want ok, %d names without u0001, with %s",
			ev.Type, ev.Code, len(ev.Blocks), slices.Contains(ev.Blocks, "u0001"), over, slices.Contains(ev.Blocks, over), protocol.MaxBlocks, over)
	}
}
