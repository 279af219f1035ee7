package main

import (
	"strings"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestTrace: hubbubd --trace logs every frame decoded, both directions,
// without message bodies.
func TestTrace(t *testing.T) {
	bin := binary(t)
	p := start(t, bin, t.TempDir(), "--trace", "--log-level", "info")
	c := dial(t, p.addr)
	c.call(t, protocol.Command{ID: "1", Op: protocol.OpHello, Name: "tracy"})
	c.call(t, protocol.Command{ID: "2", Op: protocol.OpJoin, Room: "lobby"})
	const body = "a-body-the-log-must-not-show"
	c.call(t, protocol.Command{ID: "3", Op: protocol.OpSend, Room: "lobby", Body: body, CMID: "m1"})

	wants := []string{
		"handshake \\\"GET /ws HTTP/1.1\\\"",
		"in  client text fin=1 rsv=000 mask=1 key=",
		"event(s): send",
		"out server text fin=1 rsv=000 mask=0",
		"event(s): ok",
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		log := p.stderr.String()
		missing := ""
		for _, w := range wants {
			if !strings.Contains(log, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			if strings.Contains(log, body) {
				t.Errorf("the trace shows a message body:\n%s", log)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace lacks %q after 20s:\n%s", missing, log)
		}
		time.Sleep(50 * time.Millisecond) // polling the child's log under a deadline
	}
}
