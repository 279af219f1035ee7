package hub_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/hub"
	"github.com/hubbub-chat/hubbub/internal/membroker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// member records what is delivered to it and signals each arrival.
type member struct {
	mu   sync.Mutex
	got  []string
	more chan struct{}
}

func newMember() *member { return &member{more: make(chan struct{}, 1)} }

func (m *member) Deliver(p []byte) {
	m.mu.Lock()
	m.got = append(m.got, string(p))
	m.mu.Unlock()
	select {
	case m.more <- struct{}{}:
	default:
	}
}

func (m *member) received() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.got...)
}

// wait returns what arrived once n payloads did, or what is there after
// the timeout.
func (m *member) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if got := m.received(); len(got) >= n {
			return got
		}
		select {
		case <-m.more:
		case <-deadline:
			return m.received()
		}
	}
}

func newHub(t *testing.T, b chat.Broker) *hub.Hub {
	t.Helper()
	h, err := hub.New(hub.Config{Broker: b, MemberList: 3, QuietList: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func newBroker(t *testing.T) *membroker.Broker {
	b := membroker.New()
	t.Cleanup(func() { b.Close() })
	return b
}

func join(t *testing.T, h *hub.Hub, room string, m hub.Member, user string) hub.Presence {
	t.Helper()
	p, err := h.Join(t.Context(), room, m, user)
	if err != nil {
		t.Fatalf("Join(%s, %s): %v", room, user, err)
	}
	return p
}

func TestPresence(t *testing.T) {
	h := newHub(t, newBroker(t))
	a1, a2, bob, carol, dave := newMember(), newMember(), newMember(), newMember(), newMember()
	type step struct {
		name       string
		do         func() (flag bool, online int, members []string)
		wantFlag   bool
		wantOnline int
		wantList   []string // what Join returns; nil for leaves
	}
	joinStep := func(m *member, u string) func() (bool, int, []string) {
		return func() (bool, int, []string) {
			p := join(t, h, "den", m, u)
			return p.First, p.Online, p.Members
		}
	}
	leaveStep := func(m *member) func() (bool, int, []string) {
		return func() (bool, int, []string) {
			last, _, online := h.Leave("den", m)
			return last, online, nil
		}
	}
	steps := []step{
		{"alice's first socket joins", joinStep(a1, "alice"), true, 1, []string{"alice"}},
		{"alice's second socket joins", joinStep(a2, "alice"), false, 1, []string{"alice"}},
		{"joining twice is harmless", joinStep(a2, "alice"), false, 1, []string{"alice"}},
		{"dave joins", joinStep(dave, "dave"), true, 2, []string{"alice", "dave"}},
		{"bob joins, in order", joinStep(bob, "bob"), true, 3, []string{"alice", "bob", "dave"}},
		{"past MemberList the list is the first QuietList", joinStep(carol, "carol"), true, 4, []string{"alice", "bob"}},
		{"alice's first socket leaves", leaveStep(a1), false, 4, nil},
		{"alice's last socket leaves", leaveStep(a2), true, 3, nil},
		{"leaving again reports nothing new", leaveStep(a2), false, 3, nil},
		{"bob leaves", leaveStep(bob), true, 2, nil},
	}
	for _, s := range steps {
		flag, online, list := s.do()
		if flag != s.wantFlag || online != s.wantOnline {
			t.Errorf("%s: flag, online = %v, %d, want %v, %d", s.name, flag, online, s.wantFlag, s.wantOnline)
		}
		if diff := cmp.Diff(s.wantList, list); diff != "" {
			t.Errorf("%s: members (-want +got):\n%s", s.name, diff)
		}
	}
	if diff := cmp.Diff([]string{"carol", "dave"}, h.Members("den", 10)); diff != "" {
		t.Errorf("Members (-want +got):\n%s", diff)
	}
	if got := h.Online("den"); got != 2 {
		t.Errorf("Online = %d, want 2", got)
	}
}

// TestMessagesInOrderOnce: messages of several rooms, handed over in
// sequence order by one goroutine per room, reach each member of their
// room in that order, once, and reach no other room.
func TestMessagesInOrderOnce(t *testing.T) {
	h := newHub(t, newBroker(t))
	const rooms, perRoom = 8, 200
	members := make([]*member, rooms)
	for i := range rooms {
		members[i] = newMember()
		join(t, h, fmt.Sprint("room", i), members[i], "u")
	}
	var wg sync.WaitGroup
	for i := range rooms {
		wg.Go(func() {
			for seq := int64(1); seq <= perRoom; seq++ {
				h.Message(fmt.Sprint("room", i), seq, fmt.Appendf(nil, "%d/%d", i, seq), false)
			}
		})
	}
	wg.Wait()
	for i, m := range members {
		var want []string
		for seq := 1; seq <= perRoom; seq++ {
			want = append(want, fmt.Sprintf("%d/%d", i, seq))
		}
		if diff := cmp.Diff(want, m.wait(t, perRoom)); diff != "" {
			t.Errorf("room%d (-want +got):\n%s", i, diff)
		}
	}
}

// TestHealDeliversOnlyWhatIsNew: a message read back from the store reaches
// the members only if the room has not delivered its sequence; Seen sets
// the starting point of a room that delivered nothing yet.
func TestHealDeliversOnlyWhatIsNew(t *testing.T) {
	h := newHub(t, newBroker(t))
	m := newMember()
	join(t, h, "den", m, "u")
	if got := h.Heads(); len(got) != 0 {
		t.Errorf("Heads before Seen = %v, want none", got)
	}
	h.Seen("den", 4)
	h.Heal("den", 3, []byte("3"), false) // the join reply covered it
	h.Heal("den", 5, []byte("5"), false)
	h.Seen("den", 9) // ignored: the room has a head
	h.Message("den", 6, []byte("6"), false)
	h.Heal("den", 6, []byte("6 again"), false)
	h.Heal("den", 7, []byte("7"), false)
	h.Message("den", 7, []byte("7 again"), false)
	if diff := cmp.Diff([]string{"5", "6", "7"}, m.wait(t, 3)); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int64{"den": 7}, h.Heads()); diff != "" {
		t.Errorf("Heads (-want +got):\n%s", diff)
	}
	if got := h.Stats().Stale; got != 3 {
		t.Errorf("Stats().Stale = %d, want 3", got)
	}
}

// TestRestart: a room whose name was taken by a new room starts its
// sequence over: the new room's messages, whose sequences the old room
// already delivered, reach the members, and what the old room kept for
// Recent is gone.
func TestRestart(t *testing.T) {
	h := newHub(t, newBroker(t))
	m := newMember()
	join(t, h, "den", m, "u")
	h.Seen("den", 0)
	for seq := range int64(3) {
		h.Message("den", seq+1, fmt.Appendf(nil, "old%d", seq+1), true)
	}
	m.wait(t, 3)
	if _, _, ok := h.Recent("den", 0, 10); !ok {
		t.Fatal("Recent before Restart: nothing kept")
	}
	h.Restart("den", 0)
	for deadline := time.Now().Add(5 * time.Second); h.Heads()["den"] != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("Heads after Restart: %v, want den at 0", h.Heads())
		}
		runtime.Gosched()
	}
	if events, _, ok := h.Recent("den", 0, 10); ok {
		t.Errorf("Recent after Restart answered %q from the old room", events)
	}
	h.Message("den", 1, []byte("new1"), true)
	h.Heal("den", 2, []byte("new2"), true)
	if diff := cmp.Diff([]string{"old1", "old2", "old3", "new1", "new2"}, m.wait(t, 5)); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	events, last, ok := h.Recent("den", 0, 10)
	var got []string
	for _, e := range events {
		got = append(got, string(e))
	}
	if diff := cmp.Diff([]string{"new1", "new2"}, got); !ok || last != 2 || diff != "" {
		t.Errorf("Recent after Restart: last %d, ok %v, events (-want +got):\n%s", last, ok, diff)
	}
	if diff := cmp.Diff(map[string]int64{"den": 2}, h.Heads()); diff != "" {
		t.Errorf("Heads (-want +got):\n%s", diff)
	}
}

// TestTwoNodes: a message reaches the members of the node that committed it
// once (its own news coming back from the broker is skipped) and the
// members of the other node once; user events reach the user's members on
// both nodes and nobody else's.
func TestTwoNodes(t *testing.T) {
	b := newBroker(t)
	a, bh := newHub(t, b), newHub(t, b)
	onA, onB := newMember(), newMember()
	join(t, a, "den", onA, "alice")
	join(t, bh, "den", onB, "bob")
	a.Message("den", 1, []byte("m1"), false)
	onB.wait(t, 1)
	bh.Message("den", 2, []byte("m2"), false)
	onA.wait(t, 2)
	a.Event("den", []byte("typing"))
	bh.Message("den", 1, []byte("m1 from the store"), false) // stale: not delivered again
	for name, m := range map[string]*member{"on a": onA, "on b": onB} {
		if diff := cmp.Diff([]string{"m1", "m2", "typing"}, m.wait(t, 3)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	aliceA, aliceB, bobB := newMember(), newMember(), newMember()
	a.AddUser("alice", aliceA)
	bh.AddUser("alice", aliceB)
	bh.AddUser("bob", bobB)
	bh.UserEvent("alice", "", []byte("invited"))
	for name, m := range map[string]*member{"alice on a": aliceA, "alice on b": aliceB} {
		if diff := cmp.Diff([]string{"invited"}, m.wait(t, 1)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	bh.RemoveUser("alice", aliceB)
	a.UserEvent("alice", "den", []byte("kicked"))
	aliceA.wait(t, 2)
	bh.UserEvent("bob", "", []byte("sync")) // once bob has it, a stray to alice on b would have arrived
	bobB.wait(t, 1)
	if diff := cmp.Diff([]string{"invited"}, aliceB.received()); diff != "" {
		t.Errorf("alice on b after RemoveUser (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"sync"}, bobB.received()); diff != "" {
		t.Errorf("bob (-want +got):\n%s", diff)
	}
}

func TestStopsAfterLeave(t *testing.T) {
	b := newBroker(t)
	a, other := newHub(t, b), newHub(t, b)
	in, out := newMember(), newMember()
	join(t, a, "den", in, "alice")
	join(t, a, "den", out, "bob")
	other.Message("den", 1, []byte("one"), false)
	in.wait(t, 1)
	a.Leave("den", out)
	other.Message("den", 2, []byte("two"), false)
	in.wait(t, 2)
	a.Leave("den", in) // the last member: the subscription ends
	other.Message("den", 3, []byte("three"), false)
	a.Message("den", 4, []byte("four"), false)
	sync := newMember()
	join(t, a, "sync", sync, "s")
	other.Message("sync", 1, []byte("sync"), false) // the broker keeps per-publisher order
	sync.wait(t, 1)
	if diff := cmp.Diff([]string{"one", "two"}, in.received()); diff != "" {
		t.Errorf("stayed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"one"}, out.received()); diff != "" {
		t.Errorf("left (-want +got):\n%s", diff)
	}
}

// slowBroker is the real in-process broker, except that Subscribe for the
// topics in block waits until their channel is closed: a Redis or NATS
// server slow to confirm a subscription.
type slowBroker struct {
	*membroker.Broker
	block   map[string]chan struct{}
	entered chan string // receives a blocked topic when its Subscribe starts waiting
}

func newSlowBroker(t *testing.T, topic string, release chan struct{}) *slowBroker {
	return &slowBroker{Broker: newBroker(t), block: map[string]chan struct{}{topic: release}, entered: make(chan string, 16)}
}

func (b *slowBroker) Subscribe(topic string, deliver func([]byte)) (func(), error) {
	if ch := b.block[topic]; ch != nil {
		b.entered <- topic
		<-ch
	}
	return b.Broker.Subscribe(topic, deliver)
}

// TestJoinSeam: while one room's subscription is slow, joins of other rooms
// complete; the slow join returns only once subscribed, and from then on
// every message of another node reaches the joiner, in order, while local
// messages reach it from the start.
func TestJoinSeam(t *testing.T) {
	release := make(chan struct{})
	b := newSlowBroker(t, "slow", release)
	a := newHub(t, b)
	remote := newHub(t, b)

	joiner := newMember()
	joined := make(chan error, 1)
	go func() {
		_, err := a.Join(context.Background(), "slow", joiner, "alice")
		joined <- err
	}()
	<-b.entered // the joiner is in the room; its subscription waits
	// Another room on the same node joins while "slow" waits.
	fast := newMember()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := a.Join(ctx, "fast", fast, "bob"); err != nil {
		t.Fatalf("join of another room while a subscription is slow: %v", err)
	}
	select {
	case err := <-joined:
		t.Fatalf("slow join returned before its subscription: %v", err)
	default:
	}
	a.Message("slow", 1, []byte("local 1"), false) // local news needs no subscription
	if diff := cmp.Diff([]string{"local 1"}, joiner.wait(t, 1)); diff != "" {
		t.Errorf("local message while subscribing (-want +got):\n%s", diff)
	}
	close(release)
	if err := <-joined; err != nil {
		t.Fatalf("slow join: %v", err)
	}
	for seq := int64(2); seq <= 50; seq++ {
		remote.Message("slow", seq, fmt.Appendf(nil, "remote %d", seq), false)
	}
	got := joiner.wait(t, 50)
	want := []string{"local 1"}
	for seq := 2; seq <= 50; seq++ {
		want = append(want, fmt.Sprint("remote ", seq))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after the join (-want +got):\n%s", diff)
	}
}

// TestJoinGivesUp: a join whose context ends while the subscription is
// pending fails and leaves the member out; the subscription, once it
// completes for nobody, is cancelled.
func TestJoinGivesUp(t *testing.T) {
	release := make(chan struct{})
	b := newSlowBroker(t, "slow", release)
	a := newHub(t, b)
	m := newMember()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := a.Join(ctx, "slow", m, "alice")
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Join = %v, want context.Canceled", err)
	}
	if got := a.Online("slow"); got != 0 {
		t.Errorf("Online after a failed join = %d, want 0", got)
	}
	close(release)
	// The next join subscribes afresh and works.
	m2 := newMember()
	join(t, a, "slow", m2, "bob")
	remote := newHub(t, b)
	remote.Message("slow", 1, []byte("hello"), false)
	if diff := cmp.Diff([]string{"hello"}, m2.wait(t, 1)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// failingBroker is the real in-process broker whose publishing fails: a
// Redis or NATS server that is down.
type failingBroker struct{ *membroker.Broker }

var errDown = errors.New("broker down")

func (failingBroker) Publish(context.Context, string, []byte) error { return errDown }
func (failingBroker) PublishBatch(context.Context, []chat.Publication) error {
	return errDown
}

// TestBrokerDownLocalStillDelivered: with publishing failing, local members
// still get every message in order, and the failures are counted.
func TestBrokerDownLocalStillDelivered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHub(t, failingBroker{newBroker(t)})
		m := newMember()
		join(t, h, "den", m, "u")
		for seq := int64(1); seq <= 3; seq++ {
			h.Message("den", seq, fmt.Append(nil, seq), false)
		}
		synctest.Wait() // the shard and the publisher are done
		if diff := cmp.Diff([]string{"1", "2", "3"}, m.received()); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		// 3 messages, and the join's presence delta and roster request.
		if got := h.Stats(); got.PublishFailed != 5 || got.Published != 0 {
			t.Errorf("Stats = %+v, want 5 failed, 0 published", got)
		}
	})
}

// TestUserEventAfterRoomEvents: an event for a user about a room reaches
// them after the room's events handed over before it, on the node that
// sent it and on the other: a kicked user sees the room's copy of the kick
// before their own copy takes them out of the room.
func TestUserEventAfterRoomEvents(t *testing.T) {
	b := newBroker(t)
	a, other := newHub(t, b), newHub(t, b)
	onA, onOther := newMember(), newMember()
	for _, n := range []struct {
		h *hub.Hub
		m *member
	}{{a, onA}, {other, onOther}} {
		join(t, n.h, "den", n.m, "alice")
		n.h.AddUser("alice", n.m)
	}
	for i := range 20 {
		a.Event("den", fmt.Appendf(nil, "room %d", i))
		a.UserEvent("alice", "den", fmt.Appendf(nil, "user %d", i))
	}
	var want []string
	for i := range 20 {
		want = append(want, fmt.Sprint("room ", i), fmt.Sprint("user ", i))
	}
	for name, m := range map[string]*member{"sending node": onA, "other node": onOther} {
		if diff := cmp.Diff(want, m.wait(t, 40)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

// presenceLog records what OnPresence hears.
type presenceLog struct {
	mu  sync.Mutex
	got []string
}

func (l *presenceLog) on(c hub.PresenceChange) {
	l.mu.Lock()
	defer l.mu.Unlock()
	verb := "left"
	if c.Joined {
		verb = "joined"
	}
	l.got = append(l.got, fmt.Sprintf("%s %s %s (%d)", c.Room, c.User, verb, c.Online))
}

func (l *presenceLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.got
	l.got = nil
	return out
}

// TestClusterPresence: a user on one node is listed and announced on the
// others, once however many nodes hold them; a node that stops talking
// drops out of the lists after RosterTTL.
func TestClusterPresence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBroker(t)
		logs := map[string]*presenceLog{"a": {}, "b": {}, "c": {}}
		hubs := map[string]*hub.Hub{}
		for name, l := range logs {
			h, err := hub.New(hub.Config{Broker: b, RosterInterval: time.Second, RosterTTL: 3 * time.Second, OnPresence: l.on})
			if err != nil {
				t.Fatal(err)
			}
			hubs[name] = h
		}
		defer func() {
			for _, h := range hubs {
				h.Close()
			}
		}()
		ada, bob, bob2 := newMember(), newMember(), newMember()
		join(t, hubs["a"], "den", ada, "ada")
		synctest.Wait()
		join(t, hubs["b"], "den", bob, "bob")
		synctest.Wait()
		// b asked for rosters when it subscribed: it knows ada.
		if diff := cmp.Diff([]string{"ada", "bob"}, hubs["b"].Members("den", 10)); diff != "" {
			t.Errorf("members on b (-want +got):\n%s", diff)
		}
		join(t, hubs["c"], "den", bob2, "bob") // bob on a second node counts once
		synctest.Wait()
		for name, want := range map[string][]string{
			"a": {"den ada joined (1)", "den bob joined (2)"},
			"b": {"den bob joined (1)", "den ada joined (2)"},
			"c": {"den bob joined (1)", "den ada joined (2)"},
		} {
			if diff := cmp.Diff(want, logs[name].take()); diff != "" {
				t.Errorf("OnPresence on %s (-want +got):\n%s", name, diff)
			}
			if got := hubs[name].Online("den"); got != 2 {
				t.Errorf("Online on %s = %d, want 2", name, got)
			}
		}
		// bob leaves b: still on c, so nobody announces a leave.
		hubs["b"].Leave("den", bob)
		synctest.Wait()
		for name, l := range logs {
			if got := l.take(); len(got) != 0 {
				t.Errorf("OnPresence on %s after bob left one of two nodes: %q", name, got)
			}
		}
		// c dies without a word: a lists bob until RosterTTL has passed.
		hubs["c"].Close()
		delete(hubs, "c")
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := hubs["a"].Online("den"); got != 2 {
			t.Errorf("Online on a 2s after c died = %d, want 2", got)
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if diff := cmp.Diff([]string{"den bob left (1)"}, logs["a"].take()); diff != "" {
			t.Errorf("OnPresence on a after c's TTL (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"ada"}, hubs["a"].Members("den", 10)); diff != "" {
			t.Errorf("members on a (-want +got):\n%s", diff)
		}
	})
}

// stalled is a member whose Deliver blocks until release is closed: a
// fan-out that cannot keep up.
type stalled struct {
	entered chan struct{} // closed at the first Deliver
	once    sync.Once
	release chan struct{}
}

func (s *stalled) Deliver([]byte) {
	s.once.Do(func() { close(s.entered) })
	<-s.release
}

// laggard records whether it was told it lags, and what it got.
type laggard struct {
	member
	lagging atomic.Int32
}

func (l *laggard) Lagging() { l.lagging.Add(1) }

// TestMessageNeverWaits: with a room's delivery stalled, handing the hub
// more messages than any queue used to hold returns at once (the committer
// acknowledges, then hands over: it must never wait for a fan-out), and
// every message is delivered in order once the fan-out moves again.
func TestMessageNeverWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHub(t, newBroker(t))
		st := &stalled{entered: make(chan struct{}), release: make(chan struct{})}
		m := newMember()
		join(t, h, "den", st, "a")
		join(t, h, "den", m, "b")
		const n = 20000
		h.Message("den", 1, []byte("1"), false)
		<-st.entered
		for seq := int64(2); seq <= n; seq++ {
			h.Message("den", seq, fmt.Append(nil, seq), false) // would block here if bounded
		}
		if got := h.Stats().Backlog; got != n-1 {
			t.Errorf("Backlog = %d, want %d", got, n-1)
		}
		close(st.release)
		synctest.Wait()
		got := m.received()
		if len(got) != n || got[0] != "1" || got[n-1] != fmt.Sprint(n) {
			t.Fatalf("got %d messages (first %q), want %d in order", len(got), got[:min(1, len(got))], n)
		}
		for i, p := range got {
			if p != fmt.Sprint(i+1) {
				t.Fatalf("message %d = %q, want %d", i, p, i+1)
			}
		}
		if got := h.Stats().Backlog; got != 0 {
			t.Errorf("Backlog after = %d, want 0", got)
		}
	})
}

// slowOn is a member whose Deliver takes d (of the bubble's fake time)
// for the payload slow: a fan-out that falls behind.
type slowOn struct {
	slow string
	d    time.Duration
}

func (s slowOn) Deliver(p []byte) {
	if string(p) == s.slow {
		time.Sleep(s.d)
	}
}

// TestLagLimit: an event that reaches the shard later than LagLimit after
// it was handed over tells the room's laggards they lag instead of
// delivering it; members that cannot be told still get it; events in
// time are delivered as always.
func TestLagLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// No roster rounds: they would wait for the room's lock, which a
		// delivery holds.
		h, err := hub.New(hub.Config{Broker: newBroker(t), LagLimit: 10 * time.Second, RosterInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		lg, plain := &laggard{member: member{more: make(chan struct{}, 1)}}, newMember()
		join(t, h, "den", lg, "l")
		join(t, h, "den", plain, "p")
		join(t, h, "den", slowOn{slow: "2", d: 11 * time.Second}, "s")
		h.Message("den", 1, []byte("1"), false)
		synctest.Wait()
		h.Message("den", 2, []byte("2"), false) // takes 11 s to deliver
		synctest.Wait()                         // the shard sleeps in it
		h.Message("den", 3, []byte("3"), false) // so this one is 11 s late
		time.Sleep(12 * time.Second)
		synctest.Wait()
		h.Message("den", 4, []byte("4"), false) // in time again
		synctest.Wait()
		if got := lg.lagging.Load(); got != 1 {
			t.Errorf("Lagging called %d times, want 1 (for message 3)", got)
		}
		if diff := cmp.Diff([]string{"1", "2", "4"}, lg.received()); diff != "" {
			t.Errorf("laggard got (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"1", "2", "3", "4"}, plain.received()); diff != "" {
			t.Errorf("plain member got (-want +got):\n%s", diff)
		}
		if got := h.Stats().Lagged; got != 1 {
			t.Errorf("Stats.Lagged = %d, want 1", got)
		}
	})
}

// batcher is a BatchMember: it records each DeliverBatch call's events
// and time, and a Deliver (a user's event) as a call of its own.
type batcher struct {
	mu    sync.Mutex
	calls [][]string
	times []time.Time
	more  []bool
}

func (m *batcher) Deliver(p []byte) {
	m.mu.Lock()
	m.calls = append(m.calls, []string{string(p)})
	m.mu.Unlock()
}

func (m *batcher) DeliverBatch(payloads [][]byte, now time.Time, more bool) {
	var call []string
	for _, p := range payloads {
		call = append(call, string(p))
	}
	m.mu.Lock()
	m.calls = append(m.calls, call)
	m.times = append(m.times, now)
	m.more = append(m.more, more)
	m.mu.Unlock()
}

// TestBatchMembersShareOneClockRead: the members of a room that take
// batches get the time the hub read for the event, the same for all of
// them, between the hand-over and the delivery.
func TestBatchMembersShareOneClockRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHub(t, newBroker(t))
		a, b := &batcher{}, &batcher{}
		join(t, h, "den", a, "a")
		join(t, h, "den", b, "b")
		before := time.Now()
		h.Message("den", 1, []byte("1"), false)
		time.Sleep(time.Second)
		h.Message("den", 2, []byte("2"), false)
		synctest.Wait()
		if len(a.times) != 2 || len(b.times) != 2 {
			t.Fatalf("DeliverBatch calls: %d and %d, want 2 each", len(a.times), len(b.times))
		}
		for i := range 2 {
			if !a.times[i].Equal(b.times[i]) {
				t.Errorf("event %d: times %v and %v, want one", i+1, a.times[i], b.times[i])
			}
		}
		if a.times[0].Before(before) || !a.times[1].After(a.times[0]) {
			t.Errorf("times %v, want after %v and increasing", a.times, before)
		}
	})
}

// stalledHub returns a hub of one shard (so that every room and user
// queues on it) with runs of at most runLimit, closed when t ends, and the
// member of room "hall" that stalls the shard in its first delivery until
// released.
func stalledHub(t *testing.T, runLimit int) (*hub.Hub, *stalled) {
	t.Helper()
	h, err := hub.New(hub.Config{Broker: newBroker(t), Shards: 1, RunLimit: runLimit, RosterInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	st := &stalled{entered: make(chan struct{}), release: make(chan struct{})}
	join(t, h, "hall", st, "s")
	return h, st
}

// TestBacklogGoesOutInRuns: events of one room that queued behind a
// stalled fan-out reach a BatchMember as runs of at most RunLimit, in
// order; a run ends at another room's event or a user's, so that every
// member still sees the shard's order; plain members get every event
// one by one.
func TestBacklogGoesOutInRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, st := stalledHub(t, 3)
		bm, plain := &batcher{}, newMember()
		join(t, h, "den", bm, "b")
		join(t, h, "hall", bm, "b")
		join(t, h, "den", plain, "p")
		h.AddUser("b", bm)
		defer h.RemoveUser("b", bm)
		h.Message("hall", 1, []byte("h1"), false)
		<-st.entered // the shard stalls in hall's message 1
		for seq := int64(1); seq <= 5; seq++ {
			h.Message("den", seq, fmt.Appendf(nil, "d%d", seq), false)
		}
		h.Message("hall", 2, []byte("h2"), false)
		h.UserEvent("b", "den", []byte("u"))
		h.Message("den", 6, []byte("d6"), false)
		h.Message("den", 7, []byte("d7"), false)
		h.Message("den", 5, []byte("d5 again"), false) // a resend already delivered: dropped
		close(st.release)
		synctest.Wait()
		want := [][]string{{"h1"}, {"d1", "d2", "d3"}, {"d4", "d5"}, {"h2"}, {"u"}, {"d6", "d7"}}
		// Only a run cut by RunLimit, with the room's next run right
		// behind it, says more follows (the user's event "u" comes
		// through Deliver).
		wantMore := []bool{false, true, false, false, false}
		bm.mu.Lock()
		got, gotMore := bm.calls, bm.more
		bm.mu.Unlock()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("DeliverBatch calls (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantMore, gotMore); diff != "" {
			t.Errorf("DeliverBatch more (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"d1", "d2", "d3", "d4", "d5", "d6", "d7"}, plain.received()); diff != "" {
			t.Errorf("plain member got (-want +got):\n%s", diff)
		}
	})
}

// TestHoldsEnd: every run handed over with more is followed by a call with
// more false, so that a member holding runs always sends them: the next
// run even when all its events turn out stale (and a run before a seen
// marker, which delivers nothing, is not said to have more behind it);
// and Leave ends a hold of the member that leaves.
func TestHoldsEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, st := stalledHub(t, 2)
		bm := &batcher{}
		join(t, h, "den", bm, "b")
		h.Message("hall", 1, []byte("h1"), false)
		<-st.entered // the shard stalls in hall's message 1
		h.Message("den", 1, []byte("d1"), false)
		h.Message("den", 2, []byte("d2"), false)
		h.Message("den", 1, []byte("d1 again"), false) // a run of stale events only
		h.Message("den", 2, []byte("d2 again"), false)
		h.Seen("den", 2)
		close(st.release)
		synctest.Wait()
		h.Leave("den", bm)

		type call struct {
			Events []string
			More   bool
		}
		want := []call{
			{[]string{"d1", "d2"}, true},
			{nil, false}, // the stale run, before a seen marker: not more, and it ends the hold
			{nil, false}, // Leave
		}
		bm.mu.Lock()
		var got []call
		for i, c := range bm.calls {
			got = append(got, call{c, bm.more[i]})
		}
		bm.mu.Unlock()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("DeliverBatch calls (-want +got):\n%s", diff)
		}
	})
}

// TestBacklogLimit: an event queued behind BacklogLimit others is late
// whatever its age: the room's laggards are told instead of given it, so
// a shard's queue stays bounded by length as well as by time.
func TestBacklogLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, err := hub.New(hub.Config{Broker: newBroker(t), BacklogLimit: 3, RosterInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		st := &stalled{entered: make(chan struct{}), release: make(chan struct{})}
		lg, plain := &laggard{member: member{more: make(chan struct{}, 1)}}, newMember()
		join(t, h, "den", lg, "l")
		join(t, h, "den", plain, "p")
		join(t, h, "den", st, "s")
		h.Message("den", 1, []byte("1"), false)
		<-st.entered // the fan-out stalls in message 1
		for seq := int64(2); seq <= 6; seq++ {
			h.Message("den", seq, fmt.Append(nil, seq), false) // 5 and 6 queue behind 3 others
		}
		close(st.release)
		synctest.Wait()
		if got := lg.lagging.Load(); got != 2 {
			t.Errorf("Lagging called %d times, want 2 (messages 5 and 6)", got)
		}
		if diff := cmp.Diff([]string{"1", "2", "3", "4"}, lg.received()); diff != "" {
			t.Errorf("laggard got (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"1", "2", "3", "4", "5", "6"}, plain.received()); diff != "" {
			t.Errorf("plain member got (-want +got):\n%s", diff)
		}
	})
}

// goroutineMember records the goroutine each delivery ran on, besides
// what member records.
type goroutineMember struct {
	member
	gids map[string]bool // guarded by member.mu
}

func (m *goroutineMember) Deliver(p []byte) {
	m.mu.Lock()
	if m.gids == nil {
		m.gids = make(map[string]bool)
	}
	m.gids[goroutineID()] = true
	m.mu.Unlock()
	m.member.Deliver(p)
}

// goroutineID is the id runtime.Stack prints in its first line.
func goroutineID() string {
	var buf [64]byte
	f := strings.Fields(string(buf[:runtime.Stack(buf[:], false)]))
	return f[1]
}

// TestFanOutInParts: a room big enough is served by several goroutines at
// once, and still every member gets every event once and in order; one
// that left mid-way gets nothing after its Leave, one that joined gets
// what follows its Join.
func TestFanOutInParts(t *testing.T) {
	h, err := hub.New(hub.Config{Broker: newBroker(t), FanOutParts: 4, FanOutChunk: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	const n, msgs = 200, 50
	members := make([]*goroutineMember, n)
	for i := range members {
		members[i] = &goroutineMember{member: member{more: make(chan struct{}, 1)}}
		join(t, h, "big", members[i], fmt.Sprint("u", i))
	}
	var want []string
	for seq := int64(1); seq <= msgs; seq++ {
		want = append(want, fmt.Sprint(seq))
		h.Message("big", seq, fmt.Append(nil, seq), false)
	}
	leaver := members[0]
	leaver.wait(t, msgs)
	h.Leave("big", leaver)
	late := &goroutineMember{member: member{more: make(chan struct{}, 1)}}
	join(t, h, "big", late, "late")
	h.Message("big", msgs+1, fmt.Append(nil, msgs+1), false)

	gids := make(map[string]bool)
	for i, m := range members[1:] {
		if diff := cmp.Diff(append(want, fmt.Sprint(msgs+1)), m.wait(t, msgs+1)); diff != "" {
			t.Fatalf("member %d (-want +got):\n%s", i+1, diff)
		}
		m.mu.Lock()
		maps.Copy(gids, m.gids)
		m.mu.Unlock()
	}
	if diff := cmp.Diff([]string{fmt.Sprint(msgs + 1)}, late.wait(t, 1)); diff != "" {
		t.Errorf("joined late (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, leaver.received()); diff != "" {
		t.Errorf("left (-want +got):\n%s", diff)
	}
	if len(gids) < 2 {
		t.Errorf("deliveries ran on %d goroutine(s), want the room served in parts", len(gids))
	}
}

// TestStart: a room's start is where its head started (its first Seen, or
// the sequence before its first message), and does not move after; a
// Restart sets it anew, and a room served again starts over.
func TestStart(t *testing.T) {
	h := newHub(t, newBroker(t))
	waitStart := func(room string, want int64) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); h.Start(room) != want; {
			if time.Now().After(deadline) {
				t.Fatalf("Start(%s) = %d, want %d", room, h.Start(room), want)
			}
			runtime.Gosched()
		}
	}
	m := newMember()
	if got := h.Start("den"); got != -1 {
		t.Errorf("Start of a room not served = %d, want -1", got)
	}
	join(t, h, "den", m, "u")
	if got := h.Start("den"); got != -1 {
		t.Errorf("Start before Seen = %d, want -1", got)
	}
	h.Seen("den", 4)
	h.Message("den", 5, []byte("5"), false)
	h.Seen("den", 9) // ignored: the room has a head
	m.wait(t, 1)
	waitStart("den", 4)
	h.Restart("den", 0)
	waitStart("den", 0)

	other := newMember()
	join(t, h, "pub", other, "u")
	h.Message("pub", 12, []byte("12"), false) // before any Seen
	h.Seen("pub", 10)
	other.wait(t, 1)
	waitStart("pub", 11)
	h.Leave("pub", other)
	if got := h.Start("pub"); got != -1 {
		t.Errorf("Start of a room left by its last member = %d, want -1", got)
	}
	join(t, h, "pub", other, "u")
	if got := h.Start("pub"); got != -1 {
		t.Errorf("Start of a room served again = %d, want -1 until its Seen", got)
	}
}

// doneCounter is a context that counts the calls of its Done method.
type doneCounter struct {
	context.Context
	calls atomic.Int32
}

func (c *doneCounter) Done() <-chan struct{} {
	c.calls.Add(1)
	return c.Context.Done()
}

// TestJoinAsksCtxOnlyWhileSubscribing: a join of a room whose broker
// subscription is in place does not ask its ctx for Done, which for the
// server's lazy contexts would start a timer per join for nothing; the
// room's first join, which may wait for the subscription, does.
func TestJoinAsksCtxOnlyWhileSubscribing(t *testing.T) {
	release := make(chan struct{})
	b := newSlowBroker(t, "slow", release)
	h := newHub(t, b)
	first := &doneCounter{Context: t.Context()}
	done := make(chan error, 1)
	go func() {
		_, err := h.Join(first, "slow", newMember(), "alice")
		done <- err
	}()
	<-b.entered // the subscription is being made
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("first Join: %v", err)
	}
	later := &doneCounter{Context: t.Context()}
	if _, err := h.Join(later, "slow", newMember(), "bob"); err != nil {
		t.Fatalf("second Join: %v", err)
	}
	if got := later.calls.Load(); got != 0 {
		t.Errorf("a join of a subscribed room asked its ctx for Done %d times, want 0", got)
	}
}

// downBroker is the real in-process broker whose Subscribe fails while
// down is set: a Redis that cannot be reached.
type downBroker struct {
	*membroker.Broker
	down  atomic.Bool
	tries atomic.Int32
}

func (b *downBroker) Subscribe(topic string, deliver func([]byte)) (func(), error) {
	if topic != "den" {
		return b.Broker.Subscribe(topic, deliver)
	}
	b.tries.Add(1)
	if b.down.Load() {
		return nil, errDown
	}
	return b.Broker.Subscribe(topic, deliver)
}

// TestJoinWhileBrokerDown: a join of a room whose broker subscription
// fails (the broker is down, the store is not) still gets the joiner in:
// local messages and healed ones reach it at once; the subscription is
// tried again, a second later, then two, …, and once it is in place the
// other nodes' messages come through the broker again.
func TestJoinWhileBrokerDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &downBroker{Broker: newBroker(t)}
		b.down.Store(true)
		h := newHub(t, b)
		remote := newHub(t, b.Broker)
		m := newMember()
		join(t, h, "den", m, "alice") // no error although Subscribe failed
		h.Message("den", 1, []byte("local"), false)
		h.Heal("den", 2, []byte("healed"), false)
		remote.Message("den", 3, []byte("lost by the broker"), false)
		synctest.Wait()
		if diff := cmp.Diff([]string{"local", "healed"}, m.received()); diff != "" {
			t.Fatalf("while unsubscribed (-want +got):\n%s", diff)
		}
		time.Sleep(time.Second) // the first retry, still down
		synctest.Wait()
		if got := b.tries.Load(); got != 2 {
			t.Fatalf("Subscribe tried %d times after 1 s, want 2", got)
		}
		b.down.Store(false)
		time.Sleep(2 * time.Second) // the second retry succeeds
		synctest.Wait()
		if got := b.tries.Load(); got != 3 {
			t.Fatalf("Subscribe tried %d times after 3 s, want 3", got)
		}
		h.Heal("den", 3, []byte("lost by the broker"), false)
		remote.Message("den", 4, []byte("through the broker"), false)
		synctest.Wait()
		want := []string{"local", "healed", "lost by the broker", "through the broker"}
		if diff := cmp.Diff(want, m.received()); diff != "" {
			t.Errorf("after the retry (-want +got):\n%s", diff)
		}
		time.Sleep(time.Minute) // subscribed: no more tries
		synctest.Wait()
		if got := b.tries.Load(); got != 3 {
			t.Errorf("Subscribe tried %d times once subscribed, want still 3", got)
		}
	})
}

// TestResubscribeStopsWhenTheRoomEmpties: the retries end with the room.
func TestResubscribeStopsWhenTheRoomEmpties(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &downBroker{Broker: newBroker(t)}
		b.down.Store(true)
		h := newHub(t, b)
		m := newMember()
		join(t, h, "den", m, "alice")
		h.Leave("den", m)
		time.Sleep(time.Hour)
		synctest.Wait()
		if got := b.tries.Load(); got != 1 {
			t.Errorf("Subscribe tried %d times for a room left at once, want 1", got)
		}
	})
}
