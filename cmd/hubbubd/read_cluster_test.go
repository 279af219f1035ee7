package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/client"
)

// TestReadAcrossNodes runs two hubbubd nodes on one PostgreSQL schema and
// one broker (Redis, then NATS): a read on node A reaches the account's
// session on node B as a read event, and node B's rooms reply carries the
// position from the shared store.
func TestReadAcrossNodes(t *testing.T) {
	pg := os.Getenv("HUBBUB_TEST_POSTGRES")
	if pg == "" {
		t.Skip("HUBBUB_TEST_POSTGRES not set: skipping the cluster test")
	}
	for _, b := range []struct{ name, env string }{{"redis", "HUBBUB_TEST_REDIS"}, {"nats", "HUBBUB_TEST_NATS"}} {
		t.Run(b.name, func(t *testing.T) {
			brokerURL := os.Getenv(b.env)
			if brokerURL == "" {
				t.Skipf("%s not set: skipping the %s cluster test", b.env, b.name)
			}
			testReadAcrossNodes(t, freshSchema(t, pg), brokerURL)
		})
	}
}

func testReadAcrossNodes(t *testing.T, storeURL, brokerURL string) {
	args := []string{"--store", storeURL, "--broker", brokerURL, "--shutdown-timeout", "2s"}
	addrA, _ := startNode(t, args...)
	addrB, _ := startNode(t, args...)
	ctx := t.Context()

	body, _ := json.Marshal(map[string]any{"username": "ada", "password": "correct horse", "bearer": true})
	resp, err := http.Post("http://"+addrA+"/api/register", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var reply struct{ Token string }
	err = json.NewDecoder(resp.Body).Decode(&reply)
	resp.Body.Close()
	if err != nil || reply.Token == "" {
		t.Fatalf("register: status %s, %v", resp.Status, err)
	}
	dial := func(addr string, opts client.Options) *client.Client {
		c, err := client.Dial(ctx, "ws://"+addr+"/ws", opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	onA := dial(addrA, client.Options{Token: reply.Token})
	onB := dial(addrB, client.Options{Token: reply.Token})
	reads := make(chan client.ReadEvent, 16)
	go func() {
		for ev := range onB.Events() {
			if r, ok := ev.(client.ReadEvent); ok {
				reads <- r
			}
		}
	}()
	go func() {
		for range onA.Events() {
		}
	}()
	guest := dial(addrA, client.Options{Name: "gus"})
	go func() {
		for range guest.Events() {
		}
	}()
	if _, _, err := guest.Join(ctx, "lobby"); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := guest.Send(ctx, "lobby", "hello"); err != nil {
			t.Fatal(err)
		}
	}

	if err := onA.Read(ctx, "lobby", 2); err != nil {
		t.Fatalf("Read on node A: %v", err)
	}
	select {
	case r := <-reads:
		if want := (client.ReadEvent{Room: "lobby", Seq: 2}); r != want {
			t.Errorf("node B got %+v, want %+v", r, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the read on node A never reached the session on node B")
	}
	rooms, err := onB.Rooms(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rooms {
		if r.Name == "lobby" && r.ReadSeq != 2 {
			t.Errorf("node B: lobby's read_seq = %d, want 2", r.ReadSeq)
		}
	}
}
