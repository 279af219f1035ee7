package main

import (
	"bytes"
	"math/bits"
	"strconv"
	"sync/atomic"
	"time"
)

// histogram counts latencies in log-linear buckets of microseconds: exact
// below 32 µs, then 32 buckets per power of two, so a reported percentile
// is at most about 3% above the true value. It is safe for concurrent use
// and never allocates after creation.
type histogram struct {
	counts [histBuckets]atomic.Uint64
	max    atomic.Int64 // nanoseconds, exact
}

const (
	histSubBits = 5
	histSub     = 1 << histSubBits // buckets per power of two
	histBuckets = histSub + 40*histSub
)

func histIndex(us uint64) int {
	if us < histSub {
		return int(us)
	}
	shift := bits.Len64(us) - histSubBits - 1 // us>>shift is in [histSub, 2*histSub)
	i := histSub + shift*histSub + int(us>>shift) - histSub
	return min(i, histBuckets-1)
}

// histUpper returns the largest value, in microseconds, of bucket i.
func histUpper(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	shift := (i - histSub) / histSub
	m := uint64(histSub + (i-histSub)%histSub)
	return (m+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0 // clocks of one machine; a negative value is rounding
	}
	h.counts[histIndex(uint64(d/time.Microsecond))].Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

func (h *histogram) count() uint64 {
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// quantile returns the upper bound of the bucket holding quantile q
// (0 < q ≤ 1), never more than the exact maximum. It returns 0 when
// nothing was recorded.
func (h *histogram) quantile(q float64) time.Duration {
	total := h.count()
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			d := time.Duration(histUpper(i)+1)*time.Microsecond - 1
			return min(d, time.Duration(h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}

// Fast recognition of the events a receiver sees by the hundred thousand.
// The server encodes protocol.Event with encoding/json in field order, so a
// message event starts with msgPrefix and its message with room then seq.
// Anything that does not match exactly is handed to protocol.DecodeEvent:
// the fast path is an optimisation, never the definition.
var (
	msgPrefix   = []byte(`{"type":"message","message":{"room":"`)
	seqKey      = []byte(`","seq":`)
	bodyKey     = []byte(`"body":"`)
	joinPrefix  = []byte(`{"type":"join",`)
	leavePrefix = []byte(`{"type":"leave",`)
	typePrefix  = []byte(`{"type":"typing",`)
	joinOK      = []byte(`{"type":"ok","id":"j",`)
	lastSeqKey  = []byte(`"last_seq":`)
)

// scanMessage extracts room, seq and body from a message event. body is
// nil when it holds an escape (never the case for the generator's bodies).
// ok is false when obj is not a message event in the expected layout.
func scanMessage(obj []byte) (room []byte, seq int64, body []byte, ok bool) {
	rest, found := bytes.CutPrefix(obj, msgPrefix)
	if !found {
		return nil, 0, nil, false
	}
	i := bytes.IndexByte(rest, '"')
	if i < 0 {
		return nil, 0, nil, false
	}
	room, rest = rest[:i], rest[i:]
	if bytes.IndexByte(room, '\\') >= 0 {
		return nil, 0, nil, false
	}
	rest, found = bytes.CutPrefix(rest, seqKey)
	if !found {
		return nil, 0, nil, false
	}
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	if n == 0 || n >= len(rest) || (rest[n] != ',' && rest[n] != '}') {
		return nil, 0, nil, false
	}
	seq, err := strconv.ParseInt(string(rest[:n]), 10, 64)
	if err != nil {
		return nil, 0, nil, false
	}
	// A JSON string cannot contain an unescaped quote, so the literal
	// `"body":"` can only be the key itself.
	_, after, found := bytes.Cut(rest[n:], bodyKey)
	if !found {
		return nil, 0, nil, false
	}
	end := bytes.IndexByte(after, '"')
	if end < 0 {
		return nil, 0, nil, false
	}
	body = after[:end]
	if bytes.IndexByte(body, '\\') >= 0 {
		body = nil // escaped: not one of ours; the quote found may be escaped too
	}
	return room, seq, body, true
}

// scanJoinOK returns the info.last_seq of the ok reply to setup's join
// (id "j") without decoding the rest, whose member list holds up to a
// thousand names that the generator never looks at. ok is false when obj
// is not such a reply. A JSON string cannot contain an unescaped quote, so
// the first `"last_seq":` in the object is a key, and the only object with
// that key in a join reply is its info.
func scanJoinOK(obj []byte) (lastSeq int64, ok bool) {
	rest, found := bytes.CutPrefix(obj, joinOK)
	if !found {
		return 0, false
	}
	_, rest, found = bytes.Cut(rest, lastSeqKey)
	if !found {
		return 0, false
	}
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	if n == 0 || n >= len(rest) || (rest[n] != ',' && rest[n] != '}') {
		return 0, false
	}
	lastSeq, err := strconv.ParseInt(string(rest[:n]), 10, 64)
	if err != nil {
		return 0, false
	}
	return lastSeq, true
}

// isPresence reports whether obj is a join, leave or typing event.
func isPresence(obj []byte) bool {
	return bytes.HasPrefix(obj, joinPrefix) || bytes.HasPrefix(obj, leavePrefix) || bytes.HasPrefix(obj, typePrefix)
}

// messageBody is the body the generator publishes: the run id, the publish
// time in Unix nanoseconds, and the message's slot (its number in the run).
func messageBody(runID string, at time.Time, slot int) string {
	b := make([]byte, 0, 48)
	b = append(b, runID...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, at.UnixNano(), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(slot), 10)
	return string(b)
}

// parseBody returns the publish time and slot of a body made by
// messageBody for runID; ok is false for any other body.
func parseBody(runID string, body []byte) (at int64, slot int, ok bool) {
	rest, found := bytes.CutPrefix(body, []byte(runID))
	if !found || len(rest) == 0 || rest[0] != ' ' {
		return 0, 0, false
	}
	ts, sl, found := bytes.Cut(rest[1:], []byte{' '})
	if !found {
		return 0, 0, false
	}
	at, err1 := strconv.ParseInt(string(ts), 10, 64)
	n, err2 := strconv.ParseInt(string(sl), 10, 32)
	if err1 != nil || err2 != nil || n < 0 {
		return 0, 0, false
	}
	return at, int(n), true
}
