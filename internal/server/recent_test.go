package server

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestRecentHistoryMatchesStore: every history page after a sequence is
// the store's answer, message for message, whether the room's latest
// messages in memory answered it (recentHistory) or the store did; and
// the memory answered the pages it holds, which an edit, a reaction and a
// deletion cut short.
func TestRecentHistoryMatchesStore(t *testing.T) {
	for _, tt := range []struct {
		name       string
		recent     int // Config.RecentRoomBytes
		wantMemory bool
	}{
		{"kept", 0, true},
		{"off", -1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, func(c *Config) { c.RecentRoomBytes = tt.recent })
			alice := s.client(t, "alice")
			alice.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
			bob := s.client(t, "bob")
			bob.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
			cmds := []protocol.Command{}
			for i := range 10 {
				cmds = append(cmds, protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: fmt.Sprint("m", i+1), ReplyTo: int64(i / 2)})
			}
			cmds = append(cmds,
				protocol.Command{Op: protocol.OpEdit, Room: "lobby", Seq: 3, Body: "m3, edited"}, // 11
				protocol.Command{Op: protocol.OpReact, Room: "lobby", Seq: 5, Emoji: "👍"},        // 12
				protocol.Command{Op: protocol.OpDelete, Room: "lobby", Seq: 7},                   // 13
			)
			for i := range 20 {
				cmds = append(cmds, protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: fmt.Sprint("n", i+14), CMID: fmt.Sprint("c", i)})
			}
			for i, cmd := range cmds {
				if i%2 == 0 {
					alice.ok(cmd)
				} else {
					bob.ok(cmd)
				}
			}
			last := int64(len(cmds))
			alice.waitFor("the last message", func(ev protocol.Event) bool {
				return ev.Type == protocol.TypeMessage && ev.Message.Seq == last
			})
			served := 0
			for after := int64(0); after <= last; after++ {
				for _, limit := range []int{1, 5, protocol.MaxHistoryLimit} {
					counted := counterValue(s.srv.data.recentHistory)
					got := alice.ok(protocol.Command{Op: protocol.OpHistory, Room: "lobby", After: &after, Limit: limit})
					if counterValue(s.srv.data.recentHistory) > counted {
						served++
					}
					msgs, err := s.store.HistoryAfter(t.Context(), "lobby", after, limit+1)
					if err != nil {
						t.Fatal(err)
					}
					wantMore := len(msgs) > limit
					if wantMore {
						msgs = msgs[:limit]
					}
					var want []protocol.Message
					for _, m := range msgs {
						want = append(want, wireMessage(m))
					}
					if diff := cmp.Diff(want, got.Messages, cmpopts.EquateEmpty()); diff != "" || got.More != wantMore {
						t.Errorf("history after %d limit %d: more %v, want %v; messages (-store +got):\n%s", after, limit, got.More, wantMore, diff)
					}
				}
			}
			// After 13 (the deletion) every page is in memory but the
			// last (nothing after 33: the store answers).
			if want := (int(last) - 13) * 3; tt.wantMemory && served != want {
				t.Errorf("%d pages answered from memory, want %d", served, want)
			}
			if !tt.wantMemory && served != 0 {
				t.Errorf("%d pages answered from memory, want none", served)
			}

			// A message the store has and the room has not delivered yet
			// (here: appended behind the server's back; in life: acked a
			// moment ago) is in every page that reaches it.
			if _, err := s.store.Append(t.Context(), []chat.NewMessage{{Room: "lobby", Author: "carol", Guest: true, Body: "just committed"}}); err != nil {
				t.Fatal(err)
			}
			after := last - 1
			got := alice.ok(protocol.Command{Op: protocol.OpHistory, Room: "lobby", After: &after, Limit: 10})
			var seqs []int64
			for _, m := range got.Messages {
				seqs = append(seqs, m.Seq)
			}
			if diff := cmp.Diff([]int64{last, last + 1}, seqs); diff != "" {
				t.Errorf("history after %d once the store is ahead: seqs (-want +got):\n%s", after, diff)
			}
		})
	}
}
