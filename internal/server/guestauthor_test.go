package server

import (
	"testing"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestGuestCannotActOnAnotherGuestsMessages: a guest's messages belong to
// the guest's identity (the hubbub_guest cookie), not to its display
// name. Once a guest has left, anyone may say hello with the same name;
// that newcomer must not edit or delete what the first guest wrote. The
// same identity may, under any name.
func TestGuestCannotActOnAnotherGuestsMessages(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	adaJar := guestJar(t)
	ada, _ := s.guestWith(t, adaJar, "ada")
	ada.ok(protocol.Command{Op: protocol.OpJoin, Room: chat.DefaultRoom})
	var seqs []int64
	for _, body := range []string{"one", "two"} {
		seqs = append(seqs, ada.ok(protocol.Command{Op: protocol.OpSend, Room: chat.DefaultRoom, Body: body}).Message.Seq)
	}
	ada.ws.Close()
	waitGuestGone(t, s, "ada")

	// Someone else, with a cookie of their own, takes the name.
	impostor, ev := s.guestWith(t, guestJar(t), "ada")
	if ev.Type != protocol.TypeOK {
		t.Fatalf("impostor hello: %+v", ev)
	}
	impostor.ok(protocol.Command{Op: protocol.OpJoin, Room: chat.DefaultRoom})
	for _, tt := range []struct {
		cmd  protocol.Command
		want protocol.Code
	}{
		{protocol.Command{Op: protocol.OpEdit, Room: chat.DefaultRoom, Seq: seqs[0], Body: "I was wrong"}, protocol.CodeForbidden},
		{protocol.Command{Op: protocol.OpDelete, Room: chat.DefaultRoom, Seq: seqs[1]}, protocol.CodeForbidden},
	} {
		t.Run("impostor "+tt.cmd.Op, func(t *testing.T) {
			if got := impostor.do(tt.cmd); got.Code != tt.want {
				t.Errorf("%s of the first ada's message: %s %s (%s), want %s", tt.cmd.Op, got.Type, got.Code, got.Reason, tt.want)
			}
		})
	}
	impostor.ws.Close()
	waitGuestGone(t, s, "ada")

	// The first ada, back under another name, still owns her messages.
	back, ev := s.guestWith(t, adaJar, "ada again")
	if ev.Type != protocol.TypeOK {
		t.Fatalf("ada back: %+v", ev)
	}
	back.ok(protocol.Command{Op: protocol.OpJoin, Room: chat.DefaultRoom})
	back.ok(protocol.Command{Op: protocol.OpEdit, Room: chat.DefaultRoom, Seq: seqs[0], Body: "one, edited"})
	back.ok(protocol.Command{Op: protocol.OpDelete, Room: chat.DefaultRoom, Seq: seqs[1]})
}
