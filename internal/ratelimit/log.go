package ratelimit

import (
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
)

// Log writes a warning at most once per interval however often the
// thing it warns about happens, and says how many times it happened since
// its previous line. Use one per kind of trouble (slow consumers closed,
// commits failing, publishes failing), so that an incident shows in the log
// as one line every few seconds with a count, not as a line per event.
//
// A Log is safe for concurrent use. It writes only when Add is called:
// events after the last line are reported with the next one, however late.
type Log struct {
	log   *slog.Logger // immutable after NewLog
	msg   string
	every time.Duration

	mu      sync.Mutex // guards the fields below
	last    time.Time  // when the last line was written; zero: never
	count   int        // events since the last line
	reasons map[string]int
}

// NewLog returns a Log that writes msg to log at warning level at
// most once per every.
func NewLog(log *slog.Logger, msg string, every time.Duration) *Log {
	return &Log{log: log, msg: msg, every: every}
}

// Add counts one event with its reason (a short stable word such as
// "size"; "" for none) and writes a line if every has passed since the
// last one. The line carries count, the events since the previous line
// including this one, and one attribute per reason with its count; attrs
// describe this event.
func (r *Log) Add(reason string, attrs ...any) {
	now := time.Now()
	r.mu.Lock()
	r.count++
	if reason != "" {
		if r.reasons == nil {
			r.reasons = make(map[string]int)
		}
		r.reasons[reason]++
	}
	if !r.last.IsZero() && now.Sub(r.last) < r.every {
		r.mu.Unlock()
		return
	}
	args := make([]any, 0, 2+2*len(r.reasons)+len(attrs))
	args = append(args, "count", r.count)
	for _, k := range slices.Sorted(maps.Keys(r.reasons)) {
		args = append(args, k, r.reasons[k])
	}
	args = append(args, attrs...)
	r.count = 0
	clear(r.reasons)
	r.last = now
	r.mu.Unlock()
	r.log.Warn(r.msg, args...)
}
