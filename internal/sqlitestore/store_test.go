package sqlitestore_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/internal/storetest"
)

// factory gives each test a database file of its own in t.TempDir().
func factory(t *testing.T) func() chat.Store {
	path := filepath.Join(t.TempDir(), "hubbub.db")
	return func() chat.Store {
		s, err := sqlitestore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestStore(t *testing.T) {
	storetest.Run(t, factory)
}

func TestAccounts(t *testing.T) {
	storetest.RunAccounts(t, factory)
}

func TestAccess(t *testing.T) {
	storetest.RunAccess(t, factory)
}

func TestEntries(t *testing.T) {
	storetest.RunEntries(t, factory)
}

func TestFiles(t *testing.T) {
	storetest.RunFiles(t, factory)
}

func TestGuestNames(t *testing.T) {
	storetest.RunGuestNames(t, factory)
}

func TestOpenCreatesDirectory(t *testing.T) {
	// Characters that mean something in a URI or to the driver's DSN
	// parser must still name a plain file.
	dir := filepath.Join(t.TempDir(), "a dir", "with?query#frag%20and&_pragma=x")
	path := filepath.Join(dir, "hubbub.db")
	s, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	if got := s.Path(); got != path {
		t.Errorf("Path() = %q, want %q", got, path)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("after Open and Close: %v", err)
	}
}

func TestOpenRejects(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		s, err := sqlitestore.Open(path)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) = nil error, want an error", path)
		}
	}
}

// TestOpenRefusesEmptyFile checks that a zero-byte file is refused and
// left as it was, rather than taken for a new database.
func TestOpenRefusesEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hubbub.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := sqlitestore.Open(path)
	if !errors.Is(err, sqlitestore.ErrEmptyFile) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open of an empty file: %v, want ErrEmptyFile", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Errorf("the empty file was changed: %v, size %d", err, fi.Size())
	}
}

// TestUsers lists accounts by name, without password hashes.
func TestUsers(t *testing.T) {
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if got, err := s.Users(ctx); err != nil || len(got) != 0 {
		t.Fatalf("Users of a new store = %v, %v; want none", got, err)
	}
	for _, u := range []chat.User{{Name: "zed", PasswordHash: "h1"}, {Name: "ada", PasswordHash: "h2", Admin: true}} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range got {
		names = append(names, fmt.Sprintf("%s admin=%v hash=%q", u.Name, u.Admin, u.PasswordHash))
	}
	want := []string{`ada admin=true hash=""`, `zed admin=false hash=""`}
	if strings.Join(names, "; ") != strings.Join(want, "; ") {
		t.Errorf("Users = %q, want %q", names, want)
	}
}

func TestCloseTwice(t *testing.T) {
	s, err := sqlitestore.Open(filepath.Join(t.TempDir(), "hubbub.db"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
}

// BenchmarkAppend shows what grouping commits buys: every Append is one
// transaction and one fsync of the WAL, whatever the batch size.
// BenchmarkAppendChat commits batches as the committer does under load:
// sends of many authors to many rooms, each with a cmid, bodies of varied
// words (full-text indexing depends on them), into rooms created first.
func BenchmarkAppendChat(b *testing.B) {
	words := strings.Fields("the quick brown fox jumps over a lazy dog while hubbub keeps every message in order " +
		"and nobody loses anything after a reconnect so the chat goes on with rooms presence typing history search")
	for _, size := range []int{64, 512} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			const rooms = 100
			s := openWithRooms(b, rooms)
			batch := make([]chat.NewMessage, size)
			n := 0
			for b.Loop() {
				for i := range batch {
					n++
					body := make([]string, 8)
					for j := range body {
						body[j] = words[(n*7+j*13)%len(words)]
					}
					batch[i] = chat.NewMessage{
						Room:   fmt.Sprintf("r%d", n%rooms),
						Author: fmt.Sprintf("u%d", n%rooms),
						Guest:  true,
						Body:   strings.Join(body, " ") + fmt.Sprint(" ", n),
						CMID:   fmt.Sprint(n),
					}
				}
				if _, err := s.Append(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/msg")
		})
	}
}

// openWithRooms opens a store in a temporary directory, closed when b
// ends, with rooms r0, r1, … r(n-1).
func openWithRooms(b *testing.B, n int) *sqlitestore.Store {
	b.Helper()
	s, err := sqlitestore.Open(filepath.Join(b.TempDir(), "hubbub.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for r := range n {
		if err := s.CreateRoom(b.Context(), chat.Room{Name: fmt.Sprintf("r%d", r), Owner: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkAppendCMID: the cost of a message's cmid in the index that finds
// resends (room, author, cmid), with random ids against ids that grow with
// time as the clients make them (client.NewCMID: milliseconds first). A
// random id goes into a different page of the index each time, so the
// difference grows with the history; run it long (-benchtime 3000x: 300,000
// messages) to see it.
func BenchmarkAppendCMID(b *testing.B) {
	// The client's alphabet: base64 in ASCII order, so that the strings
	// sort as the bytes do.
	sortedBase64 := base64.NewEncoding("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz").WithPadding(base64.NoPadding)
	ids := []struct {
		name string
		make func() string
	}{
		{"random", func() string {
			var x [16]byte
			rand.Read(x[:])
			return base64.RawURLEncoding.EncodeToString(x[:])
		}},
		{"time-ordered", func() string {
			var x [16]byte
			binary.BigEndian.PutUint64(x[:8], uint64(time.Now().UnixMilli())<<16)
			rand.Read(x[6:])
			return sortedBase64.EncodeToString(x[:])
		}},
	}
	for _, id := range ids {
		b.Run(id.name, func(b *testing.B) {
			const rooms = 100
			s := openWithRooms(b, rooms)
			batch := make([]chat.NewMessage, 100)
			n := 0
			for b.Loop() {
				for i := range batch {
					n++
					batch[i] = chat.NewMessage{Room: fmt.Sprintf("r%d", n%rooms), Author: fmt.Sprintf("u%d", n%rooms),
						Guest: true, Body: fmt.Sprint("message ", n), CMID: id.make()}
				}
				if _, err := s.Append(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/msg")
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s, err := sqlitestore.Open(filepath.Join(b.TempDir(), "hubbub.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			batch := make([]chat.NewMessage, size)
			for i := range batch {
				batch[i] = chat.NewMessage{
					Room:   chat.DefaultRoom,
					Author: "alice",
					Body:   strings.Repeat("x", 100),
				}
			}
			n := 0
			for b.Loop() {
				for i := range batch {
					n++
					batch[i].CMID = fmt.Sprint(n)
				}
				if _, err := s.Append(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/msg")
		})
	}
}
