package main

import (
	"strings"
	"testing"
)

// TestTrace: hubbub --trace prints its own side of the connection: the
// handshake, its masked frames out, the server's unmasked frames in.
func TestTrace(t *testing.T) {
	url := startServer(t)
	a, _, stderr := testApp(t, "", nil)
	if code := a.run(t.Context(), []string{"--server", url, "--trace", "send", "--name", "tracy", "lobby", "hello, trace"}); code != exitOK {
		t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
	}
	log := stderr.String()
	for _, want := range []string{
		`handshake "GET /ws HTTP/1.1" -> "HTTP/1.1 101 Switching Protocols"`,
		"(match=true) subprotocol=hubbub.v1",
		"out client text fin=1 rsv=000 mask=1 key=",
		`\"body\":\"hello, trace\"`,
		"event(s): send",
		"in  server text fin=1 rsv=000 mask=0",
		"event(s): ok",
		"out client close",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("trace lacks %q:\n%s", want, log)
		}
	}
}
