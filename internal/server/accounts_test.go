package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// accountServer is a test server with accounts enabled on its SQLite store.
func newAccountServer(t *testing.T, mut func(*Config)) (*testServer, *sqlitestore.Store) {
	t.Helper()
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServerOn(t, store, nil, func(c *Config) {
		c.Accounts, c.Access, c.Reads, c.Search, c.Blocks = store, store, store, store, store
		c.SessionCheck = 50 * time.Millisecond
		if mut != nil {
			mut(c)
		}
	})
	return s, store
}

// post sends a JSON POST and decodes the JSON reply into out (if not nil).
func (s *testServer) post(t *testing.T, path string, hdr http.Header, body any, out any) *http.Response {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.ts.URL+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp
}

// register creates an account and returns its bearer token.
func (s *testServer) register(t *testing.T, name string) string {
	t.Helper()
	var reply sessionReply
	resp := s.post(t, "/api/register", nil, credentials{Username: name, Password: "correct horse", Bearer: true}, &reply)
	if resp.StatusCode != http.StatusCreated || reply.Token == "" {
		t.Fatalf("register %s: status %d, token %q", name, resp.StatusCode, reply.Token)
	}
	return reply.Token
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// account dials with tok and says hello.
func (s *testServer) account(t *testing.T, tok string) *tclient {
	t.Helper()
	c := s.dialWith(t, bearer(tok), websocket.DefaultDialer)
	c.ok(protocol.Command{Op: protocol.OpHello})
	return c
}

func dialStatus(t *testing.T, s *testServer, hdr http.Header) (int, apiError) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{protocol.Subprotocol}}
	ws, resp, err := d.Dial(s.wsURL, hdr)
	if ws != nil {
		ws.Close()
		return http.StatusSwitchingProtocols, apiError{}
	}
	if resp == nil {
		t.Fatalf("dial: %v", err)
	}
	var e apiError
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e
}

func TestAccountAPI(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	s.register(t, "alice")
	tests := []struct {
		name   string
		path   string
		body   any
		status int
		code   protocol.Code
	}{
		{"register taken", "/api/register", credentials{Username: "ALICE", Password: "12345678"}, http.StatusConflict, protocol.CodeNameTaken},
		{"register bad name", "/api/register", credentials{Username: "a!", Password: "12345678"}, http.StatusBadRequest, protocol.CodeInvalidValue},
		{"register short password", "/api/register", credentials{Username: "bobby", Password: "1234567"}, http.StatusBadRequest, protocol.CodeInvalidValue},
		{"register long password", "/api/register", credentials{Username: "bobby", Password: strings.Repeat("x", 129)}, http.StatusBadRequest, protocol.CodeTooLong},
		{"login wrong password", "/api/login", credentials{Username: "alice", Password: "wrong password"}, http.StatusUnauthorized, protocol.CodeBadCredentials},
		{"login unknown user", "/api/login", credentials{Username: "nobody", Password: "wrong password"}, http.StatusUnauthorized, protocol.CodeBadCredentials},
		{"login unknown field", "/api/login", map[string]string{"username": "alice", "pw": "x"}, http.StatusBadRequest, protocol.CodeBadJSON},
		{"login ok, any case", "/api/login", credentials{Username: "Alice", Password: "correct horse"}, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			resp := s.post(t, tt.path, nil, tt.body, &e)
			if resp.StatusCode != tt.status || e.Code != tt.code {
				t.Errorf("got %d %q (%s), want %d %q", resp.StatusCode, e.Code, e.Reason, tt.status, tt.code)
			}
		})
	}
	t.Run("foreign origin", func(t *testing.T) {
		resp := s.post(t, "/api/login", http.Header{"Origin": {"http://evil.example"}}, credentials{Username: "alice", Password: "correct horse"}, nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("status = %d, want 403", resp.StatusCode)
		}
	})
	t.Run("form post", func(t *testing.T) {
		resp, err := http.Post(s.ts.URL+"/api/login", "application/x-www-form-urlencoded", strings.NewReader("username=alice"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("status = %d, want 415", resp.StatusCode)
		}
	})
}

func TestCookieAuth(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	b, _ := json.Marshal(credentials{Username: "carol", Password: "correct horse"})
	resp, err := hc.Post(s.ts.URL+"/api/register", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie = %+v, want HttpOnly SameSite=Lax", cookie)
	}
	// /api/session reports the account.
	resp, err = hc.Get(s.ts.URL + "/api/session")
	if err != nil {
		t.Fatal(err)
	}
	var sr sessionReply
	json.NewDecoder(resp.Body).Decode(&sr)
	resp.Body.Close()
	if sr.Self == nil || sr.Self.Name != "carol" {
		t.Fatalf("session = %+v, want carol", sr.Self)
	}
	// The WebSocket handshake with the cookie (and the browser's Origin).
	u, _ := url.Parse(s.ts.URL)
	hdr := http.Header{"Origin": {s.ts.URL}, "Cookie": {sessionCookie + "=" + jar.Cookies(u)[0].Value}}
	c := s.dialWith(t, hdr, websocket.DefaultDialer)
	hello := c.ok(protocol.Command{Op: protocol.OpHello})
	if hello.Self == nil || hello.Self.Name != "carol" || hello.Self.Guest {
		t.Errorf("self = %+v, want account carol", hello.Self)
	}
	// A name on a signed-in hello is refused.
	c2 := s.dialWith(t, hdr, websocket.DefaultDialer)
	if ev := c2.do(protocol.Command{Op: protocol.OpHello, Name: "mallory"}); ev.Code != protocol.CodeInvalidValue {
		t.Errorf("hello with name: %+v, want invalid_value", ev)
	}
}

func TestHandshakeRefusesBadTokens(t *testing.T) {
	s, store := newAccountServer(t, nil)
	good := s.register(t, "dave")
	expired := s.register(t, "erin")
	revoked := s.register(t, "frank")
	disabled := s.register(t, "grace")
	ctx := t.Context()
	// Expire erin's session in the store; revoke frank's; disable grace.
	for _, name := range []string{"erin"} {
		hashes, _ := store.DeleteUserSessions(ctx, name, "")
		for range hashes {
			store.CreateSession(ctx, chat.Session{TokenHash: hashes[0], User: name, CreatedAt: time.Now().Add(-48 * time.Hour), LastSeen: time.Now().Add(-48 * time.Hour), ExpiresAt: time.Now().Add(-time.Hour)})
		}
	}
	if resp := s.post(t, "/api/logout", bearer(revoked), struct{}{}, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout = %d", resp.StatusCode)
	}
	u, _ := store.User(ctx, "grace")
	u.Disabled = true
	store.UpdateUser(ctx, u)

	tests := []struct {
		name   string
		hdr    http.Header
		status int
	}{
		{"good", bearer(good), http.StatusSwitchingProtocols},
		{"guest", nil, http.StatusSwitchingProtocols},
		{"forged", bearer(strings.Repeat("A", 43)), http.StatusUnauthorized},
		{"garbage", bearer("not a token!"), http.StatusUnauthorized},
		{"not bearer", http.Header{"Authorization": {"Basic Zm9vOmJhcg=="}}, http.StatusUnauthorized},
		{"expired", bearer(expired), http.StatusUnauthorized},
		{"revoked", bearer(revoked), http.StatusUnauthorized},
		{"disabled", bearer(disabled), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, e := dialStatus(t, s, tt.hdr); got != tt.status {
				t.Errorf("status = %d (%s), want %d", got, e.Code, tt.status)
			}
		})
	}
}

func TestGuestsDisabled(t *testing.T) {
	s, _ := newAccountServer(t, func(c *Config) { c.NoGuests = true })
	if got, e := dialStatus(t, s, nil); got != http.StatusUnauthorized || e.Code != protocol.CodeGuestsDisabled {
		t.Errorf("guest dial = %d %q, want 401 guests_disabled", got, e.Code)
	}
}

func TestGuestCannotTakeAccountName(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	s.register(t, "heidi")
	c := s.dial(t)
	if ev := c.do(protocol.Command{Op: protocol.OpHello, Name: "Heidi"}); ev.Code != protocol.CodeNameTaken {
		t.Errorf("guest hello as Heidi: %+v, want name_taken", ev)
	}
}

func TestLogoutClosesSockets(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	tok := s.register(t, "ivan")
	c1, c2 := s.account(t, tok), s.account(t, tok)
	other := s.account(t, s.register(t, "judy"))
	if resp := s.post(t, "/api/logout", bearer(tok), struct{}{}, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout = %d", resp.StatusCode)
	}
	for _, c := range []*tclient{c1, c2} {
		if got := c.closeCode(); got != protocol.ClosePolicy {
			t.Errorf("close code = %d, want 1008", got)
		}
	}
	other.ok(protocol.Command{Op: protocol.OpPing}) // judy is unaffected
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	tok := s.register(t, "kim")
	var second sessionReply
	s.post(t, "/api/login", nil, credentials{Username: "kim", Password: "correct horse", Bearer: true}, &second)
	other := s.account(t, second.Token)
	mine := s.account(t, tok)
	resp := s.post(t, "/api/password", bearer(tok), map[string]string{"old": "correct horse", "new": "battery staple"}, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("password change = %d", resp.StatusCode)
	}
	if got := other.closeCode(); got != protocol.ClosePolicy {
		t.Errorf("other session close = %d, want 1008", got)
	}
	mine.ok(protocol.Command{Op: protocol.OpPing})
	if resp := s.post(t, "/api/login", nil, credentials{Username: "kim", Password: "battery staple"}, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("login with new password = %d", resp.StatusCode)
	}
}

func TestLoginBackoff(t *testing.T) {
	s, _ := newAccountServer(t, func(c *Config) { c.LoginFreeFails = 2 })
	s.register(t, "liam")
	var codes []int
	for range 4 {
		resp := s.post(t, "/api/login", nil, credentials{Username: "liam", Password: "wrong password"}, nil)
		codes = append(codes, resp.StatusCode)
	}
	want := []int{401, 401, 429, 429}
	if fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Errorf("statuses = %v, want %v", codes, want)
	}
}

func TestPrivateRoomsAndDMs(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	owner := s.account(t, s.register(t, "olga"))
	member := s.account(t, s.register(t, "pete"))
	outsider := s.account(t, s.register(t, "quin"))
	guest := s.client(t, "visitor")

	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "secret", Private: true})
	if ev := guest.do(protocol.Command{Op: protocol.OpCreate, Room: "g", Private: true}); ev.Code != protocol.CodeForbidden {
		t.Errorf("guest private create: %+v, want forbidden", ev)
	}
	owner.ok(protocol.Command{Op: protocol.OpInvite, Room: "secret", User: "pete"})
	member.waitFor("invited", func(ev protocol.Event) bool { return ev.Type == protocol.TypeInvited && ev.Room == "secret" })
	join := member.ok(protocol.Command{Op: protocol.OpJoin, Room: "secret"})
	if join.Info.Role != protocol.RoleMember {
		t.Errorf("member role = %q", join.Info.Role)
	}
	for _, c := range []*tclient{outsider, guest} {
		for _, cmd := range []protocol.Command{
			{Op: protocol.OpJoin, Room: "secret"},
			{Op: protocol.OpHistory, Room: "secret"},
			{Op: protocol.OpSend, Room: "secret", Body: "let me in"},
		} {
			ev := c.do(cmd)
			if ev.Type != protocol.TypeError || (ev.Code != protocol.CodeNoSuchRoom && ev.Code != protocol.CodeNotJoined) {
				t.Errorf("outsider %s: %+v, want no_such_room", cmd.Op, ev)
			}
		}
	}
	// The private room is listed only for its members.
	names := func(c *tclient) []string {
		var out []string
		for _, r := range c.ok(protocol.Command{Op: protocol.OpRooms}).Rooms {
			out = append(out, r.Name)
		}
		return out
	}
	if got := fmt.Sprint(names(outsider)); strings.Contains(got, "secret") {
		t.Errorf("outsider sees %v", got)
	}
	if got := fmt.Sprint(names(member)); !strings.Contains(got, "secret") {
		t.Errorf("member sees %v", got)
	}

	// A DM between olga and quin.
	dm := owner.ok(protocol.Command{Op: protocol.OpDM, User: "quin"})
	if dm.Room != "dm:olga:quin" || dm.Info.Peer != "quin" {
		t.Fatalf("dm reply = %+v", dm)
	}
	outsider.waitFor("dm invitation", func(ev protocol.Event) bool { return ev.Type == protocol.TypeInvited && ev.Room == "dm:olga:quin" })
	owner.ok(protocol.Command{Op: protocol.OpJoin, Room: dm.Room})
	outsider.ok(protocol.Command{Op: protocol.OpJoin, Room: dm.Room})
	owner.ok(protocol.Command{Op: protocol.OpSend, Room: dm.Room, Body: "psst"})
	got := outsider.waitFor("dm message", func(ev protocol.Event) bool { return ev.Type == protocol.TypeMessage })
	if got.Message.From != "olga" || got.Message.Body != "psst" {
		t.Errorf("dm message = %+v", got.Message)
	}
	if ev := member.do(protocol.Command{Op: protocol.OpJoin, Room: dm.Room}); ev.Code != protocol.CodeNoSuchRoom {
		t.Errorf("third party joins dm: %+v, want no_such_room", ev)
	}
	if ev := owner.do(protocol.Command{Op: protocol.OpCreate, Room: "dm:olga:zed"}); ev.Code != protocol.CodeInvalidValue {
		t.Errorf("create dm name: %+v, want invalid_value", ev)
	}
}

func TestSpoofedAuthorIgnored(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	c := s.account(t, s.register(t, "rita"))
	c.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	c.writeRaw(`{"id":"x","op":"send","room":"lobby","body":"hi","from":"admin"}`)
	if ev := c.waitFor("reply", func(ev protocol.Event) bool { return ev.ID == "x" }); ev.Code != protocol.CodeUnknownField {
		t.Errorf("send with from: %+v, want unknown_field", ev)
	}
	ack := c.ok(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: "hi"})
	if ack.Message.From != "rita" || ack.Message.Guest {
		t.Errorf("author = %q guest=%v, want rita", ack.Message.From, ack.Message.Guest)
	}
}

func TestModeration(t *testing.T) {
	s, store := newAccountServer(t, nil)
	owner := s.account(t, s.register(t, "sam"))
	modTok := s.register(t, "tess")
	mod := s.account(t, modTok)
	userTok := s.register(t, "uma")
	user := s.account(t, userTok)
	bystander := s.account(t, s.register(t, "vic"))
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "club"})
	for _, c := range []*tclient{owner, mod, user, bystander} {
		c.ok(protocol.Command{Op: protocol.OpJoin, Room: "club"})
	}
	// Only the owner promotes; a moderator cannot act on the owner.
	if ev := user.do(protocol.Command{Op: protocol.OpPromote, Room: "club", User: "uma"}); ev.Code != protocol.CodeForbidden {
		t.Errorf("self promote: %+v", ev)
	}
	owner.ok(protocol.Command{Op: protocol.OpPromote, Room: "club", User: "tess"})
	if ev := mod.do(protocol.Command{Op: protocol.OpKick, Room: "club", User: "sam"}); ev.Code != protocol.CodeForbidden {
		t.Errorf("mod kicks owner: %+v", ev)
	}
	if ev := user.do(protocol.Command{Op: protocol.OpMute, Room: "club", User: "vic"}); ev.Code != protocol.CodeForbidden {
		t.Errorf("member mutes: %+v", ev)
	}
	// Mute: uma's sends are refused, vic's are not.
	mod.ok(protocol.Command{Op: protocol.OpMute, Room: "club", User: "uma", Reason: "cool off"})
	user.waitFor("muted", func(ev protocol.Event) bool { return ev.Type == protocol.TypeMuted && ev.User == "uma" })
	if ev := user.do(protocol.Command{Op: protocol.OpSend, Room: "club", Body: "hey"}); ev.Code != protocol.CodeMuted {
		t.Errorf("muted send: %+v, want muted", ev)
	}
	bystander.ok(protocol.Command{Op: protocol.OpSend, Room: "club", Body: "fine here"})
	mod.ok(protocol.Command{Op: protocol.OpUnmute, Room: "club", User: "uma"})
	user.waitFor("unmuted", func(ev protocol.Event) bool { return ev.Type == protocol.TypeUnmuted })
	user.ok(protocol.Command{Op: protocol.OpSend, Room: "club", Body: "thanks"})
	// Ban: uma is told, taken out of the room, and cannot come back, even
	// on a new connection.
	mod.ok(protocol.Command{Op: protocol.OpBan, Room: "club", User: "uma", Reason: "spam"})
	ev := user.waitFor("banned", func(ev protocol.Event) bool { return ev.Type == protocol.TypeBanned })
	if ev.By != "tess" || ev.Reason != "spam" {
		t.Errorf("banned event = %+v", ev)
	}
	// The room sees the ban as an entry of its sequence; the typed event
	// reaches uma's own sessions only.
	leaked := func(ev protocol.Event) {
		switch ev.Type {
		case protocol.TypeBanned, protocol.TypeMuted, protocol.TypeUnmuted, protocol.TypeUnbanned, protocol.TypeRole:
			t.Errorf("bystander received a %s event about %s", ev.Type, ev.User)
		}
	}
	entry := func(kind, user string) func(protocol.Event) bool {
		return func(ev protocol.Event) bool {
			leaked(ev)
			m := ev.Message
			return ev.Type == protocol.TypeMessage && m.Kind == kind && m.User == user && m.Room == "club"
		}
	}
	if ev := bystander.waitFor("ban entry", entry(protocol.KindBan, "uma")); ev.Message.From != "tess" || ev.Message.Body != "spam" {
		t.Errorf("ban entry = %+v, want from tess, body spam", ev.Message)
	}
	again := s.account(t, userTok)
	if ev := again.do(protocol.Command{Op: protocol.OpJoin, Room: "club"}); ev.Code != protocol.CodeBanned {
		t.Errorf("banned rejoin: %+v, want banned", ev)
	}
	// The first connection no longer receives the room's messages.
	bystander.ok(protocol.Command{Op: protocol.OpSend, Room: "club", Body: "after the ban"})
	user.ok(protocol.Command{Op: protocol.OpPing})
	for _, ev := range user.pending {
		if ev.Type == protocol.TypeMessage && ev.Message.Body == "after the ban" {
			t.Errorf("banned user still receives the room")
		}
	}
	mod.ok(protocol.Command{Op: protocol.OpUnban, Room: "club", User: "uma"})
	again.waitFor("unbanned", func(ev protocol.Event) bool { return ev.Type == protocol.TypeUnbanned && ev.User == "uma" })
	again.ok(protocol.Command{Op: protocol.OpJoin, Room: "club"})
	// Topic.
	owner.ok(protocol.Command{Op: protocol.OpTopic, Room: "club", Topic: "be nice"})
	if ev := bystander.waitFor("topic entry", entry(protocol.KindTopic, "")); ev.Message.Body != "be nice" || ev.Message.From != "sam" {
		t.Errorf("topic entry = %+v", ev.Message)
	}
	r, _ := store.Room(t.Context(), "club")
	if r.Topic != "be nice" {
		t.Errorf("stored topic = %q", r.Topic)
	}
	// Kick from a public room: out now, may come back.
	mod.ok(protocol.Command{Op: protocol.OpKick, Room: "club", User: "vic"})
	bystander.waitFor("kicked", func(ev protocol.Event) bool { return ev.Type == protocol.TypeKicked && ev.User == "vic" })
	bystander.ok(protocol.Command{Op: protocol.OpJoin, Room: "club"})
}

func TestMessageRateLimit(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.MsgRate, c.MsgBurst = 1, 3 })
	spammer := s.client(t, "spammer")
	calm := s.client(t, "calm")
	reader := s.client(t, "reader")
	for _, c := range []*tclient{spammer, calm, reader} {
		c.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	}
	var codes []protocol.Code
	for range 5 {
		codes = append(codes, spammer.do(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: "spam"}).Code)
	}
	want := []protocol.Code{"", "", "", protocol.CodeRateLimited, protocol.CodeRateLimited}
	if fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Errorf("codes = %v, want %v", codes, want)
	}
	calm.ok(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: "hello"})
	reader.waitFor("calm's message", func(ev protocol.Event) bool {
		return ev.Type == protocol.TypeMessage && ev.Message.From == "calm"
	})
}

func TestConnectionLimits(t *testing.T) {
	s, _ := newAccountServer(t, func(c *Config) { c.ConnsPerUser = 2; c.ConnsPerIP = 3 })
	tok := s.register(t, "walt")
	s.account(t, tok)
	s.account(t, tok)
	if got, e := dialStatus(t, s, bearer(tok)); got != http.StatusTooManyRequests || e.Code != protocol.CodeLimitReached {
		t.Errorf("third socket of walt = %d %q, want 429 limit_reached", got, e.Code)
	}
	s.client(t, "g1")
	if got, e := dialStatus(t, s, nil); got != http.StatusTooManyRequests || e.Code != protocol.CodeLimitReached {
		t.Errorf("fourth socket of the IP = %d %q, want 429 limit_reached", got, e.Code)
	}
}

func TestHandshakeRateLimit(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.HandshakeRate, c.HandshakeBurst = 0.01, 2 })
	var got []int
	for range 3 {
		st, _ := dialStatus(t, s, nil)
		got = append(got, st)
	}
	if want := []int{101, 101, 429}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
}

// TestLimitsTable: each per-connection or per-user limit answers with its
// code once exceeded, and the connection stays up.
func TestLimitsTable(t *testing.T) {
	tests := []struct {
		name  string
		mut   func(*Config)
		cmds  func(i int) protocol.Command
		n     int
		codes []protocol.Code // the last n codes, "" for ok
	}{
		{
			name:  "room creations per user",
			mut:   func(c *Config) { c.RoomCreates, c.RoomCreateWindow = 2, time.Hour },
			cmds:  func(i int) protocol.Command { return protocol.Command{Op: protocol.OpCreate, Room: fmt.Sprint("r", i)} },
			n:     3,
			codes: []protocol.Code{"", "", protocol.CodeRateLimited},
		},
		{
			name:  "commands per connection",
			mut:   func(c *Config) { c.CmdRate, c.CmdBurst = 0.01, 3 },
			cmds:  func(int) protocol.Command { return protocol.Command{Op: protocol.OpRooms} },
			n:     3,
			codes: []protocol.Code{"", "", protocol.CodeRateLimited}, // hello took one of the burst of 3
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newAccountServer(t, tt.mut)
			c := s.account(t, s.register(t, "limited"))
			var got []protocol.Code
			for i := range tt.n {
				got = append(got, c.do(tt.cmds(i)).Code)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.codes) {
				t.Errorf("codes = %v, want %v", got, tt.codes)
			}
		})
	}
}

func TestLoginFailuresPerIP(t *testing.T) {
	s, _ := newAccountServer(t, func(c *Config) { c.LoginIPFails = 2; c.LoginFreeFails = 100 })
	var got []int
	for i := range 4 {
		// A different account each time: only the per-IP limit can stop it.
		resp := s.post(t, "/api/login", nil, credentials{Username: fmt.Sprint("user", i), Password: "wrong password"}, nil)
		got = append(got, resp.StatusCode)
	}
	if want := []int{401, 401, 429, 429}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
}

// TestAdministrator: a server administrator moderates any room and may
// enter private rooms, but not other people's DMs.
func TestAdministrator(t *testing.T) {
	s, store := newAccountServer(t, nil)
	ownerTok := s.register(t, "owen")
	adminTok := s.register(t, "ada")
	u, _ := store.User(t.Context(), "ada")
	u.Admin = true
	if err := store.UpdateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	owner, admin := s.account(t, ownerTok), s.account(t, adminTok)
	if hello := admin.ok(protocol.Command{Op: protocol.OpPing}); hello.Type != protocol.TypeOK {
		t.Fatal("admin not connected")
	}
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "hideout", Private: true})
	owner.ok(protocol.Command{Op: protocol.OpJoin, Room: "hideout"})
	admin.ok(protocol.Command{Op: protocol.OpJoin, Room: "hideout"})
	// The administrator outranks the owner.
	admin.ok(protocol.Command{Op: protocol.OpMute, Room: "hideout", User: "owen", Seconds: 60})
	if ev := owner.do(protocol.Command{Op: protocol.OpKick, Room: "hideout", User: "ada"}); ev.Code != protocol.CodeForbidden {
		t.Errorf("owner kicks admin: %+v, want forbidden", ev)
	}
	s.register(t, "bea")
	dm := owner.ok(protocol.Command{Op: protocol.OpDM, User: "bea"})
	if ev := admin.do(protocol.Command{Op: protocol.OpJoin, Room: dm.Room}); ev.Code != protocol.CodeNoSuchRoom {
		t.Errorf("admin joins a DM: %+v, want no_such_room", ev)
	}
}

// TestJoinWhileMuted: a user who joins a room they are muted in is told
// with a muted event right after the join reply.
func TestJoinWhileMuted(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	owner := s.account(t, s.register(t, "mona"))
	tok := s.register(t, "nick")
	owner.ok(protocol.Command{Op: protocol.OpCreate, Room: "quiet"})
	owner.ok(protocol.Command{Op: protocol.OpMute, Room: "quiet", User: "nick", Seconds: 600})
	nick := s.account(t, tok)
	nick.ok(protocol.Command{Op: protocol.OpJoin, Room: "quiet"})
	ev := nick.waitFor("muted", func(ev protocol.Event) bool { return ev.Type == protocol.TypeMuted })
	if ev.User != "nick" || ev.Until == 0 {
		t.Errorf("muted event = %+v, want nick with an end time", ev)
	}
}

// TestSessionsPerUser: a login past SessionsPerUser ends the account's
// least recently used session; its socket closes with 1008 and its token
// is refused from then on, while the others go on.
func TestSessionsPerUser(t *testing.T) {
	s, _ := newAccountServer(t, func(c *Config) { c.SessionsPerUser = 2 })
	first := s.register(t, "maya") // argon2id makes each login some milliseconds later
	login := func() string {
		t.Helper()
		var reply sessionReply
		if resp := s.post(t, "/api/login", nil, credentials{Username: "maya", Password: "correct horse", Bearer: true}, &reply); resp.StatusCode != http.StatusOK {
			t.Fatalf("login = %d", resp.StatusCode)
		}
		return reply.Token
	}
	second := login()
	old, kept := s.account(t, first), s.account(t, second)
	third := login()

	if got := old.closeCode(); got != protocol.ClosePolicy {
		t.Errorf("the oldest session's socket: close %d, want 1008", got)
	}
	kept.ok(protocol.Command{Op: protocol.OpPing})
	if status, e := dialStatus(t, s, bearer(first)); status != http.StatusUnauthorized {
		t.Errorf("dial with the trimmed token = %d %s, want 401", status, e.Code)
	}
	s.account(t, third).ok(protocol.Command{Op: protocol.OpPing})
}

// TestEndedSessionsPurged: sessions that expired or went unused past
// SessionIdle leave the store, at start and every SessionPurge; a live one
// stays.
func TestEndedSessionsPurged(t *testing.T) {
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateUser(t.Context(), chat.User{Name: "nora", PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sessions := []struct {
		hash  string
		sess  chat.Session
		ended bool
	}{
		{"expired", chat.Session{CreatedAt: now.Add(-31 * 24 * time.Hour), LastSeen: now.Add(-time.Hour), ExpiresAt: now.Add(-24 * time.Hour)}, true},
		{"idle", chat.Session{CreatedAt: now.Add(-10 * 24 * time.Hour), LastSeen: now.Add(-8 * 24 * time.Hour), ExpiresAt: now.Add(20 * 24 * time.Hour)}, true},
		{"live", chat.Session{CreatedAt: now.Add(-time.Hour), LastSeen: now.Add(-time.Minute), ExpiresAt: now.Add(29 * 24 * time.Hour)}, false},
	}
	for _, tt := range sessions {
		sess := tt.sess
		sess.TokenHash, sess.User = tt.hash, "nora"
		if err := store.CreateSession(t.Context(), sess); err != nil {
			t.Fatal(err)
		}
	}
	newTestServerOn(t, store, nil, func(c *Config) {
		c.Accounts, c.Access, c.Reads, c.Search = store, store, store, store
	})
	deadline := time.Now().Add(10 * time.Second)
	for _, tt := range sessions {
		for {
			_, err := store.Session(t.Context(), tt.hash)
			gone := errors.Is(err, chat.ErrNoSuchSession)
			if gone == tt.ended {
				break
			}
			if !tt.ended || time.Now().After(deadline) {
				t.Fatalf("session %s: gone %v (err %v), want %v", tt.hash, gone, err, tt.ended)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
