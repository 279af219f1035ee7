package ratelimit

import (
	"slices"
	"time"
)

// DefaultMaxKeys is the number of keys Keyed and Backoff hold at most when
// not told otherwise.
const DefaultMaxKeys = 1 << 16

// sweeper bounds a map that a type guards with its mutex.
//
// Every op calls tick; when as many ops have passed as the map has entries
// (but at least minSweepOps), the owner sweeps away entries that carry no
// information any more, so the map follows the number of active keys at an
// amortized O(1) cost per op. Before adding a key to a full map the owner
// sweeps, and if that frees less than a quarter of maxKeys, it evicts the
// entries with the oldest times (those closest to carrying no information)
// down to three quarters: the next full sweep is then maxKeys/4 insertions
// away, which keeps eviction amortized O(log maxKeys) per insertion even
// under a flood of distinct keys.
type sweeper struct {
	maxKeys int // Immutable after construction.
	ops     int // Ops since the last sweep. Guarded by the owner's mutex.
}

const minSweepOps = 64

// tick counts an op and reports whether the owner should sweep now.
func (s *sweeper) tick(n int) bool {
	s.ops++
	if s.ops < max(n, minSweepOps) {
		return false
	}
	s.ops = 0
	return true
}

// makeRoom sweeps m with stale if it holds maxKeys entries, and evicts the
// oldest entries by age if sweeping freed less than a quarter.
func makeRoom[V any](s *sweeper, m map[string]V, stale func(V) bool, age func(V) time.Time) {
	if len(m) < s.maxKeys {
		return
	}
	s.ops = 0
	sweep(m, stale)
	keep := s.maxKeys - max(1, s.maxKeys/4)
	if len(m) <= keep {
		return
	}
	times := make([]time.Time, 0, len(m))
	for _, v := range m {
		times = append(times, age(v))
	}
	slices.SortFunc(times, time.Time.Compare)
	cut := times[len(m)-keep-1] // evict this and everything older
	for k, v := range m {
		if !age(v).After(cut) {
			delete(m, k)
		}
	}
}

// sweep deletes the entries of m for which stale reports true.
func sweep[V any](m map[string]V, stale func(V) bool) {
	for k, v := range m {
		if stale(v) {
			delete(m, k)
		}
	}
}
