package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// RunBlocks runs the conformance suite for [chat.Blocks] against the stores
// f opens, which must implement chat.Blocks and chat.Accounts as well as
// chat.Store; the suite fails at once if they do not. Beyond the contract
// it pins down that names are exact (byte for byte) and that a blocker
// needs no account row of its own (the server only ever passes accounts).
func RunBlocks(t *testing.T, f Factory) {
	runSuite(t, f, []subtest{
		{"BlockUnblock", testBlockUnblock},
		{"Limit", testBlockLimit},
		{"ConcurrentLimit", testBlockConcurrentLimit},
		{"DeleteUser", testBlockDeleteUser},
		{"Durability", testBlockDurability},
		{"Closed", testBlockClosed},
	})
}

// blockStore is what RunBlocks tests.
type blockStore interface {
	chat.Store
	chat.Accounts
	chat.Blocks
}

func asBlocks(t *testing.T, s chat.Store) blockStore {
	t.Helper()
	b, ok := s.(blockStore)
	if !ok {
		t.Fatalf("%T does not implement chat.Blocks and chat.Accounts", s)
	}
	return b
}

// checkBlockList reports an error unless blocker's list is want.
func checkBlockList(t *testing.T, s chat.Blocks, blocker string, want []string) {
	t.Helper()
	got, err := s.BlockList(t.Context(), blocker)
	if err != nil {
		t.Fatalf("BlockList(%q): %v", blocker, err)
	}
	if want == nil {
		want = []string{}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("BlockList(%q) mismatch (-want +got):\n%s", blocker, diff)
	}
}

func testBlockUnblock(t *testing.T, f Factory) {
	s := asBlocks(t, start(t, f))
	ctx := t.Context()
	mustCreateUser(t, s, "alice", "bob", "carol", "mallory")

	// The steps run in order, each on what the ones before left.
	steps := []struct {
		name             string
		op               string // block or unblock
		blocker, blocked string
		want             bool
		wantErr          error
	}{
		{"block", "block", "alice", "mallory", true, nil},
		{"again", "block", "alice", "mallory", false, nil},
		{"another", "block", "alice", "bob", true, nil},
		{"by another", "block", "carol", "mallory", true, nil},
		{"no such user", "block", "alice", "nobody", false, chat.ErrNoSuchUser},
		{"name is exact", "block", "alice", "Mallory", false, chat.ErrNoSuchUser},
		{"unblock", "unblock", "alice", "bob", true, nil},
		{"unblock again", "unblock", "alice", "bob", false, nil},
		{"unblock none", "unblock", "bob", "alice", false, nil},
		{"block after unblock", "block", "alice", "carol", true, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var got bool
			var err error
			if st.op == "block" {
				got, err = s.Block(ctx, st.blocker, st.blocked, t0, 0)
			} else {
				got, err = s.Unblock(ctx, st.blocker, st.blocked)
			}
			if !errors.Is(err, st.wantErr) || got != st.want {
				t.Fatalf("%s(%q, %q) = %v, %v; want %v, %v", st.op, st.blocker, st.blocked, got, err, st.want, st.wantErr)
			}
		})
	}
	checkBlockList(t, s, "alice", []string{"carol", "mallory"})
	checkBlockList(t, s, "carol", []string{"mallory"})
	checkBlockList(t, s, "bob", nil)
	checkBlockList(t, s, "nobody", nil)

	for _, tc := range []struct {
		blocker, blocked string
		want             bool
	}{
		{"alice", "mallory", true},
		{"alice", "carol", true},
		{"alice", "bob", false},
		{"mallory", "alice", false}, // a block goes one way
		{"carol", "mallory", true},
		{"Alice", "mallory", false},
	} {
		got, err := s.Blocked(ctx, tc.blocker, tc.blocked)
		if err != nil || got != tc.want {
			t.Errorf("Blocked(%q, %q) = %v, %v; want %v", tc.blocker, tc.blocked, got, err, tc.want)
		}
	}
}

func testBlockLimit(t *testing.T, f Factory) {
	s := asBlocks(t, start(t, f))
	ctx := t.Context()
	mustCreateUser(t, s, "alice", "u1", "u2", "u3")
	const max = 2
	steps := []struct {
		blocked string
		want    bool
		wantErr error
	}{
		{"u1", true, nil},
		{"u2", true, nil},
		{"u3", false, chat.ErrBlockLimit},
		{"u2", false, nil}, // not new: the limit does not apply
	}
	for _, st := range steps {
		got, err := s.Block(ctx, "alice", st.blocked, t0, max)
		if !errors.Is(err, st.wantErr) || got != st.want {
			t.Fatalf("Block(alice, %q, max %d) = %v, %v; want %v, %v", st.blocked, max, got, err, st.want, st.wantErr)
		}
	}
	if _, err := s.Unblock(ctx, "alice", "u1"); err != nil {
		t.Fatalf("Unblock: %v", err)
	}
	if got, err := s.Block(ctx, "alice", "u3", t0, max); err != nil || !got {
		t.Fatalf("Block(alice, u3) after an unblock = %v, %v; want true, nil", got, err)
	}
	checkBlockList(t, s, "alice", []string{"u2", "u3"})
}

// testBlockConcurrentLimit blocks many accounts at once: the limit holds.
func testBlockConcurrentLimit(t *testing.T, f Factory) {
	s := asBlocks(t, start(t, f))
	ctx := t.Context()
	const n, max = 12, 5
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("user%02d", i)
	}
	mustCreateUser(t, s, append([]string{"alice"}, users...)...)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		added  int
		others []error
	)
	for _, u := range users {
		wg.Go(func() {
			ok, err := s.Block(ctx, "alice", u, t0, max)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && ok:
				added++
			case errors.Is(err, chat.ErrBlockLimit):
			default:
				others = append(others, err)
			}
		})
	}
	wg.Wait()
	if len(others) > 0 {
		t.Fatalf("Block: unexpected results %v", others)
	}
	list, err := s.BlockList(ctx, "alice")
	if err != nil {
		t.Fatalf("BlockList: %v", err)
	}
	if added != max || len(list) != max {
		t.Errorf("%d concurrent blocks with max %d: %d added, %d listed; want %d", n, max, added, len(list), max)
	}
}

// testBlockDeleteUser checks that DeleteUser removes the blocks by and of
// the deleted account, and no other.
func testBlockDeleteUser(t *testing.T, f Factory) {
	s := asBlocks(t, start(t, f))
	ctx := t.Context()
	mustCreateUser(t, s, "alice", "bob", "mallory")
	for _, b := range [][2]string{{"alice", "mallory"}, {"alice", "bob"}, {"mallory", "alice"}, {"mallory", "bob"}, {"bob", "alice"}} {
		if _, err := s.Block(ctx, b[0], b[1], t0, 0); err != nil {
			t.Fatalf("Block(%q, %q): %v", b[0], b[1], err)
		}
	}
	if _, err := s.DeleteUser(ctx, "mallory"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	checkBlockList(t, s, "alice", []string{"bob"})
	checkBlockList(t, s, "mallory", nil)
	checkBlockList(t, s, "bob", []string{"alice"})
	if got, err := s.Block(ctx, "alice", "mallory", t0, 0); !errors.Is(err, chat.ErrNoSuchUser) {
		t.Errorf("Block of a deleted account = %v, %v; want %v", got, err, chat.ErrNoSuchUser)
	}
}

func testBlockDurability(t *testing.T, f Factory) {
	open := f(t)
	s, closeStore := openOnce(t, open)
	b := asBlocks(t, s)
	mustCreateUser(t, b, "alice", "mallory")
	if _, err := b.Block(t.Context(), "alice", "mallory", t0, 0); err != nil {
		t.Fatalf("Block: %v", err)
	}
	if err := closeStore(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	checkBlockList(t, asBlocks(t, keepOpen(t, open)), "alice", []string{"mallory"})
}

func testBlockClosed(t *testing.T, f Factory) {
	s, closeStore := openOnce(t, f(t))
	b := asBlocks(t, s)
	if err := closeStore(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	calls := map[string]func() error{
		"Block":     func() error { _, err := b.Block(ctx, "a", "b", t0, 0); return err },
		"Unblock":   func() error { _, err := b.Unblock(ctx, "a", "b"); return err },
		"Blocked":   func() error { _, err := b.Blocked(ctx, "a", "b"); return err },
		"BlockList": func() error { _, err := b.BlockList(ctx, "a"); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, chat.ErrClosed) {
			t.Errorf("%s after Close = %v, want %v", name, err, chat.ErrClosed)
		}
	}
}
