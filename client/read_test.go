package client_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/servertest"
	"github.com/hubbub-chat/hubbub/protocol"
)

// dialAs connects a client with opts to srv, records its events and closes
// it when t ends.
func dialAs(t *testing.T, srv *servertest.Server, opts client.Options) (*client.Client, *recorder) {
	t.Helper()
	c, err := client.Dial(t.Context(), srv.WSURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	rec := record(c)
	t.Cleanup(func() {
		c.Close()
		<-rec.done
	})
	return c, rec
}

// readEvents returns the ReadEvents among evs.
func readEvents(evs []client.Event) []client.ReadEvent {
	var out []client.ReadEvent
	for _, ev := range evs {
		if r, ok := ev.(client.ReadEvent); ok {
			out = append(out, r)
		}
	}
	return out
}

// hasRead matches events that include want.
func hasRead(want client.ReadEvent) func([]client.Event) bool {
	return func(evs []client.Event) bool {
		for _, r := range readEvents(evs) {
			if r == want {
				return true
			}
		}
		return false
	}
}

// readSeqOf returns the ReadSeq of room in c's rooms list.
func readSeqOf(t *testing.T, c *client.Client, room string) int64 {
	t.Helper()
	rooms, err := c.Rooms(t.Context())
	if err != nil {
		t.Fatalf("Rooms: %v", err)
	}
	for _, r := range rooms {
		if r.Name == room {
			return r.ReadSeq
		}
	}
	t.Fatalf("Rooms has no %s", room)
	return 0
}

// TestRead: an account's read position moves forward only, is kept by the
// server (rooms and join replies carry it), and reaches the account's other
// session as a read event, not the session that moved it.
func TestRead(t *testing.T) {
	srv := servertest.Start(t, nil)
	ctx := t.Context()
	tok := srv.SignUp(t, "ada")
	phone, phoneEvents := dialAs(t, srv, client.Options{Token: tok})
	laptop, laptopEvents := dialAs(t, srv, client.Options{Token: tok})
	guest, _ := dialAs(t, srv, client.Options{Name: "gus"})
	if _, _, err := guest.Join(ctx, "lobby"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := guest.Send(ctx, "lobby", "hello"); err != nil {
			t.Fatal(err)
		}
	}

	// The room need not be joined.
	if err := phone.Read(ctx, "lobby", 3); err != nil {
		t.Fatalf("Read 3: %v", err)
	}
	laptopEvents.wait(t, 10*time.Second, "read 3 on the laptop", hasRead(client.ReadEvent{Room: "lobby", Seq: 3}))
	if err := laptop.Read(ctx, "lobby", 4); err != nil {
		t.Fatalf("Read 4: %v", err)
	}
	// The phone's own read 3 went through the same room's queue ahead of
	// the laptop's 4: had it come back to the phone, it would be here.
	phoneEvents.wait(t, 10*time.Second, "read 4 on the phone", hasRead(client.ReadEvent{Room: "lobby", Seq: 4}))
	phoneEvents.mu.Lock()
	got := readEvents(phoneEvents.events)
	phoneEvents.mu.Unlock()
	if diff := cmp.Diff([]client.ReadEvent{{Room: "lobby", Seq: 4}}, got); diff != "" {
		t.Errorf("the phone's read events (-want +got):\n%s", diff)
	}

	// Backwards changes nothing and tells nobody.
	if err := phone.Read(ctx, "lobby", 2); err != nil {
		t.Fatalf("Read 2: %v", err)
	}
	if got := readSeqOf(t, laptop, "lobby"); got != 4 {
		t.Errorf("read_seq after reading back to 2 = %d, want 4", got)
	}
	// Past the newest message counts as the newest.
	if err := phone.Read(ctx, "lobby", 1000); err != nil {
		t.Fatalf("Read 1000: %v", err)
	}
	laptopEvents.wait(t, 10*time.Second, "read 5 on the laptop", hasRead(client.ReadEvent{Room: "lobby", Seq: 5}))
	laptopEvents.mu.Lock()
	got = readEvents(laptopEvents.events)
	laptopEvents.mu.Unlock()
	if diff := cmp.Diff([]client.ReadEvent{{Room: "lobby", Seq: 3}, {Room: "lobby", Seq: 5}}, got); diff != "" {
		t.Errorf("the laptop's read events (-want +got):\n%s", diff)
	}
	if got := readSeqOf(t, laptop, "lobby"); got != 5 {
		t.Errorf("rooms: read_seq = %d, want 5", got)
	}
	info, _, err := laptop.Join(ctx, "lobby")
	if err != nil {
		t.Fatal(err)
	}
	if info.ReadSeq != 5 {
		t.Errorf("join: read_seq = %d, want 5", info.ReadSeq)
	}

	// A guest's read is accepted and kept nowhere.
	if err := guest.Read(ctx, "lobby", 5); err != nil {
		t.Errorf("guest Read: %v", err)
	}
	if got := readSeqOf(t, guest, "lobby"); got != 0 {
		t.Errorf("guest's read_seq = %d, want 0", got)
	}
	if got, err := srv.Store.ReadPositions(ctx, "gus"); err != nil || len(got) != 0 {
		t.Errorf("store's positions of the guest = %v, %v; want none", got, err)
	}
}

// TestReadRefused: read needs a room the user may read.
func TestReadRefused(t *testing.T) {
	srv := servertest.Start(t, nil)
	ctx := t.Context()
	carol, _ := dialAs(t, srv, client.Options{Token: srv.SignUp(t, "carol")})
	ada, _ := dialAs(t, srv, client.Options{Token: srv.SignUp(t, "ada")})
	if _, err := carol.CreatePrivate(ctx, "attic", ""); err != nil {
		t.Fatal(err)
	}
	for _, room := range []string{"attic", "nope"} {
		if err := ada.Read(ctx, room, 1); protocol.CodeOf(err) != protocol.CodeNoSuchRoom {
			t.Errorf("Read(%s) = %v, want %s", room, err, protocol.CodeNoSuchRoom)
		}
	}
	if got, err := srv.Store.ReadPositions(ctx, "ada"); err != nil || len(got) != 0 {
		t.Errorf("ada's positions = %v, %v; want none", got, err)
	}
}
