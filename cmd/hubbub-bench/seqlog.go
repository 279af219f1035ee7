package main

// seqLog is one hubbub client's account of its room's sequence across the
// connections it resumes on: docs/protocol.md's "keep, per room, the last
// seq", with each connection's live stream checked on its own. It decides,
// for every message the client reads, whether it is news to record, a
// message to hold until the catch-up reaches it, or a copy of one already
// received. It counts nothing itself: its verdicts carry the gaps.
//
// Two paths feed it. The live stream of one connection must run on from
// its join reply's last_seq in ascending order: a seq above the join's
// last_seq and at or below the connection's previous live seq is a
// duplicate (the server's promise broken), and it is dropped. A seq at or
// below the join's last_seq was committed before the join; the server may
// still deliver it live, after the join reply, as the protocol allows.
// History pages fill in what the client missed while it was away. Across
// the seam between the two, one message may come both ways; the second
// copy is an overlap, dropped and not a duplicate.
//
// Invariant: every seq from the first baseline up to last was either
// delivered exactly once or counted as a gap.
//
// The zero value is not ready: start sets the first baseline. A seqLog is
// owned by the client's read goroutine.
type seqLog struct {
	last     int64     // every seq up to last was delivered once or counted as a gap
	liveLast int64     // the current connection's latest live seq; its join's last_seq at first
	target   int64     // the current connection's join last_seq: where its live stream starts
	catching bool      // a catch-up is under way: live messages are held
	held     []heldMsg // live messages read during the catch-up, in seq order
}

// heldMsg is a live message held during a catch-up: its seq, and the
// publish time and slot parsed from its body (slot −1: not this run's).
type heldMsg struct {
	seq, at int64
	slot    int
}

// verdict is what to do with one message.
type verdict int

const (
	deliverMsg   verdict = iota // news, in order: record it
	holdMsg                     // live during a catch-up: keep it until history reaches it
	overlapMsg                  // already received the other way: drop it
	duplicateMsg                // the live stream went back: drop and count it
)

// start sets the baseline of the first connection: its join reply's
// last_seq. Messages at or below it were committed before the client
// joined and are not news.
func (s *seqLog) start(joinSeq int64) {
	*s = seqLog{last: joinSeq, liveLast: joinSeq, target: joinSeq}
}

// rejoin begins a resumed connection whose join replied joinSeq: its live
// stream starts after joinSeq, and history must cover (last, joinSeq]. It
// drops what the previous connection held (history covers that too) and
// reports whether a catch-up is needed.
func (s *seqLog) rejoin(joinSeq int64) bool {
	s.liveLast, s.target = joinSeq, joinSeq
	s.held = s.held[:0]
	s.catching = s.last < joinSeq
	return s.catching
}

// live judges the live message seq; gaps is the number of seqs skipped
// before it (only with deliverMsg). A held message goes to hold.
func (s *seqLog) live(seq int64) (v verdict, gaps int64) {
	switch {
	case seq <= s.target:
		return overlapMsg, 0 // committed before the join: not news to this stream
	case seq <= s.liveLast:
		return duplicateMsg, 0
	}
	s.liveLast = seq
	switch {
	case s.catching:
		return holdMsg, 0
	case seq <= s.last:
		return overlapMsg, 0
	}
	gaps = seq - s.last - 1
	s.last = seq
	return deliverMsg, gaps
}

// hold keeps m, a live message live judged holdMsg, until release.
func (s *seqLog) hold(m heldMsg) { s.held = append(s.held, m) }

// history judges a message of a history page, pages and messages taken in
// ascending seq; gaps is the number of seqs skipped before it.
func (s *seqLog) history(seq int64) (v verdict, gaps int64) {
	if seq <= s.last {
		return overlapMsg, 0
	}
	gaps = seq - s.last - 1
	s.last = seq
	return deliverMsg, gaps
}

// caughtUp reports whether history has reached the current connection's
// live stream, which covers everything after its join's last_seq.
func (s *seqLog) caughtUp() bool { return s.last >= s.target }

// release ends a catch-up: it passes the held messages that are news to
// deliver, in order, and returns the seqs skipped (a history that ended
// short of the live stream) and the held copies history had already
// delivered.
func (s *seqLog) release(deliver func(heldMsg)) (gaps, overlaps int64) {
	for _, m := range s.held {
		if m.seq <= s.last {
			overlaps++
			continue
		}
		gaps += m.seq - s.last - 1
		s.last = m.seq
		deliver(m)
	}
	s.held = s.held[:0]
	s.catching = false
	return gaps, overlaps
}
