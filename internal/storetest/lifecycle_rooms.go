package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// testArchive checks SetArchived: the flag comes back from Room, Rooms
// and (for an Access) VisibleRooms, survives a reopen, and a missing room
// is ErrNoSuchRoom.
func testArchive(t *testing.T, f Factory) {
	open := f(t)
	s, closeStore := openOnce(t, open)
	ctx := t.Context()
	mustCreateRoom(t, s, "old", "new")
	if err := s.SetArchived(ctx, "old", true); err != nil {
		t.Fatalf("SetArchived(old, true): %v", err)
	}
	if err := s.SetArchived(ctx, "old", true); err != nil {
		t.Fatalf("SetArchived(old, true) again: %v", err)
	}
	if err := s.SetArchived(ctx, "missing", true); !errors.Is(err, chat.ErrNoSuchRoom) {
		t.Errorf("SetArchived(missing) = %v, want ErrNoSuchRoom", err)
	}
	archived := func(s chat.Store) map[string]bool {
		t.Helper()
		rooms, err := s.Rooms(ctx)
		if err != nil {
			t.Fatalf("Rooms: %v", err)
		}
		got := make(map[string]bool)
		for _, r := range rooms {
			got[r.Name] = r.Archived
		}
		return got
	}
	want := map[string]bool{chat.DefaultRoom: false, "old": true, "new": false}
	if diff := cmp.Diff(want, archived(s)); diff != "" {
		t.Errorf("Rooms' Archived (-want +got):\n%s", diff)
	}
	if err := closeStore(); err != nil {
		t.Fatal(err)
	}
	s = keepOpen(t, open)
	if diff := cmp.Diff(want, archived(s)); diff != "" {
		t.Errorf("after reopening, Rooms' Archived (-want +got):\n%s", diff)
	}
	if r, err := s.Room(ctx, "old"); err != nil || !r.Archived {
		t.Errorf("Room(old) = %+v, %v; want Archived", r, err)
	}
	if err := s.SetArchived(ctx, "old", false); err != nil {
		t.Fatalf("SetArchived(old, false): %v", err)
	}
	if r, err := s.Room(ctx, "old"); err != nil || r.Archived {
		t.Errorf("after unarchiving, Room(old) = %+v, %v; want not Archived", r, err)
	}
}

// testDeleteRoom checks that DeleteRoom removes a room and its messages,
// that the name is free again (a new room under it starts at sequence 1
// with no history), and that deleting a missing room is ErrNoSuchRoom.
// For a store that is also an Access, roles and sanctions go too.
func testDeleteRoom(t *testing.T, f Factory) {
	s := start(t, f)
	ctx := t.Context()
	if err := s.CreateRoom(ctx, chat.Room{Name: "doomed", Topic: "t", Owner: "alice"}); err != nil {
		t.Fatal(err)
	}
	mustCreateRoom(t, s, "kept")
	mustAppend(t, s, []chat.NewMessage{
		{Room: "doomed", Author: "alice", Body: "one", CMID: "c1"},
		{Room: "doomed", Author: "alice", Body: "two"},
		{Room: "kept", Author: "alice", Body: "stays"},
		// A reaction points at its message: the room goes all the same.
		{Room: "doomed", Author: "bob", Kind: chat.KindReact, Target: 1, Body: "👍"},
	})
	acc, isAccess := s.(chat.Access)
	if isAccess {
		if err := acc.SetRole(ctx, "doomed", "alice", owner); err != nil {
			t.Fatal(err)
		}
		if err := acc.SetSanction(ctx, chat.Sanction{Room: "doomed", User: "mallory", Kind: chat.Ban}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteRoom(ctx, "doomed"); err != nil {
		t.Fatalf("DeleteRoom: %v", err)
	}
	if err := s.DeleteRoom(ctx, "doomed"); !errors.Is(err, chat.ErrNoSuchRoom) {
		t.Errorf("DeleteRoom again = %v, want ErrNoSuchRoom", err)
	}
	if _, err := s.Room(ctx, "doomed"); !errors.Is(err, chat.ErrNoSuchRoom) {
		t.Errorf("Room(doomed) after delete: %v, want ErrNoSuchRoom", err)
	}
	if _, err := s.HistoryAfter(ctx, "doomed", 0, 10); !errors.Is(err, chat.ErrNoSuchRoom) {
		t.Errorf("HistoryAfter(doomed) after delete: %v, want ErrNoSuchRoom", err)
	}
	res, err := s.Append(ctx, []chat.NewMessage{{Room: "doomed", Author: "alice", Body: "late"}})
	if err != nil || !errors.Is(res[0].Err, chat.ErrNoSuchRoom) {
		t.Errorf("Append to a deleted room = %+v, %v; want ErrNoSuchRoom in the result", res, err)
	}
	if got := allHistory(t, s, "kept"); len(got) != 1 {
		t.Errorf("history of the other room: %d messages, want 1", len(got))
	}

	// The name is free again, and nothing of the old room shows.
	if err := s.CreateRoom(ctx, chat.Room{Name: "doomed", Owner: "bob"}); err != nil {
		t.Fatalf("CreateRoom after delete: %v", err)
	}
	r, err := s.Room(ctx, "doomed")
	if err != nil || r.LastSeq != 0 || r.Topic != "" || r.Owner != "bob" {
		t.Errorf("recreated Room = %+v, %v; want a new empty room owned by bob", r, err)
	}
	got := mustAppend(t, s, []chat.NewMessage{{Room: "doomed", Author: "alice", Body: "again", CMID: "c1"}})
	if got[0].Seq != 1 || got[0].Body != "again" {
		t.Errorf("first message of the recreated room = %+v, want seq 1, a new message (the CMID is free again)", got[0])
	}
	if isAccess {
		if role, err := acc.Role(ctx, "doomed", "alice"); err != nil || role != "" {
			t.Errorf("Role(alice) in the recreated room = %q, %v; want none", role, err)
		}
		if _, on, err := acc.ActiveSanction(ctx, "doomed", "mallory", chat.Ban, time.Now()); err != nil || on {
			t.Errorf("ban in the recreated room = %v, %v; want none", on, err)
		}
	}
}

// testIdleGuestRooms checks which rooms DeleteIdleGuestRooms takes: only
// guest-made ones, created, marked active and written to before the
// cutoff; and that callers racing each other report each room once.
func testIdleGuestRooms(t *testing.T, f Factory) {
	s := start(t, f)
	ctx := t.Context()
	for _, r := range []chat.Room{
		{Name: "g-idle", Owner: "zed", GuestOwner: true},
		{Name: "g-used", Owner: "zed", GuestOwner: true},
		{Name: "g-talk", Owner: "zed", GuestOwner: true},
		{Name: "account", Owner: "alice"},
	} {
		if err := s.CreateRoom(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(5 * time.Millisecond) // stores keep milliseconds
	cutoff := time.Now()
	time.Sleep(5 * time.Millisecond)
	mustAppend(t, s, []chat.NewMessage{{Room: "g-talk", Author: "zed", Guest: true, Body: "hi"}})
	if err := s.MarkActive(ctx, []string{"g-used", "missing"}, cutoff.Add(time.Millisecond)); err != nil {
		t.Fatalf("MarkActive: %v", err)
	}
	// An earlier mark does not move active_at back.
	if err := s.MarkActive(ctx, []string{"g-used"}, cutoff.Add(-time.Hour)); err != nil {
		t.Fatalf("MarkActive: %v", err)
	}
	if r, err := s.Room(ctx, "g-idle"); err != nil || !r.GuestOwner {
		t.Fatalf("Room(g-idle) = %+v, %v; want GuestOwner", r, err)
	}
	got, err := s.DeleteIdleGuestRooms(ctx, cutoff, 100)
	if err != nil {
		t.Fatalf("DeleteIdleGuestRooms: %v", err)
	}
	if diff := cmp.Diff([]string{"g-idle"}, got); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
	if _, err := s.Room(ctx, "g-idle"); !errors.Is(err, chat.ErrNoSuchRoom) {
		t.Errorf("Room(g-idle) after the sweep: %v, want ErrNoSuchRoom", err)
	}
	for _, name := range []string{"g-used", "g-talk", "account", chat.DefaultRoom} {
		if _, err := s.Room(ctx, name); err != nil {
			t.Errorf("Room(%s) after the sweep: %v, want it kept", name, err)
		}
	}

	// Many rooms, four sweepers at once, a small limit: every room is
	// deleted and reported exactly once.
	var want []string
	for i := range 40 {
		name := "race-" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		want = append(want, name)
		if err := s.CreateRoom(ctx, chat.Room{Name: name, Owner: "zed", GuestOwner: true}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(5 * time.Millisecond)
	later := time.Now()
	var (
		mu   sync.Mutex
		all  []string
		wg   sync.WaitGroup
		errs = make(chan error, 4)
	)
	for range 4 {
		wg.Go(func() {
			for {
				names, err := s.DeleteIdleGuestRooms(ctx, later, 7)
				if err != nil {
					errs <- err
					return
				}
				if len(names) == 0 {
					return
				}
				mu.Lock()
				all = append(all, names...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("DeleteIdleGuestRooms racing: %v", err)
	}
	want = append(want, "g-used", "g-talk") // idle before later
	slices.Sort(want)
	slices.Sort(all)
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("rooms reported by racing sweepers (-want +got):\n%s", diff)
	}
}

// RunGuestNames runs the conformance suite for [chat.GuestNames] against
// the stores f opens, which must implement it as well as chat.Store.
func RunGuestNames(t *testing.T, f Factory) {
	runSuite(t, f, []subtest{
		{"Leases", testNameLeases},
	})
}

func testNameLeases(t *testing.T, f Factory) {
	s := start(t, f)
	n, ok := s.(chat.GuestNames)
	if !ok {
		t.Fatalf("%T does not implement chat.GuestNames", s)
	}
	ctx := t.Context()
	t0 := time.Now().Truncate(time.Millisecond)
	claim := func(at time.Time, holder string, keys ...string) []string {
		t.Helper()
		var cs []chat.NameClaim
		for _, k := range keys {
			cs = append(cs, chat.NameClaim{Key: k, Holder: holder})
		}
		taken, err := n.ClaimNames(ctx, cs, at, at.Add(30*time.Second))
		if err != nil {
			t.Fatalf("ClaimNames(%s, %v): %v", holder, keys, err)
		}
		return taken
	}
	steps := []struct {
		what   string
		at     time.Time
		holder string
		keys   []string
		want   []string
	}{
		{"first claims", t0, "~g1", []string{"carol", "dave"}, nil},
		{"another holder", t0.Add(time.Second), "~g2", []string{"carol", "erin"}, []string{"carol"}},
		{"the holder renews", t0.Add(20 * time.Second), "~g1", []string{"carol"}, nil},
		{"still held after the first lease's end", t0.Add(31 * time.Second), "~g2", []string{"carol"}, []string{"carol"}},
		{"free once the renewed lease ends", t0.Add(50 * time.Second), "~g2", []string{"carol"}, nil},
		{"now the first holder is refused", t0.Add(51 * time.Second), "~g1", []string{"carol", "dave"}, []string{"carol"}},
	}
	for _, st := range steps {
		if diff := cmp.Diff(st.want, claim(st.at, st.holder, st.keys...)); diff != "" {
			t.Errorf("%s: taken (-want +got):\n%s", st.what, diff)
		}
	}
	at := t0.Add(52 * time.Second)
	if got := claim(at, "~g2", "erin"); got != nil {
		t.Errorf("~g2 renewing erin after its lease ended, taken = %v, want none", got)
	}
	if err := n.ReleaseName(ctx, "erin", "~g1"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"erin"}, claim(at, "~g3", "erin")); diff != "" {
		t.Errorf("after a release by someone else, erin taken (-want +got):\n%s", diff)
	}
	if err := n.ReleaseName(ctx, "erin", "~g2"); err != nil {
		t.Fatal(err)
	}
	if got := claim(at, "~g3", "erin"); got != nil {
		t.Errorf("after its holder released erin, taken = %v, want none", got)
	}
	if err := n.ReleaseName(ctx, "nobody", "~g2"); err != nil {
		t.Errorf("ReleaseName of a free key: %v", err)
	}

	// NameHolder: who holds a key's lease at a time, "" when nobody.
	// carol's lease by ~g2 runs from t0+50s to t0+80s; erin's by ~g3
	// from t0+52s to t0+82s; dave's (~g1, claimed at t0+51s) to t0+81s.
	holders := []struct {
		key  string
		at   time.Time
		want string
	}{
		{"carol", t0.Add(60 * time.Second), "~g2"},
		{"erin", t0.Add(60 * time.Second), "~g3"},
		{"dave", t0.Add(80 * time.Second), "~g1"},
		{"dave", t0.Add(81 * time.Second), ""}, // the lease has ended
		{"carol", t0.Add(90 * time.Second), ""},
		{"nobody", t0, ""},
	}
	for _, h := range holders {
		got, err := n.NameHolder(ctx, h.key, h.at)
		if err != nil {
			t.Fatalf("NameHolder(%s): %v", h.key, err)
		}
		if got != h.want {
			t.Errorf("NameHolder(%s) at t0+%v = %q, want %q", h.key, h.at.Sub(t0), got, h.want)
		}
	}
}

// testDeleteRoomWhileAppending checks that a room deleted while writers
// append to it leaves none of their messages behind: each Append either
// commits before the deletion, which then removes its messages, or finds
// the room gone (ErrNoSuchRoom). A room made again under the name starts
// empty, at sequence 1.
func testDeleteRoomWhileAppending(t *testing.T, f Factory) {
	s := start(t, f)
	ctx := t.Context()
	const (
		rounds  = 10
		writers = 4
	)
	for round := range rounds {
		mustCreateRoom(t, s, "doomed")
		var (
			wg      sync.WaitGroup
			started = make(chan struct{}, writers)
			errs    = make([]error, writers)
		)
		for w := range writers {
			wg.Go(func() {
				signalled := false
				defer func() {
					if !signalled {
						started <- struct{}{}
					}
				}()
				for i := 0; ; i++ {
					batch := []chat.NewMessage{
						{Room: "doomed", Author: fmt.Sprintf("w%d", w), Body: "a", CMID: fmt.Sprintf("r%d-w%d-%d-a", round, w, i)},
						{Room: "doomed", Author: fmt.Sprintf("w%d", w), Body: "b"},
					}
					res, err := s.Append(ctx, batch)
					if !signalled {
						signalled = true
						started <- struct{}{}
					}
					if err != nil {
						errs[w] = err
						return
					}
					if errors.Is(res[0].Err, chat.ErrNoSuchRoom) {
						return // deleted
					}
					if res[0].Err != nil {
						errs[w] = res[0].Err
						return
					}
				}
			})
		}
		for range writers {
			<-started
		}
		if err := s.DeleteRoom(ctx, "doomed"); err != nil {
			t.Fatalf("round %d: DeleteRoom: %v", round, err)
		}
		wg.Wait()
		for w, err := range errs {
			if err != nil {
				t.Fatalf("round %d: writer %d: %v", round, w, err)
			}
		}
		mustCreateRoom(t, s, "doomed")
		if got := allHistory(t, s, "doomed"); len(got) != 0 {
			t.Fatalf("round %d: the room made again holds %d messages of the deleted one, first %+v", round, len(got), got[0])
		}
		if got := mustAppend(t, s, []chat.NewMessage{{Room: "doomed", Author: "alice", Body: "fresh"}}); got[0].Seq != 1 {
			t.Fatalf("round %d: first message of the room made again has seq %d, want 1", round, got[0].Seq)
		}
		if err := s.DeleteRoom(ctx, "doomed"); err != nil {
			t.Fatal(err)
		}
	}
}
