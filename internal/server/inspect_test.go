package server

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/inspect"
	"github.com/hubbub-chat/hubbub/protocol"
)

// inspectKey returns a fresh inspect key and its challenge, the value of
// /ws?inspect= and /echo?inspect=.
func inspectKey(t *testing.T) (key, challenge string) {
	t.Helper()
	key = rawKey()
	sum := sha256.Sum256([]byte(key))
	return key, base64.RawURLEncoding.EncodeToString(sum[:])
}

// feed is a live inspector feed: POST /api/inspect/watch read line by line.
type feed struct {
	t    *testing.T
	resp *http.Response
	recs chan inspect.Record
	raw  *bytes.Buffer // every byte of the feed, for redaction checks; read after recs is closed
}

// watch opens a feed for body, sent as JSON with hdr (which may replace
// the Content-Type); it returns the response status and, for 200, the feed.
func watch(t *testing.T, baseURL string, hdr http.Header, body any) (int, *feed) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, baseURL+"/api/inspect/watch", bytes.NewReader(b))
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
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	f := &feed{t: t, resp: resp, recs: make(chan inspect.Record, 1024), raw: new(bytes.Buffer)}
	go func() {
		defer close(f.recs)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			f.raw.Write(sc.Bytes())
			f.raw.WriteByte('\n')
			var r inspect.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				r = inspect.Record{Kind: "bad json", Note: sc.Text()}
			}
			f.recs <- r
		}
	}()
	return resp.StatusCode, f
}

// withHeader returns h with key set to value.
func withHeader(h http.Header, key, value string) http.Header {
	h.Set(key, value)
	return h
}

// next returns the next record; it fails the test after 5 s or at the
// feed's end.
func (f *feed) next() inspect.Record {
	f.t.Helper()
	select {
	case r, ok := <-f.recs:
		if !ok {
			f.t.Fatal("feed ended")
		}
		return r
	case <-time.After(5 * time.Second):
		f.t.Fatal("no record from the feed in 5s")
	}
	return inspect.Record{}
}

// until returns records up to and including the first that match accepts.
func (f *feed) until(match func(inspect.Record) bool) []inspect.Record {
	f.t.Helper()
	var out []inspect.Record
	for {
		r := f.next()
		out = append(out, r)
		if match(r) {
			return out
		}
	}
}

// rest returns every record left once the feed has ended, and the whole
// text of the feed.
func (f *feed) rest() ([]inspect.Record, string) {
	f.t.Helper()
	var out []inspect.Record
	timeout := time.After(5 * time.Second)
	for {
		select {
		case r, ok := <-f.recs:
			if !ok {
				return out, f.raw.String()
			}
			out = append(out, r)
		case <-timeout:
			f.t.Fatal("feed did not end in 5s")
		}
	}
}

// wireFrame is what the test compares: a frame's header fields and its
// unmasked payload, as sent or as the inspector shows it.
type wireFrame struct {
	Dir     string
	Fin     bool
	Opcode  byte
	Masked  bool
	MaskKey string
	Length  uint64
	Form    string
	Payload string
}

// sentFrame encodes f as the raw client does and returns its view.
func sentFrame(t *testing.T, c *rawConn, f rawFrame) wireFrame {
	t.Helper()
	f.masked = true
	b := rawEncodeFrame(f)
	c.writeRaw(b)
	return frameOfBytes(t, "in", b)
}

// frameOfBytes decodes the header of the encoded frame b independently of
// the inspector (by §5.2's layout) and returns its view.
func frameOfBytes(t *testing.T, dir string, b []byte) wireFrame {
	t.Helper()
	w := wireFrame{Dir: dir, Fin: b[0]&0x80 != 0, Opcode: b[0] & 0x0F, Masked: b[1]&0x80 != 0}
	i := 2
	switch n := b[1] & 0x7F; n {
	case 126:
		w.Length, w.Form, i = uint64(binary.BigEndian.Uint16(b[2:])), "16-bit", 4
	case 127:
		w.Length, w.Form, i = binary.BigEndian.Uint64(b[2:]), "64-bit", 10
	default:
		w.Length, w.Form = uint64(n), "7-bit"
	}
	p := b[i:]
	if w.Masked {
		key := b[i : i+4]
		w.MaskKey = hex.EncodeToString(key)
		p = append([]byte(nil), b[i+4:]...)
		for j := range p {
			p[j] ^= key[j%4]
		}
	}
	w.Payload = string(p)
	return w
}

// viewOf is the inspector's record as a wireFrame.
func viewOf(r inspect.Record) wireFrame {
	f := r.Frame
	p := f.Payload
	if f.PayloadHex {
		b, _ := hex.DecodeString(p)
		p = string(b)
	}
	return wireFrame{Dir: r.Dir, Fin: f.Fin, Opcode: f.Opcode, Masked: f.Masked, MaskKey: f.MaskKey,
		Length: f.Length, Form: f.LengthForm, Payload: p}
}

// TestInspectorScriptedSession drives /echo with a raw client that writes
// exact bytes: a text message in two fragments with a ping between them,
// an unsolicited pong, and the close handshake. The inspector's view must
// list exactly the frames sent and received, in order, with their header
// fields, and pair the server's pong with the client's ping.
func TestInspectorScriptedSession(t *testing.T) {
	_, ts := rawServer(t, Config{})
	key, challenge := inspectKey(t)
	c := rawDial(t, ts, "/echo?inspect="+challenge)

	status, f := watch(t, ts.URL, nil, watchRequest{Key: key})
	if status != http.StatusOK {
		t.Fatalf("watch own connection: status %d, want 200", status)
	}
	hs := f.until(func(r inspect.Record) bool { return r.Kind == "handshake" })
	h := hs[len(hs)-1].Handshake
	if h.Accept == nil || !h.Accept.Matches || h.Accept.Sent != c.resp.Header.Get("Sec-WebSocket-Accept") {
		t.Errorf("handshake accept derivation = %+v, want it to match the response's %q", h.Accept, c.resp.Header.Get("Sec-WebSocket-Accept"))
	}
	if !strings.HasPrefix(h.Status, "HTTP/1.1 101") || !strings.HasPrefix(h.Request, "GET /echo?inspect=") {
		t.Errorf("handshake lines = %q, %q", h.Request, h.Status)
	}

	long := "lo" + strings.Repeat("x", 200) // a 16-bit length
	var want []wireFrame
	want = append(want, sentFrame(t, c, rawFrame{fin: false, opcode: rawOpText, payload: []byte("Hel")}))
	want = append(want, sentFrame(t, c, rawFrame{fin: true, opcode: rawOpPing, payload: []byte("p1")}))
	want = append(want, sentFrame(t, c, rawFrame{fin: true, opcode: rawOpContinuation, payload: []byte(long)}))
	// Read what the server sends back, bytes and all: the pong and the echo.
	for range 2 {
		want = append(want, receivedFrame(t, c))
	}
	want = append(want, sentFrame(t, c, rawFrame{fin: true, opcode: rawOpPong, payload: []byte("unasked")}))
	want = append(want, sentFrame(t, c, rawFrame{fin: true, opcode: rawOpClose, payload: rawCloseBody(1000, "bye")}))
	want = append(want, receivedFrame(t, c))
	c.expectEOF()

	recs, _ := f.rest()
	var got []wireFrame
	var frames []inspect.Record
	for _, r := range recs {
		if r.Kind == "frame" {
			got = append(got, viewOf(r))
			frames = append(frames, r)
		}
	}
	// Each direction's frames are the wire's, in the wire's order. The
	// pong and the echo leave in whichever order the write loop chose;
	// the client read them in the order they crossed the wire, and the
	// inspector saw the same order. Between the two directions the
	// inspector's order is the server's: it may write the pong before it
	// reads the fragment the client sent after the ping.
	for _, dir := range []string{"in", "out"} {
		of := func(fs []wireFrame) []wireFrame {
			return slices.DeleteFunc(slices.Clone(fs), func(f wireFrame) bool { return f.Dir != dir })
		}
		if diff := cmp.Diff(of(want), of(got)); diff != "" {
			t.Fatalf("inspector's %s frames differ from the wire (-sent/received +inspected):\n%s", dir, diff)
		}
	}
	// What answers a frame comes after it.
	at := func(dir string, op byte) int {
		return slices.IndexFunc(got, func(f wireFrame) bool { return f.Dir == dir && f.Opcode == op })
	}
	for _, p := range []struct {
		cause, answer byte
	}{{rawOpPing, rawOpPong}, {rawOpContinuation, rawOpText}, {rawOpClose, rawOpClose}} {
		if at("in", p.cause) > at("out", p.answer) {
			t.Errorf("inspector shows the server's %#x before the client's %#x it answers:\n%+v", p.answer, p.cause, got)
		}
	}
	if last := recs[len(recs)-1]; last.Kind != "note" || !strings.Contains(last.Note, "closed") {
		t.Errorf("last record = %+v, want the note that the connection closed", last)
	}

	byOp := func(dir string, op byte) inspect.Record {
		for _, r := range frames {
			if r.Dir == dir && r.Frame.Opcode == op {
				return r
			}
		}
		t.Fatalf("no %s frame with opcode %#x", dir, op)
		return inspect.Record{}
	}
	if fr := byOp("in", rawOpText).Frame; fr.Fragment != "first" || fr.Message != nil {
		t.Errorf("first fragment: fragment %q, message %+v; want first, none", fr.Fragment, fr.Message)
	}
	cont := byOp("in", rawOpContinuation).Frame
	if cont.Fragment != "last" || cont.Message == nil || cont.Message.Frames != 2 || cont.Message.Length != uint64(3+len(long)) {
		t.Errorf("last fragment: fragment %q, message %+v; want last, a text message of 2 frames and %d bytes", cont.Fragment, cont.Message, 3+len(long))
	}
	if pong := byOp("out", rawOpPong).Frame; pong.RTTms == nil {
		t.Errorf("server's pong has no RTT; want the time since the client's ping")
	}
	if pong := byOp("in", rawOpPong).Frame; pong.RTTms != nil {
		t.Errorf("unasked pong has RTT %v, want none", *pong.RTTms)
	}
	in, out := byOp("in", rawOpClose).Frame.Close, byOp("out", rawOpClose).Frame.Close
	if in == nil || in.Code != 1000 || in.Reason != "bye" || in.StartedBy != "client" || in.Reply {
		t.Errorf("client close = %+v, want 1000 bye started by client", in)
	}
	if out == nil || out.Code != 1000 || out.StartedBy != "client" || !out.Reply {
		t.Errorf("server close = %+v, want 1000, a reply to the client", out)
	}
}

// receivedFrame reads one frame's bytes off the raw connection, exactly
// as they arrived, and returns its view.
func receivedFrame(t *testing.T, c *rawConn) wireFrame {
	t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(rawTimeout))
	hdr := make([]byte, 2, 14)
	if _, err := io.ReadFull(c.br, hdr); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	extra := 0
	switch hdr[1] & 0x7F {
	case 126:
		extra = 2
	case 127:
		extra = 8
	}
	if hdr[1]&0x80 != 0 {
		extra += 4
	}
	hdr = hdr[:2+extra]
	if _, err := io.ReadFull(c.br, hdr[2:]); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	w := frameOfBytes(t, "out", hdr)
	p := make([]byte, w.Length)
	if _, err := io.ReadFull(c.br, p); err != nil {
		t.Fatalf("read payload: %v", err)
	}
	w.Payload = string(p)
	return w
}

// TestInspectAccess: an administrator may watch anyone's connection, with
// payloads redacted unless InspectPayloads; a user may watch their own,
// unredacted; anyone else gets 403, and no credentials 401.
func TestInspectAccess(t *testing.T) {
	for _, payloads := range []bool{false, true} {
		t.Run(fmt.Sprintf("InspectPayloads=%t", payloads), func(t *testing.T) {
			s, store := newAccountServer(t, func(c *Config) { c.InspectPayloads = payloads })
			beaTok, adaTok, carlTok := s.register(t, "bea"), s.register(t, "ada"), s.register(t, "carl")
			u, _ := store.User(t.Context(), "ada")
			u.Admin = true
			if err := store.UpdateUser(t.Context(), u); err != nil {
				t.Fatal(err)
			}
			bea := s.account(t, beaTok)
			bea.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})

			// Find bea's connection id the way an administrator does.
			var list struct{ Conns []ConnInfo }
			for _, tt := range []struct {
				tok  string
				want int
			}{{"", 401}, {carlTok, 403}, {beaTok, 403}, {adaTok, 200}} {
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.ts.URL+"/api/inspect/conns", nil)
				if tt.tok != "" {
					req.Header.Set("Authorization", "Bearer "+tt.tok)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != tt.want {
					t.Errorf("GET /api/inspect/conns as %q: status %d, want %d", tt.tok, resp.StatusCode, tt.want)
				}
				if resp.StatusCode == 200 {
					json.NewDecoder(resp.Body).Decode(&list)
				}
				resp.Body.Close()
			}
			var id uint64
			for _, ci := range list.Conns {
				if ci.User == "bea" && ci.Account {
					id = ci.ID
					if got := ci.Rooms; len(got) != 1 || got[0] != "lobby" {
						t.Errorf("bea's rooms = %q, want [lobby]", got)
					}
					if ci.BytesIn == 0 || ci.BytesOut == 0 || ci.Path != "/ws" {
						t.Errorf("bea's connection = %+v, want bytes both ways on /ws", ci)
					}
				}
			}
			if id == 0 {
				t.Fatalf("bea's connection not in %+v", list.Conns)
			}

			for _, tt := range []struct {
				name string
				hdr  http.Header
				want int
			}{
				{"no credentials", nil, http.StatusUnauthorized},
				{"another user", bearer(carlTok), http.StatusForbidden},
				// Like every POST (docs/protocol.md, "Requests and errors"):
				// JSON only, and a page of another origin is refused, even
				// with an administrator's credentials.
				{"admin, a form's body", withHeader(bearer(adaTok), "Content-Type", "application/x-www-form-urlencoded"), http.StatusUnsupportedMediaType},
				{"admin, from another origin", withHeader(bearer(adaTok), "Origin", "https://evil.example"), http.StatusForbidden},
			} {
				if got, _ := watch(t, s.ts.URL, tt.hdr, watchRequest{Conn: id}); got != tt.want {
					t.Errorf("%s watches bea: status %d, want %d", tt.name, got, tt.want)
				}
			}
			if got, _ := watch(t, s.ts.URL, bearer(carlTok), watchRequest{Conn: 999999}); got != http.StatusForbidden {
				t.Errorf("another user watches a missing connection: status %d, want 403", got)
			}

			status, admin := watch(t, s.ts.URL, bearer(adaTok), watchRequest{Conn: id})
			if status != http.StatusOK {
				t.Fatalf("admin watches bea: status %d", status)
			}
			status, own := watch(t, s.ts.URL, bearer(beaTok), watchRequest{Conn: id})
			if status != http.StatusOK {
				t.Fatalf("bea watches herself: status %d", status)
			}
			for _, f := range []*feed{admin, own} {
				f.until(func(r inspect.Record) bool { return r.Kind == "handshake" })
			}
			const secret = "the-secret-body-42"
			bea.ok(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: secret, CMID: "c1"})
			bea.ws.Close() // ends both feeds

			_, adminText := admin.rest()
			_, ownText := own.rest()
			if !strings.Contains(ownText, secret) {
				t.Errorf("bea's own view lacks her message body")
			}
			if got := strings.Contains(adminText, secret); got != payloads {
				t.Errorf("administrator's view shows the body: %t, want %t (InspectPayloads)", got, payloads)
			}
			if !strings.Contains(adminText, `"name":"send"`) {
				t.Errorf("administrator's view lacks the send command's name")
			}
			for _, text := range []string{adminText, ownText} {
				if strings.Contains(text, beaTok) {
					t.Errorf("a view shows bea's bearer token")
				}
			}
		})
	}
}

// TestStalledWatcherDoesNotSlowConnection: a watcher that never reads is
// dropped when its queue fills; the connection goes on. The budget: 16 MiB
// echoed each way within a 20 s deadline, while the stalled watcher's
// queue may hold at most WatchBytes. (A tap that waited for its watcher
// would stop the connection after 1 MiB and miss the deadline.)
func TestStalledWatcherDoesNotSlowConnection(t *testing.T) {
	srv, ts := rawServer(t, Config{})
	c := rawDial(t, ts, "/echo")
	c.text("registered") // once echoed, the connection is in srv.conns
	c.readMessage()

	var tap *inspect.Tap
	for _, cn := range srv.liveConns() {
		tap = tapOf(cn).Tap()
	}
	stalled := tap.Watch() // never read
	if got := tap.Watching(); got != 1 {
		t.Fatalf("watchers = %d, want 1", got)
	}

	payload := bytes.Repeat([]byte("a"), 32<<10)
	deadline := time.Now().Add(20 * time.Second)
	start := time.Now()
	for i := range 512 { // 16 MiB each way
		c.nc.SetDeadline(deadline)
		c.write(rawFrame{fin: true, opcode: rawOpBinary, payload: payload})
		if op, p := c.readMessage(); op != rawOpBinary || len(p) != len(payload) {
			t.Fatalf("echo %d: opcode %#x, %d bytes", i, op, len(p))
		}
	}
	t.Logf("16 MiB echoed in %v with stalled watchers", time.Since(start))
	if got := tap.Watching(); got != 0 {
		t.Errorf("watchers still attached = %d, want the stalled one dropped", got)
	}
	// The dropped watcher drains what it had and then says why.
	for {
		_, err := stalled.Next(t.Context())
		if err != nil {
			if err != inspect.ErrFellBehind {
				t.Errorf("stalled watcher ended with %v, want ErrFellBehind", err)
			}
			break
		}
	}
}

// TestRequestHead: the head net/http parsed, written back for the tap:
// request line, Host, then the headers sorted by name, values in order,
// credentials replaced.
func TestRequestHead(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"no headers", http.Header{}, "GET /ws?x=1 HTTP/1.1\r\nHost: chat.example\r\n\r\n"},
		{"sorted, values in order, credentials redacted", http.Header{
			"Upgrade":                {"websocket"},
			"Cookie":                 {"hubbub_session=secret", "other=1"},
			"Authorization":          {"Bearer secret"},
			"Sec-Websocket-Protocol": {"hubbub.v1", "x"},
		}, "GET /ws?x=1 HTTP/1.1\r\nHost: chat.example\r\n" +
			"Authorization: " + inspect.Redacted + "\r\n" +
			"Cookie: " + inspect.Redacted + "\r\nCookie: " + inspect.Redacted + "\r\n" +
			"Sec-Websocket-Protocol: hubbub.v1\r\nSec-Websocket-Protocol: x\r\n" +
			"Upgrade: websocket\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{Method: "GET", RequestURI: "/ws?x=1", Proto: "HTTP/1.1", Host: "chat.example", Header: tt.header}
			if got := string(requestHead(r)); got != tt.want {
				t.Errorf("requestHead =\n%q\nwant\n%q", got, tt.want)
			}
			if strings.Contains(string(requestHead(r)), "secret") {
				t.Error("requestHead shows a credential")
			}
		})
	}
}

// TestInspectChallengeKeptByFirst: a second connection naming a challenge
// already in use (someone who saw the first one's URL) does not take the
// key over: the key's holder keeps watching its own connection and never
// sees the other's frames.
func TestInspectChallengeKeptByFirst(t *testing.T) {
	_, ts := rawServer(t, Config{})
	key, challenge := inspectKey(t)
	own := rawDial(t, ts, "/echo?inspect="+challenge)
	other := rawDial(t, ts, "/echo?inspect="+challenge)

	status, f := watch(t, ts.URL, nil, watchRequest{Key: key})
	if status != http.StatusOK {
		t.Fatalf("watch own connection: status %d, want 200", status)
	}
	f.until(func(r inspect.Record) bool { return r.Kind == "handshake" })
	sentFrame(t, other, rawFrame{fin: true, opcode: rawOpText, payload: []byte("from-the-other")})
	receivedFrame(t, other)
	sentFrame(t, own, rawFrame{fin: true, opcode: rawOpText, payload: []byte("from-the-owner")})
	receivedFrame(t, own)
	sentFrame(t, own, rawFrame{fin: true, opcode: rawOpClose, payload: rawCloseBody(1000, "bye")})
	receivedFrame(t, own)
	own.expectEOF()

	_, text := f.rest()
	if !strings.Contains(text, "from-the-owner") {
		t.Errorf("the key's feed lacks its own connection's frame")
	}
	if strings.Contains(text, "from-the-other") {
		t.Errorf("the key's feed shows the frames of another connection that named the same challenge")
	}

	// Once the first is gone, its challenge is free again.
	again := rawDial(t, ts, "/echo?inspect="+challenge)
	status, f = watch(t, ts.URL, nil, watchRequest{Key: key})
	if status != http.StatusOK {
		t.Fatalf("watch after the first closed: status %d, want 200", status)
	}
	f.until(func(r inspect.Record) bool { return r.Kind == "handshake" })
	_ = again
}
