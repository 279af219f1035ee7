package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/protocol"
)

const (
	testBase = 100 * time.Millisecond
	testMax  = time.Second
)

// ceiling is the largest delay before dial attempt n with testBase and
// testMax: min(max, base·2^(n-1)).
func ceiling(n int) time.Duration {
	c := testBase
	for i := 1; i < n && c < testMax; i++ {
		c *= 2
	}
	return min(c, testMax)
}

func TestBackoffDelay(t *testing.T) {
	top := func(n int64) int64 { return n - 1 } // rand at its largest
	zero := func(int64) int64 { return 0 }      // rand at its smallest
	goingAway := &websocket.CloseError{Code: protocol.CloseGoingAway}
	tryLater := &websocket.CloseError{Code: protocol.CloseTryAgainLater}
	reset := errors.New("connection reset by peer")
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }

	tests := []struct {
		name  string
		randN func(int64) int64
		cause error
		want  []time.Duration // for attempts 1, 2, ...
	}{
		{"largest: doubles up to the cap", top, reset, []time.Duration{ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000), ms(1000)}},
		{"smallest: no wait", zero, reset, []time.Duration{0, 0, 0, 0}},
		{"1001 waits at least base", zero, goingAway, []time.Duration{ms(100), ms(100), ms(100)}},
		{"1012 waits at least base", zero, &websocket.CloseError{Code: protocol.CloseServiceRestart}, []time.Duration{ms(100), ms(100)}},
		{"1013 waits at least base, capped", top, tryLater, []time.Duration{ms(200), ms(300), ms(500), ms(900), ms(1000), ms(1000)}},
		{"HTTP 503 waits at least base", zero, &HandshakeError{StatusCode: 503}, []time.Duration{ms(100)}},
		{"Retry-After is waited, past max, plus up to 1s", top, &HandshakeError{StatusCode: 503, RetryAfter: 3 * time.Second}, []time.Duration{4 * time.Second, 4 * time.Second}},
		{"Retry-After at least", zero, &HandshakeError{StatusCode: 429, RetryAfter: time.Second}, []time.Duration{time.Second, time.Second}},
		{"1013 retry after 2s", zero, &websocket.CloseError{Code: protocol.CloseTryAgainLater, Text: "retry after 2s"}, []time.Duration{2 * time.Second}},
		{"1013 with another reason", zero, &websocket.CloseError{Code: protocol.CloseTryAgainLater, Text: "busy"}, []time.Duration{ms(100)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := backoff{base: testBase, max: testMax, randN: tc.randN}
			var got []time.Duration
			for n := 1; n <= len(tc.want); n++ {
				got = append(got, b.delay(n, tc.cause))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("delays mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("huge attempt does not overflow", func(t *testing.T) {
		b := backoff{base: testBase, max: testMax, randN: top}
		if got := b.delay(1000, reset); got != testMax {
			t.Errorf("delay(1000) = %v, want %v", got, testMax)
		}
	})
}

// TestRedial runs the reconnect loop on a fake clock: each dial happens
// after a jittered delay within its ceiling, the delays are not all equal,
// notify announces the exact time of each dial, and the next redial (after
// a good connection) starts over at attempt 1.
func TestRedial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		b := backoff{base: testBase, max: testMax, randN: rng.Int64N}
		const failures = 9

		type dialRecord struct {
			attempt int
			at      time.Time
		}
		var (
			announced []dialRecord // from notify
			dialed    []time.Time  // from dial
		)
		notify := func(attempt int, next time.Time, _ error) {
			announced = append(announced, dialRecord{attempt, next})
		}
		fails := 0
		dial := func(context.Context) (string, error) {
			dialed = append(dialed, time.Now())
			if fails < failures {
				fails++
				return "", fmt.Errorf("refused %d", fails)
			}
			return "conn", nil
		}

		start := time.Now()
		got, err := redial(t.Context(), b, errors.New("dropped"), dial, notify)
		if err != nil || got != "conn" {
			t.Fatalf("redial = %q, %v; want conn, nil", got, err)
		}
		if len(dialed) != failures+1 {
			t.Fatalf("dialed %d times, want %d", len(dialed), failures+1)
		}
		prev := start
		distinct := make(map[time.Duration]bool)
		for i, at := range dialed {
			n := i + 1
			d := at.Sub(prev)
			prev = at
			if d < 0 || d > ceiling(n) {
				t.Errorf("attempt %d waited %v, want within [0, %v]", n, d, ceiling(n))
			}
			distinct[d] = true
			if want := (dialRecord{n, at}); announced[i] != want {
				t.Errorf("notify said attempt %d at %v, want attempt %d at %v", announced[i].attempt, announced[i].at.Sub(start), n, at.Sub(start))
			}
		}
		if len(distinct) < failures/2 {
			t.Errorf("delays took %d distinct values in %d attempts; want jitter", len(distinct), len(dialed))
		}

		// The next drop starts over: the first wait is within base again.
		fails, dialed, announced = failures, nil, nil
		start = time.Now()
		if _, err := redial(t.Context(), b, errors.New("dropped again"), dial, notify); err != nil {
			t.Fatalf("second redial: %v", err)
		}
		if d := dialed[0].Sub(start); d > testBase {
			t.Errorf("after a good connection the first wait was %v, want at most base %v", d, testBase)
		}
		if announced[0].attempt != 1 {
			t.Errorf("after a good connection the attempt count started at %d, want 1", announced[0].attempt)
		}
	})
}

// TestRedialLongRun checks the bound and the spread of many delays at the
// cap: full jitter uses the whole range.
func TestRedialLongRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := backoff{base: testBase, max: testMax} // the real random source
		const attempts = 200
		var waits []time.Duration
		last := time.Now()
		dial := func(context.Context) (int, error) {
			waits = append(waits, time.Since(last))
			last = time.Now()
			if len(waits) < attempts {
				return 0, errors.New("refused")
			}
			return 1, nil
		}
		if _, err := redial(t.Context(), b, nil, dial, func(int, time.Time, error) {}); err != nil {
			t.Fatal(err)
		}
		var low, high int
		for i, d := range waits {
			if d < 0 || d > ceiling(i+1) {
				t.Fatalf("attempt %d waited %v, want within [0, %v]", i+1, d, ceiling(i+1))
			}
			if i >= 10 { // at the cap
				if d < testMax/4 {
					low++
				}
				if d > testMax*3/4 {
					high++
				}
			}
		}
		if low == 0 || high == 0 {
			t.Errorf("at the cap, %d waits were under max/4 and %d over 3max/4; full jitter should give both", low, high)
		}
	})
}

func TestRedialStops(t *testing.T) {
	b := backoff{base: testBase, max: testMax}
	t.Run("permanent error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			policy := &websocket.CloseError{Code: protocol.ClosePolicy}
			calls := 0
			_, err := redial(t.Context(), b, nil, func(context.Context) (int, error) {
				calls++
				return 0, policy
			}, func(int, time.Time, error) {})
			if !errors.Is(err, policy) || calls != 1 {
				t.Errorf("redial = %v after %d dials, want the policy close after 1", err, calls)
			}
		})
	})
	t.Run("context ends during the wait", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			start := time.Now()
			time.AfterFunc(testBase/2, cancel)
			_, err := redial(ctx, backoff{base: time.Hour, max: time.Hour, randN: func(n int64) int64 { return n - 1 }}, nil, func(context.Context) (int, error) {
				t.Error("dial called after cancel")
				return 0, nil
			}, func(int, time.Time, error) {})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("redial = %v, want context.Canceled", err)
			}
			if d := time.Since(start); d != testBase/2 {
				t.Errorf("redial returned after %v, want %v", d, testBase/2)
			}
		})
	})
}

func TestPermanent(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&websocket.CloseError{Code: protocol.ClosePolicy}, true},
		{fmt.Errorf("read: %w", &websocket.CloseError{Code: protocol.ClosePolicy}), true},
		{&websocket.CloseError{Code: protocol.CloseGoingAway}, false},
		{&websocket.CloseError{Code: protocol.CloseServiceRestart}, false},
		{&websocket.CloseError{Code: protocol.CloseSlowConsumer}, false},
		{&websocket.CloseError{Code: protocol.CloseTryAgainLater}, false},
		{&HandshakeError{StatusCode: 401}, true},
		{&HandshakeError{StatusCode: 403}, true},
		{&HandshakeError{StatusCode: 404}, false},
		{&HandshakeError{StatusCode: 503}, false},
		{&helloError{err: protocol.Errorf(protocol.CodeNameTaken, "taken")}, true},
		{&helloError{err: protocol.Errorf(protocol.CodeUnavailable, "shutting down")}, false},
		{&helloError{err: protocol.Errorf(protocol.CodeRateLimited, "slow down")}, false},
		{errors.New("connection refused"), false},
		{ErrConnectionLost, false},
	}
	for _, tc := range tests {
		if got := permanent(tc.err); got != tc.want {
			t.Errorf("permanent(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestWSURL(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"ws://localhost:8080/ws", "ws://localhost:8080/ws"},
		{"wss://chat.example.com/ws", "wss://chat.example.com/ws"},
		{"ws://localhost:8080", "ws://localhost:8080/ws"},
		{"ws://localhost:8080/", "ws://localhost:8080/ws"},
		{"ws://proxy.example.com/hubbub/ws?x=1", "ws://proxy.example.com/hubbub/ws?x=1"},
		{"http://localhost:8080", "ws://localhost:8080/ws"},
		{"http://localhost:8080/", "ws://localhost:8080/ws"},
		{"https://chat.example.com/hub", "wss://chat.example.com/hub/ws"},
		{"https://chat.example.com/hub/", "wss://chat.example.com/hub/ws"},
		{"https://chat.example.com/ws", "wss://chat.example.com/ws"},
		{"ftp://example.com/ws", ""},
		{"localhost:8080", ""},
		{"ws:///ws", ""},
		{"://", ""},
	}
	for _, tc := range tests {
		got, err := wsURL(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("wsURL(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("wsURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestNewCMIDOrder: ids made later sort after ids made earlier, whatever
// their random part, and the first eight characters are the time.
func TestNewCMIDOrder(t *testing.T) {
	base := time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC)
	times := []time.Time{
		time.UnixMilli(0),
		time.UnixMilli(1),
		time.UnixMilli(63),
		time.UnixMilli(64), // the last character of the time moves to the one before
		base,
		base.Add(time.Millisecond),
		base.Add(255 * time.Millisecond),
		base.Add(256 * time.Millisecond),
		base.Add(time.Hour),
		time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	var prev string
	for i, tm := range times {
		for range 20 {
			id := newCMID(tm)
			if err := protocol.CheckCMID(id); err != nil || len(id) != 22 {
				t.Fatalf("newCMID(%v) = %q: %v; want 22 valid characters", tm, id, err)
			}
			if i > 0 && id <= prev {
				t.Fatalf("newCMID(%v) = %q, not after %q made at %v", tm, id, prev, times[i-1])
			}
			if prefix := newCMID(tm)[:8]; id[:8] != prefix {
				t.Fatalf("newCMID(%v): time parts %q and %q differ", tm, id[:8], prefix)
			}
		}
		prev = newCMID(tm)
		// The greatest id of this millisecond must still be before the
		// next time's: compare with the random part at its largest.
		prev = prev[:8] + strings.Repeat("z", 14)
	}
}

func TestNewCMID(t *testing.T) {
	seen := make(map[string]bool)
	for range 100 {
		id := NewCMID()
		if err := protocol.CheckCMID(id); err != nil || len(id) != 22 {
			t.Fatalf("NewCMID() = %q (%d chars): %v; want 22 valid characters", id, len(id), err)
		}
		if seen[id] {
			t.Fatalf("NewCMID() repeated %q", id)
		}
		seen[id] = true
	}
}
