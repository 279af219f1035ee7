package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"go.uber.org/goleak"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

func TestMain(m *testing.M) {
	// Plain text, whatever the terminal the tests run in: View output is
	// compared with golden text and searched for strings.
	lipgloss.SetColorProfile(termenv.Ascii)
	goleak.VerifyTestMain(m)
}

// t0 is the time of the fake server's first message.
var t0 = time.Date(2026, 3, 14, 9, 26, 0, 0, time.UTC)

// fakeClient is an in-memory hubbub server behind the Client interface.
// It answers at once; what it was asked is in calls.
type fakeClient struct {
	self protocol.Identity

	mu       sync.Mutex // guards the fields below
	rooms    map[string]*fakeRoom
	calls    []string
	failJoin map[string]error
	fail     map[string]error // op → the error its call returns
	blocks   []string         // what Blocks returns
}

type fakeRoom struct {
	info    protocol.RoomInfo
	members []string
	roster  []protocol.Member // what a join returns with info (a private room's)
	msgs    []protocol.Message
}

func newFake(name string, guest bool) *fakeClient {
	return &fakeClient{
		self:     protocol.Identity{Name: name, Guest: guest},
		rooms:    map[string]*fakeRoom{},
		failJoin: map[string]error{},
		fail:     map[string]error{},
	}
}

// addRoom adds a room with n messages, from alternating authors, a
// minute apart.
func (f *fakeClient) addRoom(name, topic string, n int, members ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := &fakeRoom{info: protocol.RoomInfo{Name: name, Topic: topic}, members: members}
	for i := range n {
		from := []string{"grace", "linus", "linus"}[i%3]
		r.msgs = append(r.msgs, protocol.Message{
			Room: name, Seq: int64(i + 1), From: from,
			Body: fmt.Sprintf("message %d", i+1),
			TS:   t0.Add(time.Duration(i) * time.Minute).UnixMilli(),
		})
	}
	r.info.LastSeq = int64(n)
	f.rooms[name] = r
}

func (f *fakeClient) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}

// called returns the calls made so far that start with prefix.
func (f *fakeClient) called(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeClient) Self() protocol.Identity { return f.self }

func (f *fakeClient) Rooms(ctx context.Context) ([]protocol.RoomInfo, error) {
	f.record("rooms")
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []protocol.RoomInfo
	for _, r := range f.rooms {
		out = append(out, r.info)
	}
	slices.SortFunc(out, func(a, b protocol.RoomInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (f *fakeClient) Create(ctx context.Context, room, topic string) (protocol.RoomInfo, error) {
	f.record("create %s %q", room, topic)
	f.mu.Lock()
	exists := f.rooms[room] != nil
	f.mu.Unlock()
	if exists {
		return protocol.RoomInfo{}, protocol.Errorf(protocol.CodeRoomExists, "room %s exists", room)
	}
	f.addRoom(room, topic, 0)
	return protocol.RoomInfo{Name: room, Topic: topic}, nil
}

func (f *fakeClient) JoinRoster(ctx context.Context, room string) (protocol.RoomInfo, []string, []protocol.Member, error) {
	f.record("join %s", room)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failJoin[room]; err != nil {
		return protocol.RoomInfo{}, nil, nil, err
	}
	r := f.rooms[room]
	if r == nil {
		return protocol.RoomInfo{}, nil, nil, protocol.Errorf(protocol.CodeNoSuchRoom, "no room %s", room)
	}
	if !slices.Contains(r.members, f.self.Name) {
		r.members = append(r.members, f.self.Name)
	}
	info := r.info
	info.Staff = slices.Clone(info.Staff)
	return info, slices.Clone(r.members), slices.Clone(r.roster), nil
}

func (f *fakeClient) Leave(ctx context.Context, room string) error {
	f.record("leave %s", room)
	return nil
}

func (f *fakeClient) Send(ctx context.Context, room, body string) (protocol.Message, error) {
	f.record("send %s %q", room, body)
	if err := f.failed("send"); err != nil {
		return protocol.Message{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rooms[room]
	if r == nil {
		return protocol.Message{}, protocol.Errorf(protocol.CodeNotJoined, "not in %s", room)
	}
	r.info.LastSeq++
	m := protocol.Message{Room: room, Seq: r.info.LastSeq, From: f.self.Name, Guest: f.self.Guest, Body: body,
		TS: t0.Add(time.Hour).UnixMilli()}
	r.msgs = append(r.msgs, m)
	return m, nil
}

func (f *fakeClient) HistoryBefore(ctx context.Context, room string, before int64, limit int) ([]protocol.Message, bool, error) {
	f.record("history %s before %d", room, before)
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rooms[room]
	if r == nil {
		return nil, false, protocol.Errorf(protocol.CodeNoSuchRoom, "no room %s", room)
	}
	var out []protocol.Message
	for _, m := range r.msgs {
		if m.Seq < before {
			out = append(out, m)
		}
	}
	more := len(out) > limit
	if more {
		out = out[len(out)-limit:]
	}
	return slices.Clone(out), more, nil
}

func (f *fakeClient) Typing(ctx context.Context, room string) error {
	f.record("typing %s", room)
	return nil
}

func (f *fakeClient) DM(ctx context.Context, user string) (protocol.RoomInfo, error) {
	f.record("dm %s", user)
	if err := f.failed("dm"); err != nil {
		return protocol.RoomInfo{}, err
	}
	room := protocol.DMRoom(f.self.Name, user)
	f.mu.Lock()
	exists := f.rooms[room] != nil
	f.mu.Unlock()
	if !exists {
		f.addRoom(room, "", 0, f.self.Name, user)
	}
	return protocol.RoomInfo{Name: room, Private: true, Peer: user}, nil
}

func (f *fakeClient) CreatePrivate(ctx context.Context, room, topic string) (protocol.RoomInfo, error) {
	f.record("create-private %s %q", room, topic)
	if err := f.failed("create-private"); err != nil {
		return protocol.RoomInfo{}, err
	}
	f.addRoom(room, topic, 0)
	return protocol.RoomInfo{Name: room, Topic: topic, Private: true}, nil
}

// The room-management operations record their call and return the error
// of fail[op], if any.
func (f *fakeClient) Invite(ctx context.Context, room, user string) error {
	f.record("invite %s %s", room, user)
	return f.failed("invite")
}

func (f *fakeClient) Kick(ctx context.Context, room, user, reason string) error {
	f.record("kick %s %s %q", room, user, reason)
	return f.failed("kick")
}

func (f *fakeClient) Ban(ctx context.Context, room, user, reason string, d time.Duration) error {
	f.record("ban %s %s %v %q", room, user, d, reason)
	return f.failed("ban")
}

func (f *fakeClient) Unban(ctx context.Context, room, user string) error {
	f.record("unban %s %s", room, user)
	return f.failed("unban")
}

func (f *fakeClient) Mute(ctx context.Context, room, user, reason string, d time.Duration) error {
	f.record("mute %s %s %v %q", room, user, d, reason)
	return f.failed("mute")
}

func (f *fakeClient) Unmute(ctx context.Context, room, user string) error {
	f.record("unmute %s %s", room, user)
	return f.failed("unmute")
}

func (f *fakeClient) SetTopic(ctx context.Context, room, topic string) error {
	f.record("topic %s %q", room, topic)
	return f.failed("topic")
}

func (f *fakeClient) Promote(ctx context.Context, room, user string) error {
	f.record("promote %s %s", room, user)
	return f.failed("promote")
}

func (f *fakeClient) Demote(ctx context.Context, room, user string) error {
	f.record("demote %s %s", room, user)
	return f.failed("demote")
}

func (f *fakeClient) SearchRooms(ctx context.Context, query string, archived bool) ([]protocol.RoomInfo, error) {
	f.record("search %q %v", query, archived)
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []protocol.RoomInfo
	for _, fr := range f.rooms {
		r := fr.info
		if strings.Contains(r.Name, strings.ToLower(query)) || strings.Contains(strings.ToLower(r.Topic), strings.ToLower(query)) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeClient) ArchiveRoom(ctx context.Context, room string) error {
	f.record("archive %s", room)
	return f.failed("archive")
}

func (f *fakeClient) UnarchiveRoom(ctx context.Context, room string) error {
	f.record("unarchive %s", room)
	return f.failed("unarchive")
}

func (f *fakeClient) DeleteRoom(ctx context.Context, room string) error {
	f.record("deleteroom %s", room)
	return f.failed("deleteroom")
}

func (f *fakeClient) Read(ctx context.Context, room string, seq int64) error {
	f.record("read %s %d", room, seq)
	return f.failed("read")
}

// entry stores an entry of kind by the user in room, acting on target.
func (f *fakeClient) entry(room, kind, body string, target int64) (protocol.Message, error) {
	if err := f.failed(kind); err != nil {
		return protocol.Message{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rooms[room]
	r.info.LastSeq++
	m := protocol.Message{Room: room, Seq: r.info.LastSeq, Kind: kind, From: f.self.Name, Guest: f.self.Guest, Body: body,
		Target: target, TS: t0.Add(time.Hour).UnixMilli()}
	r.msgs = append(r.msgs, m)
	return m, nil
}

func (f *fakeClient) Edit(ctx context.Context, room string, seq int64, body string) (protocol.Message, error) {
	f.record("edit %s %d %q", room, seq, body)
	return f.entry(room, protocol.KindEdit, body, seq)
}

func (f *fakeClient) Delete(ctx context.Context, room string, seq int64) (protocol.Message, error) {
	f.record("delete %s %d", room, seq)
	return f.entry(room, protocol.KindDelete, "", seq)
}

func (f *fakeClient) React(ctx context.Context, room string, seq int64, emoji string) (protocol.Message, error) {
	f.record("react %s %d %s", room, seq, emoji)
	return f.entry(room, protocol.KindReact, emoji, seq)
}

func (f *fakeClient) SendReply(ctx context.Context, room string, replyTo int64, body string) (protocol.Message, error) {
	f.record("reply %s %d %q", room, replyTo, body)
	m, err := f.entry(room, "", body, 0)
	m.ReplyTo = replyTo
	return m, err
}

// Search finds the messages whose body contains query, newest first.
func (f *fakeClient) Search(ctx context.Context, query string, opts client.SearchOptions) ([]protocol.Message, bool, error) {
	f.record("search %q %q", opts.Room, query)
	limit := opts.Limit
	if err := f.failed("search"); err != nil {
		return nil, false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []protocol.Message
	for _, r := range f.rooms {
		for _, m := range r.msgs {
			if m.Kind == "" && strings.Contains(m.Body, query) {
				out = append(out, m)
			}
		}
	}
	slices.SortFunc(out, func(a, b protocol.Message) int { return int(b.TS - a.TS) })
	more := len(out) > limit
	return out[:min(limit, len(out))], more, nil
}

// Block and Unblock record their call and return the error of fail[op];
// Blocks returns blocks.
func (f *fakeClient) Block(ctx context.Context, user string) error {
	f.record("block %s", user)
	return f.failed("block")
}

func (f *fakeClient) Unblock(ctx context.Context, user string) error {
	f.record("unblock %s", user)
	return f.failed("unblock")
}

func (f *fakeClient) Blocks(ctx context.Context) ([]string, error) {
	f.record("blocks")
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.blocks), f.fail["blocks"]
}

func (f *fakeClient) failed(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fail[op]
}

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// harness is a Model driven synchronously: every command it returns is
// run at once and its message fed back, until nothing is left.
type harness struct {
	t     testing.TB
	m     *Model
	fake  *fakeClient
	clock *fakeClock
	quit  bool
	bells atomic.Int32 // times the bell rang
}

func newHarness(t testing.TB, fake *fakeClient, width, height int, join ...string) *harness {
	t.Helper()
	clock := &fakeClock{t: t0.Add(2 * time.Hour)}
	m := New(Options{Client: fake, Server: "http://127.0.0.1:8080", Join: join, Location: time.UTC, Now: clock.now})
	m.tick = func() tea.Cmd { return nil }
	h := &harness{t: t, m: m, fake: fake, clock: clock}
	m.ring = func() { h.bells.Add(1) }
	h.run(m.Init())
	h.send(tea.WindowSizeMsg{Width: width, Height: height})
	return h
}

// send feeds msgs to the model, running the commands that follow.
func (h *harness) send(msgs ...tea.Msg) {
	h.t.Helper()
	for _, msg := range msgs {
		_, cmd := h.m.Update(msg)
		h.run(cmd)
	}
}

func (h *harness) run(cmd tea.Cmd) {
	h.t.Helper()
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		switch msg := c().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case tea.QuitMsg:
			h.quit = true
		default:
			_, next := h.m.Update(msg)
			queue = append(queue, next)
		}
	}
}

// typeText types s and, if enter, presses Enter.
func (h *harness) typeText(s string, enter bool) {
	h.t.Helper()
	for _, r := range s {
		h.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
	if enter {
		h.send(tea.KeyMsg{Type: tea.KeyEnter})
	}
}

func (h *harness) key(t tea.KeyType) { h.t.Helper(); h.send(tea.KeyMsg{Type: t}) }

// events feeds client events as the client's channel would.
func (h *harness) events(evs ...client.Event) {
	h.t.Helper()
	h.send(eventsMsg(evs))
}

// view returns View() and checks it fills the terminal exactly.
func (h *harness) view() string {
	h.t.Helper()
	v := h.m.View()
	checkFits(h.t, v, h.m.width, h.m.height)
	return v
}

// checkFits reports lines wider than width, and a screen of other than
// height lines.
func checkFits(t testing.TB, view string, width, height int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != height {
		t.Errorf("view has %d lines, want %d:\n%s", len(lines), height, view)
	}
	for i, l := range lines {
		if w := lipgloss.Width(l); w > width {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, w, width, l)
		}
	}
}

func (h *harness) wantView(substrs ...string) {
	h.t.Helper()
	v := h.view()
	for _, s := range substrs {
		if !strings.Contains(v, s) {
			h.t.Errorf("view does not contain %q:\n%s", s, v)
		}
	}
}

func (h *harness) wantNotView(substrs ...string) {
	h.t.Helper()
	v := h.view()
	for _, s := range substrs {
		if strings.Contains(v, s) {
			h.t.Errorf("view contains %q:\n%s", s, v)
		}
	}
}

// keyAlt is Alt and a key.
func keyAlt(r rune) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: true} }
