package server

// Tests of issue 9: identity, moderation and privacy held against a
// stranger. Each fails when its fix is taken out.

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// guestJar is a dialer with its own cookie jar: one browser.
func guestJar(t *testing.T) *websocket.Dialer {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &websocket.Dialer{Jar: jar}
}

// guestWith dials with d and says hello as name, returning the reply.
func (s *testServer) guestWith(t *testing.T, d *websocket.Dialer, name string) (*tclient, protocol.Event) {
	t.Helper()
	c := s.dialWith(t, nil, d)
	return c, c.do(protocol.Command{Op: protocol.OpHello, Name: name})
}

// TestHiddenRoomsAnswerLikeMissingOnes: a private room or DM one has no
// role in gets exactly the reply of a room that does not exist, for every
// operation that names a room.
func TestHiddenRoomsAnswerLikeMissingOnes(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	alice := s.account(t, s.register(t, "alice"))
	s.register(t, "bob")
	outsider := s.account(t, s.register(t, "mallory"))
	guest := s.client(t, "visitor")
	alice.ok(protocol.Command{Op: protocol.OpDM, User: "bob"})
	alice.ok(protocol.Command{Op: protocol.OpCreate, Room: "secret", Private: true})

	ops := []protocol.Command{
		{Op: protocol.OpJoin},
		{Op: protocol.OpHistory},
		{Op: protocol.OpInvite, User: "bob"},
		{Op: protocol.OpKick, User: "bob"},
		{Op: protocol.OpBan, User: "bob"},
		{Op: protocol.OpMute, User: "bob"},
		{Op: protocol.OpTopic, Topic: "hi"},
		{Op: protocol.OpPromote, User: "bob"},
	}
	pairs := [][2]string{{"dm:alice:bob", "dm:alice:carol"}, {"secret", "nosuch"}}
	for _, who := range []struct {
		name string
		c    *tclient
	}{{"account", outsider}, {"guest", guest}} {
		for _, pair := range pairs {
			for _, op := range ops {
				t.Run(fmt.Sprint(who.name, "/", op.Op, "/", pair[0]), func(t *testing.T) {
					hidden, missing := op, op
					hidden.Room, missing.Room = pair[0], pair[1]
					h, m := who.c.do(hidden), who.c.do(missing)
					if h.Code != m.Code || h.Reason != m.Reason {
						t.Errorf("hidden room: %s %q; missing room: %s %q; want the same", h.Code, h.Reason, m.Code, m.Reason)
					}
				})
			}
		}
	}
}

// TestModerationTargetsCanonical: a case variant of an account name names
// that account, for the sanction and for the rank check; a name nobody
// holds is refused.
func TestModerationTargetsCanonical(t *testing.T) {
	s, store := newAccountServer(t, nil)
	owner := s.account(t, s.register(t, "alice"))
	modTok := s.register(t, "tess")
	mod := s.account(t, modTok)
	malTok := s.register(t, "mallory")
	s.register(t, "root")
	u, _ := store.User(t.Context(), "root")
	u.Admin = true
	if err := store.UpdateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "pub"})
	owner.ok(protocol.Command{Op: protocol.OpPromote, Room: "pub", User: "tess"})

	tests := []struct {
		user string
		op   string
		code protocol.Code
	}{
		{"ALICE", protocol.OpKick, protocol.CodeForbidden},  // the owner
		{"Alice", protocol.OpBan, protocol.CodeForbidden},   // the owner
		{"ROOT", protocol.OpBan, protocol.CodeForbidden},    // an administrator
		{"Tess", protocol.OpMute, protocol.CodeForbidden},   // oneself
		{"nobody", protocol.OpBan, protocol.CodeNoSuchUser}, // no account, no guest
		{"Nobody Here", protocol.OpKick, protocol.CodeNoSuchUser},
	}
	for _, tt := range tests {
		t.Run(tt.op+" "+tt.user, func(t *testing.T) {
			ev := mod.do(protocol.Command{Op: tt.op, Room: "pub", User: tt.user})
			if ev.Code != tt.code {
				t.Errorf("got %s %s (%s), want %s", ev.Type, ev.Code, ev.Reason, tt.code)
			}
		})
	}

	ev := mod.ok(protocol.Command{Op: protocol.OpBan, Room: "pub", User: "Mallory"})
	if ev.User != "mallory" {
		t.Errorf("ban reply names %q, want the account mallory", ev.User)
	}
	mal := s.account(t, malTok)
	if ev := mal.do(protocol.Command{Op: protocol.OpJoin, Room: "pub"}); ev.Code != protocol.CodeBanned {
		t.Errorf("mallory joins after ban of Mallory: %s %s, want banned", ev.Code, ev.Reason)
	}
}

// TestGuestIdentity: two browsers cannot both be "carol"; the same browser
// may (two tabs); a ban binds to the guest's identity and address, so a
// new name does not undo it, and a second guest never inherits it.
func TestGuestIdentity(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	owner := s.account(t, s.register(t, "olga"))
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "pub"})

	browserA, browserB := guestJar(t), guestJar(t)
	carol, ev := s.guestWith(t, browserA, "carol")
	if ev.Type != protocol.TypeOK {
		t.Fatalf("first carol: %+v", ev)
	}
	if _, ev := s.guestWith(t, browserB, "carol"); ev.Code != protocol.CodeNameTaken {
		t.Errorf("second browser as carol: %s, want name_taken", ev.Code)
	}
	if _, ev := s.guestWith(t, browserB, "Car0l"); ev.Code != protocol.CodeNameTaken {
		t.Errorf("second browser as Car0l: %s, want name_taken", ev.Code)
	}
	tab2, ev := s.guestWith(t, browserA, "carol")
	if ev.Type != protocol.TypeOK {
		t.Errorf("second tab of the same browser as carol: %+v, want ok", ev)
	}
	carol.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
	owner.ok(protocol.Command{Op: protocol.OpBan, Room: "pub", User: "carol", Reason: "spam"})
	carol.waitFor("banned", func(ev protocol.Event) bool { return ev.Type == protocol.TypeBanned })
	if ev := tab2.do(protocol.Command{Op: protocol.OpJoin, Room: "pub"}); ev.Code != protocol.CodeBanned {
		t.Errorf("banned guest's other tab joins: %s, want banned", ev.Code)
	}
	// "Change name": same browser, a new name, back in the room? No.
	carol.ws.Close()
	tab2.ws.Close()
	renamed, ev := s.guestWith(t, browserA, "car0l-2")
	if ev.Type != protocol.TypeOK {
		t.Fatalf("renamed: %+v", ev)
	}
	if ev := renamed.do(protocol.Command{Op: protocol.OpJoin, Room: "pub"}); ev.Code != protocol.CodeBanned {
		t.Errorf("banned guest under a new name joins: %s, want banned", ev.Code)
	}
	// A cleared cookie is a new identity, but the ban holds on the
	// address for its duration.
	fresh, _ := s.guestWith(t, guestJar(t), "someone")
	if ev := fresh.do(protocol.Command{Op: protocol.OpJoin, Room: "pub"}); ev.Code != protocol.CodeBanned {
		t.Errorf("banned guest without cookie joins: %s, want banned (address)", ev.Code)
	}
	// Unban lifts both, by the display name the moderator saw.
	owner.ok(protocol.Command{Op: protocol.OpUnban, Room: "pub", User: "carol"})
	fresh.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
	renamed.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
}

// TestGuestDoesNotInheritBan: a ban of one guest named "carol" does not
// bind the next guest (another identity, from an address nobody banned)
// who picks the name after carol left.
func TestGuestDoesNotInheritBan(t *testing.T) {
	s, store := newAccountServer(t, nil)
	owner := s.account(t, s.register(t, "olga"))
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "pub"})
	carol, _ := s.guestWith(t, guestJar(t), "carol")
	carol.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
	owner.ok(protocol.Command{Op: protocol.OpBan, Room: "pub", User: "carol", Seconds: 3600})
	// Take the address binding away, as if carol had come from
	// elsewhere: what is left must bind the identity only.
	if err := store.ClearSanction(t.Context(), "pub", guestIPKey("127.0.0.1"), "ban"); err != nil {
		t.Fatal(err)
	}
	s.srv.sanctions.forget("pub", guestIPKey("127.0.0.1"))
	carol.ws.Close()
	waitGuestGone(t, s, "carol")
	other, ev := s.guestWith(t, guestJar(t), "carol")
	if ev.Type != protocol.TypeOK {
		t.Fatalf("new carol: %+v", ev)
	}
	other.ok(protocol.Command{Op: protocol.OpJoin, Room: "pub"})
}

// TestGuestNames: look-alike and invisible names.
func TestGuestNames(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	s.register(t, "alice")
	tests := []struct {
		name string
		code protocol.Code
	}{
		{"\u0430lice", protocol.CodeNameTaken}, // Cyrillic а
		{"ＡＬＩＣＥ", protocol.CodeNameTaken},
		{"alice\u0301", protocol.CodeNameTaken}, // combining accent
		{"aIice", protocol.CodeNameTaken},       // capital I for l
		{"\u3164", protocol.CodeInvalidValue},   // Hangul filler
		{"\u115f", protocol.CodeInvalidValue},   // Hangul choseong filler
		{"bob\u200b", protocol.CodeInvalidValue},
		{"@alicia", protocol.CodeInvalidValue},      // reads as a mention, or a moderator's mark
		{"\uff20alicia", protocol.CodeInvalidValue}, // full-width @
		{"~ben", protocol.CodeInvalidValue},         // an owner's mark
		{"&ben", protocol.CodeInvalidValue},         // an administrator's mark
		{"#lobby", protocol.CodeInvalidValue},
		{"ben@home", ""},
		{"r&b", ""},
		{"Alicia", ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%+q", tt.name), func(t *testing.T) {
			_, ev := s.guestWith(t, guestJar(t), tt.name)
			if got := ev.Code; got != tt.code {
				t.Errorf("hello %+q: %s %s (%s), want %q", tt.name, ev.Type, got, ev.Reason, tt.code)
			}
		})
	}
}

// TestGuestSquatGetsNoAccountEvents: a guest called dave before the
// account dave exists receives none of the account's private events.
func TestGuestSquatGetsNoAccountEvents(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	alice := s.account(t, s.register(t, "alice"))
	squatter, ev := s.guestWith(t, guestJar(t), "dave")
	if ev.Type != protocol.TypeOK {
		t.Fatalf("guest dave: %+v", ev)
	}
	dave := s.account(t, s.register(t, "dave"))
	alice.ok(protocol.Command{Op: protocol.OpCreate, Room: "plans", Private: true})
	alice.ok(protocol.Command{Op: protocol.OpInvite, Room: "plans", User: "dave"})
	alice.ok(protocol.Command{Op: protocol.OpDM, User: "dave"})
	dave.ok(protocol.Command{Op: protocol.OpJoin, Room: "plans"})
	alice.ok(protocol.Command{Op: protocol.OpKick, Room: "plans", User: "dave", Reason: "secret reason"})
	// The account gets all three; by then the squatter would have too.
	dave.waitFor("kicked", func(ev protocol.Event) bool { return ev.Type == protocol.TypeKicked })
	for _, ev := range squatter.eventsBeforePing() {
		t.Errorf("squatter received %s %s %s", ev.Type, ev.Room, ev.Reason)
	}
}

// TestGuestHelloCannotEnumerateAccounts: name_taken answers count against
// the address like failed logins.
func TestGuestHelloCannotEnumerateAccounts(t *testing.T) {
	s, _ := newAccountServer(t, func(c *Config) { c.LoginIPFails = 2 })
	for _, n := range []string{"alice", "bob", "carol"} {
		s.register(t, n)
	}
	var got []protocol.Code
	for _, n := range []string{"alice", "bob", "carol", "eve"} {
		_, ev := s.guestWith(t, guestJar(t), n)
		got = append(got, ev.Code)
	}
	want := []protocol.Code{protocol.CodeNameTaken, protocol.CodeNameTaken, protocol.CodeRateLimited, protocol.CodeRateLimited}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("codes = %v, want %v", got, want)
	}
	// The same budget as the login endpoint: it is spent there too.
	resp := s.post(t, "/api/login", nil, credentials{Username: "dan", Password: "wrong password"}, nil)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("login after the hello probes: %d, want 429", resp.StatusCode)
	}
}

// waitGuestGone polls until the server has released a guest's name (the
// connection's end is asynchronous).
func waitGuestGone(t *testing.T, s *testServer, name string) {
	t.Helper()
	for range 500 {
		held := false
		s.srv.guests.mu.Lock()
		for _, h := range s.srv.guests.online {
			held = held || h.display == name
		}
		s.srv.guests.mu.Unlock()
		if !held {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("guest %s still online", name)
}

// eventsBeforePing sends a ping and returns every event that arrived
// before its reply.
func (c *tclient) eventsBeforePing() []protocol.Event {
	c.t.Helper()
	c.nextID++
	id := fmt.Sprint("ping", c.nextID)
	c.write(protocol.Command{ID: id, Op: protocol.OpPing})
	var out []protocol.Event
	for {
		ev := c.next()
		if ev.Type == protocol.TypeOK && ev.ID == id {
			return out
		}
		out = append(out, ev)
	}
}

// TestSmallerProtocolPoints: a trailing_data error carries the command id,
// and history refuses limit 0.
func TestSmallerProtocolPoints(t *testing.T) {
	s := newTestServer(t, nil)
	c := s.client(t, "ada")
	c.writeRaw(`{"id":"t1","op":"ping"} x`)
	ev := c.next()
	if ev.Type != protocol.TypeError || ev.Code != protocol.CodeTrailingData || ev.ID != "t1" {
		t.Errorf("trailing data: %+v, want error trailing_data with id t1", ev)
	}
	c.writeRaw(`{"id":"h1","op":"history","room":"lobby","limit":0}`)
	if ev := c.next(); ev.Code != protocol.CodeInvalidValue || ev.ID != "h1" {
		t.Errorf("history limit 0: %+v, want invalid_value", ev)
	}
}

// TestGuestRoomCreationsSurviveReconnect: a guest's room-creation limit
// counts per identity and per address, not per connection.
func TestGuestRoomCreationsSurviveReconnect(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.RoomCreates = 2 })
	var got []protocol.Code
	for i := range 4 {
		// A new connection, and a new identity (no cookie jar), each time.
		c, _ := s.guestWith(t, guestJar(t), fmt.Sprint("maker", i))
		got = append(got, c.do(protocol.Command{Op: protocol.OpCreate, Room: fmt.Sprint("room", i)}).Code)
		c.ws.Close()
	}
	want := []protocol.Code{"", "", protocol.CodeRateLimited, protocol.CodeRateLimited}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("codes = %v, want %v", got, want)
	}
}

// TestRoomsPaged: a directory of many rooms with long topics comes in
// pages that stay far below the send queue, and the pages add up to the
// whole directory.
func TestRoomsPaged(t *testing.T) {
	s := newTestServer(t, nil)
	topic := strings.Repeat("\U0001F4AC", protocol.MaxTopicRunes) // 1 KiB of UTF-8
	const n = 1000
	for i := range n {
		if err := s.store.CreateRoom(t.Context(), chat.Room{Name: fmt.Sprintf("room%04d", i), Topic: topic}); err != nil {
			t.Fatal(err)
		}
	}
	c := s.client(t, "reader")
	var names []string
	after, pages := "", 0
	for {
		ev := c.ok(protocol.Command{Op: protocol.OpRooms, Room: after})
		pages++
		if len(ev.Rooms) > protocol.MaxRoomsPage {
			t.Errorf("page of %d rooms, want at most %d", len(ev.Rooms), protocol.MaxRoomsPage)
		}
		b, _ := protocol.EncodeEvent(&ev)
		if len(b) > 2*protocol.MaxRoomsPageBytes {
			t.Errorf("page of %d bytes", len(b))
		}
		for _, r := range ev.Rooms {
			names = append(names, r.Name)
		}
		if !ev.More {
			break
		}
		after = ev.Rooms[len(ev.Rooms)-1].Name
	}
	if len(names) != n+1 || !slices.IsSorted(names) || pages < 3 {
		t.Errorf("%d rooms in %d pages (sorted: %v), want %d rooms, sorted, in 3 pages or more", len(names), pages, slices.IsSorted(names), n+1)
	}
}

// TestRoomRefusesGuests: a room set to refuse guests keeps every guest
// out, including one already in it, and lets accounts in.
func TestRoomRefusesGuests(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	owner := s.account(t, s.register(t, "olga"))
	member := s.account(t, s.register(t, "pete"))
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "members"})
	inside, _ := s.guestWith(t, guestJar(t), "early")
	inside.ok(protocol.Command{Op: protocol.OpJoin, Room: "members"})
	if ev := member.do(protocol.Command{Op: protocol.OpRefuseGuests, Room: "members"}); ev.Code != protocol.CodeForbidden {
		t.Errorf("a plain member refuses guests: %s, want forbidden", ev.Code)
	}
	owner.ok(protocol.Command{Op: protocol.OpRefuseGuests, Room: "members"})
	late, _ := s.guestWith(t, guestJar(t), "late")
	for _, c := range []struct {
		who string
		c   *tclient
		cmd protocol.Command
	}{
		{"new guest joins", late, protocol.Command{Op: protocol.OpJoin, Room: "members"}},
		{"new guest reads", late, protocol.Command{Op: protocol.OpHistory, Room: "members"}},
		{"guest inside sends", inside, protocol.Command{Op: protocol.OpSend, Room: "members", Body: "still here?"}},
	} {
		if ev := c.c.do(c.cmd); ev.Code != protocol.CodeBanned {
			t.Errorf("%s: %s %s, want banned", c.who, ev.Code, ev.Reason)
		}
	}
	member.ok(protocol.Command{Op: protocol.OpJoin, Room: "members"})
	member.ok(protocol.Command{Op: protocol.OpSend, Room: "members", Body: "accounts are fine"})
	owner.ok(protocol.Command{Op: protocol.OpAllowGuests, Room: "members"})
	late.ok(protocol.Command{Op: protocol.OpJoin, Room: "members"})
}

// TestGuestNameFreeAfterClose: a guest that closes the connection and
// comes back at once as a new identity (a script run twice: no cookie)
// gets its name again: the name is let go before the close is answered.
func TestGuestNameFreeAfterClose(t *testing.T) {
	s := newTestServer(t, nil)
	// closeClean closes as a client does: a close frame, then wait for the
	// server's answer.
	closeClean := func(c *tclient) {
		t.Helper()
		if err := c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		for {
			if _, _, err := c.ws.ReadMessage(); err != nil {
				break
			}
		}
		c.ws.Close()
	}
	for i := range 50 {
		c := s.dial(t)
		if ev := c.do(protocol.Command{Op: protocol.OpHello, Name: "bot"}); ev.Type != protocol.TypeOK {
			t.Fatalf("run %d: hello as bot right after the last bot closed: %s %s (%s)", i, ev.Type, ev.Code, ev.Reason)
		}
		closeClean(c)
	}
}
