package hub_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestUserMembers: a user's event reaches each of its registered members
// once, on one node, however they were added and removed.
func TestUserMembers(t *testing.T) {
	tests := []struct {
		name string
		ops  []string // "+i" adds member i to alice, "-i" removes it
		want []int    // the members that get alice's event
	}{
		{"one", []string{"+0"}, []int{0}},
		{"added twice", []string{"+0", "+0"}, []int{0}},
		{"three", []string{"+0", "+1", "+2"}, []int{0, 1, 2}},
		{"first removed", []string{"+0", "+1", "+2", "-0"}, []int{1, 2}},
		{"middle removed", []string{"+0", "+1", "+2", "-1"}, []int{0, 2}},
		{"last removed", []string{"+0", "+1", "+2", "-2"}, []int{0, 1}},
		{"all removed, one back", []string{"+0", "+1", "-0", "-1", "+1"}, []int{1}},
		{"unknown removed", []string{"+0", "-1"}, []int{0}},
		{"none", []string{"+0", "-0"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHub(t, newBroker(t))
			ms := []*member{newMember(), newMember(), newMember()}
			for _, op := range tt.ops {
				var i int
				fmt.Sscanf(op[1:], "%d", &i)
				if op[0] == '+' {
					h.AddUser("alice", ms[i])
				} else {
					h.RemoveUser("alice", ms[i])
				}
			}
			h.UserEvent("alice", "", []byte("invited"))
			var got []int
			for i, m := range ms {
				switch n := len(m.received()); n {
				case 0:
				case 1:
					got = append(got, i)
				default:
					t.Errorf("member %d got the event %d times", i, n)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("members reached (-want +got):\n%s", diff)
			}
		})
	}
}
