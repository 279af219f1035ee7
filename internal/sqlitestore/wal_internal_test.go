package sqlitestore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// TestWALIdleTick: the decision, tick by tick, from the commit count each
// tick sees and whether a deletion asked for a truncation soon.
func TestWALIdleTick(t *testing.T) {
	type step struct {
		commits uint64
		soon    bool
		fail    bool // the truncation, if this step decides on one, fails
	}
	quiet := func(commits uint64, n int) []step {
		return slices.Repeat([]step{{commits: commits}}, n)
	}
	cat := func(parts ...[]step) []step { return slices.Concat(parts...) }
	tests := []struct {
		name  string
		steps []step
		want  []int // the steps that truncate
	}{
		{"no commit: the first idle period only", quiet(0, 20), []int{4}},
		{"idle after commits", cat(quiet(3, 1), quiet(3, 10)), []int{5}},
		{"busy: not idle", []step{{commits: 1}, {commits: 2}, {commits: 3}, {commits: 4}, {commits: 5}, {commits: 6}, {commits: 7}}, nil},
		{"a commit restarts the wait", cat(quiet(1, 4), quiet(2, 6)), []int{9}},
		{"once per idle period", cat(quiet(1, 12), quiet(2, 8)), []int{5, 17}},
		{"soon: one quiet tick", []step{{commits: 1, soon: true}, {commits: 1, soon: true}}, []int{1}},
		{"soon but nothing new", cat(quiet(1, 6), []step{{commits: 1, soon: true}, {commits: 1, soon: true}}), []int{5}},
		{"a failure waits for another idle period",
			cat(quiet(1, 5), []step{{commits: 1, fail: true}}, quiet(1, 6)), []int{5, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w walIdle
			var got []int
			for i, s := range tt.steps {
				if w.tick(s.commits, s.soon) {
					got = append(got, i)
					w.done(s.commits, !s.fail)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("truncated at steps %v, want %v", got, tt.want)
			}
		})
	}
}

// TestTendWALTimes: tendWAL's ticker, in a synctest bubble, with a fake
// commit count and truncation: when, in seconds after it starts, it
// truncates.
func TestTendWALTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var commits atomic.Uint64
		var soon atomic.Bool
		var at []time.Duration
		fail := 1 // the first truncation finds a reader in the way
		quit := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			tendWAL(quit, commits.Load, &soon, func() error {
				at = append(at, time.Since(start))
				if fail > 0 {
					fail--
					return errWALBusy
				}
				return nil
			})
		}()
		sleepUntil := func(d time.Duration) { time.Sleep(d - time.Since(start)) }

		// A commit at 0.5 s: the tick at 1 s sees it, those at 2–6 s
		// see nothing new: truncation at 6 s, busy; again after
		// another five quiet ticks, at 11 s.
		sleepUntil(500 * time.Millisecond)
		commits.Add(1)
		// A deletion at 12.5 s: one quiet tick after the one that
		// sees it (13 s), at 14 s.
		sleepUntil(12500 * time.Millisecond)
		commits.Add(1)
		soon.Store(true)
		// Commits every half second from 20 s to 40 s: never idle, no
		// truncation; then the one at 45 s.
		sleepUntil(20 * time.Second)
		for range 40 {
			commits.Add(1)
			time.Sleep(500 * time.Millisecond)
		}
		sleepUntil(60 * time.Second)
		close(quit)
		<-done

		want := []time.Duration{6 * time.Second, 11 * time.Second, 14 * time.Second, 45 * time.Second}
		if !slices.Equal(at, want) {
			t.Errorf("truncations at %v, want %v", at, want)
		}
		if soon.Load() {
			t.Errorf("soon is still set after the truncation it asked for")
		}
	})
}

// TestIdleStoreTruncatesItsWAL: a real store, in a synctest bubble so
// that its idle period passes at once: a message deleted, and a second
// later the WAL is 0 bytes and neither file holds the message's body,
// while the store stays open. Then nothing more happens: no truncation
// without a commit.
func TestIdleStoreTruncatesItsWAL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		s, err := Open(filepath.Join(dir, "hubbub.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx := t.Context()
		const marker = "wqzidlewalmarker"
		res, err := s.Append(ctx, []chat.NewMessage{{Room: chat.DefaultRoom, Author: "alice", Body: "secret " + marker}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, []chat.NewMessage{{Room: chat.DefaultRoom, Author: "alice", Kind: chat.KindDelete, Target: res[0].Message.Seq}}); err != nil {
			t.Fatal(err)
		}
		if n := fileCount(t, filepath.Join(dir, "hubbub.db-wal"), marker); n == 0 {
			t.Fatalf("the WAL does not hold the marker before the truncation: the check reads the wrong bytes")
		}
		// A deletion: the tick that sees its commit, one quiet tick,
		// and a tick's slack.
		time.Sleep((walSoonTicks + 2) * walTick)
		synctest.Wait()
		if got := s.walStats.truncated.Load(); got != 1 {
			t.Errorf("%d truncations, want 1 (busy %d, failed %d)", got, s.walStats.busy.Load(), s.walStats.failed.Load())
		}
		checkScrubbed(t, dir, marker)

		time.Sleep(3 * walIdleTicks * walTick)
		synctest.Wait()
		if got := s.walStats.truncated.Load(); got != 1 {
			t.Errorf("%d truncations after an idle period without a commit, want still 1", got)
		}
	})
}

// TestTruncateWALBusy: a reader in a read transaction on the WAL keeps
// TRUNCATE from truncating it: truncateWAL says errWALBusy at once
// rather than hold the writer for the busy timeout, counts it, and leaves
// the writer's busy timeout as it was; once the reader is done, it
// truncates.
func TestTruncateWALBusy(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if _, err := s.Append(ctx, []chat.NewMessage{{Room: chat.DefaultRoom, Author: "alice", Body: "hello"}}); err != nil {
		t.Fatal(err)
	}
	rtx, err := s.reader.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := rtx.QueryRowContext(ctx, `SELECT count(*) FROM messages`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = s.truncateWAL(ctx)
	if took := time.Since(start); !errors.Is(err, errWALBusy) || took > busyTimeoutMS*time.Millisecond/2 {
		t.Errorf("truncateWAL under a reader = %v after %v; want errWALBusy at once", err, took)
	}
	if got := s.walStats.busy.Load(); got != 1 {
		t.Errorf("busy count %d, want 1", got)
	}
	var timeout int
	if err := s.writer.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&timeout); err != nil || timeout != busyTimeoutMS {
		t.Errorf("the writer's busy timeout after = %d, %v; want %d", timeout, err, busyTimeoutMS)
	}
	rtx.Rollback()
	if err := s.truncateWAL(ctx); err != nil {
		t.Fatalf("truncateWAL with no reader: %v", err)
	}
	checkWALEmpty(t, dir)
}

// fileCount returns how often the file at path holds marker.
func fileCount(t *testing.T, path, marker string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte(marker))
}

// checkScrubbed checks, with the store open, that the WAL in dir is 0
// bytes and that no file in dir holds marker.
func checkScrubbed(t *testing.T, dir string, markers ...string) {
	t.Helper()
	checkWALEmpty(t, dir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		for _, m := range markers {
			if n := fileCount(t, filepath.Join(dir, e.Name()), m); n > 0 {
				t.Errorf("%s holds the deleted marker %q %d times", e.Name(), m, n)
			}
		}
	}
}

// checkWALEmpty checks that the WAL in dir is there, and 0 bytes.
func checkWALEmpty(t *testing.T, dir string) {
	t.Helper()
	fi, err := os.Stat(filepath.Join(dir, "hubbub.db-wal"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 0 {
		t.Errorf("hubbub.db-wal is %d bytes, want 0", fi.Size())
	}
}
