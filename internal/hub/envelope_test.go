package hub

import (
	"bytes"
	"testing"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	origin := nodeID{1, 2, 3, 4, 5, 6, 7, 8}
	tests := []envelope{
		{kind: kindRoom, origin: origin, seq: 42, event: []byte(`{"type":"message"}`)},
		{kind: kindRoom, origin: origin, event: []byte(`{"type":"typing"}`)},
		{kind: kindUser, origin: origin, key: "alice", event: []byte(`{"type":"invited"}`)},
		{kind: kindUser, origin: origin, key: "alice", room: "lobby", event: []byte(`{"type":"kicked"}`)},
		{kind: kindPresence, origin: origin, event: appendNames(nil, presenceRoster, []string{"ada", "bob"})},
		{kind: kindUser, origin: origin, key: string(bytes.Repeat([]byte("k"), maxKeyLen)), event: []byte("x")},
	}
	for _, want := range tests {
		got, err := parseEnvelope(appendEnvelope(nil, want))
		if err != nil {
			t.Errorf("parse(append(%+v)): %v", want, err)
			continue
		}
		if got.kind != want.kind || got.origin != want.origin || got.seq != want.seq || got.key != want.key || got.room != want.room || !bytes.Equal(got.event, want.event) {
			t.Errorf("round trip = %+v, want %+v", got, want)
		}
	}
}

func TestEnvelopeRefused(t *testing.T) {
	good := appendEnvelope(nil, envelope{kind: kindUser, key: "bob", event: []byte("{}")})
	tests := map[string][]byte{
		"empty":             nil,
		"bare event":        []byte(`{"type":"message","room":"lobby","seq":1}`),
		"short":             good[:17],
		"bad magic":         append([]byte{'x'}, good[1:]...),
		"bad kind":          append([]byte{'h', 'z'}, good[2:]...),
		"no event":          good[:len(good)-2],
		"key past the end":  append(append([]byte(nil), good[:18]...), 200, 1),
		"room with a key":   appendEnvelope(nil, envelope{kind: kindRoom, key: "bob", event: []byte("{}")}),
		"room with a room":  appendEnvelope(nil, envelope{kind: kindRoom, room: "lobby", event: []byte("{}")}),
		"user without key":  appendEnvelope(nil, envelope{kind: kindUser, event: []byte("{}")}),
		"presence with seq": appendEnvelope(nil, envelope{kind: kindPresence, seq: 3, event: []byte("?")}),
		"negative seq":      appendEnvelope(nil, envelope{kind: kindRoom, seq: -1, event: []byte("{}")}),
		"key too long":      appendEnvelope(nil, envelope{kind: kindUser, key: string(make([]byte, maxKeyLen+1)), event: []byte("{}")}),
	}
	for name, p := range tests {
		if e, err := parseEnvelope(p); err == nil {
			t.Errorf("%s: parsed as %+v, want an error", name, e)
		}
	}
}

func FuzzEnvelope(f *testing.F) {
	f.Add(appendEnvelope(nil, envelope{kind: kindRoom, seq: 7, event: []byte(`{"type":"message"}`)}))
	f.Add(appendEnvelope(nil, envelope{kind: kindUser, key: "alice", event: []byte(`{}`)}))
	f.Add([]byte("h"))
	f.Fuzz(func(t *testing.T, p []byte) {
		e, err := parseEnvelope(p)
		if err != nil {
			return
		}
		// What parses re-encodes to the same bytes.
		if again := appendEnvelope(nil, e); !bytes.Equal(again, p) {
			t.Errorf("re-encoded %q, parsed from %q", again, p)
		}
	})
}
