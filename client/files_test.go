package client_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/protocol"
)

// testChunk is the chunk size of the servers of these tests: a read limit
// this small makes a file of a few tens of KiB take many chunks, and a
// client that ignored the server's chunk size would be closed with 1009.
const testChunk = 1024

func filesConfig() server.Config {
	return server.Config{ReadLimit: testChunk + protocol.MaxChunkHeaderBytes}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// filesCtx bounds a test of files: a broken upload hangs rather than
// fails (the client retries until ctx ends).
func filesCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// download fetches f with c and returns its bytes.
func download(t *testing.T, c *client.Client, f protocol.File) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := c.Download(filesCtx(t), f, &buf)
	if err != nil {
		t.Fatalf("Download %s: %v", f.ID, err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("Download returned %d, wrote %d bytes", n, buf.Len())
	}
	return buf.Bytes()
}

// TestUploadSendDownload: a guest uploads a file of many chunks, sends it
// with a caption; another guest in the room gets the message with the file
// and downloads the same bytes over HTTP. A resend with the same cmid
// stores nothing new; the same file under another cmid is refused.
func TestUploadSendDownload(t *testing.T) {
	s := startFilesServer(t, filesConfig())
	ctx := filesCtx(t)
	up, _ := dial(t, s, fastOptions("uma"))
	reader, rec := dial(t, s, fastOptions("rita"))
	for _, c := range []*client.Client{up, reader} {
		if _, _, err := c.Join(ctx, chat.DefaultRoom); err != nil {
			t.Fatal(err)
		}
	}

	data := randomBytes(20*testChunk + 123)
	var progress []int64
	f, err := up.Upload(ctx, "notes.bin", bytes.NewReader(data), int64(len(data)), client.UploadOptions{
		Type:     "application/octet-stream",
		Progress: func(stored, size int64) { progress = append(progress, stored) },
	})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	want := protocol.File{ID: f.ID, Name: "notes.bin", Size: int64(len(data)), Type: "application/octet-stream"}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("uploaded file (-want +got):\n%s", diff)
	}
	// One report at the start and one per chunk, never going back.
	if len(progress) != 22 || progress[0] != 0 || progress[21] != int64(len(data)) || !slices.IsSorted(progress) {
		t.Errorf("progress reports %v, want 22 ascending from 0 to %d", progress, len(data))
	}
	if got := download(t, up, f); !bytes.Equal(got, data) {
		t.Errorf("the uploader downloaded %d bytes before sending, not the file uploaded", len(got))
	}

	const cmid = "file-cmid-1"
	m, err := up.SendFileWithID(ctx, chat.DefaultRoom, cmid, f.ID, "the notes")
	if err != nil {
		t.Fatalf("SendFileWithID: %v", err)
	}
	if m.Body != "the notes" || m.File == nil || *m.File != f {
		t.Errorf("stored message %+v, want body %q with file %+v", m, "the notes", f)
	}
	again, err := up.SendFileWithID(ctx, chat.DefaultRoom, cmid, f.ID, "the notes")
	if err != nil || again.Seq != m.Seq {
		t.Errorf("resend with the same cmid = seq %d, %v; want seq %d, nil", again.Seq, err, m.Seq)
	}
	_, err = up.SendFile(ctx, chat.DefaultRoom, f.ID, "")
	if got := protocol.CodeOf(err); got != protocol.CodeNoSuchUpload {
		t.Errorf("the file sent again with another cmid: %v, want %s", err, protocol.CodeNoSuchUpload)
	}

	rec.waitSeq(t, chat.DefaultRoom, m.Seq)
	msgs := rec.messages(chat.DefaultRoom)
	got := msgs[len(msgs)-1].Message
	if got.File == nil || *got.File != f {
		t.Fatalf("the reader got %+v, want the file %+v", got, f)
	}
	if b := download(t, reader, *got.File); !bytes.Equal(b, data) {
		t.Errorf("the reader downloaded %d bytes, not the file uploaded", len(b))
	}
	if n := len(allHistory(t, reader, chat.DefaultRoom)); n != 1 {
		t.Errorf("history holds %d messages, want 1", n)
	}
}

// TestUploadResumesAfterDisconnect: the connection is cut in the middle of
// an upload; Upload resumes after the client's reconnect from where the
// server stands (never from 0), the file is complete and has the bytes
// given, and its message is stored once.
func TestUploadResumesAfterDisconnect(t *testing.T) {
	s := startFilesServer(t, filesConfig())
	ctx := filesCtx(t)
	c, rec := dial(t, s, fastOptions("ursula"))
	if _, _, err := c.Join(ctx, chat.DefaultRoom); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(40 * testChunk)
	var (
		progress []int64
		cut      bool
	)
	f, err := c.Upload(ctx, "big.bin", bytes.NewReader(data), int64(len(data)), client.UploadOptions{
		Progress: func(stored, size int64) {
			progress = append(progress, stored)
			if !cut && stored >= size/2 {
				cut = true
				s.killConns() // mid-way: chunks are in flight
			}
		},
	})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if !cut {
		t.Fatal("the connection was never cut")
	}
	if !slices.IsSorted(progress) || progress[len(progress)-1] != int64(len(data)) {
		t.Errorf("progress %v: want it never to go back, and to end at %d", progress, len(data))
	}
	if n := count(rec, func(e client.StateEvent) bool { return e.State == client.Connected }); n < 1 {
		t.Errorf("%d reconnects, want at least 1", n)
	}
	m, err := c.SendFile(ctx, chat.DefaultRoom, f.ID, "")
	if err != nil {
		t.Fatalf("SendFile: %v", err)
	}
	if got := download(t, c, *m.File); !bytes.Equal(got, data) {
		t.Errorf("downloaded %d bytes, not the file uploaded", len(got))
	}
	hist := allHistory(t, c, chat.DefaultRoom)
	if len(hist) != 1 || hist[0].File == nil || hist[0].File.ID != f.ID {
		t.Errorf("history %+v, want the one message with file %s", hist, f.ID)
	}
}

// TestUploadResumeLater: an Upload that ended early (its ctx cancelled)
// reports its id, and a later Upload with UploadOptions.Resume carries on
// from where the server stands.
func TestUploadResumeLater(t *testing.T) {
	s := startFilesServer(t, filesConfig())
	c, _ := dial(t, s, fastOptions("ulla"))
	data := randomBytes(30 * testChunk)
	ctx, cancel := context.WithCancel(filesCtx(t))
	_, err := c.Upload(ctx, "half.bin", bytes.NewReader(data), int64(len(data)), client.UploadOptions{
		Progress: func(stored, size int64) {
			if stored >= size/3 {
				cancel()
			}
		},
	})
	var uerr *client.UploadError
	if !errors.As(err, &uerr) || uerr.ID == "" || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Upload: %v, want an *UploadError with an id and context.Canceled", err)
	}
	var first int64 = -1
	f, err := c.Upload(filesCtx(t), "ignored.bin", bytes.NewReader(data), int64(len(data)), client.UploadOptions{
		Resume: uerr.ID,
		Progress: func(stored, size int64) {
			if first < 0 {
				first = stored
			}
		},
	})
	if err != nil {
		t.Fatalf("resumed Upload: %v", err)
	}
	if f.ID != uerr.ID || f.Name != "half.bin" {
		t.Errorf("resumed file %+v, want id %s named half.bin", f, uerr.ID)
	}
	if first < int64(len(data))/3 {
		t.Errorf("the resume started at %d, want where the first Upload stopped (>= %d)", first, len(data)/3)
	}
	if got := download(t, c, f); !bytes.Equal(got, data) {
		t.Errorf("downloaded %d bytes, not the file uploaded", len(got))
	}
}

// changingFile reads as old the first time through (the hash) and as new
// afterwards (the chunks), as a file rewritten during its upload.
type changingFile struct {
	mu       sync.Mutex
	old, new []byte
	hashed   int
}

func (f *changingFile) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	src := f.new
	if f.hashed < len(f.old) {
		src = f.old
		f.hashed += len(p)
	}
	n := copy(p, src[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestUploadRefused: the server's refusals come back as an *UploadError
// with the documented code; invalid arguments are refused before anything
// is read or sent.
func TestUploadRefused(t *testing.T) {
	cfg := filesConfig()
	cfg.FileMaxBytes = 8 * testChunk
	s := startFilesServer(t, cfg)
	c, _ := dial(t, s, fastOptions("otto"))
	small := randomBytes(3 * testChunk)
	tests := []struct {
		name   string
		file   string
		r      io.ReaderAt
		size   int64
		opts   client.UploadOptions
		code   protocol.Code
		wantID bool
	}{
		{"too large", "big.bin", bytes.NewReader(randomBytes(9 * testChunk)), 9 * testChunk, client.UploadOptions{}, protocol.CodeFileTooLarge, false},
		{"a path for a name", "a/b.bin", bytes.NewReader(small), int64(len(small)), client.UploadOptions{}, protocol.CodeInvalidValue, false},
		{"empty", "empty.bin", bytes.NewReader(nil), 0, client.UploadOptions{}, protocol.CodeInvalidValue, false},
		{"unknown upload to resume", "x", bytes.NewReader(small), int64(len(small)), client.UploadOptions{Resume: "f_nosuchupload"}, protocol.CodeNoSuchUpload, true},
		{"changed during the upload", "changing.bin", &changingFile{old: small, new: randomBytes(len(small))}, int64(len(small)), client.UploadOptions{}, protocol.CodeChecksumMismatch, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Upload(filesCtx(t), tt.file, tt.r, tt.size, tt.opts)
			if got := protocol.CodeOf(err); got != tt.code {
				t.Fatalf("Upload: %v, want code %s", err, tt.code)
			}
			var uerr *client.UploadError
			if !errors.As(err, &uerr) {
				t.Fatalf("Upload: %T, want *client.UploadError", err)
			}
			if (uerr.ID != "") != tt.wantID {
				t.Errorf("UploadError.ID = %q; want one: %v", uerr.ID, tt.wantID)
			}
		})
	}
}

// TestDownloadRefused: a file not yet sent is the uploader's only; anyone
// else gets no_such_file, as for a file that does not exist.
func TestDownloadRefused(t *testing.T) {
	s := startFilesServer(t, filesConfig())
	ctx := filesCtx(t)
	up, _ := dial(t, s, fastOptions("ulf"))
	other, _ := dial(t, s, fastOptions("oda"))
	data := randomBytes(testChunk)
	f, err := up.Upload(ctx, "mine.bin", bytes.NewReader(data), int64(len(data)), client.UploadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []protocol.File{f, {ID: "f_nosuchfile", Name: "x"}} {
		var buf bytes.Buffer
		_, err := other.Download(ctx, file, &buf)
		if got := protocol.CodeOf(err); got != protocol.CodeNoSuchFile || buf.Len() != 0 {
			t.Errorf("another guest's Download of %s: %v (%d bytes), want %s and nothing", file.ID, err, buf.Len(), protocol.CodeNoSuchFile)
		}
	}
}
