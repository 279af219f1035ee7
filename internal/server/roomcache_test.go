package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestJoinReplyLastSeq: every join reply's last_seq is the room's newest
// message when the joiner asked, whether the row came from the room cache
// (nothing delivered since it was read) or had to be read again (messages
// since), and the topic goes with it.
func TestJoinReplyLastSeq(t *testing.T) {
	// A cache that never expires during the test: what it serves stale
	// shows.
	s, _ := newAccountServer(t, func(c *Config) { c.ModerationCheck = time.Hour })
	owner := s.account(t, s.register(t, "owner"))
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "cached", Topic: "first"})
	owner.ok(protocol.Command{Op: protocol.OpJoin, Room: "cached"})

	steps := []struct {
		send      int    // messages the owner sends before the join
		topic     string // the owner sets this topic before the join, if not ""
		wantSeq   int64
		wantTopic string
	}{
		{0, "", 0, "first"},
		{3, "", 3, "first"},
		{0, "", 3, "first"}, // nothing since: the cached row serves
		{0, "", 3, "first"},
		{2, "", 5, "first"},
		{0, "second", 6, "second"}, // a topic set here is never served stale; it is an entry too
		{1, "", 7, "second"},
	}
	for i, st := range steps {
		for j := 0; j < st.send; j++ {
			owner.ok(protocol.Command{Op: protocol.OpSend, Room: "cached", Body: fmt.Sprintf("m%d.%d", i, j)})
		}
		if st.topic != "" {
			owner.ok(protocol.Command{Op: protocol.OpTopic, Room: "cached", Topic: st.topic})
		}
		if st.send > 0 || st.topic != "" {
			// The owner's own copy of the last entry has been delivered:
			// the hub's head has moved.
			owner.waitFor("own message", func(ev protocol.Event) bool {
				return ev.Type == protocol.TypeMessage && ev.Message.Seq == st.wantSeq
			})
		}
		c := s.client(t, fmt.Sprintf("joiner%d", i))
		ev := c.ok(protocol.Command{Op: protocol.OpJoin, Room: "cached"})
		if ev.Info == nil || ev.Info.LastSeq != st.wantSeq || ev.Info.Topic != st.wantTopic {
			t.Errorf("step %d: join reply info = %+v, want last_seq %d, topic %q", i, ev.Info, st.wantSeq, st.wantTopic)
		}
	}
}
