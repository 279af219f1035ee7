package client_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/servertest"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestSessionEnded: when the account's session ends (here a logout from
// elsewhere), the server closes the socket with 1008 and the client stops
// for good instead of reconnecting: the last event is Closed, its Err a
// *websocket.CloseError with code 1008 and the server's reason, and every
// operation afterwards fails with an error that is ErrClosed and unwraps to
// the same close error, so a bot can tell "log in again" from a Close of
// its own.
func TestSessionEnded(t *testing.T) {
	srv := servertest.Start(t, nil)
	token := srv.SignUp(t, "bot")
	c, rec := dialURL(t, srv.WSURL, client.Options{Token: token, BackoffBase: time.Millisecond})
	if _, _, err := c.Join(t.Context(), "lobby"); err != nil {
		t.Fatal(err)
	}

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/api/logout", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: status %s", resp.Status)
	}

	select {
	case <-rec.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the events channel is still open 10s after the session ended")
	}
	isPolicy := func(err error) bool {
		ce, ok := errors.AsType[*websocket.CloseError](err)
		return ok && ce.Code == protocol.ClosePolicy && ce.Text == "logged out"
	}
	rec.mu.Lock()
	events := rec.events
	rec.mu.Unlock()
	for _, ev := range events {
		if st, ok := ev.(client.StateEvent); ok && st.State == client.Reconnecting {
			t.Errorf("got %+v: the client tried to reconnect after 1008", st)
		}
	}
	last, ok := events[len(events)-1].(client.StateEvent)
	if !ok || last.State != client.Closed || !isPolicy(last.Err) {
		t.Fatalf("last event %#v, want Closed with a 1008 close error %q", events[len(events)-1], "logged out")
	}

	_, err = c.Send(t.Context(), "lobby", "still there?")
	if !errors.Is(err, client.ErrClosed) || !isPolicy(err) {
		t.Errorf("Send after the session ended: %v; want ErrClosed wrapping the 1008 close", err)
	}
	if _, ok := errors.AsType[*client.SendError](err); !ok {
		t.Errorf("Send after the session ended: %T, want a *client.SendError", err)
	}
}
