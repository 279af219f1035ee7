package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// sanctionKey is what identifies a sanction.
type sanctionKey struct{ room, user, kind string }

func keyOf(sn chat.Sanction) sanctionKey { return sanctionKey{sn.Room, sn.User, sn.Kind} }

// storedSanction returns sn as a store returns it.
func storedSanction(sn chat.Sanction) chat.Sanction {
	sn.Until = ms(sn.Until)
	return sn
}

func testSanctions(t *testing.T, f Factory) {
	s := startAccess(t, f)
	ctx := t.Context()
	const lobby, general = chat.DefaultRoom, "general"
	mustCreateRoom(t, s, general)
	now := t0

	// The steps run in order, each on what the ones before left. A step
	// sets sn, or clears the sanction with sn's room, user and kind.
	steps := []struct {
		name    string
		sn      chat.Sanction
		clear   bool
		wantErr error
	}{
		{name: "ban until lifted", sn: chat.Sanction{Room: lobby, User: "alice", Kind: chat.Ban, By: "root", Reason: "spam"}},
		{name: "mute for an hour", sn: chat.Sanction{Room: lobby, User: "alice", Kind: chat.Mute, Until: now.Add(time.Hour), By: "mod", Reason: "shouting"}},
		{name: "ended already", sn: chat.Sanction{Room: general, User: "alice", Kind: chat.Ban, Until: now.Add(-time.Minute), By: "mod"}},
		{name: "guest", sn: chat.Sanction{Room: general, User: "guest-7", Kind: chat.Ban, Until: now.Add(24 * time.Hour).In(inZone), Name: "Gus 7"}},
		{name: "guest under another name", sn: chat.Sanction{Room: general, User: "guest-7", Kind: chat.Ban, Until: now.Add(48 * time.Hour), By: "mod", Name: "Gus Ündine"}},
		{name: "guest muted", sn: chat.Sanction{Room: general, User: "guest-7", Kind: chat.Mute, By: "mod", Name: "Gus 7"}},
		{name: "name dropped on replace", sn: chat.Sanction{Room: general, User: "guest-7", Kind: chat.Mute, By: "mod"}},
		{name: "sub-millisecond until", sn: chat.Sanction{Room: general, User: "bob", Kind: chat.Mute, Until: now.Add(time.Minute + 1999*time.Microsecond)}},
		{name: "replace", sn: chat.Sanction{Room: lobby, User: "alice", Kind: chat.Ban, Until: now.Add(10 * time.Minute), By: "mod", Reason: "second thoughts"}},
		{name: "replace ended with until lifted", sn: chat.Sanction{Room: general, User: "alice", Kind: chat.Ban, By: "root"}},
		{name: "replace active with ended", sn: chat.Sanction{Room: general, User: "bob", Kind: chat.Mute, Until: now.Add(-time.Millisecond), By: "mod"}},
		{name: "user name is exact", sn: chat.Sanction{Room: lobby, User: "Alice", Kind: chat.Mute, By: "mod"}},
		{name: "clear", sn: chat.Sanction{Room: lobby, User: "alice", Kind: chat.Mute}, clear: true},
		{name: "clear again", sn: chat.Sanction{Room: lobby, User: "alice", Kind: chat.Mute}, clear: true},
		{name: "clear a missing one", sn: chat.Sanction{Room: general, User: "carol", Kind: chat.Mute}, clear: true},
		{name: "clear an ended one", sn: chat.Sanction{Room: general, User: "bob", Kind: chat.Mute}, clear: true},
		{name: "no such room", sn: chat.Sanction{Room: "nope", User: "alice", Kind: chat.Ban}, wantErr: chat.ErrNoSuchRoom},
		{name: "room name is exact", sn: chat.Sanction{Room: "General", User: "alice", Kind: chat.Mute}, wantErr: chat.ErrNoSuchRoom},
		{name: "clear in no such room", sn: chat.Sanction{Room: "nope", User: "alice", Kind: chat.Ban}, clear: true},
		{name: "clear one of two kinds", sn: chat.Sanction{Room: lobby, User: "alice", Kind: chat.Ban}, clear: true},
	}

	// After each step, every sanction of these is checked against model.
	var (
		rooms = []string{lobby, general, "nope"}
		users = []string{"alice", "Alice", "bob", "carol", "guest-7"}
		kinds = []string{chat.Ban, chat.Mute}
		model = make(map[sanctionKey]chat.Sanction)
	)
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var err error
			if st.clear {
				err = s.ClearSanction(ctx, st.sn.Room, st.sn.User, st.sn.Kind)
			} else {
				err = s.SetSanction(ctx, st.sn)
			}
			if !errors.Is(err, st.wantErr) {
				t.Fatalf("err = %v, want %v", err, st.wantErr)
			}
			switch {
			case err != nil:
			case st.clear:
				delete(model, keyOf(st.sn))
			default:
				model[keyOf(st.sn)] = storedSanction(st.sn)
			}

			for _, room := range rooms {
				for _, user := range users {
					for _, kind := range kinds {
						got, gotOK, err := s.ActiveSanction(ctx, room, user, kind, now)
						if err != nil {
							t.Fatalf("ActiveSanction(%q, %q, %q): %v", room, user, kind, err)
						}
						want, ok := model[sanctionKey{room, user, kind}]
						wantOK := ok && (want.Until.IsZero() || now.Before(want.Until))
						if gotOK != wantOK {
							t.Errorf("ActiveSanction(%q, %q, %q): active = %v, want %v", room, user, kind, gotOK, wantOK)
							continue
						}
						if !wantOK {
							continue
						}
						if diff := cmp.Diff(want, got); diff != "" {
							t.Errorf("ActiveSanction(%q, %q, %q) mismatch (-want +got):\n%s", room, user, kind, diff)
						}
					}
				}
				// RoomSanctions answers the same questions in one call.
				all, err := s.RoomSanctions(ctx, room, now, 1000)
				if err != nil {
					t.Fatalf("RoomSanctions(%q): %v", room, err)
				}
				got := make(map[sanctionKey]chat.Sanction)
				for _, sn := range all {
					got[keyOf(sn)] = sn
				}
				want := make(map[sanctionKey]chat.Sanction)
				for k, sn := range model {
					if k.room == room && (sn.Until.IsZero() || now.Before(sn.Until)) {
						want[k] = sn
					}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("RoomSanctions(%q) mismatch (-want +got):\n%s", room, diff)
				}
				if len(want) > 1 {
					one, err := s.RoomSanctions(ctx, room, now, 1)
					if err != nil || len(one) != 1 {
						t.Errorf("RoomSanctions(%q, limit 1) = %d sanctions, %v; want 1", room, len(one), err)
					}
				}
			}
		})
	}
}

// testSanctionUntil checks where a sanction's end falls: it is active while
// now is before Until, and not from Until on.
func testSanctionUntil(t *testing.T, f Factory) {
	s := startAccess(t, f)
	ctx := t.Context()
	until := t0.Add(time.Hour + 250*time.Millisecond)
	timed := chat.Sanction{Room: chat.DefaultRoom, User: "alice", Kind: chat.Mute, Until: until, By: "mod"}
	forever := chat.Sanction{Room: chat.DefaultRoom, User: "bob", Kind: chat.Mute, By: "mod"}
	for _, sn := range []chat.Sanction{timed, forever} {
		if err := s.SetSanction(ctx, sn); err != nil {
			t.Fatalf("SetSanction(%+v): %v", sn, err)
		}
	}

	tests := []struct {
		name string
		sn   chat.Sanction
		now  time.Time
		want bool
	}{
		{"long before", timed, t0.AddDate(-1, 0, 0), true},
		{"before", timed, t0, true},
		{"a millisecond before", timed, until.Add(-time.Millisecond), true},
		{"a nanosecond before", timed, until.Add(-time.Nanosecond), true},
		{"before, other zone", timed, until.Add(-time.Millisecond).In(inZone), true},
		{"at until", timed, until, false},
		{"at until, other zone", timed, until.In(inZone), false},
		{"a nanosecond after", timed, until.Add(time.Nanosecond), false},
		{"a millisecond after", timed, until.Add(time.Millisecond), false},
		{"a year after", timed, until.AddDate(1, 0, 0), false},
		{"until lifted, now", forever, t0, true},
		{"until lifted, long before", forever, t0.AddDate(-10, 0, 0), true},
		{"until lifted, far future", forever, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := s.ActiveSanction(ctx, tt.sn.Room, tt.sn.User, tt.sn.Kind, tt.now)
			if err != nil {
				t.Fatalf("ActiveSanction: %v", err)
			}
			if ok != tt.want {
				t.Fatalf("ActiveSanction at %v: active = %v, want %v", tt.now, ok, tt.want)
			}
			if !ok {
				return
			}
			if diff := cmp.Diff(tt.sn, got); diff != "" {
				t.Errorf("ActiveSanction mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// sanctionEnder is the store methods testEndBans and testEndMutes check
// (the server's sanctionEnder).
type sanctionEnder interface {
	EndBans(ctx context.Context, now time.Time, limit int) ([]chat.Sanction, error)
	EndMutes(ctx context.Context, now time.Time, limit int) ([]chat.Sanction, error)
}

// testEndBans: EndBans hands over the timed bans that have ended, each
// once, however many callers ask at once, with all they held (a guest's
// Name included); bans still running, bans until lifted and mutes stay.
func testEndBans(t *testing.T, f Factory) { testEndSanctions(t, f, chat.Ban) }

// testEndMutes: EndMutes is EndBans for mutes; bans stay.
func testEndMutes(t *testing.T, f Factory) { testEndSanctions(t, f, chat.Mute) }

// testEndSanctions checks EndBans (kind chat.Ban) or EndMutes (chat.Mute).
func testEndSanctions(t *testing.T, f Factory, kind string) {
	s := startAccess(t, f)
	e, ok := chat.Access(s).(sanctionEnder)
	if !ok {
		t.Fatalf("%T has no EndBans and EndMutes", s)
	}
	end, other := e.EndBans, chat.Mute
	if kind == chat.Mute {
		end, other = e.EndMutes, chat.Ban
	}
	ctx := t.Context()
	const room = chat.DefaultRoom
	now := t0
	ended := []chat.Sanction{
		{Room: room, User: "alice", Kind: kind, Until: now.Add(-time.Minute), By: "root", Reason: "spam"},
		{Room: room, User: "~g0123456789abcdef0123", Kind: kind, Until: now, By: "mod", Name: "Gus"},
		{Room: room, User: "~gfedcba9876543210fedc", Kind: kind, Until: now.Add(-time.Second), By: "mod"},
	}
	staying := []chat.Sanction{
		{Room: room, User: "bob", Kind: kind, Until: now.Add(time.Millisecond), By: "root"},
		{Room: room, User: "carl", Kind: kind, By: "root"},
		{Room: room, User: "dora", Kind: other, Until: now.Add(-time.Minute), By: "root"},
		{Room: room, User: "alice", Kind: other, Until: now.Add(-time.Minute), By: "root"},
	}
	for _, sn := range append(slices.Clone(ended), staying...) {
		if err := s.SetSanction(ctx, sn); err != nil {
			t.Fatal(err)
		}
	}
	// Callers at once: every ended sanction goes to exactly one of them.
	const callers = 4
	results := make([][]chat.Sanction, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { results[i], errs[i] = end(ctx, now, 100) })
	}
	wg.Wait()
	var got []chat.Sanction
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("ending %ss: %v", kind, errs[i])
		}
		got = append(got, results[i]...)
	}
	byUser := func(a, b chat.Sanction) int { return strings.Compare(a.User, b.User) }
	slices.SortFunc(got, byUser)
	want := make([]chat.Sanction, 0, len(ended))
	for _, sn := range ended {
		want = append(want, storedSanction(sn))
	}
	slices.SortFunc(want, byUser)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ended %ss (-want +got):\n%s", kind, diff)
	}
	if again, err := end(ctx, now, 100); err != nil || len(again) != 0 {
		t.Errorf("ending %ss again = %v, %v; want none", kind, again, err)
	}
	for _, sn := range staying {
		if _, active, err := s.ActiveSanction(ctx, sn.Room, sn.User, sn.Kind, now.Add(-2*time.Minute)); err != nil || !active {
			t.Errorf("%s of %s after ending %ss: active %v, %v; want it kept", sn.Kind, sn.User, kind, active, err)
		}
	}
}
