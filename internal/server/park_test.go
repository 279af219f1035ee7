//go:build linux

package server

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/hubbub-chat/hubbub/internal/wsframe"
	"github.com/hubbub-chat/hubbub/protocol"
)

// maskedFrame is a client frame: fin, no RSV bit, masked with a fixed key.
func maskedFrame(first byte, payload string) []byte {
	return rawEncodeFrame(rawFrame{fin: first&0x80 != 0, opcode: first & 0x0f, masked: true, payload: []byte(payload)})
}

// chunks reads its pieces one per Read, like a socket that got them in
// separate segments.
type chunks [][]byte

func (c *chunks) Read(p []byte) (int, error) {
	if len(*c) == 0 {
		return 0, io.EOF
	}
	n := copy(p, (*c)[0])
	if n == len((*c)[0]) {
		*c = (*c)[1:]
	} else {
		(*c)[0] = (*c)[0][n:]
	}
	return n, nil
}

func TestControlFrame(t *testing.T) {
	ping := maskedFrame(wirePing, "hi")
	text := maskedFrame(0x80|rawOpText, "hello")
	closeFrame := maskedFrame(0x80|rawOpClose, "")
	unfinished := maskedFrame(rawOpPing, "a")
	tests := []struct {
		name        string
		in          [][]byte // what the socket delivers, read by read
		wantOK      bool
		wantOp      byte
		wantPayload string
		wantRest    []byte // what is left to read after the call
	}{
		{"ping", [][]byte{ping}, true, wirePing, "hi", nil},
		{"empty pong", [][]byte{maskedFrame(wirePong, "")}, true, wirePong, "", nil},
		{"longest ping", [][]byte{maskedFrame(wirePing, string(bytes.Repeat([]byte("x"), 125)))}, true, wirePing, string(bytes.Repeat([]byte("x"), 125)), nil},
		{"ping then text", [][]byte{append(append([]byte{}, ping...), text...)}, true, wirePing, "hi", text},
		{"ping split across reads", [][]byte{ping[:3], ping[3:5], ping[5:]}, true, wirePing, "hi", nil},
		{"text", [][]byte{text}, false, 0, "", text},
		{"close", [][]byte{closeFrame}, false, 0, "", closeFrame},
		{"unmasked ping", [][]byte{{wirePing, 0x00}}, false, 0, "", []byte{wirePing, 0x00}},
		{"ping without FIN", [][]byte{unfinished}, false, 0, "", unfinished},
		{"ping with RSV1", [][]byte{{wirePing | rawRSV1, 0x80, 1, 2, 3, 4}}, false, 0, "", []byte{wirePing | rawRSV1, 0x80, 1, 2, 3, 4}},
		{"ping of 126 bytes", [][]byte{{wirePing, 0x80 | 126, 0, 126}}, false, 0, "", []byte{wirePing, 0x80 | 126, 0, 126}},
		{"one byte", [][]byte{{wirePing}}, false, 0, "", []byte{wirePing}},
		{"ping cut short", [][]byte{ping[:5]}, false, 0, "", ping[:5]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := chunks(tt.in)
			br := bufio.NewReaderSize(&in, readBufferSize)
			br.Peek(1) // the first segment is buffered, as when the read loop looks
			op, payload, ok := controlFrame(br)
			if ok != tt.wantOK || op != tt.wantOp || string(payload) != tt.wantPayload {
				t.Errorf("controlFrame = %#x %q %v, want %#x %q %v", op, payload, ok, tt.wantOp, tt.wantPayload, tt.wantOK)
			}
			rest, _ := io.ReadAll(br)
			if !bytes.Equal(rest, tt.wantRest) {
				t.Errorf("left %x, want %x", rest, tt.wantRest)
			}
		})
	}
}

// FuzzControlFrame checks controlFrame against wsframe's header parser:
// it takes a frame only if wsframe reads a whole, valid, masked, final
// ping or pong there, and then exactly that frame, unmasked; otherwise it
// consumes nothing.
func FuzzControlFrame(f *testing.F) {
	f.Add(maskedFrame(wirePing, "hi"))
	f.Add(maskedFrame(wirePong, ""))
	f.Add(append(maskedFrame(wirePing, "x"), maskedFrame(0x80|rawOpText, "y")...))
	f.Add([]byte{wirePing, 0x7e, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(data), readBufferSize)
		br.Peek(1)
		op, payload, ok := controlFrame(br)
		rest, _ := io.ReadAll(br)
		h, err := wsframe.ParseHeader(data)
		whole := err == nil && h.Check() == nil && uint64(len(data)-h.Size) >= h.Length
		want := whole && h.Fin && !h.Rsv1 && !h.Rsv2 && !h.Rsv3 && h.Masked && h.LengthForm == wsframe.Length7 &&
			(h.Opcode == wsframe.OpPing || h.Opcode == wsframe.OpPong)
		if ok != want {
			t.Fatalf("controlFrame ok = %v, want %v (header %+v, err %v)", ok, want, h, err)
		}
		if !ok {
			if !bytes.Equal(rest, data) {
				t.Fatalf("consumed %d bytes of a frame it did not take", len(data)-len(rest))
			}
			return
		}
		end := h.Size + int(h.Length)
		wantPayload := append([]byte(nil), data[h.Size:end]...)
		wsframe.Mask(h.MaskKey, 0, wantPayload)
		if op != 0x80|byte(h.Opcode) || !bytes.Equal(payload, wantPayload) || !bytes.Equal(rest, data[end:]) {
			t.Fatalf("controlFrame = %#x %x, rest %x; want %#x %x, rest %x", op, payload, rest, 0x80|byte(h.Opcode), wantPayload, data[end:])
		}
	})
}

func gaugeValue(g interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	g.Write(&m)
	return m.GetGauge().GetValue()
}

// waitParked waits until n connections of srv are parked.
func waitParked(t *testing.T, srv *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for gaugeValue(srv.metrics.parked) != float64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("parked connections = %v, want %d", gaugeValue(srv.metrics.parked), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestIdleConnectionParks: a connection with nothing to read holds no
// goroutine, and comes back for a message, a ping, a pong, and frames
// split or sent together; a frame that breaks the rules still gets
// gorilla's close.
func TestIdleConnectionParks(t *testing.T) {
	srv, ts := rawServer(t, Config{PingInterval: time.Hour})
	c := rawDial(t, ts, "/echo")
	waitParked(t, srv, 1)

	c.text("one")
	if op, p := c.readMessage(); op != rawOpText || string(p) != "one" {
		t.Fatalf("echo = %#x %q, want text one", op, p)
	}
	waitParked(t, srv, 1)

	c.writeRaw(maskedFrame(wirePing, "p1"))
	if f := c.read(); f.opcode != rawOpPong || string(f.payload) != "p1" {
		t.Fatalf("got %#x %q, want pong p1", f.opcode, f.payload)
	}
	waitParked(t, srv, 1) // the pong taken between messages: parked again

	c.writeRaw(maskedFrame(wirePong, "unasked"))
	waitParked(t, srv, 1)

	both := append(maskedFrame(wirePing, "p2"), maskedFrame(0x80|rawOpText, "two")...)
	for _, b := range [][]byte{both[:1], both[1:7], both[7:]} {
		c.writeRaw(b)
	}
	if f := c.read(); f.opcode != rawOpPong || string(f.payload) != "p2" {
		t.Fatalf("got %#x %q, want pong p2", f.opcode, f.payload)
	}
	if op, p := c.readMessage(); op != rawOpText || string(p) != "two" {
		t.Fatalf("echo = %#x %q, want text two", op, p)
	}
	waitParked(t, srv, 1)

	c.writeRaw([]byte{wirePing, 0x00}) // unmasked: gorilla closes with 1002
	c.expectClose(protocol.CloseProtocolError)
	waitParked(t, srv, 0)
}

// TestChatConnectionParks: a chat connection that said hello and joined
// parks, and a message sent to it wakes nothing but its write loop; its
// own send wakes it.
func TestChatConnectionParks(t *testing.T) {
	s := newTestServer(t, nil)
	alice := s.client(t, "alice")
	bob := s.client(t, "bob")
	alice.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	bob.ok(protocol.Command{Op: protocol.OpJoin, Room: "lobby"})
	waitParked(t, s.srv, 2)
	alice.ok(protocol.Command{Op: protocol.OpSend, Room: "lobby", Body: "hi"})
	if ev := bob.waitFor("alice's message", func(ev protocol.Event) bool { return ev.Type == protocol.TypeMessage }); ev.Message == nil || ev.Message.Body != "hi" {
		t.Fatalf("bob got %+v, want hi", ev.Message)
	}
	waitParked(t, s.srv, 2)
}

// TestParkedSilentPeerDropped: a parked connection has no read deadline
// running; the pinger drops it once it has been silent for PingInterval +
// PongTimeout, as a blocked read would have been.
func TestParkedSilentPeerDropped(t *testing.T) {
	srv, ts := rawServer(t, Config{PingInterval: 100 * time.Millisecond, PongTimeout: 100 * time.Millisecond})
	start := time.Now() // the server hears the peer last during the handshake, after this
	c := rawDial(t, ts, "/echo")
	waitParked(t, srv, 1)
	c.nc.SetReadDeadline(time.Now().Add(rawTimeout))
	var err error
	for err == nil {
		_, err = rawReadFrame(c.br) // pings, unanswered
	}
	if !rawIsClosed(err) {
		t.Fatalf("read: %v, want the connection closed by the server", err)
	}
	if got := counterValue(srv.metrics.timeouts); got != 1 {
		t.Errorf("read timeouts = %v, want 1", got)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("dropped after %v, before PingInterval+PongTimeout", d)
	}
}

// TestShutdownEndsParkedConnections: Shutdown's close frame goes to a
// parked connection, and when the peer never answers it, the close grace
// ends it: Shutdown returns without waiting for its deadline.
func TestShutdownEndsParkedConnections(t *testing.T) {
	srv, ts := rawServer(t, Config{PingInterval: time.Hour, DrainGrace: time.Millisecond, DrainWindow: time.Millisecond, CloseGrace: 50 * time.Millisecond})
	c := rawDial(t, ts, "/echo")
	waitParked(t, srv, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	c.expectClose(protocol.CloseServiceRestart)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown = %v, want nil", err)
	}
	if n := gaugeValue(srv.metrics.parked); n != 0 {
		t.Errorf("parked after Shutdown = %v, want 0", n)
	}
}
