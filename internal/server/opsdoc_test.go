package server

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hubbub-chat/hubbub/protocol"
)

// opRow is a row of the Operations table of docs/protocol.md:
// | [`op`](#anchor) | fields | ok reply carries |
var opRow = regexp.MustCompile("^\\| \\[`([a-z_]+)`\\]\\([^)]*\\) \\|[^|]*\\|([^|]*)\\|$")

var backticked = regexp.MustCompile("`([a-z_]+)`")

// documentedReplies reads, for each op of the Operations table of
// docs/protocol.md, the fields its ok reply is documented to carry.
func documentedReplies(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "protocol.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, l := range strings.Split(string(b), "\n") {
		m := opRow.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		fields := []string{}
		for _, f := range backticked.FindAllStringSubmatch(m[2], -1) {
			fields = append(fields, f[1])
		}
		out[m[1]] = fields
	}
	if len(out) != len(protocol.Ops()) {
		t.Fatalf("docs/protocol.md's Operations table has %d rows, protocol.Ops() %d", len(out), len(protocol.Ops()))
	}
	return out
}

// replyFields returns the top-level fields of an ok reply as the server
// encodes it, without type and id.
func replyFields(t *testing.T, ev protocol.Event) []string {
	t.Helper()
	b, err := protocol.EncodeEvent(&ev)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var out []string
	for k := range m {
		if k != "type" && k != "id" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// TestOKRepliesDocumented runs every operation but upload against a real
// server and checks that each field of its ok reply is one that
// docs/protocol.md's Operations table says it carries, and that each field
// the table names came in some reply (the ok of rooms only once there are
// 500 rooms, so its "more" is taken on trust).
func TestOKRepliesDocumented(t *testing.T) {
	doc := documentedReplies(t)
	s, _ := newAccountServer(t, nil)
	owner := s.account(t, s.register(t, "sam"))
	other := s.account(t, s.register(t, "uma"))
	guest := s.client(t, "gus")

	seen := map[string]bool{}
	carried := map[string]bool{} // op + " " + field
	check := func(c *tclient, cmd protocol.Command) protocol.Event {
		t.Helper()
		ev := c.ok(cmd)
		seen[cmd.Op] = true
		want, ok := doc[cmd.Op]
		if !ok {
			t.Errorf("docs/protocol.md's Operations table has no row for %s", cmd.Op)
			return ev
		}
		for _, f := range replyFields(t, ev) {
			carried[cmd.Op+" "+f] = true
			if !slices.Contains(want, f) {
				t.Errorf("the ok reply to %s carries %q; docs/protocol.md's Operations table says it carries %v", cmd.Op, f, want)
			}
		}
		return ev
	}
	seen[protocol.OpHello] = true // said by s.account; checked again below
	check(owner, protocol.Command{Op: protocol.OpPing})
	check(owner, protocol.Command{Op: protocol.OpCreate, Room: "club", Topic: "t"})
	check(owner, protocol.Command{Op: protocol.OpCreate, Room: "inner", Private: true})
	check(owner, protocol.Command{Op: protocol.OpRooms})
	check(owner, protocol.Command{Op: protocol.OpJoin, Room: "club"})
	check(owner, protocol.Command{Op: protocol.OpJoin, Room: "inner"})
	check(other, protocol.Command{Op: protocol.OpJoin, Room: "club"})
	check(guest, protocol.Command{Op: protocol.OpJoin, Room: "club"})
	sent := check(owner, protocol.Command{Op: protocol.OpSend, Room: "club", Body: "hello", CMID: "c1"})
	seq := sent.Message.Seq
	check(owner, protocol.Command{Op: protocol.OpSend, Room: "club", Body: "again", ReplyTo: seq})
	check(owner, protocol.Command{Op: protocol.OpSend, Room: "club", Body: "and again"})
	check(owner, protocol.Command{Op: protocol.OpHistory, Room: "club", Limit: 1})
	check(owner, protocol.Command{Op: protocol.OpTyping, Room: "club"})
	check(owner, protocol.Command{Op: protocol.OpEdit, Room: "club", Seq: seq, Body: "hello!"})
	check(owner, protocol.Command{Op: protocol.OpReact, Room: "club", Seq: seq, Emoji: "👍"})
	check(owner, protocol.Command{Op: protocol.OpRead, Room: "club", Seq: seq})
	check(owner, protocol.Command{Op: protocol.OpSearch, Query: "hello"})
	check(owner, protocol.Command{Op: protocol.OpSearch, Query: "again", Limit: 1})
	check(owner, protocol.Command{Op: protocol.OpDelete, Room: "club", Seq: seq})
	check(owner, protocol.Command{Op: protocol.OpDM, User: "uma"})
	check(owner, protocol.Command{Op: protocol.OpBlock, User: "uma"})
	check(owner, protocol.Command{Op: protocol.OpBlocks})
	check(owner, protocol.Command{Op: protocol.OpUnblock, User: "uma"})
	check(owner, protocol.Command{Op: protocol.OpInvite, Room: "inner", User: "uma"})
	check(owner, protocol.Command{Op: protocol.OpTopic, Room: "club", Topic: "new"})
	check(owner, protocol.Command{Op: protocol.OpPromote, Room: "club", User: "uma"})
	check(owner, protocol.Command{Op: protocol.OpDemote, Room: "club", User: "uma"})
	check(owner, protocol.Command{Op: protocol.OpMute, Room: "club", User: "gus", Seconds: 60})
	check(owner, protocol.Command{Op: protocol.OpUnmute, Room: "club", User: "gus"})
	check(owner, protocol.Command{Op: protocol.OpKick, Room: "club", User: "gus", Reason: "r"})
	check(owner, protocol.Command{Op: protocol.OpBan, Room: "club", User: "uma", Seconds: 60})
	check(owner, protocol.Command{Op: protocol.OpUnban, Room: "club", User: "uma"})
	check(owner, protocol.Command{Op: protocol.OpRefuseGuests, Room: "club"})
	check(owner, protocol.Command{Op: protocol.OpAllowGuests, Room: "club"})
	check(owner, protocol.Command{Op: protocol.OpArchiveRoom, Room: "club"})
	check(owner, protocol.Command{Op: protocol.OpUnarchiveRoom, Room: "club"})
	check(owner, protocol.Command{Op: protocol.OpLeave, Room: "club"})
	check(owner, protocol.Command{Op: protocol.OpDeleteRoom, Room: "club"})
	check(s.client(t, "hal"), protocol.Command{Op: protocol.OpPing}) // s.client says hello

	hello := s.dial(t)
	check(hello, protocol.Command{Op: protocol.OpHello, Name: "ida"})

	for _, op := range protocol.Ops() {
		if op == protocol.OpUpload {
			continue
		}
		if !seen[op] {
			t.Errorf("TestOKRepliesDocumented does not run %s", op)
			continue
		}
		for _, f := range doc[op] {
			// A second page of rooms needs 500 rooms: too slow here.
			if !carried[op+" "+f] && op+" "+f != "rooms more" {
				t.Errorf("docs/protocol.md's Operations table says the ok reply to %s carries %q; no reply here did", op, f)
			}
		}
	}
}
