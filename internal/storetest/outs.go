package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// outsReader is the store method testRoomWithOuts checks (the server's
// roomOutsReader; see chat.Outs).
type outsReader interface {
	RoomWithOuts(ctx context.Context, name string, after int64, user, userKey string) (chat.Room, chat.Outs, error)
}

// testRoomWithOuts: RoomWithOuts reads a room's row as Room does, with the
// newest kick or ban entry after a sequence, about anyone and about one
// user: an account by its name (never a guest who has that display name),
// a guest by its identity. Other kinds, other rooms and entries up to the
// sequence do not count.
func testRoomWithOuts(t *testing.T, f Factory) {
	s := start(t, f)
	o, ok := s.(outsReader)
	if !ok {
		t.Fatalf("%T has no RoomWithOuts", s)
	}
	ctx := t.Context()
	mustCreateRoom(t, s, "den", "other")
	until := time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC()
	const gA, gB = "~g0123456789abcdef0123", "~gfedcba9876543210fedc"
	got := mustAppend(t, s, []chat.NewMessage{
		plain("den", "ada", "hi"), // 1
		{Room: "den", Kind: chat.KindBan, Author: "alice", User: "mallory", Body: "spam", Until: until},  // 2
		{Room: "den", Kind: chat.KindKick, Author: "alice", User: "Troll 42", UserKey: gA, Body: "shoo"}, // 3
		plain("den", "ada", "still here"),                                                                  // 4
		{Room: "den", Kind: chat.KindKick, Author: "olga", User: "mallory", Body: "again"},                 // 5
		{Room: "den", Kind: chat.KindMute, Author: "olga", User: "mallory", Until: until},                  // 6
		{Room: "den", Kind: chat.KindBan, Author: "olga", User: "mallory", UserKey: gB, Body: "the guest"}, // 7
		{Room: "den", Kind: chat.KindUnban, Author: "olga", User: "mallory"},                               // 8
		{Room: "den", Kind: chat.KindKick, Author: "olga", User: "bob"},                                    // 9
		{Room: "den", Kind: chat.KindInvite, Author: "olga", User: "mallory"},                              // 10
		{Room: "den", Kind: chat.KindBan, Author: "olga", User: "dora", Body: "timed", Until: until},       // 11
		{Room: "other", Kind: chat.KindBan, Author: "olga", User: "mallory"},                               // other 1
	})
	entry := func(seq int64) chat.Message {
		m := got[seq-1]
		return chat.Message{Room: m.Room, Seq: m.Seq, Kind: m.Kind, Author: m.Author, Body: m.Body, Until: m.Until, User: m.User, UserKey: m.UserKey}
	}
	den, err := s.Room(ctx, "den")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		after         int64
		user, userKey string
		last          int64
		of            int64 // 0: none
	}{
		{"an account, from the start", 0, "mallory", "", 11, 5},
		{"an account, after its last", 5, "mallory", "", 11, 0},
		{"an account, just before its ban", 1, "mallory", "", 11, 5},
		{"an account's timed ban", 10, "dora", "", 11, 11},
		{"the guest who has the account's name", 0, "mallory", gB, 11, 7},
		{"a guest by identity alone", 0, "", gA, 11, 3},
		{"a guest, after its kick", 3, "", gA, 11, 0},
		{"another account", 0, "bob", "", 11, 9},
		{"nobody's", 0, "carl", "", 11, 0},
		{"after the last", 11, "mallory", "", 0, 0},
		{"past the head", 100, "mallory", "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, outs, err := o.RoomWithOuts(ctx, "den", tt.after, tt.user, tt.userKey)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(den, r); diff != "" {
				t.Errorf("room (-Room +RoomWithOuts):\n%s", diff)
			}
			want := chat.Outs{Last: tt.last}
			if tt.of != 0 {
				want.Of = entry(tt.of)
			}
			if diff := cmp.Diff(want, outs); diff != "" {
				t.Errorf("outs after %d of %q/%q (-want +got):\n%s", tt.after, tt.user, tt.userKey, diff)
			}
		})
	}
	// Another room's entries stay there.
	r, outs, err := o.RoomWithOuts(ctx, "other", 0, "mallory", "")
	if err != nil || r.LastSeq != 1 || outs.Last != 1 || outs.Of.Seq != 1 || outs.Of.Room != "other" {
		t.Errorf("RoomWithOuts of other = %+v, %+v, %v; want its own ban of mallory", r, outs, err)
	}
	if _, _, err := o.RoomWithOuts(ctx, "nope", 0, "mallory", ""); !errors.Is(err, chat.ErrNoSuchRoom) {
		t.Errorf("RoomWithOuts of a missing room: %v, want ErrNoSuchRoom", err)
	}
}
