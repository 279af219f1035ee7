package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestModerateGuestOnAnotherNode: a room's owner on node a mutes, then
// kicks, a guest who is online on node b only. Node a finds the guest by
// its name's lease in the shared store (before: no_such_user, the guest
// being known on its own node only), the mute holds the guest on node b,
// and a name nobody holds is still nobody.
func TestModerateGuestOnAnotherNode(t *testing.T) {
	a, b := twoNodesPG(t, nil)
	owner := a.account(t, a.register(t, "olga"))
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "den"})
	mallory := b.client(t, "Mallory")
	mallory.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})
	mallory.ok(protocol.Command{Op: protocol.OpSend, Room: "den", Body: "before"})

	if ev := owner.do(protocol.Command{Op: protocol.OpMute, Room: "den", User: "nobody-here"}); ev.Code != protocol.CodeNoSuchUser {
		t.Errorf("mute of a name nobody holds: %s %q, want %q", ev.Type, ev.Code, protocol.CodeNoSuchUser)
	}
	if ev := owner.do(protocol.Command{Op: protocol.OpMute, Room: "den", User: "mallory", Seconds: 60}); ev.Type != protocol.TypeOK {
		t.Fatalf("mute of a guest on the other node: %s %q (%s), want ok", ev.Type, ev.Code, ev.Reason)
	}
	// Node b hears of it at once, or reads it at its next moderation check.
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		ev := mallory.do(protocol.Command{Op: protocol.OpSend, Room: "den", Body: fmt.Sprint("after ", i), CMID: fmt.Sprint("m", i)})
		if ev.Code == protocol.CodeMuted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the muted guest's send on node b: %s %q, want %q within 10 s", ev.Type, ev.Code, protocol.CodeMuted)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
