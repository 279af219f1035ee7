package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// ignoreCreatedAt leaves Room.CreatedAt, which the store sets, to
// checkStoreTime.
var ignoreCreatedAt = cmpopts.IgnoreFields(chat.Room{}, "CreatedAt")

func testDefaultRoom(t *testing.T, f Factory) {
	s := start(t, f)
	want := chat.Room{Name: chat.DefaultRoom}

	got, err := s.Room(t.Context(), chat.DefaultRoom)
	if err != nil {
		t.Fatalf("Room(%q): %v", chat.DefaultRoom, err)
	}
	if diff := cmp.Diff(want, got, ignoreCreatedAt); diff != "" {
		t.Errorf("Room(%q) mismatch (-want +got):\n%s", chat.DefaultRoom, diff)
	}
	if err := checkStoreTime(got.CreatedAt); err != nil {
		t.Errorf("Room(%q).CreatedAt: %v", chat.DefaultRoom, err)
	}

	rooms, err := s.Rooms(t.Context())
	if err != nil {
		t.Fatalf("Rooms: %v", err)
	}
	if diff := cmp.Diff([]chat.Room{want}, rooms, ignoreCreatedAt); diff != "" {
		t.Errorf("Rooms mismatch (-want +got):\n%s", diff)
	}
}

func testRooms(t *testing.T, f Factory) {
	s := start(t, f)
	ctx := t.Context()

	// Created in this order; Rooms must sort them by bytes: upper case
	// before lower case, multi-byte UTF-8 last.
	create := []chat.Room{
		{Name: "secret", Topic: "shh", Private: true, Owner: "bob"},
		{Name: "ärger", Owner: "carol"},
		{Name: "general", Topic: "anything goes", Owner: "alice"},
		// CreatedAt and LastSeq are the store's to set.
		{Name: "Zeta", CreatedAt: time.Unix(1, 0), LastSeq: 99},
	}
	for _, r := range create {
		if err := s.CreateRoom(ctx, r); err != nil {
			t.Fatalf("CreateRoom(%q): %v", r.Name, err)
		}
	}

	t.Run("Exists", func(t *testing.T) {
		for _, name := range []string{"secret", chat.DefaultRoom} {
			err := s.CreateRoom(ctx, chat.Room{Name: name, Topic: "again"})
			if !errors.Is(err, chat.ErrRoomExists) {
				t.Errorf("CreateRoom(%q) again = %v, want %v", name, err, chat.ErrRoomExists)
			}
		}
		r, err := s.Room(ctx, "secret")
		if err != nil {
			t.Fatalf("Room: %v", err)
		}
		if r.Topic != "shh" {
			t.Errorf("after a failed CreateRoom, Topic = %q, want %q", r.Topic, "shh")
		}
	})

	t.Run("NoSuchRoom", func(t *testing.T) {
		for _, name := range []string{"nope", "Secret", "secret ", ""} {
			_, err := s.Room(ctx, name)
			if !errors.Is(err, chat.ErrNoSuchRoom) {
				t.Errorf("Room(%q) = %v, want %v", name, err, chat.ErrNoSuchRoom)
			}
		}
	})

	// Two messages in general, one in Zeta.
	mustAppend(t, s, []chat.NewMessage{
		{Room: "general", Author: "alice", Body: "hi"},
		{Room: "Zeta", Author: "alice", Body: "hi"},
		{Room: "general", Author: "alice", Body: "hi again"},
	})

	want := []chat.Room{
		{Name: "Zeta", LastSeq: 1},
		{Name: "general", Topic: "anything goes", Owner: "alice", LastSeq: 2},
		{Name: chat.DefaultRoom},
		{Name: "secret", Topic: "shh", Private: true, Owner: "bob"},
		{Name: "ärger", Owner: "carol"},
	}

	t.Run("Room", func(t *testing.T) {
		for _, w := range want {
			got, err := s.Room(ctx, w.Name)
			if err != nil {
				t.Errorf("Room(%q): %v", w.Name, err)
				continue
			}
			if diff := cmp.Diff(w, got, ignoreCreatedAt); diff != "" {
				t.Errorf("Room(%q) mismatch (-want +got):\n%s", w.Name, diff)
			}
			if err := checkStoreTime(got.CreatedAt); err != nil {
				t.Errorf("Room(%q).CreatedAt: %v", w.Name, err)
			}
		}
	})

	t.Run("Rooms", func(t *testing.T) {
		got, err := s.Rooms(ctx)
		if err != nil {
			t.Fatalf("Rooms: %v", err)
		}
		if diff := cmp.Diff(want, got, ignoreCreatedAt); diff != "" {
			t.Errorf("Rooms mismatch (-want +got):\n%s", diff)
		}
		// Rooms and Room agree, CreatedAt included.
		for _, r := range got {
			one, err := s.Room(ctx, r.Name)
			if err != nil {
				t.Fatalf("Room(%q): %v", r.Name, err)
			}
			if diff := cmp.Diff(one, r); diff != "" {
				t.Errorf("Rooms and Room(%q) disagree (-Room +Rooms):\n%s", r.Name, diff)
			}
		}
	})
}

// testHeads: the heads of many rooms in one call, rooms that don't exist
// left out, and heads that follow appends.
func testHeads(t *testing.T, f Factory) {
	s := start(t, f)
	ctx := t.Context()
	var names []string
	want := map[string]int64{chat.DefaultRoom: 0}
	for i := range 1200 { // more than one chunk of any reasonable size
		name := fmt.Sprint("h", i)
		names = append(names, name)
		if i%2 == 0 {
			continue // asked for, never created
		}
		if err := s.CreateRoom(ctx, chat.Room{Name: name}); err != nil {
			t.Fatalf("CreateRoom(%s): %v", name, err)
		}
		want[name] = 0
	}
	var batch []chat.NewMessage
	for _, room := range []string{"h1", "h1", "h3", "h1199"} {
		batch = append(batch, chat.NewMessage{Room: room, Author: "a", Body: "x"})
		want[room]++
	}
	mustAppend(t, s, batch)
	heads, err := s.Heads(ctx, append(names, chat.DefaultRoom))
	if err != nil {
		t.Fatalf("Heads: %v", err)
	}
	got := make(map[string]int64, len(heads))
	for name, h := range heads {
		got[name] = h.Seq
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Heads (-want +got):\n%s", diff)
	}
	for _, name := range []string{chat.DefaultRoom, "h1", "h3", "h1199"} {
		r, err := s.Room(ctx, name)
		if err != nil {
			t.Fatalf("Room(%s): %v", name, err)
		}
		if h := heads[name]; !h.Created.Equal(r.CreatedAt) {
			t.Errorf("Heads: %s created %v, Room says %v", name, h.Created, r.CreatedAt)
		}
	}
	if got, err := s.Heads(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("Heads(nil) = %v, %v; want empty", got, err)
	}

	// A room deleted and created again under its name is another room:
	// its head starts over and says when it was created (a node tells
	// the two apart by it when it lost the deletion's news).
	before := heads["h1"]
	if err := s.DeleteRoom(ctx, "h1"); err != nil {
		t.Fatalf("DeleteRoom: %v", err)
	}
	if heads, err := s.Heads(ctx, []string{"h1"}); err != nil || len(heads) != 0 {
		t.Errorf("Heads after DeleteRoom = %v, %v; want empty", heads, err)
	}
	for {
		// The creation time has millisecond precision: wait for the
		// next millisecond of the store's clock, as any later creation
		// would be.
		if err := s.CreateRoom(ctx, chat.Room{Name: "h1", Private: true, Owner: "a"}); err != nil {
			t.Fatalf("CreateRoom again: %v", err)
		}
		heads, err := s.Heads(ctx, []string{"h1"})
		if err != nil {
			t.Fatalf("Heads: %v", err)
		}
		h := heads["h1"]
		if h.Seq != 0 {
			t.Fatalf("Heads after creating h1 again: seq %d, want 0", h.Seq)
		}
		if !h.Created.Equal(before.Created) {
			if h.Created.Before(before.Created) {
				t.Errorf("the new h1 was created %v, before the old one (%v)", h.Created, before.Created)
			}
			break
		}
		if err := s.DeleteRoom(ctx, "h1"); err != nil {
			t.Fatalf("DeleteRoom: %v", err)
		}
	}
}
