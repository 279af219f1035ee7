package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// recordHandler keeps the records logged through it.
type recordHandler struct {
	mu   sync.Mutex
	recs []string // "LEVEL msg key=value ..."
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordHandler) WithGroup(string) slog.Handler            { return h }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	s := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool {
		s += fmt.Sprintf(" %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	h.recs = append(h.recs, s)
	h.mu.Unlock()
	return nil
}

// TestLog: the first event is logged at once; events within the
// interval only count; the next line after the interval carries the count
// since the previous line, by reason.
func TestLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &recordHandler{}
		r := NewLog(slog.New(h), "slow", 10*time.Second)
		r.Add("size", "conn", 1) // t=0: logged
		time.Sleep(time.Second)
		r.Add("size", "conn", 2) // t=1: counted
		r.Add("age", "conn", 3)  // t=1: counted
		time.Sleep(8 * time.Second)
		r.Add("age", "conn", 4) // t=9: counted
		time.Sleep(2 * time.Second)
		r.Add("age", "conn", 5) // t=11: logged, with the three before it
		time.Sleep(time.Minute)
		r.Add("", "conn", 6) // t=71: logged alone

		want := []string{
			"WARN slow count=1 size=1 conn=1",
			"WARN slow count=4 age=3 size=1 conn=5",
			"WARN slow count=1 conn=6",
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if fmt.Sprint(h.recs) != fmt.Sprint(want) {
			t.Errorf("logged\n%q\nwant\n%q", h.recs, want)
		}
	})
}
