package inspect

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/wsframe"
)

// clientFrame encodes a masked client frame.
func clientFrame(op wsframe.Opcode, fin bool, payload string) []byte {
	return wsframe.AppendFrame(nil, wsframe.Header{Fin: fin, Opcode: op, Masked: true, MaskKey: [4]byte{1, 2, 3, 4}}, []byte(payload))
}

// stream is a client-to-server byte stream of frames of every length form.
func stream() (b []byte, payloads []string) {
	payloads = []string{"a", "", strings.Repeat("b", 126), "ping!", strings.Repeat("c", 65536), "z"}
	ops := []wsframe.Opcode{wsframe.OpText, wsframe.OpBinary, wsframe.OpText, wsframe.OpPing, wsframe.OpBinary, wsframe.OpText}
	for i, p := range payloads {
		b = append(b, clientFrame(ops[i], true, p)...)
	}
	return b, payloads
}

// viewer decodes a watcher's chunks as they come and keeps the frames'
// payload lengths.
type viewer struct {
	t    *testing.T
	w    *Watcher
	d    *Decoder
	lens []uint64
}

func newViewer(t *testing.T, tap *Tap) *viewer {
	return &viewer{t: t, w: tap.Watch(), d: NewDecoder(tap, false)}
}

// drain decodes what the watcher has queued.
func (v *viewer) drain() {
	v.t.Helper()
	for v.w.Queued() > 0 {
		c, err := v.w.Next(context.Background())
		if err != nil {
			v.t.Fatal(err)
		}
		v.d.Decode(c, func(r Record) {
			switch {
			case r.Kind == "frame" && r.Frame.Error != "":
				v.t.Errorf("frame error %q: the watcher is not at a frame boundary", r.Frame.Error)
			case r.Kind == "frame":
				v.lens = append(v.lens, r.Frame.Length)
			case r.Kind == "note":
				v.t.Errorf("note: %s", r.Note)
			}
		})
	}
}

// TestWatchAttachesAtFrameBoundary: whatever chunk boundary a watcher
// attaches at, mid-header or mid-payload, it sees exactly the frames that
// start after that point, whole.
func TestWatchAttachesAtFrameBoundary(t *testing.T) {
	b, payloads := stream()
	// Frame start offsets, to know which frames begin after a cut.
	var starts []int
	for off := 0; off < len(b); {
		h, err := wsframe.ParseHeader(b[off:])
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, off)
		off += h.Size + int(h.Length)
	}
	for _, chunk := range []int{1, 3, 7, 100, 4096} {
		var attaches []int
		for off := 0; off < len(b); off += chunk {
			if off < 300 || off%(chunk*997) == 0 { // every cut near the small frames, some in the big one
				attaches = append(attaches, off)
			}
		}
		for _, attach := range attaches {
			tap := NewTap(true, false, false)
			var v *viewer
			// Chunks of the given size up to a little past the attach
			// point, then the rest at once (the queue bounds a watcher to
			// WatchChunks chunks between two drains).
			for off := 0; off < len(b); off += chunk {
				if off == attach {
					v = newViewer(t, tap)
				}
				end := min(off+chunk, len(b))
				if off > attach+8*chunk {
					end = len(b)
				}
				tap.Observe(In, b[off:end])
				if v != nil {
					v.drain()
				}
				off = end - chunk
			}
			var want []uint64
			for i, s := range starts {
				if s >= attach {
					want = append(want, uint64(len(payloads[i])))
				}
			}
			if !cmp.Equal(v.lens, want) {
				t.Errorf("chunk %d, attach at %d: frame lengths %v, want %v", chunk, attach, v.lens, want)
			}
		}
	}
}

// TestHeadThenFrames: a client-side tap sees the response head and the
// first frames in one read, as gorilla's buffered reader gets them.
func TestHeadThenFrames(t *testing.T) {
	tap := NewTap(false, true, true)
	w := tap.Watch()
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	tap.Observe(Out, []byte("GET /ws HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer secret\r\nSec-WebSocket-Key: "+key+"\r\n\r\n"))
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: hubbub.v1\r\n\r\n"
	server := wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Opcode: wsframe.OpText}, []byte(`{"type":"ok","id":"1"}`+"\n"+`{"type":"join","room":"lobby","user":"bea"}`))
	tap.Observe(In, append([]byte(resp), server...))

	d := NewDecoder(tap, false)
	var recs []Record
	for w.Queued() > 0 {
		c, _ := w.Next(context.Background())
		d.Decode(c, func(r Record) { recs = append(recs, r) })
	}
	if len(recs) != 2 || recs[0].Kind != "handshake" || recs[1].Kind != "frame" {
		t.Fatalf("records = %+v, want a handshake and a frame", recs)
	}
	h := recs[0].Handshake
	if h.Accept == nil || !h.Accept.Matches || h.Subprotocol != "hubbub.v1" {
		t.Errorf("handshake = %+v, want a matching accept (RFC 6455's own example) and hubbub.v1", h)
	}
	if got := headerValue(h.RequestHeaders, "Authorization"); got != Redacted {
		t.Errorf("Authorization shown as %q, want %q", got, Redacted)
	}
	m := recs[1].Frame.Message
	if m == nil || len(m.Events) != 2 || m.Events[0].Name != "ok" || m.Events[1].Name != "join" {
		t.Errorf("message = %+v, want the two coalesced events ok and join", m)
	}
	if recs[1].From != "server" || recs[1].Dir != "in" {
		t.Errorf("frame from %s dir %s, want server, in", recs[1].From, recs[1].Dir)
	}
}

// TestWatcherDroppedNotBlocking: a watcher that does not read is dropped
// once its queue bound is passed; Observe never blocks.
func TestWatcherDroppedNotBlocking(t *testing.T) {
	tap := NewTap(true, false, false)
	slow, other := tap.Watch(), tap.Watch()
	frame := clientFrame(wsframe.OpBinary, true, strings.Repeat("x", 1000))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 3 * WatchBytes / len(frame) {
			tap.Observe(In, frame)
			if c, err := other.Next(context.Background()); err == nil {
				_ = c // the reading watcher keeps up
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Observe blocked on a watcher that does not read")
	}
	if got := tap.Watching(); got != 1 {
		t.Errorf("watching = %d, want 1 (the slow watcher dropped)", got)
	}
	var err error
	for err == nil {
		_, err = slow.Next(context.Background())
	}
	if !errors.Is(err, ErrFellBehind) {
		t.Errorf("slow watcher ended with %v, want ErrFellBehind", err)
	}
	tap.Close()
	if _, err := other.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

// TestMaxWatchers: a Tap takes at most MaxWatchers; one more ends at once
// with ErrTooMany, and a place frees when a watcher stops.
func TestMaxWatchers(t *testing.T) {
	tap := NewTap(true, false, false)
	var ws []*Watcher
	for range MaxWatchers {
		w := tap.Watch()
		if err := w.Err(); err != nil {
			t.Fatalf("watcher %d: %v", len(ws), err)
		}
		ws = append(ws, w)
	}
	if err := tap.Watch().Err(); !errors.Is(err, ErrTooMany) {
		t.Errorf("watcher %d: %v, want ErrTooMany", MaxWatchers+1, err)
	}
	ws[0].Stop()
	if err := tap.Watch().Err(); err != nil {
		t.Errorf("after a Stop: %v, want a place", err)
	}
}

// TestRedaction: a redacted view hides payloads, bodies and the client's
// close reason, and keeps the fields that say what happened.
func TestRedaction(t *testing.T) {
	tap := NewTap(true, false, false)
	tap.SetHead(In, []byte("GET /ws HTTP/1.1\r\nSec-WebSocket-Key: k\r\nCookie: hubbub_session=tok\r\n\r\n"))
	tap.SetHead(Out, []byte("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Protocol: hubbub.v1\r\n\r\n"))
	w := tap.Watch()
	tap.Observe(In, clientFrame(wsframe.OpText, true, `{"id":"1","op":"send","room":"lobby","body":"SECRET"}`))
	tap.Observe(In, clientFrame(wsframe.OpClose, true, string(wsframe.AppendClose(nil, 1000, "SECRET reason"))))
	var out bytes.Buffer
	d := NewDecoder(tap, true)
	for w.Queued() > 0 {
		c, _ := w.Next(context.Background())
		d.Decode(c, func(r Record) { out.WriteString(Summary(r) + "\n") })
	}
	for _, leak := range []string{"SECRET", "tok"} {
		if strings.Contains(out.String(), leak) {
			t.Errorf("redacted view contains %q:\n%s", leak, out.String())
		}
	}
	for _, want := range []string{"event(s): send", "close code=1000"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("redacted view lacks %q:\n%s", want, out.String())
		}
	}
}

// FuzzTapDecoder feeds arbitrary bytes, split in two, to a Tap with a
// watcher attached before and one attached between the halves, and
// decodes both views: nothing may panic, and the frame boundaries the
// Tap tracks agree with a Parser fed the whole stream.
func FuzzTapDecoder(f *testing.F) {
	b, _ := stream()
	f.Add(b, 5)
	f.Add(clientFrame(wsframe.OpText, false, "Hel"), 2)
	f.Add([]byte{0x81, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0}, 3) // 64-bit length with its top bit set
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		if len(data) == 0 {
			return
		}
		split = (split%len(data) + len(data)) % len(data)
		tap := NewTap(true, false, false)
		early := tap.Watch()
		tap.Observe(In, data[:split])
		late := tap.Watch()
		tap.Observe(In, data[split:])
		for _, w := range []*Watcher{early, late} {
			d := NewDecoder(tap, false)
			for w.Queued() > 0 {
				c, _ := w.Next(context.Background())
				d.Decode(c, func(r Record) { Summary(r) })
			}
		}
		var want int
		p := wsframe.NewParser(0, func(wsframe.Frame) { want++ })
		p.Write(data)
		early2 := NewTap(true, false, false)
		w := early2.Watch()
		early2.Observe(In, data[:split])
		early2.Observe(In, data[split:])
		var got int
		d := NewDecoder(early2, true)
		for w.Queued() > 0 {
			c, _ := w.Next(context.Background())
			d.Decode(c, func(r Record) {
				if r.Kind == "frame" {
					got++
				}
			})
		}
		if got != want {
			t.Errorf("decoded %d frames, a Parser over the whole stream %d", got, want)
		}
	})
}

// TestKeptHeads: a Tap keeps each HTTP head exactly sized and with the
// values of credential headers replaced, whether it saw the head cross
// (in pieces) or was given it with SetHead; a watcher that attaches later
// gets it so.
func TestKeptHeads(t *testing.T) {
	tests := []struct {
		name, head, want string
	}{
		{
			name: "request",
			head: "GET /ws HTTP/1.1\r\nHost: h\r\nCookie: hubbub_session=tok\r\nauthorization: Bearer tok\r\n\r\n",
			want: "GET /ws HTTP/1.1\r\nHost: h\r\nCookie: " + Redacted + "\r\nauthorization: " + Redacted + "\r\n\r\n",
		},
		{
			name: "response",
			head: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSet-Cookie: hubbub_guest=tok; Path=/\r\n\r\n",
			want: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSet-Cookie: " + Redacted + "\r\n\r\n",
		},
		{
			name: "no credentials",
			head: "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Protocol: hubbub.v1\r\n\r\n",
			want: "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Protocol: hubbub.v1\r\n\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			given := NewTap(true, false, false)
			given.SetHead(In, []byte(tt.head))
			seen := NewTap(true, false, true)
			frame := clientFrame(wsframe.OpText, true, "x")
			stream := append([]byte(tt.head), frame...)
			for i := 0; i < len(stream); i += 7 { // the head in pieces
				seen.Observe(Out, stream[i:min(i+7, len(stream))])
			}
			for name, tap := range map[string]*Tap{"SetHead": given, "observed": seen} {
				w := tap.Watch()
				c, err := w.Next(context.Background())
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !c.Head || string(c.Data) != tt.want {
					t.Errorf("%s: head %q, want %q", name, c.Data, tt.want)
				}
				if cap(c.Data) != len(c.Data) {
					t.Errorf("%s: head of %d bytes kept with capacity %d", name, len(c.Data), cap(c.Data))
				}
			}
		})
	}
}

// TestKeptHeadsShareTemplates: connections whose heads differ only in the
// key and the accept derived from it keep one template of each head
// between them (head.go), and a watcher that attaches later still gets
// every head byte for byte, whatever the heads hold.
func TestKeptHeadsShareTemplates(t *testing.T) {
	req := func(keys ...string) string {
		h := "GET /ws HTTP/1.1\r\nHost: h\r\n"
		for _, k := range keys {
			h += "Sec-WebSocket-Key: " + k + "\r\n"
		}
		return h + "Sec-WebSocket-Version: 13\r\n\r\n"
	}
	resp := func(accept string) string {
		return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + accept +
			"\r\nSet-Cookie: " + Redacted + "\r\n\r\n"
	}
	const k1, k2 = "dGhlIHNhbXBsZSBub25jZQ==", "AQIDBAUGBwgJCgsMDQ4PEA=="
	a1, a2 := wsframe.AcceptKey(k1), wsframe.AcceptKey(k2)
	tests := []struct {
		name        string
		reqs, resps [2]string   // two connections' heads
		shared      [2]bool     // [In], [Out]: their templates are one
		holes       [2]holeKind // [In], [Out]: what the first connection's heads have cut out
	}{
		{"key and accept", [2]string{req(k1), req(k2)}, [2]string{resp(a1), resp(a2)},
			[2]bool{true, true}, [2]holeKind{keyHole, acceptHole}},
		{"accept not derived from the key", [2]string{req(k1), req(k2)}, [2]string{resp(a2), resp(a1)},
			[2]bool{true, false}, [2]holeKind{keyHole, noHole}},
		{"two keys", [2]string{req(k1, k1), req(k2, k2)}, [2]string{resp(a1), resp(a2)},
			[2]bool{false, false}, [2]holeKind{noHole, noHole}},
		{"a key of another length", [2]string{req("short"), req("shorter")}, [2]string{resp(a1), resp(a2)},
			[2]bool{false, false}, [2]holeKind{noHole, noHole}},
		{"a key not in canonical base64", [2]string{req("dGhlIHNhbXBsZSBub25jZR=="), req("AQIDBAUGBwgJCgsMDQ4PEB==")},
			[2]string{resp(wsframe.AcceptKey("dGhlIHNhbXBsZSBub25jZR==")), resp(wsframe.AcceptKey("AQIDBAUGBwgJCgsMDQ4PEB=="))},
			[2]bool{false, false}, [2]holeKind{noHole, noHole}},
		{"no key", [2]string{req(), req()}, [2]string{resp(a1), resp(a1)},
			[2]bool{true, true}, [2]holeKind{noHole, noHole}},
		{"key with spaces, lower-case name", [2]string{
			"GET /ws HTTP/1.1\r\nsec-websocket-key:  " + k1 + " \r\n\r\n",
			"GET /ws HTTP/1.1\r\nsec-websocket-key:  " + k2 + " \r\n\r\n"},
			[2]string{resp(a1), resp(a2)}, [2]bool{true, true}, [2]holeKind{keyHole, acceptHole}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var taps [2]*Tap
			for i := range taps {
				taps[i] = NewTap(true, false, true)
				taps[i].SetHead(In, []byte(tt.reqs[i]))
				taps[i].Observe(Out, []byte(tt.resps[i][:10])) // the head in two pieces
				taps[i].Observe(Out, []byte(tt.resps[i][10:]))
			}
			for i, tap := range taps {
				w := tap.Watch()
				want := [2]string{In: tt.reqs[i], Out: tt.resps[i]}
				for range 2 {
					c, err := w.Next(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					if !c.Head || string(c.Data) != want[c.Dir] {
						t.Errorf("connection %d, %v: head %q, want %q", i, c.Dir, c.Data, want[c.Dir])
					}
				}
			}
			for _, d := range []Dir{In, Out} {
				if got := taps[0].heads[d].kind; got != tt.holes[d] {
					t.Errorf("%v: hole %d, want %d", d, got, tt.holes[d])
				}
				if got := taps[0].heads[d].tmpl == taps[1].heads[d].tmpl; got != tt.shared[d] {
					t.Errorf("%v: templates shared = %t, want %t", d, got, tt.shared[d])
				}
			}
		})
	}
}

// TestCredentialHeaders: credential, which a Tap runs on every header of
// every handshake, knows exactly the names of credentialHeaders, in any
// case and with surrounding spaces, and no other name.
func TestCredentialHeaders(t *testing.T) {
	for h := range credentialHeaders {
		for _, name := range []string{h, strings.ToLower(h), strings.ToUpper(h), " " + h + " "} {
			if !credential([]byte(name)) {
				t.Errorf("credential(%q) = false, want true", name)
			}
		}
	}
	for _, name := range []string{"", "Host", "Cookies", "Set-Cookie2", "Authorisation", "Sec-WebSocket-Key", "Origin-"} {
		if credential([]byte(name)) {
			t.Errorf("credential(%q) = true, want false", name)
		}
	}
}

// TestWatchAttachedInsideFragmentedMessage: a watcher attaches at a frame
// boundary, which may be inside a fragmented message (§5.4). The
// continuation frames of a message that began before it attached are not
// a protocol error: they show as the message's middle and last fragments,
// after a note that says the watch began inside a message. A continuation
// without a message once the watcher has seen one start is still an error.
func TestWatchAttachedInsideFragmentedMessage(t *testing.T) {
	frames := [][]byte{
		clientFrame(wsframe.OpText, false, "Hel"),        // 0: first fragment
		clientFrame(wsframe.OpPing, true, "hi"),          // 1: between fragments
		clientFrame(wsframe.OpContinuation, false, "lo"), // 2: middle
		clientFrame(wsframe.OpContinuation, true, "!"),   // 3: last
		clientFrame(wsframe.OpText, true, "next"),        // 4: a message of its own
		clientFrame(wsframe.OpContinuation, true, "?"),   // 5: continues nothing
	}
	const stray = "continuation: error " + "wsframe: continuation frame without a message to continue"
	for _, tt := range []struct {
		attach int // index of the first frame the watcher sees
		want   []string
	}{
		{0, []string{"text first", "ping ", "continuation middle", "continuation last message", "text  message", stray}},
		{1, []string{"ping ", "note", "continuation middle", "continuation last", "text  message", stray}},
		{2, []string{"note", "continuation middle", "continuation last", "text  message", stray}},
		{3, []string{"note", "continuation last", "text  message", stray}},
		{4, []string{"text  message", stray}},
	} {
		tap := NewTap(true, false, false)
		for _, f := range frames[:tt.attach] {
			tap.Observe(In, f)
		}
		w := tap.Watch()
		for _, f := range frames[tt.attach:] {
			tap.Observe(In, f)
		}
		d := NewDecoder(tap, false)
		var got []string
		for w.Queued() > 0 {
			c, _ := w.Next(context.Background())
			d.Decode(c, func(r Record) {
				switch {
				case r.Kind != "frame":
					got = append(got, r.Kind)
				case r.Frame.Error != "":
					got = append(got, r.Frame.Op+": error "+r.Frame.Error)
				case r.Frame.Message != nil:
					got = append(got, r.Frame.Op+" "+r.Frame.Fragment+" message")
				default:
					got = append(got, r.Frame.Op+" "+r.Frame.Fragment)
				}
			})
		}
		if !cmp.Equal(got, tt.want) {
			t.Errorf("attached before frame %d: got\n%q\nwant\n%q", tt.attach, got, tt.want)
		}
	}
}
