package hub_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/hubbub-chat/hubbub/internal/hub"
	"github.com/hubbub-chat/hubbub/internal/membroker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type member struct {
	mu  sync.Mutex
	got []string
}

func (m *member) Deliver(p []byte) {
	m.mu.Lock()
	m.got = append(m.got, string(p))
	m.mu.Unlock()
}

func (m *member) received() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.got...)
}

func TestPresence(t *testing.T) {
	b := membroker.New()
	defer b.Close()
	h := hub.New(b)
	a1, a2, bob := &member{}, &member{}, &member{}
	type step struct {
		name      string
		do        func() bool // returns first (join) or last (leave)
		wantFlag  bool
		wantUsers []string
	}
	join := func(m *member, u string) func() bool {
		return func() bool {
			first, _, err := h.Join("den", m, u)
			if err != nil {
				t.Fatal(err)
			}
			return first
		}
	}
	leave := func(m *member) func() bool {
		return func() bool { last, _ := h.Leave("den", m); return last }
	}
	steps := []step{
		{"alice's first socket joins", join(a1, "alice"), true, []string{"alice"}},
		{"alice's second socket joins", join(a2, "alice"), false, []string{"alice"}},
		{"joining twice is harmless", join(a2, "alice"), false, []string{"alice"}},
		{"bob joins", join(bob, "bob"), true, []string{"alice", "bob"}},
		{"alice's first socket leaves", leave(a1), false, []string{"alice", "bob"}},
		{"alice's last socket leaves", leave(a2), true, []string{"bob"}},
		{"leaving again reports nothing", leave(a2), false, []string{"bob"}},
		{"bob leaves", leave(bob), true, []string{}},
	}
	for _, s := range steps {
		if got := s.do(); got != s.wantFlag {
			t.Errorf("%s: flag = %v, want %v", s.name, got, s.wantFlag)
		}
		users := h.Users("den")
		if users == nil {
			users = []string{}
		}
		if diff := cmp.Diff(s.wantUsers, users); diff != "" {
			t.Errorf("%s: users (-want +got):\n%s", s.name, diff)
		}
		if got := h.Online("den"); got != len(s.wantUsers) {
			t.Errorf("%s: online = %d, want %d", s.name, got, len(s.wantUsers))
		}
	}
}

func TestFanOutSharesBytesAndStopsAfterLeave(t *testing.T) {
	b := membroker.New()
	defer b.Close()
	h := hub.New(b)
	in, out := &member{}, &member{}
	h.Join("den", in, "alice")
	h.Join("den", out, "bob")
	b.Publish(context.Background(), "den", []byte("one"))
	h.Leave("den", out)
	b.Publish(context.Background(), "den", []byte("two"))
	h.Leave("den", in) // the last member: the subscription ends
	b.Publish(context.Background(), "den", []byte("three"))
	if diff := cmp.Diff([]string{"one", "two"}, in.received()); diff != "" {
		t.Errorf("stayed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"one"}, out.received()); diff != "" {
		t.Errorf("left (-want +got):\n%s", diff)
	}
}
