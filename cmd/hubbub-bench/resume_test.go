package main

import (
	"testing"
	"time"
)

// TestResumeWait: before a resume's first dial a client waits a full
// jitter below --resume-jitter (spread over the range, not a constant);
// after failed dials, the exponential backoff, whatever the jitter.
func TestResumeWait(t *testing.T) {
	tests := []struct {
		name     string
		failures int
		jitter   time.Duration
		min, max time.Duration // every wait in [min, max)
		spread   time.Duration // some wait at least this
	}{
		{"no jitter", 0, 0, 0, 1, 0},
		{"first dial", 0, 100 * time.Millisecond, 0, 100 * time.Millisecond, 50 * time.Millisecond},
		{"one failure", 1, 100 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond, 0},
		{"many failures", 10, 0, 2 * time.Second, 3 * time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var most time.Duration
			for range 1000 {
				got := resumeWait(tt.failures, tt.jitter)
				if got < tt.min || got >= tt.max {
					t.Fatalf("resumeWait(%d, %v) = %v, want in [%v, %v)", tt.failures, tt.jitter, got, tt.min, tt.max)
				}
				most = max(most, got)
			}
			if most < tt.spread {
				t.Errorf("longest of 1000 waits %v, want some at least %v", most, tt.spread)
			}
		})
	}
}
