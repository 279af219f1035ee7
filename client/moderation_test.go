package client_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/servertest"
	"github.com/hubbub-chat/hubbub/protocol"
)

// register creates an account on srv over its account API and returns a
// client signed in as it, with its events recorded.
func register(t *testing.T, srv *servertest.Server, name string) (*client.Client, *recorder) {
	t.Helper()
	c, err := client.Dial(t.Context(), srv.WSURL, client.Options{Token: srv.SignUp(t, name)})
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

// otherEvent matches an OtherEvent of type typ about user in room.
func otherEvent(typ, room, user string) func([]client.Event) bool {
	return func(evs []client.Event) bool {
		for _, ev := range evs {
			if o, ok := ev.(client.OtherEvent); ok && o.Event.Type == typ && o.Event.Room == room && o.Event.User == user {
				return true
			}
		}
		return false
	}
}

// TestModeration runs every room-management operation of the client
// against a real server, in order, and checks that the user acted on hears
// of each one and that the ones with an effect on sending take it.
func TestModeration(t *testing.T) {
	srv := servertest.Start(t, nil)
	ctx := t.Context()
	ada, _ := register(t, srv, "ada")
	bob, bobEvents := register(t, srv, "bob")
	if _, err := ada.Create(ctx, "ops", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ada.Join(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := bob.Join(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	rejoin := func() error { _, _, err := bob.Join(ctx, "ops"); return err }
	bobSends := func() error { _, err := bob.Send(ctx, "ops", "hello"); return err }

	steps := []struct {
		name     string
		do       func(context.Context) error
		kind     string // the entry bob's client sees in the room; "" when he is out of it
		event    string // the event bob's client sees as the target; "" for none
		check    func() error
		wantCode protocol.Code // of check's error; "" for none
	}{
		{"topic", func(ctx context.Context) error { return ada.SetTopic(ctx, "ops", "deploys") }, protocol.KindTopic, "", nil, ""},
		{"promote", func(ctx context.Context) error { return ada.Promote(ctx, "ops", "bob") }, protocol.KindRole, protocol.TypeRole, nil, ""},
		{"demote", func(ctx context.Context) error { return ada.Demote(ctx, "ops", "bob") }, protocol.KindRole, protocol.TypeRole, nil, ""},
		{"mute", func(ctx context.Context) error { return ada.Mute(ctx, "ops", "bob", "calm down", time.Minute) }, protocol.KindMute, protocol.TypeMuted, bobSends, protocol.CodeMuted},
		{"unmute", func(ctx context.Context) error { return ada.Unmute(ctx, "ops", "bob") }, protocol.KindUnmute, protocol.TypeUnmuted, bobSends, ""},
		{"kick", func(ctx context.Context) error { return ada.Kick(ctx, "ops", "bob", "") }, protocol.KindKick, protocol.TypeKicked, rejoin, ""},
		{"ban", func(ctx context.Context) error { return ada.Ban(ctx, "ops", "bob", "spam", 0) }, protocol.KindBan, protocol.TypeBanned, rejoin, protocol.CodeBanned},
		{"unban", func(ctx context.Context) error { return ada.Unban(ctx, "ops", "bob") }, "", protocol.TypeUnbanned, rejoin, ""},
	}
	seen := 0 // bob's events already looked at
	for _, st := range steps {
		if err := st.do(ctx); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		// The entry reaches the room, the typed event only bob's own
		// sessions; a kick or ban reaches the room first, anything else
		// bob first.
		var order []string
		bobEvents.wait(t, 10*time.Second, st.name+" events", func(evs []client.Event) bool {
			order = order[:0]
			for _, ev := range evs[seen:] {
				switch ev := ev.(type) {
				case client.OtherEvent:
					if ev.Event.Type == st.event && ev.Event.By == "ada" && ev.Event.User == "bob" {
						order = append(order, "event")
					}
				case client.MessageEvent:
					if m := ev.Message; m.Kind == st.kind && st.kind != "" && m.From == "ada" {
						order = append(order, "entry")
					}
				}
			}
			return len(order) == btoi(st.kind != "")+btoi(st.event != "")
		})
		if st.kind != "" && st.event != "" {
			want := []string{"event", "entry"}
			if st.kind == protocol.KindKick || st.kind == protocol.KindBan {
				want = []string{"entry", "event"}
			}
			if diff := cmp.Diff(want, order); diff != "" {
				t.Errorf("%s: order of what bob saw (-want +got):\n%s", st.name, diff)
			}
		}
		bobEvents.mu.Lock()
		seen = len(bobEvents.events)
		bobEvents.mu.Unlock()
		if st.check == nil {
			continue
		}
		err := st.check()
		// A lifted mute or ban reaches the target's session through the
		// hub, beside the event bob just read: allow it a moment.
		for deadline := time.Now().Add(5 * time.Second); st.wantCode == "" && err != nil && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
			err = st.check()
		}
		switch {
		case st.wantCode == "" && err != nil:
			t.Errorf("after %s: %v, want no error", st.name, err)
		case st.wantCode != "" && protocol.CodeOf(err) != st.wantCode:
			t.Errorf("after %s: %v, want code %q", st.name, err, st.wantCode)
		}
	}
}

// TestModerationRefused checks that the server's refusals reach the caller
// as protocol errors.
func TestModerationRefused(t *testing.T) {
	srv := servertest.Start(t, nil)
	ctx := t.Context()
	ada, _ := register(t, srv, "ada")
	bob, _ := register(t, srv, "bob")
	guest, err := client.Dial(ctx, srv.WSURL, client.Options{Name: "gus"})
	if err != nil {
		t.Fatal(err)
	}
	defer guest.Close()
	if _, err := ada.Create(ctx, "ops", ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want protocol.Code
	}{
		{"guest kicks", guest.Kick(ctx, "ops", "bob", ""), protocol.CodeForbidden},
		{"member bans the owner", bob.Ban(ctx, "ops", "ada", "", 0), protocol.CodeForbidden},
		{"member sets the topic", bob.SetTopic(ctx, "ops", "mine"), protocol.CodeForbidden},
		{"invite to a public room", ada.Invite(ctx, "ops", "bob"), protocol.CodeInvalidValue},
		{"promote nobody", ada.Promote(ctx, "ops", "nobody"), protocol.CodeNoSuchUser},
	}
	for _, tt := range tests {
		if got := protocol.CodeOf(tt.err); got != tt.want {
			t.Errorf("%s: code %q (%v), want %q", tt.name, got, tt.err, tt.want)
		}
	}
	// A duration too long for the protocol is refused before it is sent.
	if err := ada.Mute(ctx, "ops", "bob", "", 2*365*24*time.Hour); protocol.CodeOf(err) != protocol.CodeInvalidValue {
		t.Errorf("mute for two years: %v, want invalid_value", err)
	}
}

// TestInvite checks that a private room is closed to a user until they
// are invited, and that the invitation reaches them.
func TestInvite(t *testing.T) {
	srv := servertest.Start(t, nil)
	ctx := t.Context()
	ada, _ := register(t, srv, "ada")
	bob, bobEvents := register(t, srv, "bob")
	info, err := ada.CreatePrivate(ctx, "ops", "staff only")
	if err != nil {
		t.Fatal(err)
	}
	if !info.Private || info.Topic != "staff only" {
		t.Errorf("CreatePrivate returned %+v, want a private room with its topic", info)
	}
	if _, _, err := bob.Join(ctx, "ops"); err == nil {
		t.Fatal("bob joined the private room uninvited")
	}
	if err := ada.Invite(ctx, "ops", "bob"); err != nil {
		t.Fatal(err)
	}
	bobEvents.wait(t, 10*time.Second, "the invitation", otherEvent(protocol.TypeInvited, "ops", "bob"))
	if _, _, err := bob.Join(ctx, "ops"); err != nil {
		t.Errorf("bob cannot join after the invitation: %v", err)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestJoinStaff: Join returns a public room's owner and moderators in
// RoomInfo.Staff, for a client to badge them and offer no kick of them.
func TestJoinStaff(t *testing.T) {
	srv := servertest.Start(t, nil)
	ctx := t.Context()
	ada, _ := register(t, srv, "ada")
	bob, _ := register(t, srv, "bob")
	if _, err := ada.Create(ctx, "ops", ""); err != nil {
		t.Fatal(err)
	}
	if err := ada.Promote(ctx, "ops", "bob"); err != nil {
		t.Fatal(err)
	}
	info, _, err := bob.Join(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	want := []protocol.Member{{Name: "ada", Role: protocol.RoleOwner}, {Name: "bob", Role: protocol.RoleModerator}}
	if diff := cmp.Diff(want, info.Staff); diff != "" || info.Owner != "ada" {
		t.Errorf("join of ops: owner %q, staff (-want +got):\n%s", info.Owner, diff)
	}
}

// TestJoinRoster: JoinRoster returns a private room's roster, everyone
// with a role there and the role, and none for a public room.
func TestJoinRoster(t *testing.T) {
	srv := servertest.Start(t, nil)
	ctx := t.Context()
	ada, _ := register(t, srv, "ada")
	bob, _ := register(t, srv, "bob")
	register(t, srv, "cyd")
	if _, err := ada.CreatePrivate(ctx, "ops", ""); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"bob", "cyd"} {
		if err := ada.Invite(ctx, "ops", user); err != nil {
			t.Fatal(err)
		}
	}
	if err := ada.Promote(ctx, "ops", "bob"); err != nil {
		t.Fatal(err)
	}
	info, members, roster, err := bob.JoinRoster(ctx, "ops")
	if err != nil {
		t.Fatal(err)
	}
	want := []protocol.Member{{Name: "ada", Role: protocol.RoleOwner}, {Name: "bob", Role: protocol.RoleModerator}, {Name: "cyd", Role: protocol.RoleMember}}
	if diff := cmp.Diff(want, roster); diff != "" || !info.Private || !slices.Contains(members, "bob") {
		t.Errorf("join of ops: info %+v, members %q, roster (-want +got):\n%s", info, members, diff)
	}
	if _, err := ada.Create(ctx, "lobby2", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, roster, err := bob.JoinRoster(ctx, "lobby2"); err != nil || roster != nil {
		t.Errorf("join of a public room: roster %+v, %v; want none", roster, err)
	}
}
