package client_test

import (
	"bytes"
	"database/sql"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/servertest"
	"github.com/hubbub-chat/hubbub/protocol"
)

// storedBytes is what the database holds of one file: the bytes of its
// chunks, its name and the bytes of its thumbnail.
type storedBytes struct {
	Chunks int64
	Name   string
	Thumb  int64
}

// inDatabase reads what the database file at path holds of file id, on a
// connection of its own.
func inDatabase(t *testing.T, path, id string) storedBytes {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got storedBytes
	if err := db.QueryRowContext(t.Context(),
		`SELECT coalesce(sum(length(data)), 0) FROM upload_chunks WHERE upload = ?`, id).Scan(&got.Chunks); err != nil {
		t.Fatal(err)
	}
	err = db.QueryRowContext(t.Context(),
		`SELECT name, coalesce(length(thumb), 0) FROM uploads WHERE id = ?`, id).Scan(&got.Name, &got.Thumb)
	if err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	return got
}

// smallPNG is a w×h image that gets a thumbnail.
func smallPNG(t *testing.T, w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	img.Set(0, 0, color.NRGBA{1, 2, 3, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDeletionPurgesFiles: a file whose message is deleted, by its author
// or by the room's owner, or whose room is deleted, is refused for
// download at once (no_such_file, its thumbnail too), and its bytes leave
// the database soon after; a file that a message still carries is served
// and kept.
func TestDeletionPurgesFiles(t *testing.T) {
	srv := servertest.Start(t, func(cfg *server.Config) {
		cfg.ReadLimit = testChunk + protocol.MaxChunkHeaderBytes
	})
	ctx := filesCtx(t)
	adaToken := srv.SignUp(t, "ada")
	ada, err := client.Dial(ctx, srv.WSURL, client.Options{Token: adaToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ada.Close() })
	bob, _ := register(t, srv, "bob")
	for _, room := range []string{"shelf", "attic"} {
		if _, err := ada.Create(ctx, room, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*client.Client{ada, bob} {
		for _, room := range []string{chat.DefaultRoom, "shelf", "attic"} {
			if _, _, err := c.Join(ctx, room); err != nil {
				t.Fatal(err)
			}
		}
	}
	// send uploads data as name and sends it to room.
	send := func(t *testing.T, c *client.Client, room, name string, data []byte) protocol.Message {
		t.Helper()
		f, err := c.Upload(ctx, name, bytes.NewReader(data), int64(len(data)), client.UploadOptions{})
		if err != nil {
			t.Fatalf("Upload %s: %v", name, err)
		}
		m, err := c.SendFile(ctx, room, f.ID, name)
		if err != nil {
			t.Fatalf("SendFile %s: %v", name, err)
		}
		return m
	}
	// thumbStatus is the status of a GET of file id's thumbnail by ada.
	thumbStatus := func(t *testing.T, id string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/thumbs/"+id, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+adaToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	live := send(t, ada, chat.DefaultRoom, "live.bin", randomBytes(5*testChunk))
	liveStored := inDatabase(t, srv.DBPath, live.File.ID)

	tests := []struct {
		name   string
		sender *client.Client
		room   string
		delete func(protocol.Message) error
	}{
		{"by its author", ada, chat.DefaultRoom, func(m protocol.Message) error {
			_, err := ada.Delete(ctx, m.Room, m.Seq)
			return err
		}},
		{"by the room's owner", bob, "shelf", func(m protocol.Message) error {
			_, err := ada.Delete(ctx, m.Room, m.Seq)
			return err
		}},
		{"with its room", bob, "attic", func(m protocol.Message) error {
			return ada.DeleteRoom(ctx, m.Room)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := smallPNG(t, 40, 30)
			m := send(t, tt.sender, tt.room, "picture.png", data)
			f := *m.File
			if !f.Thumb {
				t.Fatalf("file %+v has no thumbnail; the test wants one", f)
			}
			if got := download(t, ada, f); !bytes.Equal(got, data) {
				t.Fatalf("downloaded %d bytes before the deletion, not the file", len(got))
			}
			if got := thumbStatus(t, f.ID); got != http.StatusOK {
				t.Fatalf("GET /thumbs/%s before the deletion: %d, want 200", f.ID, got)
			}
			if before := inDatabase(t, srv.DBPath, f.ID); before.Chunks != int64(len(data)) || before.Thumb == 0 {
				t.Fatalf("the database holds %+v of the file before the deletion, want %d bytes and a thumbnail", before, len(data))
			}
			if err := tt.delete(m); err != nil {
				t.Fatalf("delete: %v", err)
			}

			for _, c := range []*client.Client{tt.sender, ada} {
				_, err := c.Download(ctx, f, &bytes.Buffer{})
				if got := protocol.CodeOf(err); got != protocol.CodeNoSuchFile {
					t.Errorf("Download after the deletion: %v, want %s", err, protocol.CodeNoSuchFile)
				}
			}
			if got := thumbStatus(t, f.ID); got != http.StatusNotFound {
				t.Errorf("GET /thumbs/%s after the deletion: %d, want 404", f.ID, got)
			}
			// Name and thumbnail go with the deletion; the chunks soon
			// after it (tendFiles).
			var got storedBytes
			for deadline := time.Now().Add(10 * time.Second); ; {
				got = inDatabase(t, srv.DBPath, f.ID)
				if got.Chunks == 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if diff := cmp.Diff(storedBytes{}, got); diff != "" {
				t.Errorf("the database still holds of the file (-want +got):\n%s", diff)
			}
		})
	}

	if got := inDatabase(t, srv.DBPath, live.File.ID); got != liveStored {
		t.Errorf("the file still sent: the database holds %+v, want %+v as before", got, liveStored)
	}
	if got := download(t, bob, *live.File); int64(len(got)) != live.File.Size {
		t.Errorf("the file still sent: downloaded %d bytes, want %d", len(got), live.File.Size)
	}
}
