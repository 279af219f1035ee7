package ratelimit_test

import (
	"fmt"
	"time"

	"github.com/hubbub-chat/hubbub/internal/ratelimit"
)

func ExampleBackoff() {
	b := ratelimit.NewBackoff(ratelimit.BackoffConfig{}) // 5 free failures, then 1 s, 2 s, … 5 min
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	for range 6 {
		if wait := b.Check("alice", now); wait > 0 {
			fmt.Println("retry after", wait)
			continue
		}
		// … the password was wrong:
		b.Fail("alice", now)
	}
	// Output: retry after 1s
}

func ExampleKeyed() {
	handshakes := ratelimit.NewKeyed(ratelimit.Limit{Rate: 1, Burst: 2}, 0)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 3 {
		ok, retryAfter := handshakes.Allow("192.0.2.1", now)
		fmt.Println(ok, retryAfter)
	}
	// Output:
	// true 0s
	// true 0s
	// false 1s
}
