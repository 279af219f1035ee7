package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// RunEntries runs the conformance suite for room entries (edits,
// deletions, reactions, replies and moderation entries) against the stores
// f makes. It checks what chat.Store.Append and chat.Target.Fold promise:
// each entry takes effect in the transaction that numbers it, sees the
// entries before it in its batch, and history shows every plain message as
// it is now.
func RunEntries(t *testing.T, f Factory) {
	runSuite(t, f, []subtest{
		{"Edit", testEdit},
		{"Delete", testDelete},
		{"Refused", testEntryRefused},
		{"GuestIdentity", testGuestIdentity},
		{"Reactions", testReactions},
		{"ReactionOrder", testReactionOrder},
		{"ReactionLimit", testReactionLimit},
		{"SameBatch", testEntriesSameBatch},
		{"Reply", testReply},
		{"Moderation", testModerationEntries},
		{"RoomWithOuts", testRoomWithOuts},
		{"Durability", testEntriesDurability},
	})
}

// state is what history shows of an entry, for comparisons.
type state struct {
	Seq       int64
	Kind      string
	Author    string
	Body      string
	Target    int64
	ReplyTo   int64
	FileID    string
	Edited    bool
	Deleted   bool
	Reactions []chat.Reaction
	V         int64
}

func stateOf(m chat.Message) state {
	return state{m.Seq, m.Kind, m.Author, m.Body, m.Target, m.ReplyTo, m.FileID, !m.Edited.IsZero(), m.Deleted, m.Reactions, m.V}
}

// states returns the state of every entry of room.
func states(t *testing.T, s chat.Store, room string) []state {
	t.Helper()
	var out []state
	for _, m := range allHistory(t, s, room) {
		out = append(out, stateOf(m))
	}
	return out
}

// appendOne appends e alone and returns its result.
func appendOne(t *testing.T, s chat.Store, e chat.NewMessage) chat.AppendResult {
	t.Helper()
	res, err := s.Append(t.Context(), []chat.NewMessage{e})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return res[0]
}

func plain(room, author, body string) chat.NewMessage {
	return chat.NewMessage{Room: room, Author: author, Body: body}
}

func entry(kind, room, author string, target int64, body string) chat.NewMessage {
	return chat.NewMessage{Room: room, Kind: kind, Author: author, Target: target, Body: body}
}

func testEdit(t *testing.T, f Factory) {
	s := start(t, f)
	room := chat.DefaultRoom
	mustAppend(t, s, []chat.NewMessage{plain(room, "ada", "helo"), plain(room, "bob", "hi")})
	got := mustAppend(t, s, []chat.NewMessage{entry(chat.KindEdit, room, "ada", 1, "hello")})[0]
	if got.Seq != 3 || got.Kind != chat.KindEdit || got.Target != 1 || got.Body != "hello" {
		t.Errorf("edit result = %+v, want seq 3, kind edit, target 1, body hello", got)
	}
	second := mustAppend(t, s, []chat.NewMessage{entry(chat.KindEdit, room, "ada", 1, "hello, world")})[0]

	hist := allHistory(t, s, room)
	if !hist[0].Edited.Equal(second.Time) {
		t.Errorf("Edited = %v, want the second edit's time %v", hist[0].Edited, second.Time)
	}
	want := []state{
		{Seq: 1, Author: "ada", Body: "hello, world", Edited: true, V: 4},
		{Seq: 2, Author: "bob", Body: "hi"},
		{Seq: 3, Kind: chat.KindEdit, Author: "ada", Body: "hello", Target: 1},
		{Seq: 4, Kind: chat.KindEdit, Author: "ada", Body: "hello, world", Target: 1},
	}
	if diff := cmp.Diff(want, states(t, s, room), equateEmpty); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

// testGuestIdentity: a guest's message is its identity's (AuthorKey), not
// its display name's: another guest of the same name may neither edit nor
// delete it, the same identity under another name may; and a guest
// message stored without a key is no guest's to change. Each message is
// acted on in a later batch (loaded from the store) and in its own batch.
func testGuestIdentity(t *testing.T, f Factory) {
	s := start(t, f)
	room := chat.DefaultRoom
	guest := func(kind, name, key string, target int64, body string) chat.NewMessage {
		return chat.NewMessage{Room: room, Kind: kind, Author: name, Guest: true, AuthorKey: key, Target: target, Body: body}
	}
	for _, sameBatch := range []bool{false, true} {
		for _, tt := range []struct {
			name string
			by   chat.NewMessage // Target is filled in
			want error
		}{
			{"edit, same name, other identity", guest(chat.KindEdit, "ada", "~gbbbb", 0, "x"), chat.ErrNotAuthor},
			{"delete, same name, other identity", guest(chat.KindDelete, "ada", "~gbbbb", 0, ""), chat.ErrNotAuthor},
			{"edit, same name, no identity", guest(chat.KindEdit, "ada", "", 0, "x"), chat.ErrNotAuthor},
			{"edit, the account of that name", entry(chat.KindEdit, room, "ada", 0, "x"), chat.ErrNotAuthor},
			{"edit, same identity, other name", guest(chat.KindEdit, "ada2", "~gaaaa", 0, "x"), nil},
			{"delete, same identity", guest(chat.KindDelete, "ada", "~gaaaa", 0, ""), nil},
		} {
			t.Run(fmt.Sprintf("%s/sameBatch=%t", tt.name, sameBatch), func(t *testing.T) {
				msg := guest("", "ada", "~gaaaa", 0, "mine")
				var r chat.AppendResult
				if sameBatch {
					// The entry targets the seq the message is about to get.
					var last int64
					if h := allHistory(t, s, room); len(h) > 0 {
						last = h[len(h)-1].Seq
					}
					by := tt.by
					by.Target = last + 1
					res, err := s.Append(t.Context(), []chat.NewMessage{msg, by})
					if err != nil {
						t.Fatal(err)
					}
					if res[0].Err != nil || res[0].Message.Seq != last+1 {
						t.Fatalf("message: %+v, want seq %d", res[0], last+1)
					}
					r = res[1]
				} else {
					first := appendOne(t, s, msg)
					by := tt.by
					by.Target = first.Message.Seq
					r = appendOne(t, s, by)
				}
				if !errors.Is(r.Err, tt.want) {
					t.Errorf("%s: err %v, want %v", tt.name, r.Err, tt.want)
				}
			})
		}
	}
	// A guest message stored without an identity is no guest's.
	old := appendOne(t, s, guest("", "ada", "", 0, "old"))
	if r := appendOne(t, s, guest(chat.KindEdit, "ada", "", old.Message.Seq, "x")); !errors.Is(r.Err, chat.ErrNotAuthor) {
		t.Errorf("edit of a guest message without identity: err %v, want ErrNotAuthor", r.Err)
	}
}

func testDelete(t *testing.T, f Factory) {
	s := start(t, f)
	room := chat.DefaultRoom
	mustAppend(t, s, []chat.NewMessage{
		{Room: room, Author: "ada", Body: "oops", FileID: "f_1"},
		plain(room, "bob", "hi"),
	})
	mustAppend(t, s, []chat.NewMessage{
		entry(chat.KindEdit, room, "ada", 1, "oops, secret"),
		entry(chat.KindReact, room, "bob", 1, "👍"),
		entry(chat.KindDelete, room, "ada", 1, ""),
	})
	// A moderator deletes bob's message.
	if r := appendOne(t, s, entry(chat.KindDelete, room, "mod", 2, "")); !errors.Is(r.Err, chat.ErrNotAuthor) {
		t.Errorf("delete of another's message without AnyAuthor: Err = %v, want ErrNotAuthor", r.Err)
	}
	byMod := entry(chat.KindDelete, room, "mod", 2, "")
	byMod.AnyAuthor = true
	mustAppend(t, s, []chat.NewMessage{byMod})

	want := []state{
		{Seq: 1, Author: "ada", Edited: true, Deleted: true, V: 5},
		{Seq: 2, Author: "bob", Deleted: true, V: 6},
		{Seq: 3, Kind: chat.KindEdit, Author: "ada", Target: 1}, // its body is gone too
		{Seq: 4, Kind: chat.KindReact, Author: "bob", Body: "👍", Target: 1},
		{Seq: 5, Kind: chat.KindDelete, Author: "ada", Target: 1},
		{Seq: 6, Kind: chat.KindDelete, Author: "mod", Target: 2},
	}
	if diff := cmp.Diff(want, states(t, s, room), equateEmpty); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}

	// Nothing acts on a deleted message any more.
	for _, e := range []chat.NewMessage{
		entry(chat.KindEdit, room, "ada", 1, "again"),
		entry(chat.KindDelete, room, "ada", 1, ""),
		entry(chat.KindReact, room, "ada", 1, "👍"),
		{Room: room, Author: "ada", Body: "re", ReplyTo: 1},
	} {
		if r := appendOne(t, s, e); !errors.Is(r.Err, chat.ErrNoSuchMessage) {
			t.Errorf("%s of a deleted message: Err = %v, want ErrNoSuchMessage", kindName(e), r.Err)
		}
	}
}

func kindName(e chat.NewMessage) string {
	if e.Kind == "" {
		return "reply"
	}
	return e.Kind
}

func testEntryRefused(t *testing.T, f Factory) {
	s := start(t, f)
	room := chat.DefaultRoom
	mustCreateRoom(t, s, "other")
	mustAppend(t, s, []chat.NewMessage{plain(room, "ada", "hi"), plain("other", "ada", "there")})
	mustAppend(t, s, []chat.NewMessage{entry(chat.KindEdit, room, "ada", 1, "hello")}) // seq 2
	mustAppend(t, s, []chat.NewMessage{{Room: room, Kind: chat.KindBan, Author: "ada", User: "bob"}})

	tests := []struct {
		name string
		e    chat.NewMessage
		want error
	}{
		{"edit by another", entry(chat.KindEdit, room, "bob", 1, "mine now"), chat.ErrNotAuthor},
		{"edit by a guest of the same name", chat.NewMessage{Room: room, Kind: chat.KindEdit, Author: "ada", Guest: true, Target: 1, Body: "x"}, chat.ErrNotAuthor},
		{"edit with AnyAuthor", chat.NewMessage{Room: room, Kind: chat.KindEdit, Author: "bob", Target: 1, Body: "x", AnyAuthor: true}, chat.ErrNotAuthor},
		{"delete by another", entry(chat.KindDelete, room, "bob", 1, ""), chat.ErrNotAuthor},
		{"edit of a missing seq", entry(chat.KindEdit, room, "ada", 99, "x"), chat.ErrNoSuchMessage},
		{"edit of an edit entry", entry(chat.KindEdit, room, "ada", 2, "x"), chat.ErrNoSuchMessage},
		{"react to a ban entry", entry(chat.KindReact, room, "ada", 3, "👍"), chat.ErrNoSuchMessage},
		{"delete of seq 0", entry(chat.KindDelete, room, "ada", 0, ""), chat.ErrNoSuchMessage},
		{"reply to an edit entry", chat.NewMessage{Room: room, Author: "ada", Body: "re", ReplyTo: 2}, chat.ErrNoSuchMessage},
		{"reply to a missing seq", chat.NewMessage{Room: room, Author: "ada", Body: "re", ReplyTo: 99}, chat.ErrNoSuchMessage},
		// seq 1 of room "other" is ada's, but the edit names room lobby's 4.
		{"edit of another room's message", entry(chat.KindEdit, room, "ada", 4, "x"), chat.ErrNoSuchMessage},
		{"missing room", entry(chat.KindEdit, "nowhere", "ada", 1, "x"), chat.ErrNoSuchRoom},
	}
	for _, tc := range tests {
		r := appendOne(t, s, tc.e)
		if !errors.Is(r.Err, tc.want) {
			t.Errorf("%s: Err = %v, want %v", tc.name, r.Err, tc.want)
		}
	}
	// A refused entry takes no seq: the room goes on at 4.
	if got := mustAppend(t, s, []chat.NewMessage{plain(room, "ada", "next")})[0].Seq; got != 4 {
		t.Errorf("next seq = %d, want 4", got)
	}
	want := []state{
		{Seq: 1, Author: "ada", Body: "hello", Edited: true, V: 2},
		{Seq: 2, Kind: chat.KindEdit, Author: "ada", Body: "hello", Target: 1},
		{Seq: 3, Kind: chat.KindBan, Author: "ada"},
		{Seq: 4, Author: "ada", Body: "next"},
	}
	if diff := cmp.Diff(want, states(t, s, room), equateEmpty); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

func testReactions(t *testing.T, f Factory) {
	s := start(t, f)
	room := chat.DefaultRoom
	mustAppend(t, s, []chat.NewMessage{plain(room, "ada", "hi")})
	var kinds []string
	for _, e := range []chat.NewMessage{
		entry(chat.KindReact, room, "bob", 1, "👍"),   // 2 react
		entry(chat.KindReact, room, "carl", 1, "❤️"), // 3 react
		entry(chat.KindReact, room, "ada", 1, "👍"),   // 4 react
		entry(chat.KindReact, room, "carl", 1, "❤️"), // 5 unreact: ❤️ goes
		entry(chat.KindReact, room, "carl", 1, "👍"),  // 6 react
		// A guest of the same name is the same name in the list: names
		// are what clients show.
		entry(chat.KindUnreact, room, "dan", 1, "🎉"), // 7 either kind toggles
	} {
		kinds = append(kinds, mustAppend(t, s, []chat.NewMessage{e})[0].Kind)
	}
	wantKinds := []string{"react", "react", "react", "unreact", "react", "react"}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("result kinds (-want +got):\n%s", diff)
	}
	hist := allHistory(t, s, room)
	want := []chat.Reaction{{Emoji: "👍", Users: []string{"bob", "ada", "carl"}}, {Emoji: "🎉", Users: []string{"dan"}}}
	if diff := cmp.Diff(want, hist[0].Reactions); diff != "" {
		t.Errorf("reactions (-want +got):\n%s", diff)
	}
	if hist[0].V != 7 {
		t.Errorf("V = %d, want 7", hist[0].V)
	}
	if hist[4].Kind != chat.KindUnreact || hist[4].Body != "❤️" {
		t.Errorf("entry 5 = %+v, want the unreact of ❤️", stateOf(hist[4]))
	}
}

// testReactionOrder pins the order a client gets by applying entries: an
// emoji keeps its place while anyone keeps it, even when its first user
// takes theirs back.
func testReactionOrder(t *testing.T, f Factory) {
	s := start(t, f)
	room := chat.DefaultRoom
	mustAppend(t, s, []chat.NewMessage{plain(room, "ada", "hi")})
	thumbs, heart := "👍", "❤️"
	steps := []struct {
		user, emoji string
		want        []chat.Reaction
	}{
		{"ada", thumbs, []chat.Reaction{rx(thumbs, "ada")}},
		{"bob", heart, []chat.Reaction{rx(thumbs, "ada"), rx(heart, "bob")}},
		{"carl", thumbs, []chat.Reaction{rx(thumbs, "ada", "carl"), rx(heart, "bob")}},
		{"dan", thumbs, []chat.Reaction{rx(thumbs, "ada", "carl", "dan"), rx(heart, "bob")}},
		// ada takes hers back: carl is first now, and 👍 stays first.
		{"ada", thumbs, []chat.Reaction{rx(thumbs, "carl", "dan"), rx(heart, "bob")}},
		{"ada", heart, []chat.Reaction{rx(thumbs, "carl", "dan"), rx(heart, "bob", "ada")}},
		{"carl", thumbs, []chat.Reaction{rx(thumbs, "dan"), rx(heart, "bob", "ada")}},
		{"ada", thumbs, []chat.Reaction{rx(thumbs, "dan", "ada"), rx(heart, "bob", "ada")}},
		{"dan", thumbs, []chat.Reaction{rx(thumbs, "ada"), rx(heart, "bob", "ada")}},
		// Gone and back: last.
		{"ada", thumbs, []chat.Reaction{rx(heart, "bob", "ada")}},
		{"ada", thumbs, []chat.Reaction{rx(heart, "bob", "ada"), rx(thumbs, "ada")}},
	}
	for i, st := range steps {
		mustAppend(t, s, []chat.NewMessage{entry(chat.KindReact, room, st.user, 1, st.emoji)})
		if diff := cmp.Diff(st.want, allHistory(t, s, room)[0].Reactions); diff != "" {
			t.Fatalf("after step %d (%s %s): reactions (-want +got):\n%s", i, st.user, st.emoji, diff)
		}
	}
}

func testReactionLimit(t *testing.T, f Factory) {
	s := start(t, f)
	room := chat.DefaultRoom
	mustAppend(t, s, []chat.NewMessage{plain(room, "ada", "hi")})
	var batch []chat.NewMessage
	for i := range chat.MaxReactions {
		batch = append(batch, entry(chat.KindReact, room, "ada", 1, string(rune(0x1F600+i))))
	}
	mustAppend(t, s, batch)
	res, err := s.Append(t.Context(), []chat.NewMessage{
		entry(chat.KindReact, room, "bob", 1, "🚀"),          // a 21st emoji
		entry(chat.KindReact, room, "bob", 1, "\U0001F600"), // an emoji already there
		entry(chat.KindReact, room, "ada", 1, "\U0001F601"), // takes one back
		entry(chat.KindReact, room, "bob", 1, "🚀"),          // now there is room
	})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	var got []string
	for _, r := range res {
		if r.Err != nil {
			got = append(got, r.Err.Error())
		} else {
			got = append(got, r.Message.Kind)
		}
	}
	want := []string{chat.ErrTooManyReactions.Error(), "react", "unreact", "react"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if n := len(allHistory(t, s, room)[0].Reactions); n != chat.MaxReactions {
		t.Errorf("%d emoji, want %d", n, chat.MaxReactions)
	}
}

// testEntriesSameBatch checks that an entry sees the effects of those
// before it in its batch, the batch's own messages included.
func testEntriesSameBatch(t *testing.T, f Factory) {
	s := start(t, f)
	room := chat.DefaultRoom
	res, err := s.Append(t.Context(), []chat.NewMessage{
		plain(room, "ada", "one"),                           // 1
		entry(chat.KindEdit, room, "ada", 1, "uno"),         // 2
		entry(chat.KindReact, room, "bob", 1, "👍"),          // 3
		entry(chat.KindReact, room, "bob", 1, "👍"),          // 4 unreact
		entry(chat.KindReact, room, "carl", 1, "👍"),         // 5
		{Room: room, Author: "bob", Body: "re", ReplyTo: 1}, // 6
		plain(room, "bob", "two"),                           // 7
		entry(chat.KindDelete, room, "bob", 7, ""),          // 8
		entry(chat.KindEdit, room, "bob", 7, "x"),           // refused: deleted
		entry(chat.KindEdit, room, "ada", 9, "x"),           // refused: 9 is the next entry, not yet there
		plain(room, "ada", "three"),                         // 9
		entry(chat.KindEdit, room, "ada", 9, "nine"),        // 10: 9 is there now
	})
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	for i, want := range []error{nil, nil, nil, nil, nil, nil, nil, nil, chat.ErrNoSuchMessage, chat.ErrNoSuchMessage, nil, nil} {
		if !errors.Is(res[i].Err, want) {
			t.Errorf("result %d: Err = %v, want %v", i, res[i].Err, want)
		}
	}
	want := []state{
		{Seq: 1, Author: "ada", Body: "uno", Edited: true, Reactions: []chat.Reaction{{Emoji: "👍", Users: []string{"carl"}}}, V: 5},
		{Seq: 2, Kind: chat.KindEdit, Author: "ada", Body: "uno", Target: 1},
		{Seq: 3, Kind: chat.KindReact, Author: "bob", Body: "👍", Target: 1},
		{Seq: 4, Kind: chat.KindUnreact, Author: "bob", Body: "👍", Target: 1},
		{Seq: 5, Kind: chat.KindReact, Author: "carl", Body: "👍", Target: 1},
		{Seq: 6, Author: "bob", Body: "re", ReplyTo: 1},
		{Seq: 7, Author: "bob", Deleted: true, V: 8},
		{Seq: 8, Kind: chat.KindDelete, Author: "bob", Target: 7},
		{Seq: 9, Author: "ada", Body: "nine", Edited: true, V: 10},
		{Seq: 10, Kind: chat.KindEdit, Author: "ada", Body: "nine", Target: 9},
	}
	if diff := cmp.Diff(want, states(t, s, room), equateEmpty); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

func testReply(t *testing.T, f Factory) {
	s := start(t, f)
	room := chat.DefaultRoom
	mustAppend(t, s, []chat.NewMessage{plain(room, "ada", "question")})
	reply := chat.NewMessage{Room: room, Author: "bob", Body: "answer", CMID: "c1", ReplyTo: 1, FileID: "f_2"}
	got := mustAppend(t, s, []chat.NewMessage{reply})[0]
	if got.ReplyTo != 1 || got.FileID != "f_2" {
		t.Errorf("reply result: ReplyTo %d, FileID %q; want 1, f_2", got.ReplyTo, got.FileID)
	}
	// A resend returns the stored reply, reply_to and all.
	again := appendOne(t, s, reply)
	if !again.Duplicate {
		t.Fatalf("resend: Duplicate = false")
	}
	if diff := cmp.Diff(got, again.Message); diff != "" {
		t.Errorf("resend returned (-first +resend):\n%s", diff)
	}
	h := allHistory(t, s, room)
	if diff := cmp.Diff(got, h[1]); diff != "" {
		t.Errorf("history of the reply (-append +history):\n%s", diff)
	}
}

// testModerationEntries: moderation entries keep whom they concern, a
// guest's identity beside its name (UserKey), and how long, in Append's
// results and in history alike.
func testModerationEntries(t *testing.T, f Factory) {
	s := start(t, f)
	room := chat.DefaultRoom
	until := time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC()
	batch := []chat.NewMessage{
		{Room: room, Kind: chat.KindBan, Author: "alice", User: "mallory", Body: "spam", Until: until},
		{Room: room, Kind: chat.KindMute, Author: "alice", User: "Troll 42", UserKey: "~g0123456789abcdef0123", Body: ""},
		{Room: room, Kind: chat.KindTopic, Author: "alice", Body: "SICP, chapter 3"},
		{Room: room, Kind: chat.KindRole, Author: "alice", User: "bob", Body: "moderator"},
		{Room: room, Kind: chat.KindKick, Author: "alice", User: "carl", Body: "be nice"},
	}
	got := mustAppend(t, s, batch)
	hist := allHistory(t, s, room)
	if diff := cmp.Diff(got, hist); diff != "" {
		t.Errorf("history (-append +history):\n%s", diff)
	}
	for i, m := range hist {
		e := batch[i]
		if m.Kind != e.Kind || m.User != e.User || m.UserKey != e.UserKey || m.Body != e.Body || !m.Until.Equal(e.Until) || m.Author != e.Author {
			t.Errorf("entry %d = %+v, want %+v", i, m, e)
		}
	}
	if !hist[1].Until.IsZero() {
		t.Errorf("mute until lifted: Until = %v, want zero", hist[1].Until)
	}
}

func testEntriesDurability(t *testing.T, f Factory) {
	open := f(t)
	s, closeStore := openOnce(t, open)
	room := chat.DefaultRoom
	mustAppend(t, s, []chat.NewMessage{plain(room, "ada", "hi"), plain(room, "bob", "yo")})
	mustAppend(t, s, []chat.NewMessage{
		entry(chat.KindReact, room, "bob", 1, "👍"),
		entry(chat.KindEdit, room, "ada", 1, "hello"),
		entry(chat.KindDelete, room, "bob", 2, ""),
	})
	want := states(t, s, room)
	if err := closeStore(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = keepOpen(t, open)
	if diff := cmp.Diff(want, states(t, s, room), equateEmpty); diff != "" {
		t.Errorf("history after reopen (-before +after):\n%s", diff)
	}
	// The state goes on from what was stored.
	r := appendOne(t, s, entry(chat.KindReact, room, "bob", 1, "👍"))
	if r.Err != nil || r.Message.Kind != chat.KindUnreact {
		t.Errorf("toggle after reopen = %+v, want an unreact", r)
	}
	if got := allHistory(t, s, room)[0]; got.Reactions != nil || got.V != r.Message.Seq {
		t.Errorf("after reopen: %s", fmt.Sprint(stateOf(got)))
	}
}

// rx is a reaction with emoji by users.
func rx(emoji string, users ...string) chat.Reaction {
	return chat.Reaction{Emoji: emoji, Users: users}
}
