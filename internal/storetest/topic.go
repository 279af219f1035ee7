package storetest

import (
	"errors"
	"testing"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// testSetTopic: SetTopic changes what Room and Rooms report; a missing
// room is ErrNoSuchRoom.
func testSetTopic(t *testing.T, f Factory) {
	s := startAccess(t, f)
	ctx := t.Context()
	if err := s.CreateRoom(ctx, chat.Room{Name: "den", Topic: "old"}); err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{"new topic", ""} {
		if err := s.SetTopic(ctx, "den", topic); err != nil {
			t.Fatalf("SetTopic(%q): %v", topic, err)
		}
		r, err := s.Room(ctx, "den")
		if err != nil {
			t.Fatal(err)
		}
		if r.Topic != topic {
			t.Errorf("topic = %q, want %q", r.Topic, topic)
		}
	}
	if err := s.SetTopic(ctx, "nowhere", "x"); !errors.Is(err, chat.ErrNoSuchRoom) {
		t.Errorf("SetTopic on a missing room = %v, want ErrNoSuchRoom", err)
	}
}
