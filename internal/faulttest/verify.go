package faulttest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// Check is what Verify checks.
type Check struct {
	Ledger  *Ledger
	Members []*Member
	Rooms   []string
	// HistoryURL is a node's WebSocket URL to read the rooms' history from.
	HistoryURL string
	// Within bounds how long, from the call of Verify, the members may
	// take to receive every acknowledged message.
	Within time.Duration
}

// Result is what Verify found, in numbers.
type Result struct {
	Acked, Refused, Unknown int
	Stored                  int            // messages in the rooms' history
	MissingFromHistory      int            // acked sends not in history (or with another seq)
	StoredTwice             int            // bodies stored more than once
	Gaps                    int            // history seqs that do not run 1, 2, 3, … per room
	Missing                 map[string]int // member → acked messages it never received
	Order                   map[string]int // member → duplicates and out-of-order deliveries
	NotLive                 []string       // members whose client stopped or is not connected
	CaughtUp                time.Duration  // how long the members took to have every acked message
}

// Verify applies the fault suite's pass rule and fails t with numbers for
// every breach: every acknowledged message is in history with its
// acknowledged seq, and within c.Within reaches every member that joined
// its room before it was sent; no message is stored twice or delivered
// twice to a member; history runs 1, 2, 3, … per room; every member saw
// strictly increasing seqs per room; every member is still live. It logs
// a summary either way and returns the numbers.
func Verify(t testing.TB, c Check) Result {
	t.Helper()
	sends := c.Ledger.Sends()
	res := Result{Missing: map[string]int{}, Order: map[string]int{}}
	for _, s := range sends {
		switch s.Outcome {
		case Acked:
			res.Acked++
		case Refused:
			res.Refused++
		case Unknown:
			res.Unknown++
		}
	}

	// Members first: history is read after they had their chance, so the
	// read does not race with the last deliveries.
	start := time.Now()
	deadline := start.Add(c.Within)
	for {
		missing := 0
		for _, m := range c.Members {
			missing += len(owed(m, sends, c.Rooms))
		}
		if missing == 0 {
			res.CaughtUp = time.Since(start)
			break
		}
		if time.Now().After(deadline) {
			res.CaughtUp = -1
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Each kind of breach is reported for the first few members, then
	// counted: a storm has thousands.
	const detail = 5
	var lacking, disordered, reporting int
	for _, m := range c.Members {
		if miss := owed(m, sends, c.Rooms); len(miss) > 0 {
			res.Missing[m.Name] = len(miss)
			if lacking++; lacking <= detail {
				t.Errorf("member %s lacks %d acknowledged messages after waiting %v (e.g. %s)",
					m.Name, len(miss), c.Within, describe(miss))
			}
		}
		for _, room := range c.Rooms {
			order, _ := m.problems(room)
			if len(order) > 0 {
				res.Order[m.Name] += len(order)
				if disordered++; disordered <= detail {
					t.Errorf("member %s, room %s: %d duplicates or out-of-order deliveries, e.g. %s", m.Name, room, len(order), order[0])
				}
			}
		}
		if _, errs := m.problems(""); len(errs) > 0 {
			if reporting++; reporting <= detail {
				t.Logf("member %s reported: %s", m.Name, strings.Join(errs, "; "))
			}
		}
		if !m.Live() || !m.Connected() {
			res.NotLive = append(res.NotLive, m.Name)
		}
	}
	if lacking > detail {
		t.Errorf("in all, %d of %d members lack acknowledged messages", lacking, len(c.Members))
	}
	if disordered > detail {
		t.Errorf("in all, %d of %d members saw duplicates or out-of-order deliveries", disordered, len(c.Members))
	}
	if n := len(res.NotLive); n > 0 {
		t.Errorf("%d of %d members not connected at the end, e.g. %v", n, len(c.Members), res.NotLive[:min(n, detail)])
	}

	for _, room := range c.Rooms {
		hist, err := ReadHistory(t.Context(), c.HistoryURL, room)
		if err != nil {
			t.Errorf("read history of %s: %v", room, err)
			continue
		}
		res.Stored += len(hist)
		seen := map[string]int64{}
		for i, m := range hist {
			if m.Seq != int64(i+1) {
				if res.Gaps == 0 {
					t.Errorf("history of %s: seq %d at position %d, want %d", room, m.Seq, i, i+1)
				}
				res.Gaps++
			}
			if prev, dup := seen[m.Body]; dup {
				res.StoredTwice++
				t.Errorf("history of %s: %q stored twice (seq %d and %d)", room, m.Body, prev, m.Seq)
			}
			seen[m.Body] = m.Seq
		}
		var lost []Send
		for _, s := range ackedByBody(sends, room) {
			if seq, ok := seen[s.Body]; !ok || seq != s.Seq {
				lost = append(lost, s)
			}
		}
		if len(lost) > 0 {
			res.MissingFromHistory += len(lost)
			t.Errorf("history of %s lacks %d acknowledged messages (or has them under another seq), e.g. %s", room, len(lost), describe(lost))
		}
	}

	caught := "never"
	if res.CaughtUp >= 0 {
		caught = res.CaughtUp.Round(time.Millisecond).String()
	}
	missing := 0
	for _, n := range res.Missing {
		missing += n
	}
	breaches := 0
	for _, n := range res.Order {
		breaches += n
	}
	t.Logf("%s; %d stored; members caught up after %s; missing: %d from history, %d deliveries to %d of %d members; stored twice %d; gaps %d; order breaches %d",
		c.Ledger.Summary(), res.Stored, caught, res.MissingFromHistory, missing, len(res.Missing), len(c.Members), res.StoredTwice, res.Gaps, breaches)
	return res
}

// owed returns the acked sends of rooms that m joined before they were
// acknowledged and has not received.
func owed(m *Member, sends []Send, rooms []string) []Send {
	var out []Send
	for _, room := range rooms {
		from, joined := m.from(room)
		if !joined {
			continue
		}
		for _, s := range sends {
			if s.Room == room && s.Outcome == Acked && s.Seq > from && !m.Has(room, s.Body) {
				out = append(out, s)
			}
		}
	}
	return out
}

func describe(sends []Send) string {
	slices.SortFunc(sends, func(a, b Send) int { return int(a.Seq - b.Seq) })
	var parts []string
	for _, s := range sends[:min(len(sends), 5)] {
		parts = append(parts, fmt.Sprintf("%s seq %d acked at %s", s.Body, s.Seq, s.End.Format("15:04:05.000")))
	}
	return strings.Join(parts, ", ")
}

// auditors numbers the history readers, so that their guest names differ.
var auditors atomic.Int64

// ReadHistory reads every stored message of room, oldest first, with a
// fresh client of its own.
func ReadHistory(ctx context.Context, url, room string) ([]protocol.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, url, client.Options{Name: fmt.Sprintf("auditor%d", auditors.Add(1))})
	if err != nil {
		return nil, err
	}
	go drain(c)
	defer c.Close()
	var all []protocol.Message
	after := int64(0)
	for {
		msgs, more, err := c.HistoryAfter(ctx, room, after, protocol.MaxHistoryLimit)
		if err != nil {
			return nil, err
		}
		all = append(all, msgs...)
		if !more || len(msgs) == 0 {
			return all, nil
		}
		after = msgs[len(msgs)-1].Seq
	}
}
