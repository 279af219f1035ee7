package server

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// adminCountingAccounts counts the Admins reads of a real store, and can
// hold them until hold is closed, or fail them with err.
type adminCountingAccounts struct {
	chat.Accounts
	admins  atomic.Int64
	hold    chan struct{} // when not nil, Admins waits for it after reading
	fetched chan struct{} // signalled when a held Admins has read
	err     error
}

func (a *adminCountingAccounts) Admins(ctx context.Context, limit int) ([]string, error) {
	a.admins.Add(1)
	if a.err != nil {
		return nil, a.err
	}
	names, err := a.Accounts.Admins(ctx, limit)
	if a.hold != nil {
		a.fetched <- struct{}{}
		<-a.hold
	}
	return names, err
}

// setAdmin makes the account name an administrator, or not, behind the
// server's back, as hubbubd user admin and unadmin do.
func setAdmin(t *testing.T, store *sqlitestore.Store, name string, admin bool) {
	t.Helper()
	u, err := store.User(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	u.Admin = admin
	if err := store.UpdateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
}

// TestJoinStaffAdmins: a public room's join reply lists the server's
// administrators in its staff, as admin, merged by name with the room's
// owner and moderators, one entry per name (an administrator who
// moderates the room shows as admin); private rooms keep their roster
// only. An administrator unmade behind the node's back (hubbubd user
// unadmin) is gone from the staff once Config.ModerationCheck has passed.
func TestJoinStaffAdmins(t *testing.T) {
	const check = 200 * time.Millisecond
	s, store := newAccountServer(t, func(c *Config) { c.ModerationCheck = check })
	sam := s.account(t, s.register(t, "sam"))
	s.register(t, "tess")
	s.register(t, "root")
	s.register(t, "zed")
	setAdmin(t, store, "root", true)
	setAdmin(t, store, "zed", true)
	sam.ok(protocol.Command{Op: protocol.OpCreate, Room: "hall"})
	sam.ok(protocol.Command{Op: protocol.OpPromote, Room: "hall", User: "tess"})
	sam.ok(protocol.Command{Op: protocol.OpPromote, Room: "hall", User: "zed"})
	sam.ok(protocol.Command{Op: protocol.OpCreate, Room: "den", Private: true})
	ada := s.guest(t, guestHeader(), "ada")

	admin := func(name string) protocol.Member { return protocol.Member{Name: name, Role: protocol.RoleAdmin} }
	owner := protocol.Member{Name: "sam", Role: protocol.RoleOwner}
	mod := func(name string) protocol.Member { return protocol.Member{Name: name, Role: protocol.RoleModerator} }
	staffOf := func(c *tclient, room string) []protocol.Member {
		t.Helper()
		return c.ok(protocol.Command{Op: protocol.OpJoin, Room: room}).Info.Staff
	}
	for _, tt := range []struct {
		room string
		c    *tclient
		want []protocol.Member
	}{
		{"hall", ada, []protocol.Member{admin("root"), owner, mod("tess"), admin("zed")}},
		{"hall", sam, []protocol.Member{admin("root"), owner, mod("tess"), admin("zed")}},
		{"lobby", ada, []protocol.Member{admin("root"), admin("zed")}},
		{"den", sam, nil},
	} {
		if diff := cmp.Diff(tt.want, staffOf(tt.c, tt.room)); diff != "" {
			t.Errorf("join %s: staff (-want +got):\n%s", tt.room, diff)
		}
	}

	// Unmade behind the node's back: gone within the interval, and zed
	// shows as the moderator they still are.
	setAdmin(t, store, "root", false)
	setAdmin(t, store, "zed", false)
	want := []protocol.Member{owner, mod("tess"), mod("zed")}
	deadline := time.Now().Add(check + 5*time.Second) // the test's own scheduling on a busy machine
	for {
		got := staffOf(ada, "hall")
		diff := cmp.Diff(want, got)
		if diff == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hall %v after unadmin: staff (-want +got):\n%s", check+5*time.Second, diff)
		}
	}
	if got := staffOf(ada, "lobby"); got != nil {
		t.Errorf("lobby after unadmin: staff %v, want none", got)
	}
}

// TestJoinStaffAdminsStorm: a storm of guest joins, sent at once, reads
// the administrators once per interval, not once per join, and every
// joiner is shown them.
func TestJoinStaffAdminsStorm(t *testing.T) {
	accts := &adminCountingAccounts{}
	s, store := newAccountServer(t, func(c *Config) {
		c.ModerationCheck = time.Hour
		accts.Accounts = c.Accounts
		c.Accounts = accts
	})
	sam := s.account(t, s.register(t, "sam"))
	s.register(t, "root")
	setAdmin(t, store, "root", true)
	sam.ok(protocol.Command{Op: protocol.OpCreate, Room: "hall"})
	const n = 30
	guests := make([]*tclient, n)
	for i := range guests {
		guests[i] = s.dialWith(t, guestHeader(), websocket.DefaultDialer)
		guests[i].ok(protocol.Command{Op: protocol.OpHello, Name: fmt.Sprint("guest", i)})
	}
	if got := accts.admins.Load(); got != 0 {
		t.Fatalf("administrators read %d times before any join, want 0", got)
	}
	for _, g := range guests { // all in flight at once
		g.write(protocol.Command{ID: "storm", Op: protocol.OpJoin, Room: "hall"})
	}
	want := []protocol.Member{{Name: "root", Role: protocol.RoleAdmin}, {Name: "sam", Role: protocol.RoleOwner}}
	for i, g := range guests {
		ev := g.waitFor("join reply", func(ev protocol.Event) bool { return ev.ID == "storm" })
		if ev.Type != protocol.TypeOK {
			t.Fatalf("guest%d join: %s %s", i, ev.Code, ev.Reason)
		}
		if diff := cmp.Diff(want, ev.Info.Staff); diff != "" {
			t.Errorf("guest%d: staff (-want +got):\n%s", i, diff)
		}
	}
	if got := accts.admins.Load(); got != 1 {
		t.Errorf("%d guest joins within the interval read the administrators %d times, want 1", n, got)
	}
}

// TestAdminCache: the cache reads the administrators once per ttl,
// whatever the number of askers, concurrent ones included; forget makes
// the next ask read; a store error is returned, and not kept.
func TestAdminCache(t *testing.T) {
	store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := t.Context()
	for _, u := range []chat.User{{Name: "root", Admin: true}, {Name: "sam"}} {
		if err := store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Unix(1_000_000, 0)
	ask := func(ac *adminCache, acc chat.Accounts, at time.Duration) []string {
		t.Helper()
		names, err := ac.names(ctx, acc, t0.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		return names
	}

	t.Run("one read per ttl, forget", func(t *testing.T) {
		acc := &adminCountingAccounts{Accounts: store}
		ac := &adminCache{ttl: 2 * time.Second}
		steps := []struct {
			name  string
			do    func()
			at    time.Duration
			want  []string
			reads int64
		}{
			{"first ask", nil, 0, []string{"root"}, 1},
			{"within ttl", nil, time.Second, []string{"root"}, 1},
			{"made behind its back", func() { setAdmin(t, store, "sam", true) }, 1999 * time.Millisecond, []string{"root"}, 1},
			{"ttl passed", nil, 2 * time.Second, []string{"root", "sam"}, 2},
			{"unmade, forgotten", func() { setAdmin(t, store, "root", false); ac.forget() }, 2 * time.Second, []string{"sam"}, 3},
			{"a clock gone back", nil, time.Second, []string{"sam"}, 4},
		}
		for _, st := range steps {
			if st.do != nil {
				st.do()
			}
			if diff := cmp.Diff(st.want, ask(ac, acc, st.at)); diff != "" {
				t.Errorf("%s: names (-want +got):\n%s", st.name, diff)
			}
			if got := acc.admins.Load(); got != st.reads {
				t.Errorf("%s: %d reads, want %d", st.name, got, st.reads)
			}
		}
		setAdmin(t, store, "root", true)
		setAdmin(t, store, "sam", false)
	})

	t.Run("concurrent askers wait for one read", func(t *testing.T) {
		const n = 10
		// fetched has room for every asker: a cache that read once per
		// asker fails the count below rather than hang.
		acc := &adminCountingAccounts{Accounts: store, hold: make(chan struct{}), fetched: make(chan struct{}, n)}
		ac := &adminCache{ttl: time.Hour}
		got := make(chan []string, n)
		for range n {
			go func() {
				names, _ := ac.names(ctx, acc, t0)
				got <- names
			}()
		}
		<-acc.fetched // one asker reads; the others wait for it
		close(acc.hold)
		for range n {
			if diff := cmp.Diff([]string{"root"}, <-got); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		}
		if r := acc.admins.Load(); r != 1 {
			t.Errorf("%d concurrent askers: %d reads, want 1", n, r)
		}
	})

	t.Run("a store error is not kept", func(t *testing.T) {
		broken := errors.New("store down")
		acc := &adminCountingAccounts{Accounts: store, err: broken}
		ac := &adminCache{ttl: time.Hour}
		if _, err := ac.names(ctx, acc, t0); !errors.Is(err, broken) {
			t.Errorf("names with the store down: %v, want %v", err, broken)
		}
		acc.err = nil
		if diff := cmp.Diff([]string{"root"}, ask(ac, acc, 0)); diff != "" || acc.admins.Load() != 2 {
			t.Errorf("after the error (-want +got):\n%s\nreads %d, want 2", diff, acc.admins.Load())
		}
	})
}

func TestWithAdmins(t *testing.T) {
	owner := func(n string) protocol.Member { return protocol.Member{Name: n, Role: protocol.RoleOwner} }
	mod := func(n string) protocol.Member { return protocol.Member{Name: n, Role: protocol.RoleModerator} }
	admin := func(n string) protocol.Member { return protocol.Member{Name: n, Role: protocol.RoleAdmin} }
	many := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s%04d", prefix, i)
		}
		return out
	}
	tests := []struct {
		name   string
		staff  []protocol.Member
		admins []string
		want   []protocol.Member
	}{
		{"no admins", []protocol.Member{owner("sam")}, nil, []protocol.Member{owner("sam")}},
		{"no staff", nil, []string{"root"}, []protocol.Member{admin("root")}},
		{"neither", nil, nil, nil},
		{"merged by name", []protocol.Member{owner("bob"), mod("dan")}, []string{"ann", "cat", "eve"},
			[]protocol.Member{admin("ann"), owner("bob"), admin("cat"), mod("dan"), admin("eve")}},
		{"an admin who owns the room, once", []protocol.Member{owner("bob"), mod("dan")}, []string{"bob"},
			[]protocol.Member{admin("bob"), mod("dan")}},
		{"an admin who moderates it, once", []protocol.Member{owner("bob"), mod("dan")}, []string{"dan", "zed"},
			[]protocol.Member{owner("bob"), admin("dan"), admin("zed")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, withAdmins(tt.staff, tt.admins)); diff != "" {
				t.Errorf("withAdmins (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("at most MaxRoster", func(t *testing.T) {
		got := withAdmins([]protocol.Member{owner("a")}, many("b", protocol.MaxRoster))
		if len(got) != protocol.MaxRoster || got[0] != owner("a") || got[len(got)-1] != admin(fmt.Sprintf("b%04d", protocol.MaxRoster-2)) {
			t.Errorf("withAdmins of 1+%d: %d entries, first %v, last %v; want %d, the first ones by name", protocol.MaxRoster, len(got), got[0], got[len(got)-1], protocol.MaxRoster)
		}
	})
}
