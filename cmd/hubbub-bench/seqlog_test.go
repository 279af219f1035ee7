package main

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seqStep is one thing a client reads: "start" or "rejoin" (a join reply
// with last_seq seq), "live" (a message event), "history" (a message of a
// page) or "release" (the catch-up ends: history reached the live stream
// or said there is no more).
type seqStep struct {
	op  string
	seq int64
}

// seqTally is what a client made of the steps.
type seqTally struct {
	Delivered  []int64
	Gaps       int64
	Duplicates int64
	Overlaps   int64
	CaughtUp   []bool // caughtUp after each history step
}

func runSeqSteps(t *testing.T, steps []seqStep) seqTally {
	t.Helper()
	var s seqLog
	var got seqTally
	judge := func(v verdict, gaps, seq int64) {
		got.Gaps += gaps
		switch v {
		case deliverMsg:
			got.Delivered = append(got.Delivered, seq)
		case holdMsg:
			s.hold(heldMsg{seq: seq})
		case overlapMsg:
			got.Overlaps++
		case duplicateMsg:
			got.Duplicates++
		}
	}
	for _, st := range steps {
		switch st.op {
		case "start":
			s.start(st.seq)
		case "rejoin":
			s.rejoin(st.seq)
		case "live":
			v, gaps := s.live(st.seq)
			judge(v, gaps, st.seq)
		case "history":
			v, gaps := s.history(st.seq)
			judge(v, gaps, st.seq)
			got.CaughtUp = append(got.CaughtUp, s.caughtUp())
		case "release":
			gaps, overlaps := s.release(func(m heldMsg) { got.Delivered = append(got.Delivered, m.seq) })
			got.Gaps += gaps
			got.Overlaps += overlaps
		default:
			t.Fatalf("unknown step %q", st.op)
		}
	}
	return got
}

// steps builds steps of one op over the seqs from..to.
func steps(op string, from, to int64) []seqStep {
	var out []seqStep
	for seq := from; seq <= to; seq++ {
		out = append(out, seqStep{op, seq})
	}
	return out
}

func seqs(from, to int64) []int64 {
	var out []int64
	for seq := from; seq <= to; seq++ {
		out = append(out, seq)
	}
	return out
}

func TestSeqLog(t *testing.T) {
	tests := []struct {
		name  string
		steps [][]seqStep
		want  seqTally
	}{
		{
			name:  "live in order",
			steps: [][]seqStep{{{"start", 10}}, steps("live", 11, 14)},
			want:  seqTally{Delivered: seqs(11, 14)},
		},
		{
			name:  "live gap",
			steps: [][]seqStep{{{"start", 0}, {"live", 1}, {"live", 4}, {"live", 5}}},
			want:  seqTally{Delivered: []int64{1, 4, 5}, Gaps: 2},
		},
		{
			name:  "live duplicate and going back",
			steps: [][]seqStep{{{"start", 0}, {"live", 1}, {"live", 2}, {"live", 2}, {"live", 1}, {"live", 3}}},
			want:  seqTally{Delivered: seqs(1, 3), Duplicates: 2},
		},
		{
			// Closed after 3; the new connection joins at 8 and sees 9, 10
			// live while history brings 4..8: held 9, 10 come after.
			name: "resume: history then held live",
			steps: [][]seqStep{{{"start", 0}}, steps("live", 1, 3), {{"rejoin", 8}, {"live", 9}},
				steps("history", 4, 8), {{"live", 10}, {"release", 0}, {"live", 11}}},
			want: seqTally{Delivered: seqs(1, 11), CaughtUp: []bool{false, false, false, false, true}},
		},
		{
			// History's last page runs past the join (to 12) while the live
			// stream is at 10: 9, 10 held and 11, 12 live are overlaps, not
			// duplicates.
			name: "resume: the seam overlaps both ways",
			steps: [][]seqStep{{{"start", 0}}, steps("live", 1, 3), {{"rejoin", 8}, {"live", 9}, {"live", 10}},
				steps("history", 4, 12), {{"release", 0}}, steps("live", 11, 14)},
			want: seqTally{Delivered: seqs(1, 14), Overlaps: 4, CaughtUp: []bool{false, false, false, false, true, true, true, true, true}},
		},
		{
			name: "resume: nothing missed",
			steps: [][]seqStep{{{"start", 0}}, steps("live", 1, 3), {{"rejoin", 3}, {"release", 0}},
				steps("live", 4, 5)},
			want: seqTally{Delivered: seqs(1, 5)},
		},
		{
			// The store skips 6: a gap, counted once.
			name: "resume: gap in history",
			steps: [][]seqStep{{{"start", 0}}, steps("live", 1, 3), {{"rejoin", 7}},
				{{"history", 4}, {"history", 5}, {"history", 7}}, {{"release", 0}}, steps("live", 8, 9)},
			want: seqTally{Delivered: []int64{1, 2, 3, 4, 5, 7, 8, 9}, Gaps: 1, CaughtUp: []bool{false, false, true}},
		},
		{
			// History ends (more false) at 5, short of the join's 7: the held
			// 8 shows the gap 6, 7.
			name: "resume: history ends short of the live stream",
			steps: [][]seqStep{{{"start", 0}}, steps("live", 1, 3), {{"rejoin", 7}, {"live", 8}},
				steps("history", 4, 5), {{"release", 0}}},
			want: seqTally{Delivered: []int64{1, 2, 3, 4, 5, 8}, Gaps: 2, CaughtUp: []bool{false, false}},
		},
		{
			// Closed again during the catch-up: what the second connection held
			// is dropped, and the third connection's history covers it.
			name: "resume twice: held messages of a lost connection are refetched",
			steps: [][]seqStep{{{"start", 0}}, steps("live", 1, 2), {{"rejoin", 5}, {"live", 6}, {"history", 3}},
				{{"rejoin", 9}, {"live", 10}}, steps("history", 4, 9), {{"release", 0}}},
			want: seqTally{Delivered: seqs(1, 10), CaughtUp: []bool{false, false, false, false, false, false, true}},
		},
		{
			// The server may deliver a message committed before the join
			// (at or below its last_seq) live after the join reply.
			name:  "live: committed before the join, delivered after it",
			steps: [][]seqStep{{{"start", 5}, {"live", 5}, {"live", 6}, {"live", 4}, {"live", 7}}},
			want:  seqTally{Delivered: seqs(6, 7), Overlaps: 2},
		},
		{
			// A live stream that goes back within a catch-up is still a duplicate.
			name: "resume: duplicate on the new live stream",
			steps: [][]seqStep{{{"start", 0}, {"live", 1}, {"rejoin", 3}, {"live", 4}, {"live", 4}},
				steps("history", 2, 3), {{"release", 0}}},
			want: seqTally{Delivered: seqs(1, 4), Duplicates: 1, CaughtUp: []bool{false, true}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runSeqSteps(t, slices.Concat(tc.steps...))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("tally mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
