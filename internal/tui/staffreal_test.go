package tui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/servertest"
)

// staffCmd runs /staff in the shown window and returns what it noted.
func (h *harness) staffCmd() []string {
	h.t.Helper()
	w := h.m.current()
	n := len(w.entries)
	h.typeText("/staff", true)
	return notesSince(w, n)
}

// pumpPanel feeds c's events to h until the Here panel is want.
func (h *harness) pumpPanel(c *client.Client, want ...string) {
	h.t.Helper()
	h.pumpUntil(c, "the Here panel "+strings.Join(want, "|"), func() bool { return slices.Equal(herePanel(h), want) })
}

// deleteAccount deletes the account of the bearer token tok.
func deleteAccount(t *testing.T, srv *servertest.Server, tok string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"password": servertest.Password})
	apiPost(t, srv.URL+"/api/account/delete", tok, body, http.StatusNoContent)
}

// TestStaffRealServer: with the real client and server, the Here panel
// marks a public room's owner and moderators from the join reply and
// lists them first; /staff lists a moderator who is not online; a promotion and a demotion
// change the marks as they happen, without a join; a private room's
// roster marks its roles, and a kick from it ends one; a re-join after a
// reconnect picks up a change the room got no entry for (a moderator's
// account deleted); and when the owner's account is deleted the
// moderator it hands the room to is marked as its owner.
func TestStaffRealServer(t *testing.T) {
	srv := servertest.Start(t, nil)
	netw := newNetwork(t, strings.TrimPrefix(srv.URL, "http://"))
	ctx := t.Context()
	graceTok := srv.SignUp(t, "grace")
	grace := dialReal(t, srv.WSURL, client.Options{Token: graceTok})
	linus := dialReal(t, srv.WSURL, client.Options{Token: srv.SignUp(t, "linus")})
	beaTok := srv.SignUp(t, "bea") // a moderator who is not online
	adaTok := srv.SignUp(t, "ada")
	if _, err := grace.Create(ctx, "ops", ""); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"linus", "bea"} {
		if err := grace.Promote(ctx, "ops", u); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*client.Client{grace, linus, dialReal(t, srv.WSURL, client.Options{Name: "zed"})} {
		if _, _, err := c.Join(ctx, "ops"); err != nil {
			t.Fatal(err)
		}
	}

	term := dialReal(t, "ws://"+netw.ln.Addr().String()+"/ws", client.Options{Token: adaTok})
	h := newRealHarness(t, term, 100, 30, "ops")
	h.pumpPanel(term, " ~grace", " @linus", "  ada (you)", "  zed")
	want := []string{
		"Owner and moderators of #ops (3):",
		"  ~grace  owner, here",
		"  @bea    moderator",
		"  @linus  moderator, here",
	}
	if diff := cmp.Diff(want, h.staffCmd()); diff != "" {
		t.Errorf("/staff (-want +got):\n%s", diff)
	}

	// Promoted and demoted while looking: no join needed.
	joinedAt := h.m.find("ops").staffSeq
	if err := grace.Promote(ctx, "ops", "ada"); err != nil {
		t.Fatal(err)
	}
	h.pumpPanel(term, " ~grace", " @ada (you)", " @linus", "  zed")
	if err := grace.Demote(ctx, "ops", "linus"); err != nil {
		t.Fatal(err)
	}
	h.pumpPanel(term, " ~grace", " @ada (you)", "  linus", "  zed")
	if got := h.m.find("ops").staffSeq; got != joinedAt {
		t.Errorf("the roles are as of seq %d, not of the join's %d: the client joined again", got, joinedAt)
	}

	// A private room: its roster says who is what; a kick ends a role.
	if _, err := grace.CreatePrivate(ctx, "den", ""); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"ada", "linus"} {
		if err := grace.Invite(ctx, "den", u); err != nil {
			t.Fatal(err)
		}
	}
	if err := grace.Promote(ctx, "den", "linus"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := grace.Join(ctx, "den"); err != nil {
		t.Fatal(err)
	}
	h.typeText("/join den", true)
	h.pumpPanel(term, " ~grace", "  ada (you)")
	want = []string{
		"Owner and moderators of #den (2):",
		"  ~grace  owner, here",
		"  @linus  moderator",
	}
	if diff := cmp.Diff(want, h.staffCmd()); diff != "" {
		t.Errorf("/staff in the private room (-want +got):\n%s", diff)
	}
	if err := grace.Kick(ctx, "den", "linus", ""); err != nil {
		t.Fatal(err)
	}
	h.pump(term, "grace kicked linus")
	want = []string{"Owner and moderators of #den (1):", "  ~grace  owner, here"}
	if diff := cmp.Diff(want, h.staffCmd()); diff != "" {
		t.Errorf("/staff after the kick (-want +got):\n%s", diff)
	}

	// Away, bea's account is deleted: the room gets no entry for it, the
	// re-join after the reconnect tells.
	h.typeText("/join ops", true)
	netw.setDown(true)
	h.pump(term, "○ reconnecting")
	deleteAccount(t, srv, beaTok)
	netw.setDown(false)
	h.pump(term, "● ada")
	h.pumpUntil(term, "the re-join of #ops", func() bool { return h.m.find("ops").staffSeq > joinedAt })
	want = []string{
		"Owner and moderators of #ops (2):",
		"  ~grace  owner, here",
		"  @ada    moderator, here",
	}
	if diff := cmp.Diff(want, h.staffCmd()); diff != "" {
		t.Errorf("/staff after bea's account was deleted (-want +got):\n%s", diff)
	}

	// grace's account is deleted: ada, the only moderator, owns ops.
	deleteAccount(t, srv, graceTok)
	h.pump(term, "grace made you owner")
	h.pumpPanel(term, " ~ada (you)", "  linus", "  zed")
}

// apiPost posts body as JSON to url with tok as the bearer token, and
// fails the test unless the answer has status want.
func apiPost(t *testing.T, url, tok string, body []byte, want int) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %s, want %d", url, resp.Status, want)
	}
}

// TestStaffAdminRealServer: with the real client and server, a server
// administrator (hubbubd user admin, here the store's UpdateUser) is
// marked & in a public room's Here panel, before its owner, and /staff
// lists them as admin, online or not.
func TestStaffAdminRealServer(t *testing.T) {
	srv := servertest.Start(t, nil)
	ctx := t.Context()
	grace := dialReal(t, srv.WSURL, client.Options{Token: srv.SignUp(t, "grace")})
	rootTok := srv.SignUp(t, "root")
	srv.SignUp(t, "zed") // an administrator who is not online
	adaTok := srv.SignUp(t, "ada")
	for _, name := range []string{"root", "zed"} {
		u, err := srv.Store.User(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		u.Admin = true
		if err := srv.Store.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := grace.Create(ctx, "ops", ""); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{grace, dialReal(t, srv.WSURL, client.Options{Token: rootTok})} {
		if _, _, err := c.Join(ctx, "ops"); err != nil {
			t.Fatal(err)
		}
	}

	term := dialReal(t, srv.WSURL, client.Options{Token: adaTok})
	h := newRealHarness(t, term, 100, 30, "ops")
	h.pumpPanel(term, " &root", " ~grace", "  ada (you)")
	want := []string{
		"Administrators, owner and moderators of #ops (3):",
		"  &root   admin, here",
		"  &zed    admin",
		"  ~grace  owner, here",
	}
	if diff := cmp.Diff(want, h.staffCmd()); diff != "" {
		t.Errorf("/staff (-want +got):\n%s", diff)
	}
}
