package client_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/servertest"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestKickAccountSparesGuestOfThatName: a guest called Bob is online when
// the account bob is registered (a guest keeps its name until it leaves).
// Kicking or banning the account bob takes out the account's connections
// only, never the guest's, whose name is the same to the server's name
// comparison: on the moderator's node with bob offline, and on another
// node where the guest is and bob is not.
func TestKickAccountSparesGuestOfThatName(t *testing.T) {
	tests := []struct {
		name  string
		op    string
		nodes func(t *testing.T) (kickNodes, func(name string) (token string))
	}{
		{"kick, one node, bob offline", protocol.OpKick, oneNode},
		{"ban, one node, bob offline", protocol.OpBan, oneNode},
		{"kick, two nodes, bob on the other", protocol.OpKick, twoNodesForKick},
		{"ban, two nodes, bob on the other", protocol.OpBan, twoNodesForKick},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, signUp := tt.nodes(t)
			ctx := filesCtx(t)
			dialAs := func(url string, opts client.Options) (*client.Client, *recorder) {
				t.Helper()
				return dialURL(t, url, opts)
			}
			ada, _ := dialAs(n.ada, client.Options{Token: signUp("ada")})
			if _, err := ada.Create(ctx, "ops", ""); err != nil {
				t.Fatal(err)
			}
			if _, _, err := ada.Join(ctx, "ops"); err != nil {
				t.Fatal(err)
			}
			guest, guestEvents := dialAs(n.guest, fastOptions("Bob"))
			if _, _, err := guest.Join(ctx, "ops"); err != nil {
				t.Fatal(err)
			}
			// The account comes after the guest: its name is not refused.
			bobToken := signUp("bob")
			var bob *client.Client
			var bobEvents *recorder
			if n.bob != "" {
				bob, bobEvents = dialAs(n.bob, client.Options{Token: bobToken})
				if _, _, err := bob.Join(ctx, "ops"); err != nil {
					t.Fatal(err)
				}
			}

			var err error
			if tt.op == protocol.OpKick {
				err = ada.Kick(ctx, "ops", "bob", "")
			} else {
				err = ada.Ban(ctx, "ops", "bob", "", time.Hour)
			}
			if err != nil {
				t.Fatalf("%s bob: %v", tt.op, err)
			}
			if bob != nil {
				told := protocol.TypeKicked
				if tt.op == protocol.OpBan {
					told = protocol.TypeBanned
				}
				bobEvents.wait(t, 10*time.Second, "bob told of the "+tt.op, otherEvent(told, "ops", "bob"))
			}
			// Whatever the guest's node does with the kick or ban entry,
			// it has done it before the next message of the room.
			after, err := ada.Send(ctx, "ops", "after")
			if err != nil {
				t.Fatal(err)
			}
			var removed *protocol.Event
			guestEvents.wait(t, 10*time.Second, "the next message, or the guest's removal", func(evs []client.Event) bool {
				for _, ev := range evs {
					switch ev := ev.(type) {
					case client.OtherEvent:
						if ev.Event.Type == protocol.TypeKicked || ev.Event.Type == protocol.TypeBanned {
							removed = &ev.Event
							return true
						}
					case client.MessageEvent:
						if ev.Message.Seq == after.Seq && ev.Message.Room == "ops" {
							return true
						}
					}
				}
				return false
			})
			if removed != nil {
				t.Errorf("the guest Bob got %s %+v, meant for the account bob", removed.Type, *removed)
			}
			if _, err := guest.Send(ctx, "ops", "still here"); err != nil {
				t.Errorf("the guest Bob's send after the %s of the account bob: %v, want none", tt.op, err)
			}
		})
	}
}

// kickNodes is the WebSocket URL of each one's node; bob "" is offline.
type kickNodes struct{ ada, guest, bob string }

// oneNode is one servertest server for everyone, bob offline.
func oneNode(t *testing.T) (kickNodes, func(string) string) {
	srv := servertest.Start(t, nil)
	return kickNodes{srv.WSURL, srv.WSURL, ""}, func(name string) string { return srv.SignUp(t, name) }
}

// twoNodesForKick is two servers on one PostgreSQL store: ada and bob on
// the first, the guest on the second.
func twoNodesForKick(t *testing.T) (kickNodes, func(string) string) {
	dsn := pgSchema(t)
	broker := membroker.New()
	t.Cleanup(func() { broker.Close() })
	a, b := startPGNode(t, dsn, broker), startPGNode(t, dsn, broker)
	api := &servertest.Server{URL: "http" + strings.TrimSuffix(strings.TrimPrefix(a, "ws"), "/ws")}
	return kickNodes{a, b, a}, func(name string) string { return api.SignUp(t, name) }
}
