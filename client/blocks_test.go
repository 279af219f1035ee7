package client_test

import (
	"errors"
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
		rec.wait(t, 10*time.Second, "the blocked event", otherEvent(protocol.TypeBlocked, "", "mallory"))
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
		rec.wait(t, 10*time.Second, "the unblocked event", otherEvent(protocol.TypeUnblocked, "", "mallory"))
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
