package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLayout(t *testing.T) {
	tests := []struct {
		name           string
		cfg            Config
		wantRooms      int // 0: check sizes only
		minSize        int
		maxSize        int
		wantPublishers int
	}{
		{"fanout", Config{Workload: workloadFanout, Clients: 100, Publishers: 7}, 1, 100, 100, 7},
		{"storm has no publishers", Config{Workload: workloadStorm, Clients: 50}, 1, 50, 50, 0},
		{"idle has no publishers", Config{Workload: workloadIdle, Clients: 50}, 1, 50, 50, 0},
		{"durable: a room each", Config{Workload: workloadDurable, Clients: 30}, 30, 1, 1, 30},
		{"rooms of 10-50", Config{Workload: workloadRooms, Clients: 3000}, 0, 10, 59, -1},
		{"rooms: fewer clients than the smallest room", Config{Workload: workloadRooms, Clients: 4}, 1, 4, 4, 1},
		{"rooms of 2-3", Config{Workload: workloadRooms, Clients: 101, RoomMin: 2, RoomMax: 3}, 0, 2, 4, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.setDefaults()
			l := newLayout(&cfg)
			if tc.wantRooms > 0 && len(l.rooms) != tc.wantRooms {
				t.Errorf("rooms = %d, want %d", len(l.rooms), tc.wantRooms)
			}
			sizes := make([]int, len(l.rooms))
			for i, r := range l.roomOf {
				sizes[r]++
				if l.creator[i] != (i == 0 || l.roomOf[i-1] != r) {
					t.Errorf("client %d: creator = %v; want the first of each room", i, l.creator[i])
				}
			}
			for r, n := range sizes {
				if n < tc.minSize || n > tc.maxSize {
					t.Errorf("room %d (%s) holds %d, want %d to %d", r, l.rooms[r], n, tc.minSize, tc.maxSize)
				}
			}
			want := tc.wantPublishers
			if want < 0 {
				want = len(l.rooms) // one per room
			}
			if len(l.publishers) != want {
				t.Errorf("publishers = %d, want %d", len(l.publishers), want)
			}
			// rooms and durable: one publisher per room, its creator.
			if tc.wantPublishers < 0 || cfg.Workload == workloadDurable {
				seen := map[int]bool{}
				for _, p := range l.publishers {
					if !l.creator[p] || seen[l.roomOf[p]] {
						t.Errorf("publisher %d (room %d): want the creator of a room of its own", p, l.roomOf[p])
					}
					seen[l.roomOf[p]] = true
				}
			}
			// Creators connect first, then the rest; everyone once.
			if got := slices.Sorted(slices.Values(l.order)); !slices.Equal(got, seq(cfg.Clients)) {
				t.Errorf("order is not a permutation of the clients: %v", l.order)
			}
			for k, i := range l.order {
				if l.creator[i] != (k < len(l.rooms)) {
					t.Errorf("order[%d] = client %d (creator %v); want the %d creators first", k, i, l.creator[i], len(l.rooms))
					break
				}
			}
			// Same config, same rooms: runs and targets compare.
			if again := newLayout(&cfg); !slices.Equal(again.roomOf, l.roomOf) {
				t.Error("a second layout of the same config differs")
			}
		})
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// TestRunWorkloads runs each workload against an in-process hubbub server.
func TestRunWorkloads(t *testing.T) {
	url := startServer(t)
	tests := []struct {
		name  string
		cfg   Config
		check func(t *testing.T, r *Result)
	}{
		{"rooms", Config{Workload: workloadRooms, Clients: 60, RoomMin: 5, RoomMax: 15, Rate: 40, Room: "wrooms"}, func(t *testing.T, r *Result) {
			if r.Rooms < 4 || r.Rooms > 12 || r.Publishers != r.Rooms {
				t.Errorf("Rooms, Publishers = %d, %d; want 4–12 rooms of 5–15, a publisher each", r.Rooms, r.Publishers)
			}
			// Each message reaches its room only: far fewer than acked × n.
			if r.Received >= r.Acked*int64(r.Connected)/2 {
				t.Errorf("Received = %d of %d acked to %d clients: messages leaked across rooms?", r.Received, r.Acked, r.Connected)
			}
		}},
		{"durable", Config{Workload: workloadDurable, Clients: 8, Rate: 200, Room: "wdur"}, func(t *testing.T, r *Result) {
			if r.Received != r.Acked || r.Rooms != 8 {
				t.Errorf("Received, Acked, Rooms = %d, %d, %d; want each message delivered once, 8 rooms", r.Received, r.Acked, r.Rooms)
			}
			// 200 messages offered over 1 s: acked/s is at most about 200,
			// less when the machine is slow to answer.
			if r.AckedPerSec <= 0 || r.AckedPerSec > 210 || r.AckP99 <= 0 {
				t.Errorf("AckedPerSec = %.0f, AckP99 = %.1f ms; want up to about 200/s and a latency", r.AckedPerSec, r.AckP99)
			}
		}},
		{"storm", Config{Workload: workloadStorm, Clients: 40, Workers: 10, Room: "wstorm"}, func(t *testing.T, r *Result) {
			if r.Sent != 0 || r.Publishers != 0 || r.ConnectsPerSec <= 0 {
				t.Errorf("Sent, Publishers, ConnectsPerSec = %d, %d, %.0f; want 0, 0, > 0", r.Sent, r.Publishers, r.ConnectsPerSec)
			}
			if r.Presence <= int64(r.Connected) {
				t.Errorf("Presence = %d; want the joins of 40 users announced to the members already there, more than %d", r.Presence, r.Connected)
			}
		}},
		// One account for all (guests cannot share a name): every client
		// connects and joins, and the room holds one user throughout, so
		// each client hears of one join at most, where distinct names make
		// every join an event for every member already there (above).
		{"storm, shared name", Config{Workload: workloadStorm, Clients: 30, Workers: 10, Room: "wshared", SharedName: true}, func(t *testing.T, r *Result) {
			if r.Presence > int64(r.Connected) {
				t.Errorf("Presence = %d; want at most one join per client, %d", r.Presence, r.Connected)
			}
		}},
		{"fanout, shared name", Config{Workload: workloadFanout, Clients: 20, Publishers: 2, Rate: 40, Room: "wsharedf", SharedName: true}, func(t *testing.T, r *Result) {
			if r.Presence > int64(r.Connected) || r.Received != r.Acked*20 {
				t.Errorf("Presence, Received = %d, %d; want at most %d, %d", r.Presence, r.Received, r.Connected, r.Acked*20)
			}
		}},
		{"idle", Config{Workload: workloadIdle, Clients: 20, Hold: 300 * time.Millisecond, Room: "widle"}, func(t *testing.T, r *Result) {
			if r.Sent != 0 || r.Held != 0.3 {
				t.Errorf("Sent, Held = %d, %v; want 0, 0.3", r.Sent, r.Held)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.URL, cfg.Duration, cfg.Drain, cfg.Settle = url, time.Second, 5*time.Second, 200*time.Millisecond
			res, err := Run(t.Context(), cfg)
			if err != nil {
				t.Fatalf("Run: %v (result %+v)", err, res)
			}
			if err := res.Check(); err != nil {
				t.Errorf("Check: %v", err)
			}
			if res.Target != targetHubbub || res.Workload != cfg.Workload || res.Connected != cfg.Clients {
				t.Errorf("Target, Workload, Connected = %s, %s, %d; want hubbub, %s, %d", res.Target, res.Workload, res.Connected, cfg.Workload, cfg.Clients)
			}
			if res.Received != res.Expected || res.Loss != 0 || res.Gaps != 0 || res.Duplicates != 0 || !res.Drained {
				t.Errorf("Received %d of Expected %d, Loss %d, Gaps %d, Duplicates %d, Drained %v", res.Received, res.Expected, res.Loss, res.Gaps, res.Duplicates, res.Drained)
			}
			if publishes(cfg.Workload) && (res.Acked != res.Sent || res.Sent == 0) {
				t.Errorf("Sent, Acked = %d, %d; want equal and positive", res.Sent, res.Acked)
			}
			tc.check(t, &res)
		})
	}
}

func TestUnsupportedWorkloads(t *testing.T) {
	for _, tc := range []struct{ target, workload, want string }{
		{targetGorilla, workloadRooms, "no rooms"},
		{targetGorilla, workloadDurable, "persists nothing"},
		{targetCentrifugo, workloadDurable, "persists nothing"},
		{targetHubbub, workloadDurable, ""},
		{targetCentrifugo, workloadRooms, ""},
	} {
		_, err := Run(t.Context(), Config{Target: tc.target, Workload: tc.workload, URL: "ws://127.0.0.1:1/ws", Clients: 1})
		if tc.want == "" {
			if err == nil || strings.Contains(err.Error(), "workload") {
				t.Errorf("Run(%s, %s) = %v; want only a dial error", tc.target, tc.workload, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%s, %s) = %v; want an error saying %q", tc.target, tc.workload, err, tc.want)
		}
	}
}
