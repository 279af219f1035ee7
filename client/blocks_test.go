package client_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/servertest"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestBlock blocks an account against a real server: the blocked account
// can neither open nor write to the DM until the block is lifted, the
// blocker still can, and every connection of the blocker hears of each
// change.
func TestBlock(t *testing.T) {
	srv := servertest.Start(t, nil)
	ctx := t.Context()
	token := srv.SignUp(t, "ada")
	ada, adaEvents := dialToken(t, srv, token)
	ada2, ada2Events := dialToken(t, srv, token) // another device of ada's
	mallory, _ := register(t, srv, "mallory")

	dm, err := mallory.DM(ctx, "ada")
	if err != nil {
		t.Fatalf("DM before the block: %v", err)
	}
	if _, _, err := mallory.Join(ctx, dm.Name); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ada.Join(ctx, dm.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := mallory.Send(ctx, dm.Name, "hi"); err != nil {
		t.Fatalf("send before the block: %v", err)
	}

	if err := ada.Block(ctx, "mallory"); err != nil {
		t.Fatalf("Block: %v", err)
	}
	for _, rec := range []*recorder{adaEvents, ada2Events} {
		rec.wait(t, 10*time.Second, "the blocked event", hasEvent(client.BlockedEvent{User: "mallory"}))
	}
	if got, err := ada2.Blocks(ctx); err != nil || !cmp.Equal(got, []string{"mallory"}) {
		t.Errorf("Blocks on another connection = %q, %v; want [mallory]", got, err)
	}
	if err := ada.Block(ctx, "mallory"); err != nil {
		t.Errorf("Block again: %v, want nil", err)
	}

	_, dmErr := mallory.DM(ctx, "ada")
	_, sendErr := mallory.Send(ctx, dm.Name, "are you there?")
	refused := []struct {
		name string
		err  error
	}{
		{"dm by the blocked account", dmErr},
		{"send by the blocked account", sendErr},
	}
	for _, tt := range refused {
		pe, ok := errors.AsType[*protocol.Error](tt.err)
		if !ok || pe.Code != protocol.CodeForbidden || pe.Reason != "you cannot message this user" {
			t.Errorf("%s: %v, want forbidden with the neutral reason", tt.name, tt.err)
		}
	}
	if _, err := ada.Send(ctx, dm.Name, "the blocker may still write"); err != nil {
		t.Errorf("send by the blocker: %v", err)
	}

	if err := ada2.Unblock(ctx, "mallory"); err != nil {
		t.Fatalf("Unblock: %v", err)
	}
	for _, rec := range []*recorder{adaEvents, ada2Events} {
		rec.wait(t, 10*time.Second, "the unblocked event", hasEvent(client.UnblockedEvent{User: "mallory"}))
	}
	if got, err := ada.Blocks(ctx); err != nil || got != nil {
		t.Errorf("Blocks after Unblock = %q, %v; want none", got, err)
	}
	if _, err := mallory.Send(ctx, dm.Name, "sorry"); err != nil {
		t.Errorf("send after the unblock: %v", err)
	}
	if _, err := mallory.DM(ctx, "ada"); err != nil {
		t.Errorf("dm after the unblock: %v", err)
	}
}

// TestBlockEvents checks the events each step reports on both sessions of
// the account that blocks, against a real server: blocked and unblocked
// arrive as BlockedEvent and UnblockedEvent, a step that changes nothing
// reports nothing, and an event without a type of its own (invited) is
// still an OtherEvent.
func TestBlockEvents(t *testing.T) {
	srv := servertest.Start(t, nil)
	ctx := t.Context()
	token := srv.SignUp(t, "ada")
	ada, adaEvents := dialToken(t, srv, token)
	ada2, ada2Events := dialToken(t, srv, token)
	register(t, srv, "mallory")
	register(t, srv, "troll")
	bob, _ := register(t, srv, "bob")

	steps := []struct {
		name string
		do   func() error
		want []client.Event // added to both sessions' events by the step
	}{
		{"block", func() error { return ada.Block(ctx, "mallory") }, []client.Event{client.BlockedEvent{User: "mallory"}}},
		{"block again", func() error { return ada2.Block(ctx, "mallory") }, nil},
		{"block another from the other session", func() error { return ada2.Block(ctx, "troll") }, []client.Event{client.BlockedEvent{User: "troll"}}},
		{"unblock", func() error { return ada2.Unblock(ctx, "mallory") }, []client.Event{client.UnblockedEvent{User: "mallory"}}},
		{"unblock one not blocked", func() error { return ada.Unblock(ctx, "mallory") }, nil},
		{"an event without a type of its own", func() error { _, err := bob.DM(ctx, "ada"); return err },
			[]client.Event{client.OtherEvent{Event: protocol.Event{Type: protocol.TypeInvited, Room: protocol.DMRoom("ada", "bob"), User: "ada", By: "bob"}}}},
	}
	var want []client.Event
	for _, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		want = append(want, step.want...)
		for i, rec := range []*recorder{adaEvents, ada2Events} {
			rec.wait(t, 10*time.Second, fmt.Sprintf("session %d's events after %s", i+1, step.name), func(evs []client.Event) bool {
				return len(userEvents(evs)) >= len(want)
			})
			rec.mu.Lock()
			got := userEvents(rec.events)
			rec.mu.Unlock()
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("session %d's events after %s (-want +got):\n%s", i+1, step.name, diff)
			}
		}
	}
}

// userEvents returns the blocked, unblocked and other events among evs.
func userEvents(evs []client.Event) []client.Event {
	var out []client.Event
	for _, ev := range evs {
		switch ev.(type) {
		case client.BlockedEvent, client.UnblockedEvent, client.OtherEvent:
			out = append(out, ev)
		}
	}
	return out
}

// hasEvent matches events that include want.
func hasEvent(want client.Event) func([]client.Event) bool {
	return func(evs []client.Event) bool {
		return slices.Contains(evs, want)
	}
}

// TestBlockRefused checks the refusals of block, unblock and blocks.
func TestBlockRefused(t *testing.T) {
	srv := servertest.Start(t, nil)
	ctx := t.Context()
	ada, _ := register(t, srv, "ada")
	register(t, srv, "bob")
	guest, err := client.Dial(ctx, srv.WSURL, client.Options{Name: "gus"})
	if err != nil {
		t.Fatal(err)
	}
	defer guest.Close()
	_, guestList := guest.Blocks(ctx)
	tests := []struct {
		name string
		err  error
		want protocol.Code
	}{
		{"guest blocks", guest.Block(ctx, "ada"), protocol.CodeForbidden},
		{"guest unblocks", guest.Unblock(ctx, "ada"), protocol.CodeForbidden},
		{"guest lists", guestList, protocol.CodeForbidden},
		{"block yourself", ada.Block(ctx, "ada"), protocol.CodeInvalidValue},
		{"block nobody", ada.Block(ctx, "nobody"), protocol.CodeNoSuchUser},
		{"block a guest's name", ada.Block(ctx, "Gus"), protocol.CodeInvalidValue},
		{"unblock one not blocked", ada.Unblock(ctx, "bob"), ""},
	}
	for _, tt := range tests {
		var got protocol.Code
		if tt.err != nil {
			got = protocol.CodeOf(tt.err)
		}
		if got != tt.want {
			t.Errorf("%s: code %q (%v), want %q", tt.name, got, tt.err, tt.want)
		}
	}
}

// dialToken dials srv as the account whose session token is token, with
// its events recorded.
func dialToken(t *testing.T, srv *servertest.Server, token string) (*client.Client, *recorder) {
	t.Helper()
	c, err := client.Dial(t.Context(), srv.WSURL, client.Options{Token: token})
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
