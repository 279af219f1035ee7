package server

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestJoinedRooms: joinedRooms answers as a map would, below and above
// joinedMapAt, through adds and removes in any order.
func TestJoinedRooms(t *testing.T) {
	room := func(i int) string { return fmt.Sprint("room", i) }
	tests := []struct {
		name string
		ops  []int // i > 0 joins room i, i < 0 leaves room -i
	}{
		{"none", nil},
		{"one", []int{1}},
		{"one, left", []int{1, -1}},
		{"leave one not joined", []int{1, -2}},
		{"the middle one left", []int{1, 2, 3, -2}},
		{"up to the slice's end", seq(1, joinedMapAt)},
		{"past it", seq(1, joinedMapAt+1)},
		{"past it, then all left", append(seq(1, 3*joinedMapAt), seq(-3*joinedMapAt, -1)...)},
		{"past it, half left, more joined", append(append(seq(1, 2*joinedMapAt), seq(-joinedMapAt, -1)...), seq(100, 110)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var j joinedRooms
			want := map[string]bool{}
			for _, op := range tt.ops {
				if op > 0 {
					if _, in := j.get(room(op)); !in {
						j.add(&joinedRoom{name: room(op)})
					}
					want[room(op)] = true
					continue
				}
				if got := j.remove(room(-op)); got != want[room(-op)] {
					t.Errorf("remove(%s) = %v, want %v", room(-op), got, want[room(-op)])
				}
				delete(want, room(-op))
			}
			var wantNames []string
			for name := range want {
				wantNames = append(wantNames, name)
			}
			slices.Sort(wantNames)
			got := j.names()
			slices.Sort(got)
			if diff := cmp.Diff(wantNames, got); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
			for i := -5; i < 130; i++ {
				jr, in := j.get(room(i))
				if in != want[room(i)] || in && jr.name != room(i) {
					t.Errorf("get(%s) = %v, %v; want in = %v", room(i), jr, in, want[room(i)])
				}
			}
		})
	}
}

// seq returns from, from±1, ..., to.
func seq(from, to int) []int {
	var out []int
	step := 1
	if to < from {
		step = -1
	}
	for i := from; i != to+step; i += step {
		out = append(out, i)
	}
	return out
}
