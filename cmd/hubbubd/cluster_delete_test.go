package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestClusterDeleteAccount: an account deleted through node A (POST
// /api/account/delete) loses its socket on node B within the session
// check (2 s), with 1008 "session ended"; a member on node B sees it
// leave the lobby; and node B refuses the name to a new registration and
// to a guest. PostgreSQL and Redis (or NATS) as a cluster runs them.
func TestClusterDeleteAccount(t *testing.T) {
	pg := os.Getenv("HUBBUB_TEST_POSTGRES")
	brokerURL := os.Getenv("HUBBUB_TEST_REDIS")
	if brokerURL == "" {
		brokerURL = os.Getenv("HUBBUB_TEST_NATS")
	}
	if pg == "" || brokerURL == "" {
		t.Skip("HUBBUB_TEST_POSTGRES and HUBBUB_TEST_REDIS (or HUBBUB_TEST_NATS) not set: skipping the cluster test")
	}
	args := []string{"--store", freshSchema(t, pg), "--broker", brokerURL, "--shutdown-timeout", "2s"}
	addrA, _ := startNode(t, args...)
	addrB, _ := startNode(t, args...)

	post := func(addr, path, token string, body any) (int, []byte) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://"+addr+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out bytes.Buffer
		out.ReadFrom(resp.Body)
		return resp.StatusCode, out.Bytes()
	}
	const pw = "correct horse"
	token := func(name string) string {
		status, body := post(addrA, "/api/register", "", map[string]any{"username": name, "password": pw, "bearer": true})
		var r struct{ Token string }
		if json.Unmarshal(body, &r); status != http.StatusCreated || r.Token == "" {
			t.Fatalf("register %s: %d %s", name, status, body)
		}
		return r.Token
	}
	aliceTok, bobTok := token("alice"), token("bob")

	ctx := t.Context()
	dial := func(tok string) (*client.Client, chan client.Event) {
		c, err := client.Dial(ctx, "ws://"+addrB+"/ws", client.Options{Token: tok, BackoffBase: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, _, err := c.Join(ctx, "lobby"); err != nil {
			t.Fatal(err)
		}
		evs := make(chan client.Event, 1024)
		go func() {
			defer close(evs)
			for ev := range c.Events() {
				evs <- ev
			}
		}()
		return c, evs
	}
	_, bobEvents := dial(bobTok)
	_, aliceEvents := dial(aliceTok)

	start := time.Now()
	if status, body := post(addrA, "/api/account/delete", aliceTok, map[string]string{"password": pw}); status != http.StatusNoContent {
		t.Fatalf("delete on node A: %d %s", status, body)
	}

	var last client.Event
	closed := time.After(15 * time.Second)
	for open := true; open; {
		select {
		case ev, ok := <-aliceEvents: // closed when the client stops
			if ok {
				last = ev
			}
			open = ok
		case <-closed:
			t.Fatalf("alice's socket on node B is still open 15s after the deletion (last event %#v)", last)
		}
	}
	elapsed := time.Since(start)
	st, _ := last.(client.StateEvent)
	ce, ok := errors.AsType[*websocket.CloseError](st.Err)
	if st.State != client.Closed || !ok || ce.Code != protocol.ClosePolicy || ce.Text != "session ended" {
		t.Fatalf("alice's socket on node B ended with %#v, want Closed by 1008 %q", last, "session ended")
	}
	if elapsed > 10*time.Second {
		t.Errorf("alice's socket on node B closed %v after the deletion, want within the session check", elapsed)
	}

	deadline := time.After(10 * time.Second)
	for left := false; !left; {
		select {
		case ev := <-bobEvents:
			if l, ok := ev.(client.LeaveEvent); ok && l.Room == "lobby" && l.User == "alice" {
				left = true
			}
		case <-deadline:
			t.Fatal("bob on node B never saw alice leave the lobby")
		}
	}

	if status, body := post(addrB, "/api/register", "", map[string]any{"username": "alice", "password": pw, "bearer": true}); status != http.StatusConflict {
		t.Errorf("register alice on node B after deletion: %d %s, want 409 name_taken", status, body)
	}
	_, err := client.Dial(ctx, "ws://"+addrB+"/ws", client.Options{Name: "alice"})
	if pe, ok := errors.AsType[*protocol.Error](err); !ok || pe.Code != protocol.CodeNameTaken {
		t.Errorf("guest hello as alice on node B: %v, want %s", err, protocol.CodeNameTaken)
	}
}
