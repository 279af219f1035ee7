package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

// FuzzScanMessage checks the fast path against the protocol's encoder: an
// encoded message event is recognised with its room, seq and (unless
// escaped) body; arbitrary bytes never panic it.
func FuzzScanMessage(f *testing.F) {
	f.Add("bench", int64(42), "b01 1764085497123000000 3", []byte(`{"type":"message","message":{"room":"bench","seq":1`))
	f.Add("r", int64(1), `say "hi" \o/`, []byte(`{"type":"join","room":"bench","user":"a"}`))
	f.Fuzz(func(t *testing.T, room string, seq int64, body string, raw []byte) {
		scanMessage(raw)
		isPresence(raw)
		if protocol.CheckRoomName(room) != nil || seq < 0 {
			return
		}
		obj, err := protocol.EncodeEvent(&protocol.Event{Type: protocol.TypeMessage, Message: &protocol.Message{Room: room, Seq: seq, From: "a", Body: body}})
		if err != nil {
			return
		}
		gotRoom, gotSeq, gotBody, ok := scanMessage(obj)
		if !ok || string(gotRoom) != room || gotSeq != seq {
			t.Fatalf("scanMessage(%s) = %q, %d, ok %v; want %q, %d", obj, gotRoom, gotSeq, ok, room, seq)
		}
		if gotBody != nil && string(gotBody) != body {
			t.Fatalf("scanMessage(%s) body = %q, want %q", obj, gotBody, body)
		}
	})
}

// FuzzScanJoinOK checks that scanJoinOK finds info.last_seq in the
// server's encoding of a join reply whatever its names, topic and members
// hold, and does not panic on anything else. (Like scanMessage, it relies
// on the server's encoding: other JSON with the same meaning goes to
// protocol.DecodeEvent.)
func FuzzScanJoinOK(f *testing.F) {
	f.Add("bench", "a topic", int64(42), "ada", []byte(`{"type":"ok","id":"j","room":"r","info":{"name":"r","last_seq":7,"online":1},"members":["a"]}`))
	f.Add("r", `"last_seq":9`, int64(0), `x","last_seq":3`, []byte(`{"type":"ok","id":"j","last_seq":`))
	f.Fuzz(func(t *testing.T, room, topic string, lastSeq int64, member string, raw []byte) {
		scanJoinOK(raw)
		if lastSeq < 0 {
			return
		}
		obj, err := protocol.EncodeEvent(&protocol.Event{Type: protocol.TypeOK, ID: "j", Room: room,
			Info: &protocol.RoomInfo{Name: room, Topic: topic, LastSeq: lastSeq, Online: 2}, Members: []string{member, "b"}})
		if err != nil {
			return
		}
		if got, ok := scanJoinOK(obj); !ok || got != lastSeq {
			t.Fatalf("scanJoinOK(%s) = %d, %v; want %d, true", obj, got, ok, lastSeq)
		}
	})
}

// FuzzParseBody checks that parseBody reads back what messageBody wrote
// and nothing of another run.
func FuzzParseBody(f *testing.F) {
	f.Add(int64(1764085497123456789), 42, []byte("b0a1b2c3 1 2"))
	f.Add(int64(0), 0, []byte("b0a1b2c3 -1 x"))
	f.Fuzz(func(t *testing.T, at int64, slot int, raw []byte) {
		parseBody("b0a1b2c3", raw)
		if slot < 0 || slot > 1<<30 {
			return
		}
		body := messageBody("b0a1b2c3", time.Unix(0, at), slot)
		gotAt, gotSlot, ok := parseBody("b0a1b2c3", []byte(body))
		if !ok || gotAt != at || gotSlot != slot {
			t.Fatalf("parseBody(%q) = %d, %d, %v; want %d, %d, true", body, gotAt, gotSlot, ok, at, slot)
		}
		if _, _, ok := parseBody("b0a1b2c4", []byte(body)); ok {
			t.Fatalf("parseBody of another run accepted %q", body)
		}
	})
}

// FuzzPeerFrames feeds arbitrary frames to the gorilla-chat and
// centrifugo frame handlers: they must not panic, and never count more
// deliveries than the frame holds lines. (Pings, which make the
// centrifugo handler write, are left to TestCentrifugoObject.)
func FuzzPeerFrames(f *testing.F) {
	body := messageBody("b0a1b2c3", time.Unix(1, 0), 0)
	f.Add([]byte(body + "\n" + body))
	f.Add([]byte(`{"push":{"channel":"bench","pub":{"data":"` + body + `"}}}` + "\n" + `{"id":3,"publish":{}}`))
	f.Add([]byte(`{"id":2,"error":{"code":103,"message":"permission denied"}}`))
	f.Add([]byte(`{"push":{"channel":"bench","pub":{"data":"\"` + body + `"}}}`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		lines := int64(bytes.Count(frame, []byte{'\n'}) + 1)
		b := newTestBench(t, 2, 10)
		c := &client{b: b, node: b.nodes[0], replies: make(chan reply, 4)}
		gorillaPeer{}.frame(c, frame, time.Unix(2, 0))
		if got := c.received.Load(); got > lines {
			t.Fatalf("gorilla: %d deliveries from %d lines", got, lines)
		}
		for line := range bytes.SplitSeq(frame, []byte{'\n'}) {
			if bytes.Equal(bytes.TrimSpace(line), []byte("{}")) {
				return
			}
		}
		b = newTestBench(t, 2, 10)
		c = &client{b: b, node: b.nodes[0], replies: make(chan reply, 4)}
		centrifugoPeer{}.frame(c, frame, time.Unix(2, 0))
		if got := c.received.Load() + b.acked.Load(); got > lines {
			t.Fatalf("centrifugo: %d deliveries and acks from %d lines", got, lines)
		}
	})
}
