package client_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/servertest"
	"github.com/hubbub-chat/hubbub/protocol"
)

// apiPost posts body as JSON to path with the bearer token (if any) and
// returns the status and the error code of the reply (if any).
func apiPost(t *testing.T, srv *servertest.Server, path, token string, body any) (int, protocol.Code) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reply struct{ Code protocol.Code }
	json.NewDecoder(resp.Body).Decode(&reply)
	return resp.StatusCode, reply.Code
}

// TestDeleteAccount: POST /api/account/delete refuses a wrong password
// and keeps the account; with the right one it ends the account's open
// socket with 1008 "account deleted", its room sees it leave, the owner's
// private room passes to its moderator (role event and entry), its
// messages stay under its name, and the name is taken for good: register,
// login and a guest's hello all refuse it.
func TestDeleteAccount(t *testing.T) {
	srv := servertest.Start(t, nil)
	aliceTok, bobTok := srv.SignUp(t, "alice"), srv.SignUp(t, "bob")
	alice, aliceRec := dialURL(t, srv.WSURL, client.Options{Token: aliceTok, BackoffBase: time.Millisecond})
	bob, bobRec := dialURL(t, srv.WSURL, client.Options{Token: bobTok, BackoffBase: time.Millisecond})
	ctx := t.Context()
	if _, err := alice.CreatePrivate(ctx, "den", ""); err != nil {
		t.Fatal(err)
	}
	if err := alice.Invite(ctx, "den", "bob"); err != nil {
		t.Fatal(err)
	}
	if err := alice.Promote(ctx, "den", "bob"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client.Client{bob, alice} {
		for _, room := range []string{"lobby", "den"} {
			if _, _, err := c.Join(ctx, room); err != nil {
				t.Fatal(err)
			}
		}
	}
	sent, err := alice.Send(ctx, "lobby", "goodbye, all")
	if err != nil {
		t.Fatal(err)
	}

	// A wrong password changes nothing.
	if status, code := apiPost(t, srv, "/api/account/delete", aliceTok, map[string]string{"password": "not the password"}); status != http.StatusUnauthorized || code != protocol.CodeBadCredentials {
		t.Fatalf("delete with a wrong password: %d %s, want 401 %s", status, code, protocol.CodeBadCredentials)
	}
	if _, err := alice.Send(ctx, "lobby", "still here"); err != nil {
		t.Fatalf("Send after a refused delete: %v", err)
	}

	if status, code := apiPost(t, srv, "/api/account/delete", aliceTok, map[string]string{"password": servertest.Password}); status != http.StatusNoContent {
		t.Fatalf("delete: %d %s, want 204", status, code)
	}

	// Alice's socket is closed for good with the documented code.
	select {
	case <-aliceRec.done:
	case <-time.After(10 * time.Second):
		t.Fatal("alice's events channel is still open 10s after her account was deleted")
	}
	aliceRec.mu.Lock()
	last := aliceRec.events[len(aliceRec.events)-1]
	aliceRec.mu.Unlock()
	st, ok := last.(client.StateEvent)
	ce, isClose := errors.AsType[*websocket.CloseError](st.Err)
	if !ok || st.State != client.Closed || !isClose || ce.Code != protocol.ClosePolicy || ce.Text != server.AccountDeletedReason {
		t.Fatalf("alice's last event %#v, want Closed with 1008 %q", last, server.AccountDeletedReason)
	}

	// Bob sees her leave both rooms, and becomes the owner of den.
	bobRec.wait(t, 10*time.Second, "alice leaving lobby and den, and bob owning den", func(evs []client.Event) bool {
		left := map[string]bool{}
		owner := false
		for _, ev := range evs {
			switch ev := ev.(type) {
			case client.LeaveEvent:
				left[ev.Room] = left[ev.Room] || ev.User == "alice"
			case client.OtherEvent:
				e := ev.Event
				owner = owner || e.Type == protocol.TypeRole && e.Room == "den" && e.User == "bob" && e.Role == protocol.RoleOwner && e.By == "alice"
			}
		}
		return left["lobby"] && left["den"] && owner
	})
	if info, _, err := bob.Join(ctx, "den"); err != nil || info.Role != protocol.RoleOwner {
		t.Errorf("bob's join of den after alice's deletion: role %q, %v; want %q", info.Role, err, protocol.RoleOwner)
	}
	msgs, _, err := bob.HistoryBefore(ctx, "lobby", 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	kept := false
	for _, m := range msgs {
		kept = kept || m.Seq == sent.Seq && m.From == "alice" && m.Body == "goodbye, all"
	}
	if !kept {
		t.Errorf("lobby history after alice's deletion lacks her message %+v: %+v", sent, msgs)
	}

	// The name stays taken.
	for _, tt := range []struct {
		path       string
		wantStatus int
		wantCode   protocol.Code
	}{
		{"/api/register", http.StatusConflict, protocol.CodeNameTaken},
		{"/api/login", http.StatusUnauthorized, protocol.CodeBadCredentials},
	} {
		status, code := apiPost(t, srv, tt.path, "", map[string]any{"username": "alice", "password": servertest.Password, "bearer": true})
		if status != tt.wantStatus || code != tt.wantCode {
			t.Errorf("%s alice after deletion: %d %s, want %d %s", tt.path, status, code, tt.wantStatus, tt.wantCode)
		}
	}
	_, err = client.Dial(ctx, srv.WSURL, client.Options{Name: "alice", BackoffBase: time.Millisecond})
	if pe, ok := errors.AsType[*protocol.Error](err); !ok || pe.Code != protocol.CodeNameTaken {
		t.Errorf("guest hello as alice after deletion: %v, want %s", err, protocol.CodeNameTaken)
	}
	if status, _ := apiPost(t, srv, "/api/account/delete", aliceTok, map[string]string{"password": servertest.Password}); status != http.StatusUnauthorized {
		t.Errorf("delete again with the old token: %d, want 401", status)
	}
}
