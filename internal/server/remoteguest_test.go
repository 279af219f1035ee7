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

// TestRemoteGuestToldByItsName: a guest on another node, named by a
// moderator in another spelling, is told of each action under its own
// display name, which is what its client compares with, and the action
// takes hold on its connection: a mute shows, a kick takes it out of the
// room, once.
func TestRemoteGuestToldByItsName(t *testing.T) {
	a, b := twoNodesPG(t, nil)
	owner := a.account(t, a.register(t, "olga"))
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "den"})
	mallory := b.client(t, "Mallory")
	mallory.ok(protocol.Command{Op: protocol.OpJoin, Room: "den"})

	var got []string
	for _, op := range []string{protocol.OpMute, protocol.OpUnmute, protocol.OpKick} {
		owner.ok(protocol.Command{Op: op, Room: "den", User: "mallory"})
	}
	// A second mute, after the kick: its event comes after the kick's.
	owner.ok(protocol.Command{Op: protocol.OpMute, Room: "den", User: "mallory", Reason: "last"})
	mallory.waitFor("the last mute", func(ev protocol.Event) bool {
		switch ev.Type {
		case protocol.TypeMuted, protocol.TypeUnmuted, protocol.TypeKicked:
			got = append(got, ev.Type+" "+ev.User)
		}
		return ev.Type == protocol.TypeMuted && ev.Reason == "last"
	})
	want := []string{"muted Mallory", "unmuted Mallory", "kicked Mallory", "muted Mallory"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the guest was told %q, want %q", got, want)
	}
	if ev := mallory.do(protocol.Command{Op: protocol.OpSend, Room: "den", Body: "still here"}); ev.Code != protocol.CodeNotJoined {
		t.Errorf("send after the kick: %s %s, want not_joined", ev.Type, ev.Code)
	}
}
