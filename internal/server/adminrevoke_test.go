package server

import (
	"testing"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestAdminRevokedOnOpenSocket: `hubbubd user unadmin` (the store's Admin
// flag cleared) takes an administrator's powers away from the sockets
// already open, within the session check, not at their next connection:
// an operator demoting a rogue administrator must not leave them a socket
// that moderates every room for as long as it stays up.
func TestAdminRevokedOnOpenSocket(t *testing.T) {
	s, store := newAccountServer(t, nil)
	owenTok, adaTok := s.register(t, "owen"), s.register(t, "ada")
	s.register(t, "bea")
	u, _ := store.User(t.Context(), "ada")
	u.Admin = true
	if err := store.UpdateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	owner, admin := s.account(t, owenTok), s.account(t, adaTok)
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "hideout", Private: true})
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "den"})
	owner.ok(protocol.Command{Op: protocol.OpJoin, Room: "hideout"})
	// Still an administrator: the private room opens to her, and she
	// stays in it.
	admin.ok(protocol.Command{Op: protocol.OpJoin, Room: "hideout"})

	u.Admin = false
	if err := store.UpdateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	// The private room she has no role in is taken from her socket.
	kicked := admin.waitFor("kicked from hideout", func(ev protocol.Event) bool {
		return ev.Type == protocol.TypeKicked && ev.Room == "hideout"
	})
	if kicked.User != "ada" {
		t.Errorf("kicked event %+v, want user ada", kicked)
	}
	owner.ok(protocol.Command{Op: protocol.OpSend, Room: "hideout", Body: "not for ada"})
	owner.eventsBeforePing() // the message has gone out
	for _, ev := range admin.eventsBeforePing() {
		if ev.Room == "hideout" {
			t.Errorf("after unadmin, ada's socket still gets %s of hideout: %+v", ev.Type, ev)
		}
	}

	for _, tt := range []struct {
		cmd  protocol.Command
		want protocol.Code
	}{
		{protocol.Command{Op: protocol.OpJoin, Room: "hideout"}, protocol.CodeNoSuchRoom},
		{protocol.Command{Op: protocol.OpHistory, Room: "hideout"}, protocol.CodeNoSuchRoom},
		{protocol.Command{Op: protocol.OpMute, Room: "den", User: "owen", Seconds: 60}, protocol.CodeForbidden},
		{protocol.Command{Op: protocol.OpTopic, Room: "den", Topic: "mine now"}, protocol.CodeForbidden},
		{protocol.Command{Op: protocol.OpKick, Room: "den", User: "bea"}, protocol.CodeForbidden},
		{protocol.Command{Op: protocol.OpArchiveRoom, Room: "den"}, protocol.CodeForbidden},
		{protocol.Command{Op: protocol.OpDeleteRoom, Room: "den"}, protocol.CodeForbidden},
	} {
		t.Run(tt.cmd.Op, func(t *testing.T) {
			if got := admin.do(tt.cmd); got.Code != tt.want {
				t.Errorf("%s %s after unadmin: %s %s (%s), want %s", tt.cmd.Op, tt.cmd.Room, got.Type, got.Code, got.Reason, tt.want)
			}
		})
	}
}
