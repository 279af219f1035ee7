package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

func testDurability(t *testing.T, f Factory) {
	open := f(t)
	ctx := t.Context()

	s, closeStore := openOnce(t, open)
	room := chat.Room{Name: "durable", Topic: "kept", Private: true, Owner: "alice"}
	if err := s.CreateRoom(ctx, room); err != nil {
		t.Fatalf("CreateRoom: %v", err)
	}
	first := mustAppend(t, s, []chat.NewMessage{
		{Room: "durable", Author: "alice", Body: "one"},
		{Room: chat.DefaultRoom, Author: "bob", Guest: true, Body: "hi", CMID: "c1"},
		{Room: "durable", Author: "alice", Body: "two", CMID: "c2"},
	})
	acked := mustAppend(t, s, []chat.NewMessage{
		{Room: "durable", Author: "alice", Body: "three", CMID: "c3"},
		{Room: "durable", Author: "carol", Body: "four", CMID: "c3"},
	})
	wantRooms, err := s.Rooms(ctx)
	if err != nil {
		t.Fatalf("Rooms: %v", err)
	}
	wantHist := map[string][]chat.Message{
		"durable":        allHistory(t, s, "durable"),
		chat.DefaultRoom: allHistory(t, s, chat.DefaultRoom),
	}
	if err := closeStore(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = keepOpen(t, open)
	gotRooms, err := s.Rooms(ctx)
	if err != nil {
		t.Fatalf("Rooms after reopen: %v", err)
	}
	if diff := cmp.Diff(wantRooms, gotRooms); diff != "" {
		t.Errorf("Rooms after reopen mismatch (-before +after):\n%s", diff)
	}
	for room, want := range wantHist {
		if diff := cmp.Diff(want, allHistory(t, s, room)); diff != "" {
			t.Errorf("history of %q after reopen mismatch (-before +after):\n%s", room, diff)
		}
	}

	// Resends are still recognized, and numbering goes on.
	res, err := s.Append(ctx, []chat.NewMessage{
		{Room: "durable", Author: "alice", Body: "three again", CMID: "c3"},
		{Room: chat.DefaultRoom, Author: "bob", Body: "hi again", CMID: "c1"},
		{Room: "durable", Author: "alice", Body: "five"},
	})
	if err != nil {
		t.Fatalf("Append after reopen: %v", err)
	}
	if len(res) != 3 {
		t.Fatalf("Append returned %d results for 3 messages", len(res))
	}
	for i, want := range []chat.Message{acked[0], first[1]} {
		if !res[i].Duplicate {
			t.Errorf("resend %d after reopen: Duplicate = false, want true", i)
		}
		if diff := cmp.Diff(want, res[i].Message); diff != "" {
			t.Errorf("resend %d after reopen (-stored +result):\n%s", i, diff)
		}
	}
	if res[2].Duplicate || res[2].Err != nil {
		t.Errorf("new message after reopen: Duplicate = %v, Err = %v; want false, nil", res[2].Duplicate, res[2].Err)
	}
	if got, want := res[2].Message.Seq, int64(len(wantHist["durable"])+1); got != want {
		t.Errorf("new message after reopen: Seq = %d, want %d", got, want)
	}
	checkTimes(t, allHistory(t, s, "durable"))
	if err := s.CreateRoom(ctx, room); !errors.Is(err, chat.ErrRoomExists) {
		t.Errorf("CreateRoom(%q) after reopen = %v, want %v", room.Name, err, chat.ErrRoomExists)
	}
}

func testClosed(t *testing.T, f Factory) {
	s, closeStore := openOnce(t, f(t))
	if err := closeStore(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	calls := []struct {
		name string
		call func() error
	}{
		{"Append", func() error {
			_, err := s.Append(ctx, []chat.NewMessage{{Room: chat.DefaultRoom, Author: "alice", Body: "hi"}})
			return err
		}},
		{"AppendEmpty", func() error { _, err := s.Append(ctx, nil); return err }},
		{"HistoryBefore", func() error { _, err := s.HistoryBefore(ctx, chat.DefaultRoom, 0, 10); return err }},
		{"HistoryAfter", func() error { _, err := s.HistoryAfter(ctx, chat.DefaultRoom, 0, 10); return err }},
		{"CreateRoom", func() error { return s.CreateRoom(ctx, chat.Room{Name: "late"}) }},
		{"Room", func() error { _, err := s.Room(ctx, chat.DefaultRoom); return err }},
		{"Rooms", func() error { _, err := s.Rooms(ctx); return err }},
		{"Heads", func() error { _, err := s.Heads(ctx, []string{chat.DefaultRoom}); return err }},
		{"Ping", func() error { return s.Ping(ctx) }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, chat.ErrClosed) {
			t.Errorf("%s after Close = %v, want %v", c.name, err, chat.ErrClosed)
		}
	}
}

func testPing(t *testing.T, f Factory) {
	s := start(t, f)
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_ = s.Ping(ctx) // may fail or not; must not hang or panic
}
