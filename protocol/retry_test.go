package protocol_test

import (
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/protocol"
)

func TestRetryAfterReason(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "retry after 1s"},
		{time.Millisecond, "retry after 1s"},
		{time.Second, "retry after 1s"},
		{1500 * time.Millisecond, "retry after 2s"},
		{19 * time.Second, "retry after 19s"},
	}
	for _, tt := range tests {
		if got := protocol.RetryAfterReason(tt.d); got != tt.want {
			t.Errorf("RetryAfterReason(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		reason string
		want   time.Duration
		ok     bool
	}{
		{"retry after 1s", time.Second, true},
		{"retry after 19s", 19 * time.Second, true},
		{"retry after 3s; the server is busy", 3 * time.Second, true},
		{"retry after 3600s", time.Hour, true},
		{"retry after 3601s", 0, false},
		{"retry after 0s", 0, false},
		{"retry after 01s", 0, false},
		{"retry after -1s", 0, false},
		{"retry after 1.5s", 0, false},
		{"retry after s", 0, false},
		{"retry after 5", 0, false},
		{"retry after 5sx", 0, false},
		{"Retry after 5s", 0, false},
		{"server shutting down", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := protocol.ParseRetryAfter(tt.reason)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.reason, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzParseRetryAfter: any reason parses without panicking to a wait of
// 1s to 1h, and every wait RetryAfterReason writes parses back.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"retry after 1s", "retry after 19s; busy", "retry after 0s", "shutting down", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reason string) {
		d, ok := protocol.ParseRetryAfter(reason)
		if ok && (d < time.Second || d > time.Hour || d%time.Second != 0) {
			t.Fatalf("ParseRetryAfter(%q) = %v, outside 1s..1h whole seconds", reason, d)
		}
		if ok {
			if back, ok2 := protocol.ParseRetryAfter(protocol.RetryAfterReason(d)); !ok2 || back != d {
				t.Fatalf("round trip of %v: %v, %v", d, back, ok2)
			}
		}
	})
}
