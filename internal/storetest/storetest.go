// Package storetest holds the conformance suites for [chat.Store] ([Run]),
// [chat.Accounts] ([RunAccounts]) and [chat.Access] ([RunAccess]). Every
// implementation runs them from its own tests:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) func() chat.Store {
//			path := filepath.Join(t.TempDir(), "hubbub.db")
//			return func() chat.Store {
//				s, err := sqlitestore.Open(path)
//				if err != nil {
//					t.Fatal(err)
//				}
//				return s
//			}
//		})
//	}
//
// The suite checks what the contract promises to clients: rooms, gap-free
// sequence numbers under concurrent appends, idempotent resends, partial
// batches, history paging, durability across a reopen, and ErrClosed after
// Close. Beyond chat.go, it pins down two things the contract leaves open:
// the history of a room that does not exist is [chat.ErrNoSuchRoom], and
// Rooms orders names by bytes (as Go compares strings), not by a locale.
//
// RunAccounts and RunAccess take the same [Factory]; the stores it opens
// must also implement the contract under test. They check what
// accounts.go promises, and pin down what it leaves open:
//
//   - User names, token hashes and room names are compared byte for byte:
//     stores keep names as given (the server lower-cases them), so "Alice"
//     and "alice" are two users.
//   - Times given to the store (User.CreatedAt, the Session times,
//     Sanction.Until) come back at millisecond precision, the rest
//     truncated; a zero Sanction.Until stays zero. ActiveSanction compares
//     Until with now at that precision: a sanction has ended at its Until.
//   - CreateSession for a user that does not exist returns
//     [chat.ErrNoSuchUser]; SetSanction in a room that does not exist, and
//     Members of one, return [chat.ErrNoSuchRoom].
//   - A private room is visible through a role only: its Owner field alone
//     does not show it.
//   - Every method returns [chat.ErrClosed] after Close, as Store's do.
package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// Factory prepares fresh, empty storage for one test and returns open,
// which opens a store on that storage. Each call of open returns a new
// store on the same storage, so that what one store committed and closed,
// the next one finds: the suite tests durability that way. open reports
// failure through t (t.Fatal); the suite calls it only from the test's own
// goroutine, and closes every store it opens.
//
// Subtests run in parallel, so every call of the Factory must give its own
// storage.
type Factory func(t *testing.T) (open func() chat.Store)

// Run runs the conformance suite against the stores f makes, each check in
// its own subtest.
func Run(t *testing.T, f Factory) {
	runSuite(t, f, []subtest{
		{"DefaultRoom", testDefaultRoom},
		{"Rooms", testRooms},
		{"Heads", testHeads},
		{"ConcurrentAppend", testConcurrentAppend},
		{"Resend", testResend},
		{"MissingRoomInBatch", testMissingRoomInBatch},
		{"CanceledAppend", testCanceledAppend},
		{"MessageTime", testMessageTime},
		{"History", testHistory},
		{"HistoryWalk", testHistoryWalk},
		{"Durability", testDurability},
		{"Closed", testClosed},
		{"Ping", testPing},
		{"Archive", testArchive},
		{"DeleteRoom", testDeleteRoom},
		{"DeleteRoomWhileAppending", testDeleteRoomWhileAppending},
		{"IdleGuestRooms", testIdleGuestRooms},
	})
}

// RunAccounts runs the conformance suite for [chat.Accounts] against the
// stores f opens, which must implement chat.Accounts as well as
// chat.Store; the suite fails at once if they do not.
func RunAccounts(t *testing.T, f Factory) {
	runSuite(t, f, []subtest{
		{"Users", testUsers},
		{"AnyUser", testAnyUser},
		{"UpdateUser", testUpdateUser},
		{"Admins", testAdmins},
		{"ConcurrentCreateUser", testConcurrentCreateUser},
		{"Sessions", testSessions},
		{"TouchSession", testTouchSession},
		{"DeleteSession", testDeleteSession},
		{"DeleteUserSessions", testDeleteUserSessions},
		{"TrimUserSessions", testTrimUserSessions},
		{"DeleteEndedSessions", testDeleteEndedSessions},
		{"DeleteUser", testDeleteUser},
		{"Durability", testAccountsDurability},
		{"Closed", testAccountsClosed},
	})
}

// RunAccess runs the conformance suite for [chat.Access] against the
// stores f opens, which must implement chat.Access as well as chat.Store;
// the suite fails at once if they do not.
func RunAccess(t *testing.T, f Factory) {
	runSuite(t, f, []subtest{
		{"Roles", testRoles},
		{"ConcurrentSetRole", testConcurrentSetRole},
		{"VisibleRooms", testVisibleRooms},
		{"Sanctions", testSanctions},
		{"SanctionUntil", testSanctionUntil},
		{"EndBans", testEndBans},
		{"EndMutes", testEndMutes},
		{"SetTopic", testSetTopic},
		{"Durability", testAccessDurability},
		{"Closed", testAccessClosed},
	})
}

type subtest struct {
	name string
	test func(t *testing.T, f Factory)
}

// runSuite runs each test in a parallel subtest.
func runSuite(t *testing.T, f Factory, tests []subtest) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.test(t, f)
		})
	}
}

// start makes fresh storage with f, opens a store on it and closes the store
// when the test ends.
func start(t *testing.T, f Factory) chat.Store {
	t.Helper()
	return keepOpen(t, f(t))
}

// keepOpen opens a store with open and closes it when the test ends.
func keepOpen(t *testing.T, open func() chat.Store) chat.Store {
	t.Helper()
	s := open()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// openOnce opens a store with open that the test closes itself; closeStore
// closes it once and the cleanup closes it if the test ended before.
func openOnce(t *testing.T, open func() chat.Store) (s chat.Store, closeStore func() error) {
	t.Helper()
	s = open()
	closed := false
	closeStore = func() error {
		closed = true
		return s.Close()
	}
	t.Cleanup(func() {
		if !closed {
			s.Close()
		}
	})
	return s, closeStore
}

// mustCreateRoom creates rooms that a test needs.
func mustCreateRoom(t *testing.T, s chat.Store, names ...string) {
	t.Helper()
	for _, name := range names {
		if err := s.CreateRoom(t.Context(), chat.Room{Name: name}); err != nil {
			t.Fatalf("CreateRoom(%q): %v", name, err)
		}
	}
}

// mustAppend appends batch and fails the test unless every message was
// stored as a new message.
func mustAppend(t *testing.T, s chat.Store, batch []chat.NewMessage) []chat.Message {
	t.Helper()
	res, err := s.Append(t.Context(), batch)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if len(res) != len(batch) {
		t.Fatalf("Append returned %d results for %d messages", len(res), len(batch))
	}
	msgs := make([]chat.Message, len(res))
	for i, r := range res {
		if r.Err != nil || r.Duplicate {
			t.Fatalf("Append: result %d = {Duplicate: %v, Err: %v}, want a new message", i, r.Duplicate, r.Err)
		}
		msgs[i] = r.Message
	}
	return msgs
}

// allHistory returns every message of room.
func allHistory(t *testing.T, s chat.Store, room string) []chat.Message {
	t.Helper()
	msgs, err := s.HistoryAfter(t.Context(), room, 0, 1<<20)
	if err != nil {
		t.Fatalf("HistoryAfter(%q, 0): %v", room, err)
	}
	return msgs
}

// checkSeqs reports an error unless msgs are numbered 1, 2, … len(msgs).
func checkSeqs(t *testing.T, room string, msgs []chat.Message) {
	t.Helper()
	for i, m := range msgs {
		if m.Seq != int64(i+1) {
			t.Errorf("room %q: message %d has Seq %d, want %d", room, i, m.Seq, i+1)
			return
		}
	}
}

// checkTimes reports an error unless each message's Time has millisecond
// precision, is near the test's clock, and does not decrease within msgs.
func checkTimes(t *testing.T, msgs []chat.Message) {
	t.Helper()
	for i, m := range msgs {
		if err := checkStoreTime(m.Time); err != nil {
			t.Errorf("message %s#%d: Time: %v", m.Room, m.Seq, err)
			return
		}
		if i > 0 && m.Time.Before(msgs[i-1].Time) {
			t.Errorf("message %s#%d: Time %v is before the previous message's %v", m.Room, m.Seq, m.Time, msgs[i-1].Time)
			return
		}
	}
}

// clockSlack is how far a time set by the store may be from the test's
// clock; generous, so that a database server's clock may differ a little.
const clockSlack = time.Minute

// checkStoreTime reports whether tm looks like a time the store just set:
// millisecond precision and close to now.
func checkStoreTime(tm time.Time) error {
	if !tm.Equal(tm.Truncate(time.Millisecond)) {
		return fmt.Errorf("%v has more than millisecond precision", tm)
	}
	if d := time.Since(tm); d > clockSlack || d < -clockSlack {
		return fmt.Errorf("%v is %v from now", tm, d)
	}
	return nil
}

// seqs returns lo, lo+1, … hi; nothing when hi < lo.
func seqs(lo, hi int64) []int64 {
	var s []int64
	for i := lo; i <= hi; i++ {
		s = append(s, i)
	}
	return s
}

// seqsOf returns the sequence numbers of msgs.
func seqsOf(msgs []chat.Message) []int64 {
	var s []int64
	for _, m := range msgs {
		s = append(s, m.Seq)
	}
	return s
}

// equateEmpty makes nil and empty slices equal in cmp.Diff.
var equateEmpty = cmpopts.EquateEmpty()
