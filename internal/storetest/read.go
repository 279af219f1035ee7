package storetest

import (
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// RunReads runs the conformance suite for [chat.Reads] against the stores f
// opens, which must implement chat.Reads as well as chat.Store; the suite
// fails at once if they do not. Beyond the contract it pins down that a
// MarkRead with seq 0 stores nothing, and that names are exact (byte for
// byte) as everywhere else.
func RunReads(t *testing.T, f Factory) {
	runSuite(t, f, []subtest{
		{"ForwardOnly", testReadForward},
		{"ConcurrentMarkRead", testReadConcurrent},
		{"Durability", testReadDurability},
		{"Closed", testReadClosed},
	})
}

// readStore is what RunReads tests.
type readStore interface {
	chat.Store
	chat.Reads
}

func asReads(t *testing.T, s chat.Store) readStore {
	t.Helper()
	r, ok := s.(readStore)
	if !ok {
		t.Fatalf("%T does not implement chat.Reads", s)
	}
	return r
}

func testReadForward(t *testing.T, f Factory) {
	s := asReads(t, start(t, f))
	ctx := t.Context()
	const lobby, general = chat.DefaultRoom, "general"
	mustCreateRoom(t, s, general)

	// The steps run in order, each on what the ones before left.
	steps := []struct {
		name       string
		user, room string
		seq        int64
		wantMoved  bool
		wantErr    error
	}{
		{"zero stores nothing", "alice", lobby, 0, false, nil},
		{"first", "alice", lobby, 5, true, nil},
		{"back", "alice", lobby, 3, false, nil},
		{"same", "alice", lobby, 5, false, nil},
		{"zero after", "alice", lobby, 0, false, nil},
		{"forward", "alice", lobby, 7, true, nil},
		{"another room", "alice", general, 2, true, nil},
		{"another user", "bob", lobby, 1, true, nil},
		{"user name is exact", "Alice", lobby, 9, true, nil},
		{"no such room", "alice", "nope", 4, false, chat.ErrNoSuchRoom},
		{"no such room, zero", "alice", "nope", 0, false, chat.ErrNoSuchRoom},
		{"room name is exact", "alice", "General", 4, false, chat.ErrNoSuchRoom},
	}
	model := map[string]map[string]int64{}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			moved, err := s.MarkRead(ctx, st.user, st.room, st.seq)
			if !errors.Is(err, st.wantErr) || moved != st.wantMoved {
				t.Fatalf("MarkRead(%q, %q, %d) = %v, %v; want %v, %v", st.user, st.room, st.seq, moved, err, st.wantMoved, st.wantErr)
			}
			if moved {
				if model[st.user] == nil {
					model[st.user] = map[string]int64{}
				}
				model[st.user][st.room] = st.seq
			}
			checkReads(t, s, model, []string{"alice", "Alice", "bob", "carol"}, []string{lobby, general, "nope"})
		})
	}
}

// checkReads compares every position of users in rooms with model.
func checkReads(t *testing.T, s readStore, model map[string]map[string]int64, users, rooms []string) {
	t.Helper()
	ctx := t.Context()
	for _, user := range users {
		got, err := s.ReadPositions(ctx, user)
		if err != nil {
			t.Fatalf("ReadPositions(%q): %v", user, err)
		}
		if diff := cmp.Diff(model[user], got, equateEmpty); diff != "" {
			t.Errorf("ReadPositions(%q) mismatch (-want +got):\n%s", user, diff)
		}
		for _, room := range rooms {
			got, err := s.ReadPosition(ctx, user, room)
			if err != nil {
				t.Fatalf("ReadPosition(%q, %q): %v", user, room, err)
			}
			if want := model[user][room]; got != want {
				t.Errorf("ReadPosition(%q, %q) = %d, want %d", user, room, got, want)
			}
		}
	}
}

// testReadConcurrent: positions marked at once from many goroutines end at
// the greatest, and at least the call that set it reports a move.
func testReadConcurrent(t *testing.T, f Factory) {
	s := asReads(t, start(t, f))
	const n = 16
	moved := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Seqs n, n-1, … 1 and again in the other order: whatever
			// the interleaving, the position ends at n.
			seq := int64(n - i)
			if i%2 == 1 {
				seq = int64(i + 1)
			}
			moved[i], errs[i] = s.MarkRead(t.Context(), "alice", chat.DefaultRoom, seq)
		})
	}
	wg.Wait()
	anyMoved := false
	for i, err := range errs {
		if err != nil {
			t.Errorf("MarkRead #%d: %v", i, err)
		}
		anyMoved = anyMoved || moved[i]
	}
	if !anyMoved {
		t.Errorf("no MarkRead reported a move")
	}
	got, err := s.ReadPosition(t.Context(), "alice", chat.DefaultRoom)
	if err != nil {
		t.Fatalf("ReadPosition: %v", err)
	}
	if got != n {
		t.Errorf("ReadPosition = %d, want %d", got, n)
	}
}

func testReadDurability(t *testing.T, f Factory) {
	open := f(t)
	first, closeStore := openOnce(t, open)
	s := asReads(t, first)
	mustCreateRoom(t, s, "general")
	want := map[string]int64{chat.DefaultRoom: 12, "general": 3}
	for room, seq := range want {
		if _, err := s.MarkRead(t.Context(), "alice", room, seq); err != nil {
			t.Fatalf("MarkRead(%q): %v", room, err)
		}
	}
	if err := closeStore(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	again := asReads(t, keepOpen(t, open))
	got, err := again.ReadPositions(t.Context(), "alice")
	if err != nil {
		t.Fatalf("ReadPositions after reopen: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadPositions after reopen mismatch (-want +got):\n%s", diff)
	}
}

func testReadClosed(t *testing.T, f Factory) {
	first, closeStore := openOnce(t, f(t))
	s := asReads(t, first)
	if _, err := s.MarkRead(t.Context(), "alice", chat.DefaultRoom, 1); err != nil {
		t.Fatalf("MarkRead: %v", err)
	}
	if err := closeStore(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	for name, call := range map[string]func() error{
		"MarkRead":      func() error { _, err := s.MarkRead(ctx, "alice", chat.DefaultRoom, 2); return err },
		"ReadPosition":  func() error { _, err := s.ReadPosition(ctx, "alice", chat.DefaultRoom); return err },
		"ReadPositions": func() error { _, err := s.ReadPositions(ctx, "alice"); return err },
	} {
		if err := call(); !errors.Is(err, chat.ErrClosed) {
			t.Errorf("%s after Close = %v, want %v", name, err, chat.ErrClosed)
		}
	}
}
