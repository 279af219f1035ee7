package server

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hubbub-chat/hubbub/internal/hub"
	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// recorder is a hub member that keeps every payload it is handed.
type recorder struct {
	mu  sync.Mutex
	got [][]byte
}

func (r *recorder) Deliver(p []byte) {
	r.mu.Lock()
	r.got = append(r.got, p)
	r.mu.Unlock()
}

// TestPresenceGathered: the join and leave events of a room that happen
// within presenceDelay reach each member as one payload, in order.
func TestPresenceGathered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		broker := membroker.New()
		defer broker.Close()
		srv, err := New(Config{Store: store, Broker: broker})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Shutdown(context.Background())
		rec := &recorder{}
		if _, err := srv.hub.Join(t.Context(), "lobby", rec, "watcher"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(presenceDelay) // the watcher's own join event goes out first
		synctest.Wait()
		rec.mu.Lock()
		rec.got = nil
		rec.mu.Unlock()
		for i := range 10 {
			srv.announcePresence(hub.PresenceChange{Room: "lobby", User: fmt.Sprint("u", i), Joined: i%3 != 2, Online: 5})
			time.Sleep(presenceDelay / 20)
		}
		time.Sleep(presenceDelay)
		synctest.Wait()
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.got) != 1 {
			t.Fatalf("got %d payloads, want the 10 events in one", len(rec.got))
		}
		var got []string
		err = protocol.SplitFrame(rec.got[0], func(obj []byte) error {
			ev, err := protocol.DecodeEvent(obj)
			got = append(got, ev.Type+" "+ev.User)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for i := range 10 {
			typ := protocol.TypeJoin
			if i%3 == 2 {
				typ = protocol.TypeLeave
			}
			want = append(want, fmt.Sprint(typ, " u", i))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("events = %q, want %q", got, want)
		}
	})
}
