package client_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/protocol"
)

func TestBasic(t *testing.T) {
	s := startServer(t, server.Config{})
	ctx := t.Context()
	alice, aliceEvents := dial(t, s, fastOptions("alice"))
	bob, _ := dial(t, s, fastOptions("bob"))

	if got, want := alice.Self(), (protocol.Identity{Name: "alice", Guest: true}); got != want {
		t.Errorf("alice.Self() = %+v, want %+v", got, want)
	}
	if err := alice.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	info, err := alice.Create(ctx, "basic", "testing the client")
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if diff := cmp.Diff(protocol.RoomInfo{Name: "basic", Topic: "testing the client"}, info); diff != "" {
		t.Errorf("Create info mismatch (-want +got):\n%s", diff)
	}
	rooms, err := bob.Rooms(ctx)
	if err != nil {
		t.Fatalf("Rooms: %v", err)
	}
	if !slices.ContainsFunc(rooms, func(r protocol.RoomInfo) bool { return r.Name == "basic" }) {
		t.Errorf("Rooms = %+v, want it to list basic", rooms)
	}

	if _, _, err := alice.Join(ctx, "basic"); err != nil {
		t.Fatalf("alice Join: %v", err)
	}
	info, members, err := bob.Join(ctx, "basic")
	if err != nil {
		t.Fatalf("bob Join: %v", err)
	}
	if diff := cmp.Diff([]string{"alice", "bob"}, members); diff != "" {
		t.Errorf("Join members mismatch (-want +got):\n%s", diff)
	}
	if info.LastSeq != 0 {
		t.Errorf("Join info.LastSeq = %d, want 0", info.LastSeq)
	}
	aliceEvents.wait(t, 5*time.Second, "bob's join", func(evs []client.Event) bool {
		return slices.Contains(evs, client.Event(client.JoinEvent{Room: "basic", User: "bob"}))
	})

	if err := bob.Typing(ctx, "basic"); err != nil {
		t.Fatalf("Typing: %v", err)
	}
	sent, err := bob.Send(ctx, "basic", "hello, alice")
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if sent.Seq != 1 || sent.From != "bob" || sent.Body != "hello, alice" || sent.Room != "basic" || sent.CMID == "" {
		t.Errorf("Send returned %+v, want seq 1 from bob in basic with a cmid", sent)
	}
	aliceEvents.waitSeq(t, "basic", 1)
	if diff := cmp.Diff([]client.MessageEvent{{Message: sent}}, aliceEvents.messages("basic")); diff != "" {
		t.Errorf("alice's messages mismatch (-want +got):\n%s", diff)
	}
	if got := count(aliceEvents, func(e client.TypingEvent) bool { return e == client.TypingEvent{Room: "basic", User: "bob"} }); got != 1 {
		t.Errorf("alice got %d typing events from bob, want 1", got)
	}

	for _, tc := range []struct {
		name string
		page func() ([]protocol.Message, bool, error)
	}{
		{"before", func() ([]protocol.Message, bool, error) { return alice.HistoryBefore(ctx, "basic", 0, 10) }},
		{"after", func() ([]protocol.Message, bool, error) { return alice.HistoryAfter(ctx, "basic", 0, 10) }},
	} {
		t.Run("history "+tc.name, func(t *testing.T) {
			msgs, more, err := tc.page()
			if err != nil {
				t.Fatalf("history: %v", err)
			}
			if diff := cmp.Diff([]protocol.Message{sent}, msgs); diff != "" || more {
				t.Errorf("history more = %v (want false), messages mismatch (-want +got):\n%s", more, diff)
			}
		})
	}

	if err := bob.Leave(ctx, "basic"); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	aliceEvents.wait(t, 5*time.Second, "bob's leave", func(evs []client.Event) bool {
		return slices.Contains(evs, client.Event(client.LeaveEvent{Room: "basic", User: "bob"}))
	})
	if _, err := bob.Send(ctx, "basic", "gone"); protocol.CodeOf(err) != protocol.CodeNotJoined {
		t.Errorf("Send after Leave: err = %v, want code %s", err, protocol.CodeNotJoined)
	}
}

func TestServerErrors(t *testing.T) {
	s := startServer(t, server.Config{})
	c, _ := dial(t, s, fastOptions("erin"))
	ctx := t.Context()
	if _, err := c.Create(ctx, "quiet", ""); err != nil {
		t.Fatalf("Create: %v", err)
	}
	discard3 := func(_ protocol.Message, err error) error { return err }
	discardJoin := func(_ protocol.RoomInfo, _ []string, err error) error { return err }
	discardPage := func(_ []protocol.Message, _ bool, err error) error { return err }
	discardInfo := func(_ protocol.RoomInfo, err error) error { return err }

	tests := []struct {
		name string
		do   func() error
		want protocol.Code
	}{
		// Refused by the server.
		{"join unknown room", func() error { return discardJoin(c.Join(ctx, "nowhere")) }, protocol.CodeNoSuchRoom},
		{"send to a room not joined", func() error { return discard3(c.Send(ctx, "quiet", "hi")) }, protocol.CodeNotJoined},
		{"typing in a room not joined", func() error { return c.Typing(ctx, "quiet") }, protocol.CodeNotJoined},
		{"leave a room not joined", func() error { return c.Leave(ctx, "quiet") }, protocol.CodeNotJoined},
		{"create an existing room", func() error { return discardInfo(c.Create(ctx, "quiet", "")) }, protocol.CodeRoomExists},
		{"history of unknown room", func() error { return discardPage(c.HistoryAfter(ctx, "nowhere", 0, 10)) }, protocol.CodeNoSuchRoom},
		// Refused by the client before sending, with the same codes.
		{"join a bad room name", func() error { return discardJoin(c.Join(ctx, "Not A Room")) }, protocol.CodeInvalidValue},
		{"send an empty body", func() error { return discard3(c.Send(ctx, "quiet", " ")) }, protocol.CodeInvalidValue},
		{"send a body too long", func() error { return discard3(c.Send(ctx, "quiet", string(make([]byte, protocol.MaxBodyBytes+1)))) }, protocol.CodeTooLong},
		{"history limit too big", func() error { return discardPage(c.HistoryBefore(ctx, "quiet", 0, protocol.MaxHistoryLimit+1)) }, protocol.CodeInvalidValue},
		{"a guest opens a dm", func() error { return discardInfo(c.DM(ctx, "someone")) }, protocol.CodeForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			var perr *protocol.Error
			if !errors.As(err, &perr) {
				t.Fatalf("err = %v (%T), want a *protocol.Error", err, err)
			}
			if got := protocol.CodeOf(err); got != tc.want {
				t.Errorf("code = %s (%v), want %s", got, err, tc.want)
			}
		})
	}
	// The connection survived all of that.
	if err := c.Ping(ctx); err != nil {
		t.Errorf("Ping after the errors: %v", err)
	}
}

func TestDialErrors(t *testing.T) {
	s := startServer(t, server.Config{})
	ctx := t.Context()
	tests := []struct {
		name  string
		url   string
		opts  client.Options
		check func(error) bool
		want  string
	}{
		{
			name:  "guest without a name",
			url:   s.URL(),
			check: func(err error) bool { return protocol.CodeOf(err) == protocol.CodeMissingField },
			want:  "hello refused with missing_field",
		},
		{
			name:  "invalid name",
			url:   s.URL(),
			opts:  client.Options{Name: " padded "},
			check: func(err error) bool { return protocol.CodeOf(err) == protocol.CodeInvalidValue },
			want:  "invalid_value before dialing",
		},
		{
			name: "not a websocket endpoint",
			url:  strings.TrimSuffix(s.URL(), "/ws") + "/healthz",
			opts: client.Options{Name: "x"},
			check: func(err error) bool {
				he, ok := errors.AsType[*client.HandshakeError](err)
				return ok && he.StatusCode == 200
			},
			want: "a *HandshakeError with status 200",
		},
		{
			name:  "bad scheme",
			url:   "ftp://example.com/ws",
			opts:  client.Options{Name: "x"},
			check: func(err error) bool { return err != nil },
			want:  "an error",
		},
		{
			name: "nobody listening",
			url:  "ws://127.0.0.1:1/ws",
			opts: client.Options{Name: "x"},
			check: func(err error) bool {
				return err != nil && !errors.Is(err, context.DeadlineExceeded)
			},
			want: "a dial error, at once (no retry)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			c, err := client.Dial(ctx, tc.url, tc.opts)
			if err == nil {
				c.Close()
				t.Fatalf("Dial succeeded, want %s", tc.want)
			}
			if !tc.check(err) {
				t.Errorf("Dial: err = %v, want %s", err, tc.want)
			}
		})
	}
}

func TestDialHTTPBaseURL(t *testing.T) {
	s := startServer(t, server.Config{})
	c, err := client.Dial(t.Context(), httpURL(s.URL()), client.Options{Name: "hal"})
	if err != nil {
		t.Fatalf("Dial(%s): %v", httpURL(s.URL()), err)
	}
	defer c.Close()
	if err := c.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
