package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hubbub-chat/hubbub/internal/chat"
)

// RunFiles runs the conformance suite for [chat.Files] against the stores f
// opens, which must implement chat.Files as well as chat.Store. Beyond
// files.go it pins down: ReadFile of an upload with no bytes (or none at
// all) calls fn never and returns nil; Upload's times are the store's
// clock; a discarded upload is gone from UploadedSince too.
func RunFiles(t *testing.T, f Factory) {
	runSuite(t, f, []subtest{
		{"UploadLifecycle", testUploadLifecycle},
		{"BadOffset", testBadOffset},
		{"ConcurrentChunks", testConcurrentChunks},
		{"ClaimFile", testClaimFile},
		{"ReleaseFile", testReleaseFile},
		{"FileMessage", testFileMessage},
		{"Quota", testUploadQuota},
		{"QuotaConcurrent", testUploadQuotaConcurrent},
		{"Expire", testExpireUploads},
		{"ExpireLostClaims", testExpireLostClaims},
		{"PurgeDeleted", testPurgeDeleted},
		{"PurgeDeletedRooms", testPurgeDeletedRooms},
		{"PurgeKeepsCarried", testPurgeKeepsCarried},
		{"PurgeConcurrent", testPurgeConcurrent},
		{"Durability", testFilesDurability},
		{"Closed", testFilesClosed},
	})
}

func asFiles(t *testing.T, s chat.Store) chat.Files {
	t.Helper()
	fs, ok := s.(chat.Files)
	if !ok {
		t.Fatalf("%T does not implement chat.Files", s)
	}
	return fs
}

func newUpload(id, owner string, size int64) chat.Upload {
	return chat.Upload{ID: id, Owner: owner, Name: "näme " + id + ".png", Size: size, SHA256: fmt.Sprintf("%064x", size), Declared: "image/png"}
}

// readAll reads a file back with ReadFile.
func readAll(t *testing.T, fs chat.Files, id string) []byte {
	t.Helper()
	var buf bytes.Buffer
	err := fs.ReadFile(t.Context(), id, func(at int64, data []byte) error {
		if at != int64(buf.Len()) {
			return fmt.Errorf("chunk at %d after %d bytes", at, buf.Len())
		}
		buf.Write(data)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", id, err)
	}
	return buf.Bytes()
}

var ignoreUploadTimes = cmpopts.IgnoreFields(chat.Upload{}, "Created", "Updated")

func testUploadLifecycle(t *testing.T, f Factory) {
	fs := asFiles(t, start(t, f))
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	u := newUpload("f_life", "alice", 10)
	if err := fs.CreateUpload(ctx, u, chat.Quota{}); err != nil {
		t.Fatalf("CreateUpload: %v", err)
	}
	if err := fs.CreateUpload(ctx, u, chat.Quota{}); err == nil {
		t.Errorf("CreateUpload of an existing id succeeded")
	}
	got, err := fs.Upload(ctx, u.ID)
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if diff := cmp.Diff(u, got, ignoreUploadTimes); diff != "" {
		t.Errorf("Upload after create (-want +got):\n%s", diff)
	}
	if got.Created.Before(before) || got.Created.After(time.Now().Add(time.Second)) {
		t.Errorf("Created = %v, want about now", got.Created)
	}
	if _, err := fs.Upload(ctx, "f_nope"); !errors.Is(err, chat.ErrNoSuchFile) {
		t.Errorf("Upload(missing) = %v, want %v", err, chat.ErrNoSuchFile)
	}
	if b := readAll(t, fs, u.ID); len(b) != 0 {
		t.Errorf("ReadFile of an empty upload = %q", b)
	}
	if err := fs.CompleteUpload(ctx, u.ID, chat.FileInfo{Type: "image/png"}); !errors.Is(err, chat.ErrBadOffset) {
		t.Errorf("CompleteUpload of an incomplete upload = %v, want %v", err, chat.ErrBadOffset)
	}

	for _, c := range []struct {
		off  int64
		data string
	}{{0, "abcd"}, {4, "efg"}, {7, "hij"}} {
		n, err := fs.AppendChunk(ctx, u.ID, c.off, []byte(c.data))
		if err != nil {
			t.Fatalf("AppendChunk(%d): %v", c.off, err)
		}
		if want := c.off + int64(len(c.data)); n != want {
			t.Errorf("AppendChunk(%d) = %d, want %d", c.off, n, want)
		}
	}
	if b := readAll(t, fs, u.ID); string(b) != "abcdefghij" {
		t.Errorf("ReadFile = %q, want %q", b, "abcdefghij")
	}
	if _, err := fs.Thumb(ctx, u.ID); !errors.Is(err, chat.ErrNoSuchFile) {
		t.Errorf("Thumb before complete = %v, want %v", err, chat.ErrNoSuchFile)
	}
	thumb := []byte{0x89, 'P', 'N', 'G', 0}
	if err := fs.CompleteUpload(ctx, u.ID, chat.FileInfo{Type: "image/png", Width: 640, Height: 480, Thumb: thumb}); err != nil {
		t.Fatalf("CompleteUpload: %v", err)
	}
	got, err = fs.Upload(ctx, u.ID)
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	want := u
	want.Received, want.Complete, want.Type, want.Width, want.Height, want.Thumb = 10, true, "image/png", 640, 480, true
	if diff := cmp.Diff(want, got, ignoreUploadTimes); diff != "" {
		t.Errorf("Upload after complete (-want +got):\n%s", diff)
	}
	if b, err := fs.Thumb(ctx, u.ID); err != nil || !bytes.Equal(b, thumb) {
		t.Errorf("Thumb = %q, %v, want %q", b, err, thumb)
	}
	if _, err := fs.AppendChunk(ctx, u.ID, 10, []byte("k")); !errors.Is(err, chat.ErrBadOffset) {
		t.Errorf("AppendChunk after complete = %v, want %v", err, chat.ErrBadOffset)
	}

	if err := fs.DiscardUpload(ctx, u.ID); err != nil {
		t.Fatalf("DiscardUpload: %v", err)
	}
	if _, err := fs.Upload(ctx, u.ID); !errors.Is(err, chat.ErrNoSuchFile) {
		t.Errorf("Upload after discard = %v, want %v", err, chat.ErrNoSuchFile)
	}
	if b := readAll(t, fs, u.ID); len(b) != 0 {
		t.Errorf("ReadFile after discard = %q", b)
	}
	if err := fs.DiscardUpload(ctx, u.ID); err != nil {
		t.Errorf("DiscardUpload again = %v, want nil", err)
	}

	// A file without a thumbnail.
	v := newUpload("f_plain", "alice", 1)
	if err := fs.CreateUpload(ctx, v, chat.Quota{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.AppendChunk(ctx, v.ID, 0, []byte{0}); err != nil {
		t.Fatal(err)
	}
	if err := fs.CompleteUpload(ctx, v.ID, chat.FileInfo{Type: "application/octet-stream"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := fs.Upload(ctx, v.ID); got.Thumb {
		t.Errorf("Thumb = true for a file completed without one")
	}
	if _, err := fs.Thumb(ctx, v.ID); !errors.Is(err, chat.ErrNoSuchFile) {
		t.Errorf("Thumb of a file without one = %v, want %v", err, chat.ErrNoSuchFile)
	}
}

func testBadOffset(t *testing.T, f Factory) {
	fs := asFiles(t, start(t, f))
	ctx := t.Context()
	u := newUpload("f_off", "alice", 6)
	if err := fs.CreateUpload(ctx, u, chat.Quota{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.AppendChunk(ctx, u.ID, 0, []byte("abc")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		off  int64
		data string
	}{
		{"again", 0, "abc"},
		{"gap", 4, "e"},
		{"behind", 2, "cd"},
		{"past size", 3, "defg"},
	}
	for _, tc := range tests {
		if _, err := fs.AppendChunk(ctx, u.ID, tc.off, []byte(tc.data)); !errors.Is(err, chat.ErrBadOffset) {
			t.Errorf("%s: AppendChunk(%d, %q) = %v, want %v", tc.name, tc.off, tc.data, err, chat.ErrBadOffset)
		}
	}
	if _, err := fs.AppendChunk(ctx, "f_missing", 0, []byte("a")); !errors.Is(err, chat.ErrNoSuchFile) {
		t.Errorf("AppendChunk(missing) = %v, want %v", err, chat.ErrNoSuchFile)
	}
	if got, _ := fs.Upload(ctx, u.ID); got.Received != 3 {
		t.Errorf("Received = %d after refused chunks, want 3", got.Received)
	}
	if b := readAll(t, fs, u.ID); string(b) != "abc" {
		t.Errorf("ReadFile = %q, want %q", b, "abc")
	}
}

// testConcurrentChunks: of many chunks at one offset, as from two nodes,
// exactly one is stored.
func testConcurrentChunks(t *testing.T, f Factory) {
	fs := asFiles(t, start(t, f))
	ctx := t.Context()
	u := newUpload("f_race", "alice", 100)
	if err := fs.CreateUpload(ctx, u, chat.Quota{}); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = fs.AppendChunk(ctx, u.ID, 0, []byte{byte('a' + i)})
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, chat.ErrBadOffset):
			t.Errorf("AppendChunk %d: %v", i, err)
		}
	}
	if ok != 1 {
		t.Errorf("%d chunks at offset 0 stored, want 1", ok)
	}
	if b := readAll(t, fs, u.ID); len(b) != 1 {
		t.Errorf("ReadFile = %q, want one byte", b)
	}
}

func completeUpload(t *testing.T, fs chat.Files, u chat.Upload, data []byte) {
	t.Helper()
	if err := fs.CreateUpload(t.Context(), u, chat.Quota{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.AppendChunk(t.Context(), u.ID, 0, data); err != nil {
		t.Fatal(err)
	}
	if err := fs.CompleteUpload(t.Context(), u.ID, chat.FileInfo{Type: "text/plain; charset=utf-8"}); err != nil {
		t.Fatal(err)
	}
}

func testClaimFile(t *testing.T, f Factory) {
	fs := asFiles(t, start(t, f))
	ctx := t.Context()
	completeUpload(t, fs, newUpload("f_claim", "alice", 2), []byte("hi"))
	open := newUpload("f_open", "alice", 2)
	if err := fs.CreateUpload(ctx, open, chat.Quota{}); err != nil {
		t.Fatal(err)
	}
	completeUpload(t, fs, newUpload("f_nocmid", "alice", 2), []byte("hi"))
	steps := []struct {
		name                  string
		id, owner, room, cmid string
		want                  error
	}{
		{"not the owner", "f_claim", "bob", "lobby", "c1", chat.ErrNoSuchFile},
		{"missing", "f_nope", "alice", "lobby", "c1", chat.ErrNoSuchFile},
		{"incomplete", "f_open", "alice", "lobby", "c1", chat.ErrNoSuchFile},
		{"claim", "f_claim", "alice", "lobby", "c1", nil},
		{"resend", "f_claim", "alice", "lobby", "c1", nil},
		{"another cmid", "f_claim", "alice", "lobby", "c2", chat.ErrFileUsed},
		{"another room", "f_claim", "alice", "books", "c1", chat.ErrFileUsed},
		{"no cmid", "f_nocmid", "alice", "lobby", "", nil},
		{"no cmid again", "f_nocmid", "alice", "lobby", "", chat.ErrFileUsed},
	}
	for _, s := range steps {
		if err := fs.ClaimFile(ctx, s.id, s.owner, s.room, s.cmid); !errors.Is(err, s.want) || (err == nil) != (s.want == nil) {
			t.Errorf("%s: ClaimFile(%s, %s, %s, %s) = %v, want %v", s.name, s.id, s.owner, s.room, s.cmid, err, s.want)
		}
	}
	if got, _ := fs.Upload(ctx, "f_claim"); got.Room != "lobby" || got.CMID != "c1" {
		t.Errorf("claimed upload has Room %q, CMID %q, want lobby, c1", got.Room, got.CMID)
	}
}

// testReleaseFile: a claim for a message that was not stored is undone,
// and the file can go with another message; a claim for a stored message,
// or another owner's, room's or cmid's release, changes nothing.
func testReleaseFile(t *testing.T, f Factory) {
	s := start(t, f)
	fs := asFiles(t, s)
	ctx := t.Context()
	mustCreateRoom(t, s, "books")
	completeUpload(t, fs, newUpload("f_free", "alice", 2), []byte("hi"))
	completeUpload(t, fs, newUpload("f_sent", "alice", 2), []byte("hi"))
	for _, id := range []string{"f_free", "f_sent"} {
		if err := fs.ClaimFile(ctx, id, "alice", "books", "c-"+id); err != nil {
			t.Fatal(err)
		}
	}
	mustAppend(t, s, []chat.NewMessage{{Room: "books", Author: "alice", Body: "sent", CMID: "c-f_sent", FileID: "f_sent"}})

	steps := []struct {
		name                  string
		id, owner, room, cmid string
		wantRoom, wantCMID    string // the claim after the release
	}{
		{"another owner", "f_free", "bob", "books", "c-f_free", "books", "c-f_free"},
		{"another room", "f_free", "alice", "lobby", "c-f_free", "books", "c-f_free"},
		{"another cmid", "f_free", "alice", "books", "c-other", "books", "c-f_free"},
		{"a stored message carries it", "f_sent", "alice", "books", "c-f_sent", "books", "c-f_sent"},
		{"missing", "f_nope", "alice", "books", "c-f_nope", "", ""},
		{"released", "f_free", "alice", "books", "c-f_free", "", ""},
		{"released again", "f_free", "alice", "books", "c-f_free", "", ""},
	}
	for _, st := range steps {
		if err := fs.ReleaseFile(ctx, st.id, st.owner, st.room, st.cmid); err != nil {
			t.Fatalf("%s: ReleaseFile: %v", st.name, err)
		}
		if st.id == "f_nope" {
			continue
		}
		got, err := fs.Upload(ctx, st.id)
		if err != nil {
			t.Fatalf("%s: Upload(%s): %v", st.name, st.id, err)
		}
		if got.Room != st.wantRoom || got.CMID != st.wantCMID {
			t.Errorf("%s: claim of %s is %q/%q, want %q/%q", st.name, st.id, got.Room, got.CMID, st.wantRoom, st.wantCMID)
		}
	}
	if err := fs.ClaimFile(ctx, "f_free", "alice", "books", "c-next"); err != nil {
		t.Errorf("claim of the released file for another message: %v, want nil", err)
	}
}

// testFileMessage: the message that carries a file is found, and no
// longer once it is deleted.
func testFileMessage(t *testing.T, f Factory) {
	s := start(t, f)
	fs := asFiles(t, s)
	ctx := t.Context()
	completeUpload(t, fs, newUpload("f_msg", "alice", 2), []byte("hi"))
	if _, _, err := fs.FileMessage(ctx, "f_msg"); !errors.Is(err, chat.ErrNoSuchFile) {
		t.Errorf("FileMessage before a send = %v, want %v", err, chat.ErrNoSuchFile)
	}
	mustCreateRoom(t, s, "books")
	msgs := mustAppend(t, s, []chat.NewMessage{
		{Room: "books", Author: "alice", Body: "before"},
		{Room: "books", Author: "alice", Body: "the file", FileID: "f_msg"},
	})
	room, seq, err := fs.FileMessage(ctx, "f_msg")
	if err != nil || room != "books" || seq != msgs[1].Seq {
		t.Errorf("FileMessage = %q, %d, %v, want books, %d", room, seq, err, msgs[1].Seq)
	}
	hist, err := s.HistoryAfter(ctx, "books", 0, 10)
	if err != nil || len(hist) != 2 || hist[1].FileID != "f_msg" {
		t.Errorf("history = %+v, %v, want the second message with FileID f_msg", hist, err)
	}
	mustAppend(t, s, []chat.NewMessage{{Room: "books", Author: "alice", Kind: chat.KindDelete, Target: msgs[1].Seq}})
	if _, _, err := fs.FileMessage(ctx, "f_msg"); !errors.Is(err, chat.ErrNoSuchFile) {
		t.Errorf("FileMessage after the delete = %v, want %v", err, chat.ErrNoSuchFile)
	}
}

func testUploadQuota(t *testing.T, f Factory) {
	fs := asFiles(t, start(t, f))
	ctx := t.Context()
	since := time.Now().Add(-time.Minute)
	for i, size := range []int64{100, 200, 300} {
		if err := fs.CreateUpload(ctx, newUpload(fmt.Sprintf("f_q%d", i), "alice", size), chat.Quota{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := fs.CreateUpload(ctx, newUpload("f_qb", "bob", 5), chat.Quota{}); err != nil {
		t.Fatal(err)
	}
	if n, err := fs.UploadedSince(ctx, "alice", since); err != nil || n != 600 {
		t.Errorf("UploadedSince(alice) = %d, %v, want 600", n, err)
	}
	if n, err := fs.UploadedSince(ctx, "alice", time.Now().Add(time.Minute)); err != nil || n != 0 {
		t.Errorf("UploadedSince(alice, later) = %d, %v, want 0", n, err)
	}
	if n, err := fs.UploadedSince(ctx, "carol", since); err != nil || n != 0 {
		t.Errorf("UploadedSince(carol) = %d, %v, want 0", n, err)
	}
	if err := fs.DiscardUpload(ctx, "f_q1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := fs.UploadedSince(ctx, "alice", since); n != 400 {
		t.Errorf("UploadedSince(alice) after a discard = %d, want 400", n)
	}

	// CreateUpload with a quota, in order: alice has 400 since since.
	steps := []struct {
		name  string
		owner string
		size  int64
		q     chat.Quota
		want  error
	}{
		{"fits", "alice", 500, chat.Quota{Since: since, Bytes: 1000}, nil},
		{"fills it", "alice", 100, chat.Quota{Since: since, Bytes: 1000}, nil},
		{"a byte over", "alice", 1, chat.Quota{Since: since, Bytes: 1000}, chat.ErrOverQuota},
		{"larger than the quota", "carol", 1001, chat.Quota{Since: since, Bytes: 1000}, chat.ErrOverQuota},
		{"another owner's", "bob", 995, chat.Quota{Since: since, Bytes: 1000}, nil},
		{"uploads before since", "alice", 1000, chat.Quota{Since: time.Now().Add(time.Minute), Bytes: 1000}, nil},
		{"unbounded", "alice", 1 << 40, chat.Quota{Since: since}, nil},
	}
	for i, st := range steps {
		u := newUpload(fmt.Sprintf("f_qs%d", i), st.owner, st.size)
		err := fs.CreateUpload(ctx, u, st.q)
		if !errors.Is(err, st.want) || (err == nil) != (st.want == nil) {
			t.Errorf("%s: CreateUpload(%s, %d bytes, %+v) = %v, want %v", st.name, st.owner, st.size, st.q, err, st.want)
		}
		_, err = fs.Upload(ctx, u.ID)
		if stored := err == nil; stored != (st.want == nil) {
			t.Errorf("%s: upload stored = %v (%v), want %v", st.name, stored, err, st.want == nil)
		}
	}
}

// testUploadQuotaConcurrent: uploads of one owner created at once, as on
// several connections or nodes, never pass the quota together: of 16
// uploads of 100 bytes under a quota of 1000 with 250 used, exactly 7 are
// stored. Another owner's, created at the same time, are not held back.
func testUploadQuotaConcurrent(t *testing.T, f Factory) {
	fs := asFiles(t, start(t, f))
	ctx := t.Context()
	q := chat.Quota{Since: time.Now().Add(-time.Minute), Bytes: 1000}
	if err := fs.CreateUpload(ctx, newUpload("f_used", "alice", 250), q); err != nil {
		t.Fatal(err)
	}
	const n = 16
	var wg sync.WaitGroup
	errs := make(map[string][]error)
	var mu sync.Mutex
	for _, owner := range []string{"alice", "bob"} {
		for i := range n {
			wg.Go(func() {
				err := fs.CreateUpload(ctx, newUpload(fmt.Sprintf("f_%s%d", owner, i), owner, 100), q)
				mu.Lock()
				errs[owner] = append(errs[owner], err)
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	tests := []struct {
		owner           string
		stored, refused int
		used            int64
	}{
		{"alice", 7, 9, 950},
		{"bob", 10, 6, 1000},
	}
	for _, tt := range tests {
		stored, refused := 0, 0
		for _, err := range errs[tt.owner] {
			switch {
			case err == nil:
				stored++
			case errors.Is(err, chat.ErrOverQuota):
				refused++
			default:
				t.Errorf("CreateUpload of %s: %v", tt.owner, err)
			}
		}
		if stored != tt.stored || refused != tt.refused {
			t.Errorf("%s: %d uploads stored and %d refused, want %d and %d", tt.owner, stored, refused, tt.stored, tt.refused)
		}
		if got, err := fs.UploadedSince(ctx, tt.owner, q.Since); err != nil || got != tt.used {
			t.Errorf("UploadedSince(%s) = %d, %v; want %d", tt.owner, got, err, tt.used)
		}
	}
}

func testExpireUploads(t *testing.T, f Factory) {
	s := start(t, f)
	fs := asFiles(t, s)
	ctx := t.Context()
	mustCreateRoom(t, s, "books")
	completeUpload(t, fs, newUpload("f_unsent", "alice", 2), []byte("ok"))
	completeUpload(t, fs, newUpload("f_claimed", "alice", 2), []byte("ok"))
	completeUpload(t, fs, newUpload("f_sent", "alice", 2), []byte("ok"))
	completeUpload(t, fs, newUpload("f_released", "alice", 2), []byte("ok"))
	for _, id := range []string{"f_claimed", "f_sent", "f_released"} {
		if err := fs.ClaimFile(ctx, id, "alice", "books", "c-"+id); err != nil {
			t.Fatal(err)
		}
	}
	mustAppend(t, s, []chat.NewMessage{{Room: "books", Author: "alice", Body: "sent", CMID: "c-f_sent", FileID: "f_sent"}})
	if err := fs.ReleaseFile(ctx, "f_released", "alice", "books", "c-f_released"); err != nil {
		t.Fatal(err)
	}
	stale := newUpload("f_stale", "alice", 4)
	if err := fs.CreateUpload(ctx, stale, chat.Quota{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.AppendChunk(ctx, stale.ID, 0, []byte("ab")); err != nil {
		t.Fatal(err)
	}
	if n, err := fs.ExpireUploads(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("ExpireUploads(an hour ago) = %d, %v, want 0", n, err)
	}
	// Unfinished, and finished but carried by no message (never claimed,
	// released, or claimed for a message never stored): gone. Sent: kept.
	if n, err := fs.ExpireUploads(ctx, time.Now().Add(time.Minute)); err != nil || n != 4 {
		t.Errorf("ExpireUploads(now) = %d, %v, want 4", n, err)
	}
	for _, id := range []string{"f_stale", "f_unsent", "f_released", "f_claimed"} {
		if _, err := fs.Upload(ctx, id); !errors.Is(err, chat.ErrNoSuchFile) {
			t.Errorf("Upload(%s) after expiry = %v, want %v", id, err, chat.ErrNoSuchFile)
		}
		if b := readAll(t, fs, id); len(b) != 0 {
			t.Errorf("ReadFile(%s) after expiry = %q, want nothing", id, b)
		}
	}
	if b := readAll(t, fs, "f_sent"); string(b) != "ok" {
		t.Errorf("ReadFile(f_sent) after expiry = %q, want %q", b, "ok")
	}
}

// testExpireLostClaims: a file claimed for a message that was never stored
// (the node died between ClaimFile and Append) expires like a file never
// sent, counted from the claim: every claim, a resend's too, restarts the
// count, so that a send in flight never loses its file. After the expiry
// the owner's quota has it back and a resend of the message finds no such
// file. A file that a stored message carries never expires, however old
// its claim.
func testExpireLostClaims(t *testing.T, f Factory) {
	s := start(t, f)
	fs := asFiles(t, s)
	ctx := t.Context()
	mustCreateRoom(t, s, "books")
	since := time.Now().Add(-time.Minute)
	for _, id := range []string{"f_lost", "f_sent", "f_resent", "f_late"} {
		completeUpload(t, fs, newUpload(id, "alice", 2), []byte("ok"))
	}
	for _, id := range []string{"f_lost", "f_sent", "f_resent"} {
		if err := fs.ClaimFile(ctx, id, "alice", "books", "c-"+id); err != nil {
			t.Fatal(err)
		}
	}
	mustAppend(t, s, []chat.NewMessage{{Room: "books", Author: "alice", Body: "sent", CMID: "c-f_sent", FileID: "f_sent"}})

	// Stores keep milliseconds: the claims below are after cut, the
	// uploads and the claims above before it.
	time.Sleep(5 * time.Millisecond)
	cut := time.Now()
	time.Sleep(5 * time.Millisecond)
	for _, id := range []string{"f_resent", "f_late"} { // a resend's claim, and a first one
		if err := fs.ClaimFile(ctx, id, "alice", "books", "c-"+id); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := fs.ExpireUploads(ctx, cut); err != nil || n != 1 {
		t.Errorf("ExpireUploads(before the last claims) = %d, %v, want 1 (f_lost)", n, err)
	}
	for _, id := range []string{"f_sent", "f_resent", "f_late"} {
		if b := readAll(t, fs, id); string(b) != "ok" {
			t.Errorf("ReadFile(%s) after the expiry = %q, want %q", id, b, "ok")
		}
	}
	if _, err := fs.Upload(ctx, "f_lost"); !errors.Is(err, chat.ErrNoSuchFile) {
		t.Errorf("Upload(f_lost) after the expiry = %v, want %v", err, chat.ErrNoSuchFile)
	}
	if b := readAll(t, fs, "f_lost"); len(b) != 0 {
		t.Errorf("ReadFile(f_lost) after the expiry = %q, want nothing", b)
	}
	if err := fs.ClaimFile(ctx, "f_lost", "alice", "books", "c-f_lost"); !errors.Is(err, chat.ErrNoSuchFile) {
		t.Errorf("ClaimFile of the lost message's file again = %v, want %v", err, chat.ErrNoSuchFile)
	}
	if got, want := mustUploaded(t, fs, since), int64(6); got != want {
		t.Errorf("UploadedSince after the expiry = %d, want %d (f_lost given back)", got, want)
	}

	// Later, the resent message is stored and the other is not: only
	// the sent files stay, and their claims may be as old as any.
	mustAppend(t, s, []chat.NewMessage{{Room: "books", Author: "alice", Body: "resent", CMID: "c-f_resent", FileID: "f_resent"}})
	if n, err := fs.ExpireUploads(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("ExpireUploads(now) = %d, %v, want 1 (f_late)", n, err)
	}
	for _, id := range []string{"f_sent", "f_resent"} {
		if b := readAll(t, fs, id); string(b) != "ok" {
			t.Errorf("ReadFile(%s) after the second expiry = %q, want %q", id, b, "ok")
		}
		if _, _, err := fs.FileMessage(ctx, id); err != nil {
			t.Errorf("FileMessage(%s) = %v", id, err)
		}
	}
	if _, err := fs.Upload(ctx, "f_late"); !errors.Is(err, chat.ErrNoSuchFile) {
		t.Errorf("Upload(f_late) after the second expiry = %v, want %v", err, chat.ErrNoSuchFile)
	}
}

func testFilesDurability(t *testing.T, f Factory) {
	open := f(t)
	s, closeStore := openOnce(t, open)
	fs := asFiles(t, s)
	big := bytes.Repeat([]byte("0123456789abcdef"), 8192) // 128 KiB in two chunks
	u := newUpload("f_dur", "alice", int64(len(big)))
	if err := fs.CreateUpload(t.Context(), u, chat.Quota{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.AppendChunk(t.Context(), u.ID, 0, big[:65536]); err != nil {
		t.Fatal(err)
	}
	if err := closeStore(); err != nil {
		t.Fatal(err)
	}
	fs = asFiles(t, keepOpen(t, open))
	got, err := fs.Upload(t.Context(), u.ID)
	if err != nil || got.Received != 65536 {
		t.Fatalf("Upload after reopen = %+v, %v, want Received 65536", got, err)
	}
	if _, err := fs.AppendChunk(t.Context(), u.ID, 65536, big[65536:]); err != nil {
		t.Fatalf("AppendChunk after reopen: %v", err)
	}
	if b := readAll(t, fs, u.ID); !bytes.Equal(b, big) {
		t.Errorf("ReadFile after reopen: %d bytes, not the file", len(b))
	}
}

func testFilesClosed(t *testing.T, f Factory) {
	first, closeStore := openOnce(t, f(t))
	fs := asFiles(t, first)
	if err := closeStore(); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	calls := []struct {
		name string
		call func() error
	}{
		{"CreateUpload", func() error { return fs.CreateUpload(ctx, newUpload("f_x", "a", 1), chat.Quota{}) }},
		{"Upload", func() error { _, err := fs.Upload(ctx, "f_x"); return err }},
		{"AppendChunk", func() error { _, err := fs.AppendChunk(ctx, "f_x", 0, []byte("a")); return err }},
		{"ReadFile", func() error { return fs.ReadFile(ctx, "f_x", func(int64, []byte) error { return nil }) }},
		{"CompleteUpload", func() error { return fs.CompleteUpload(ctx, "f_x", chat.FileInfo{}) }},
		{"Thumb", func() error { _, err := fs.Thumb(ctx, "f_x"); return err }},
		{"DiscardUpload", func() error { return fs.DiscardUpload(ctx, "f_x") }},
		{"ClaimFile", func() error { return fs.ClaimFile(ctx, "f_x", "a", "lobby", "c") }},
		{"FileMessage", func() error { _, _, err := fs.FileMessage(ctx, "f_x"); return err }},
		{"UploadedSince", func() error { _, err := fs.UploadedSince(ctx, "a", time.Now()); return err }},
		{"ExpireUploads", func() error { _, err := fs.ExpireUploads(ctx, time.Now()); return err }},
		{"PurgeFiles", func() error { _, err := fs.PurgeFiles(ctx, 1); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, chat.ErrClosed) {
			t.Errorf("%s after Close = %v, want %v", c.name, err, chat.ErrClosed)
		}
	}
}
