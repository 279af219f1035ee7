package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// roomCache holds the rows of the rooms this node was asked about, for
// ttl (Config.ModerationCheck, the same bound as moderation's cache): a
// storm of joins into one room reads the room once, not once per joiner.
// A change made on this node (topic) forgets the row at once; one made on
// another node shows here within ttl. Whether a room is private never
// changes, so the staleness concerns topics, archived state (directory
// events forget the row on every node) and rooms that were just
// removed.
//
// LastSeq of a cached row is only as new as the fetch: join uses the row's
// LastSeq only when it equals the hub's head for the room (nothing was
// delivered since the fetch), so that a join reply never pairs a topic
// with a last_seq it predates.
//
// Safe for concurrent use; a read of a fresh row takes no lock shared by
// all rooms.
type roomCache struct {
	ttl  time.Duration // immutable
	rows sync.Map      // name → roomRow
	n    atomic.Int64  // rows stored, roughly; bounds memory
}

type roomRow struct {
	r       chat.Room
	fetched time.Time
}

// roomCacheMax is the most rows held; past it the cache starts over.
const roomCacheMax = 100_000

// get returns the row of name, from the cache when it is younger than ttl.
// ErrNoSuchRoom is never cached: a room created on another node is found
// at once.
func (rc *roomCache) get(ctx context.Context, st chat.Store, name string, now time.Time) (chat.Room, error) {
	if v, ok := rc.rows.Load(name); ok {
		row := v.(roomRow)
		if d := now.Sub(row.fetched); d >= 0 && d < rc.ttl {
			return row.r, nil
		}
	}
	return rc.fetch(ctx, st, name, now)
}

// fetch reads the row of name from the store and caches it.
func (rc *roomCache) fetch(ctx context.Context, st chat.Store, name string, now time.Time) (chat.Room, error) {
	r, err := st.Room(ctx, name)
	rc.put(name, r, err, now)
	return r, err
}

// put caches r, the row of name read from the store at now, or drops the
// row held if reading it failed with err.
func (rc *roomCache) put(name string, r chat.Room, err error, now time.Time) {
	if err != nil {
		rc.rows.Delete(name)
		return
	}
	if rc.n.Add(1) > roomCacheMax {
		rc.rows.Clear()
		rc.n.Store(0)
	}
	rc.rows.Store(name, roomRow{r: r, fetched: now})
}

// lastSeq returns the LastSeq of the row of name held, however old, or
// -1 if none is held.
func (rc *roomCache) lastSeq(name string) int64 {
	if v, ok := rc.rows.Load(name); ok {
		return v.(roomRow).r.LastSeq
	}
	return -1
}

// forget drops the row of name after this node changed it.
func (rc *roomCache) forget(name string) { rc.rows.Delete(name) }

// clear drops every row: the news of changes made on other nodes may have
// been lost (brokerGap).
func (rc *roomCache) clear() {
	rc.rows.Clear()
	rc.n.Store(0)
}
