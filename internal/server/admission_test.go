package server

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hubbub-chat/hubbub/protocol"
)

// TestAdmissionSpreadsRetries: past the budget, the k-th client sent away
// is told k/rate, so a storm comes back at the pace the budget admits; the
// backlog drains at that rate while nobody asks.
func TestAdmissionSpreadsRetries(t *testing.T) {
	a := newAdmission(&Config{NodeHandshakeRate: 10, NodeHandshakeBurst: 5, NodeHandshakesInProgress: 100}, prometheus.NewRegistry())
	t0 := time.Unix(1_000_000, 0)
	var admitted int
	var retries []time.Duration
	for range 10 {
		release, retry := a.admit(t0)
		if release != nil {
			admitted++
			release()
		} else {
			retries = append(retries, retry)
		}
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	if admitted != 5 {
		t.Errorf("admitted %d of 10 at once, want the burst of 5", admitted)
	}
	if diff := cmp.Diff([]time.Duration{ms(100), ms(200), ms(300), ms(400), ms(500)}, retries); diff != "" {
		t.Errorf("retry-afters (-want +got):\n%s", diff)
	}

	// 300 ms later the budget has 3 tokens and the backlog of 5 is down to 2.
	t1 := t0.Add(ms(300))
	for i := range 3 {
		if release, _ := a.admit(t1); release == nil {
			t.Errorf("handshake %d at +300ms refused, want the 3 tokens earned since", i)
		}
	}
	if release, retry := a.admit(t1); release != nil || retry != ms(300) {
		t.Errorf("next at +300ms = %v; want refused with 300ms (behind 2 still due)", retry)
	}
	// A quiet minute later the bucket is full and the backlog empty: the
	// burst is admitted, and the next client is first in line.
	t2 := t1.Add(time.Minute)
	for i := range 5 {
		if release, _ := a.admit(t2); release == nil {
			t.Errorf("handshake %d after a quiet minute refused", i)
		}
	}
	if release, retry := a.admit(t2); release != nil || retry != ms(100) {
		t.Errorf("past the burst after a quiet minute: %v; want refused with 100ms", retry)
	}
}

// TestAdmissionSlots: at most NodeHandshakesInProgress admissions are
// under way; a slot comes back when released (once, however often
// release is called) or by itself after admitHold.
func TestAdmissionSlots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdmission(&Config{NodeHandshakeRate: 1000, NodeHandshakeBurst: 1000, NodeHandshakesInProgress: 2}, prometheus.NewRegistry())
		r1, _ := a.admit(time.Now())
		r2, _ := a.admit(time.Now())
		if r1 == nil || r2 == nil {
			t.Fatal("the first two admissions were refused")
		}
		if r, _ := a.admit(time.Now()); r != nil {
			t.Fatal("a third admission with both slots held was let in")
		}
		r1()
		r1()
		r3, _ := a.admit(time.Now())
		if r3 == nil {
			t.Fatal("refused after a slot was released")
		}
		if r, _ := a.admit(time.Now()); r != nil {
			t.Fatal("a double release gave two slots back")
		}
		time.Sleep(admitHold)
		synctest.Wait()
		for i := range 2 {
			if r, _ := a.admit(time.Now()); r == nil {
				t.Errorf("admission %d after admitHold refused: held slots did not come back", i)
			}
		}
	})
}

// TestNodeBudgetRefusals: past the node-wide budget a client without
// Origin gets 503, Retry-After and `unavailable`; a browser (Origin) gets
// its socket upgraded and closed with 1013 and "retry after Ns"; both are
// counted.
func TestNodeBudgetRefusals(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.NodeHandshakeRate, c.NodeHandshakeBurst = 0.01, 1 })
	if st, _ := dialStatus(t, s, nil); st != http.StatusSwitchingProtocols {
		t.Fatalf("first handshake = %d, want 101", st)
	}

	d := websocket.Dialer{Subprotocols: []string{protocol.Subprotocol}}
	ws, resp, err := d.Dial(s.wsURL, nil)
	if ws != nil || resp == nil {
		t.Fatalf("second handshake: %v, want refused", err)
	}
	var e apiError
	json.NewDecoder(resp.Body).Decode(&e)
	if resp.StatusCode != http.StatusServiceUnavailable || e.Code != protocol.CodeUnavailable {
		t.Errorf("second handshake = %d %q, want 503 %q", resp.StatusCode, e.Code, protocol.CodeUnavailable)
	}
	if got := resp.Header.Get("Retry-After"); got != "100" {
		t.Errorf("Retry-After = %q, want %q (1 in line at 0.01/s)", got, "100")
	}

	origin := http.Header{"Origin": {s.ts.URL}} // the server's own host: allowed
	ws, _, err = d.Dial(s.wsURL, origin)
	if err != nil {
		t.Fatalf("browser handshake past the budget: %v, want upgraded then closed", err)
	}
	defer ws.Close()
	if ws.Subprotocol() != protocol.Subprotocol {
		t.Errorf("subprotocol = %q, want %q (else a browser fails the socket before reading the close)", ws.Subprotocol(), protocol.Subprotocol)
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = ws.ReadMessage()
	ce, ok := err.(*websocket.CloseError)
	if !ok || ce.Code != protocol.CloseTryAgainLater || ce.Text != "retry after 200s" {
		t.Errorf("browser read = %v, want close %d %q", err, protocol.CloseTryAgainLater, "retry after 200s")
	}
	if got := counterValue(s.srv.admission.refused.WithLabelValues("node_busy")); got != 2 {
		t.Errorf("node_busy refusals = %v, want 2", got)
	}
	if got := counterValue(s.srv.admission.refused.WithLabelValues("ip_rate")); got != 0 {
		t.Errorf("ip_rate refusals = %v, want 0: the node budget is asked first", got)
	}
}

// TestBusyRefusalClosingHandshake: a browser writes its hello as soon as
// its socket opens, before it reads the server's 1013. The refusal must end
// in a closing handshake: the server reads past the hello and keeps the
// connection until the client's close, then ends the stream with FIN.
// Closing at once resets the connection when the hello has arrived unread,
// and Chromium reports a reset after the close frame as 1006, not the 1013
// with its wait (the page then retries on its own short backoff).
func TestBusyRefusalClosingHandshake(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.NodeHandshakeRate, c.NodeHandshakeBurst = 0.01, 1 })
	if st, _ := dialStatus(t, s, nil); st != http.StatusSwitchingProtocols {
		t.Fatalf("first handshake = %d, want 101", st)
	}

	var raw net.Conn
	d := websocket.Dialer{
		Subprotocols: []string{protocol.Subprotocol},
		NetDial: func(network, addr string) (net.Conn, error) {
			c, err := net.Dial(network, addr)
			raw = c
			return c, err
		},
	}
	ws, _, err := d.Dial(s.wsURL, http.Header{"Origin": {s.ts.URL}})
	if err != nil {
		t.Fatalf("browser handshake past the budget: %v, want upgraded then closed", err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"hello","name":"alice"}`)); err != nil {
		t.Fatalf("write hello: %v", err)
	}
	ws.SetCloseHandler(func(int, string) error { return nil }) // answer later, by hand
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err = ws.ReadMessage(); !websocket.IsCloseError(err, protocol.CloseTryAgainLater) {
		t.Fatalf("read = %v, want close %d", err, protocol.CloseTryAgainLater)
	}

	// Not answered yet: the server must still be waiting (no FIN, no reset).
	raw.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var ne net.Error
	if n, err := raw.Read(make([]byte, 64)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("before the client's close: read %d bytes, %v; want nothing (the server waits for the close)", n, err)
	}
	if err := ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(protocol.CloseTryAgainLater, ""), time.Now().Add(time.Second)); err != nil {
		t.Fatalf("write close: %v", err)
	}
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := raw.Read(make([]byte, 64)); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("after the client's close: read %d bytes, %v; want EOF (FIN), not a reset", n, err)
	}
}
