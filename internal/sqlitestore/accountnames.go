package sqlitestore

import (
	"context"
	"sync"
	"time"
)

// accountNames is the store's copy of every account's name, so that
// AnyUser, which every guest's hello asks, needs no SQLite read: a read
// costs its read transaction (the WAL index's shared lock, fcntl(2), the
// statement's reset) whatever it looks up, 12% of the server's CPU in a
// storm of guests joining.
//
// The copy follows the users table without reading it again: accounts are
// never deleted or renamed (no statement of this package does either), so
// the table only grows, in rowid order. CreateUser adds its name once
// committed; a poll every namesPoll reads max(rowid) and loads any rows
// past the last it saw, which are accounts another process wrote to the
// file (hubbubd user add while the server runs). Such an account can be
// missed for up to namesPoll, as if the guest had said hello that much
// earlier, before it existed (a guest who holds a name keeps it when an
// account of that name is registered).
//
// Past maxCachedNames accounts the copy is dropped and AnyUser reads the
// table again.
type accountNames struct {
	mu      sync.Mutex
	names   map[string]struct{} // nil: no copy (not loaded, too many, or a load failed)
	lastRow int64               // the largest rowid loaded
	tooMany bool                // more than maxCachedNames accounts: no copy from now on
}

const namesPoll = time.Second

// maxCachedNames is the most accounts the copy holds (a variable for the
// tests).
var maxCachedNames int64 = 200_000

// has reports whether the copy holds one of names; ok is false when there
// is no copy to ask.
func (a *accountNames) has(names []string) (found, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.names == nil {
		return false, false
	}
	for _, n := range names {
		if _, in := a.names[n]; in {
			return true, true
		}
	}
	return false, true
}

// refreshNames loads the accounts added since the last load (all of them
// the first time, or after the copy was dropped), or drops the copy if
// they are too many or the read fails. It reads without holding the lock,
// so that AnyUser never waits for SQLite behind it; only pollNames and
// Open call it, never two at once.
func (s *Store) refreshNames(ctx context.Context) {
	a := &s.names
	a.mu.Lock()
	last, have, tooMany := a.lastRow, a.names != nil, a.tooMany
	a.mu.Unlock()
	if tooMany {
		return // the table only grows
	}
	if !have {
		last = 0
	}
	var max int64
	if err := s.queryRow(ctx, `SELECT coalesce(max(rowid), 0) FROM users`).Scan(&max); err != nil {
		a.drop()
		return
	}
	if have && max == last {
		return
	}
	if max > maxCachedNames { // rowids run 1, 2, … with no account deleted
		a.mu.Lock()
		a.names, a.tooMany = nil, true
		a.mu.Unlock()
		return
	}
	rows, err := s.query(ctx, `SELECT rowid, name FROM users WHERE rowid > ? ORDER BY rowid`, last)
	if err != nil {
		a.drop()
		return
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&last, &name); err != nil {
			a.drop()
			return
		}
		got = append(got, name)
	}
	if rows.Err() != nil {
		a.drop()
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case !have:
		a.names = make(map[string]struct{}, len(got))
	case a.names == nil:
		return // dropped meanwhile: got is not all of them; the next poll loads all
	}
	for _, n := range got {
		a.names[n] = struct{}{}
	}
	a.lastRow = last
}

// drop forgets the copy: AnyUser reads the table until a refresh loads it
// again.
func (a *accountNames) drop() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.names, a.lastRow = nil, 0
}

// added records an account CreateUser committed, if there is a copy.
func (a *accountNames) added(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.names != nil {
		// Its rowid is not known here; the next refresh reads it again,
		// which a set does not mind.
		a.names[name] = struct{}{}
	}
}

// pollNames refreshes the copy every namesPoll until quit is closed.
func (s *Store) pollNames(quit <-chan struct{}) {
	t := time.NewTicker(namesPoll)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), namesPoll)
			s.refreshNames(ctx)
			cancel()
		}
	}
}
