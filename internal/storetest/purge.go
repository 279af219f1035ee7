package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// storedFile is what a store gives out of one file: what Upload, ReadFile
// and Thumb return. The zero value is a file that is gone.
type storedFile struct {
	Found bool // Upload found it
	Name  string
	Bytes string // ReadFile
	Thumb string // Thumb
}

// readStored reads file id back through every method that gives it out.
func readStored(t *testing.T, fs chat.Files, id string) storedFile {
	t.Helper()
	var got storedFile
	u, err := fs.Upload(t.Context(), id)
	switch {
	case err == nil:
		got.Found, got.Name = true, u.Name
	case !errors.Is(err, chat.ErrNoSuchFile):
		t.Fatalf("Upload(%s): %v", id, err)
	}
	got.Bytes = string(readAll(t, fs, id))
	b, err := fs.Thumb(t.Context(), id)
	switch {
	case err == nil:
		got.Thumb = string(b)
	case !errors.Is(err, chat.ErrNoSuchFile):
		t.Fatalf("Thumb(%s): %v", id, err)
	}
	return got
}

// checkStored reads back every file of want and compares.
func checkStored(t *testing.T, fs chat.Files, step string, want map[string]storedFile) {
	t.Helper()
	got := make(map[string]storedFile, len(want))
	for id := range want {
		got[id] = readStored(t, fs, id)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: files (-want +got):\n%s", step, diff)
	}
}

// storeFile stores data as complete upload id of alice, in chunks of
// chunk bytes, with thumb as its thumbnail ("" for none), and returns what
// the store should give out of it.
func storeFile(t *testing.T, fs chat.Files, id, data string, chunk int, thumb string) storedFile {
	t.Helper()
	ctx := t.Context()
	u := newUpload(id, "alice", int64(len(data)))
	if err := fs.CreateUpload(ctx, u, chat.Quota{}); err != nil {
		t.Fatal(err)
	}
	for at := 0; at < len(data); at += chunk {
		if _, err := fs.AppendChunk(ctx, id, int64(at), []byte(data[at:min(at+chunk, len(data))])); err != nil {
			t.Fatal(err)
		}
	}
	info := chat.FileInfo{Type: "image/png"}
	if thumb != "" {
		info.Thumb = []byte(thumb)
	}
	if err := fs.CompleteUpload(ctx, id, info); err != nil {
		t.Fatal(err)
	}
	return storedFile{Found: true, Name: u.Name, Bytes: data, Thumb: thumb}
}

// purgeAll runs PurgeFiles until it has nothing left and returns how many
// chunks it deleted.
func purgeAll(t *testing.T, fs chat.Files) int {
	t.Helper()
	total := 0
	for {
		n, err := fs.PurgeFiles(t.Context(), 100)
		if err != nil {
			t.Fatalf("PurgeFiles: %v", err)
		}
		total += n
		if n < 100 {
			return total
		}
	}
}

// testPurgeDeleted: the file of a message deleted by its author is gone at
// once, however the message got there (stored earlier, or in the same
// batch); its chunks go with PurgeFiles, a bounded number at a time; its
// record counts in UploadedSince until ExpireUploads removes it. Files of
// messages not deleted, and files not sent, are untouched.
func testPurgeDeleted(t *testing.T, f Factory) {
	s := start(t, f)
	fs := asFiles(t, s)
	ctx := t.Context()
	mustCreateRoom(t, s, "books")
	since := time.Now().Add(-time.Minute)
	kept := storeFile(t, fs, "f_kept", "kept", 4, "kthumb")
	unsent := storeFile(t, fs, "f_unsent", "unsent", 6, "")
	storeFile(t, fs, "f_gone", "abcdefgh", 3, "gthumb") // 3 chunks
	storeFile(t, fs, "f_batch", "batch", 5, "")         // 1 chunk
	for _, id := range []string{"f_kept", "f_gone", "f_batch"} {
		if err := fs.ClaimFile(ctx, id, "alice", "books", "c-"+id); err != nil {
			t.Fatal(err)
		}
	}
	msgs := mustAppend(t, s, []chat.NewMessage{
		{Room: "books", Author: "alice", Body: "gone", CMID: "c-f_gone", FileID: "f_gone"},
		{Room: "books", Author: "alice", Body: "kept", CMID: "c-f_kept", FileID: "f_kept"},
	})
	used, err := fs.UploadedSince(ctx, "alice", since)
	if err != nil {
		t.Fatal(err)
	}
	next := msgs[1].Seq + 1
	mustAppend(t, s, []chat.NewMessage{
		{Room: "books", Author: "alice", Kind: chat.KindDelete, Target: msgs[0].Seq},
		{Room: "books", Author: "alice", Body: "batch", CMID: "c-f_batch", FileID: "f_batch"}, // next+1
		{Room: "books", Author: "alice", Kind: chat.KindDelete, Target: next + 1},
	})
	want := map[string]storedFile{"f_kept": kept, "f_unsent": unsent, "f_gone": {}, "f_batch": {}}
	checkStored(t, fs, "after the deletes", want)
	if err := fs.ClaimFile(ctx, "f_gone", "alice", "books", "c-f_gone"); !errors.Is(err, chat.ErrNoSuchFile) {
		t.Errorf("ClaimFile of a purged file = %v, want %v", err, chat.ErrNoSuchFile)
	}
	if got, err := fs.UploadedSince(ctx, "alice", since); err != nil || got != used {
		t.Errorf("UploadedSince after the deletes = %d, %v; want %d (a deletion gives no quota back)", got, err, used)
	}

	// The records stay while chunks are left to delete.
	if n, err := fs.ExpireUploads(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("ExpireUploads before the purge = %d, %v; want 1 (f_unsent)", n, err)
	}
	delete(want, "f_unsent")
	used -= int64(len("unsent"))
	if got, _ := fs.UploadedSince(ctx, "alice", since); got != used {
		t.Errorf("UploadedSince before the purge = %d, want %d", got, used)
	}
	steps := []struct {
		max, want int
	}{{2, 2}, {100, 2}, {100, 0}}
	for _, st := range steps {
		if n, err := fs.PurgeFiles(ctx, st.max); err != nil || n != st.want {
			t.Errorf("PurgeFiles(%d) = %d, %v; want %d", st.max, n, err, st.want)
		}
	}
	checkStored(t, fs, "after the purge", want)

	if _, err := fs.ExpireUploads(ctx, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := fs.UploadedSince(ctx, "alice", since); got != used {
		t.Errorf("UploadedSince after an expiry of an hour ago = %d, want %d", got, used)
	}
	if n, err := fs.ExpireUploads(ctx, time.Now().Add(time.Minute)); err != nil || n != 0 {
		t.Errorf("ExpireUploads after the purge = %d, %v; want 0 (the records are not counted)", n, err)
	}
	if got, wantUsed := mustUploaded(t, fs, since), int64(len("kept")); got != wantUsed {
		t.Errorf("UploadedSince once the records expired = %d, want %d (f_kept)", got, wantUsed)
	}
	checkStored(t, fs, "after the expiry", want)
}

func mustUploaded(t *testing.T, fs chat.Files, since time.Time) int64 {
	t.Helper()
	n, err := fs.UploadedSince(t.Context(), "alice", since)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// testPurgeDeletedRooms: deleting a room, by DeleteRoom or as an idle
// guest room, purges the files its messages carry, and nothing else.
func testPurgeDeletedRooms(t *testing.T, f Factory) {
	s := start(t, f)
	fs := asFiles(t, s)
	ctx := t.Context()
	mustCreateRoom(t, s, "books", "films")
	if err := s.CreateRoom(ctx, chat.Room{Name: "g-idle", Owner: "zed", GuestOwner: true}); err != nil {
		t.Fatal(err)
	}
	want := map[string]storedFile{
		"f_book1":  storeFile(t, fs, "f_book1", "first book", 4, "b1thumb"), // 3 chunks
		"f_book2":  storeFile(t, fs, "f_book2", "second", 6, ""),            // 1 chunk
		"f_film":   storeFile(t, fs, "f_film", "film", 4, "fthumb"),
		"f_lobby":  storeFile(t, fs, "f_lobby", "lobby", 5, ""),
		"f_guest":  storeFile(t, fs, "f_guest", "guest", 2, ""), // 3 chunks
		"f_unsent": storeFile(t, fs, "f_unsent", "unsent", 6, ""),
	}
	mustAppend(t, s, []chat.NewMessage{
		{Room: "books", Author: "alice", Body: "one", FileID: "f_book1"},
		{Room: "books", Author: "alice", Body: "plain"},
		{Room: "books", Author: "alice", Body: "two", FileID: "f_book2"},
		{Room: "films", Author: "alice", Body: "a film", FileID: "f_film"},
		{Room: chat.DefaultRoom, Author: "alice", Body: "here", FileID: "f_lobby"},
		{Room: "g-idle", Author: "zed", Guest: true, Body: "mine", FileID: "f_guest"},
	})

	steps := []struct {
		name   string
		do     func() error
		gone   []string
		chunks int // what PurgeFiles then deletes
	}{
		{"DeleteRoom", func() error { return s.DeleteRoom(ctx, "books") }, []string{"f_book1", "f_book2"}, 4},
		{"DeleteIdleGuestRooms", func() error {
			names, err := s.DeleteIdleGuestRooms(ctx, time.Now().Add(time.Minute), 10)
			if err == nil && !cmp.Equal(names, []string{"g-idle"}) {
				err = errors.New("deleted " + cmp.Diff([]string{"g-idle"}, names))
			}
			return err
		}, []string{"f_guest"}, 3},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		for _, id := range st.gone {
			want[id] = storedFile{}
		}
		checkStored(t, fs, st.name, want)
		if n := purgeAll(t, fs); n != st.chunks {
			t.Errorf("%s: PurgeFiles deleted %d chunks, want %d", st.name, n, st.chunks)
		}
		checkStored(t, fs, st.name+", purged", want)
	}
}

// testPurgeKeepsCarried: a file that another message, not deleted, still
// carries is kept when one message that carries it goes, whether by a
// delete or with its room. (The server gives a file to one message only;
// the stores do not count on it.)
func testPurgeKeepsCarried(t *testing.T, f Factory) {
	s := start(t, f)
	fs := asFiles(t, s)
	ctx := t.Context()
	mustCreateRoom(t, s, "books", "films")
	shared := storeFile(t, fs, "f_shared", "shared", 3, "sthumb")
	msgs := mustAppend(t, s, []chat.NewMessage{
		{Room: "books", Author: "alice", Body: "here", FileID: "f_shared"},
		{Room: "films", Author: "alice", Body: "and here", FileID: "f_shared"},
		{Room: chat.DefaultRoom, Author: "alice", Body: "and here too", FileID: "f_shared"},
	})
	steps := []struct {
		name string
		do   func() error
		want storedFile
	}{
		{"delete one message", func() error {
			_, err := s.Append(ctx, []chat.NewMessage{{Room: "books", Author: "alice", Kind: chat.KindDelete, Target: msgs[0].Seq}})
			return err
		}, shared},
		{"delete a room", func() error { return s.DeleteRoom(ctx, "films") }, shared},
		{"delete the last message", func() error {
			_, err := s.Append(ctx, []chat.NewMessage{{Room: chat.DefaultRoom, Author: "alice", Kind: chat.KindDelete, Target: msgs[2].Seq}})
			return err
		}, storedFile{}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		checkStored(t, fs, st.name, map[string]storedFile{"f_shared": st.want})
	}
	if n := purgeAll(t, fs); n != 2 {
		t.Errorf("PurgeFiles deleted %d chunks, want 2", n)
	}
}

// testPurgeConcurrent: callers of PurgeFiles at once (nodes) delete each
// chunk once between them, and leave none.
func testPurgeConcurrent(t *testing.T, f Factory) {
	s := start(t, f)
	fs := asFiles(t, s)
	ctx := t.Context()
	mustCreateRoom(t, s, "books")
	var batch []chat.NewMessage
	for _, id := range []string{"f_1", "f_2", "f_3", "f_4"} {
		storeFile(t, fs, id, "0123456789", 1, "") // 10 chunks each
		batch = append(batch, chat.NewMessage{Room: "books", Author: "alice", Body: id, FileID: id})
	}
	msgs := mustAppend(t, s, batch)
	var dels []chat.NewMessage
	for _, m := range msgs {
		dels = append(dels, chat.NewMessage{Room: "books", Author: "alice", Kind: chat.KindDelete, Target: m.Seq})
	}
	mustAppend(t, s, dels)

	const callers = 4
	var wg sync.WaitGroup
	counts := make([]int, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			for {
				n, err := fs.PurgeFiles(ctx, 3)
				counts[i] += n
				if err != nil || n == 0 {
					errs[i] = err
					return
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for i := range callers {
		if errs[i] != nil {
			t.Errorf("PurgeFiles of caller %d: %v", i, errs[i])
		}
		total += counts[i]
	}
	if total != 40 {
		t.Errorf("the callers deleted %d chunks between them (%v), want 40", total, counts)
	}
	if n := purgeAll(t, fs); n != 0 {
		t.Errorf("PurgeFiles afterwards deleted %d chunks, want 0", n)
	}
}
