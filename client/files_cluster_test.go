package client_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/pgstore"
	"github.com/hubbub-chat/hubbub/internal/pgtest"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/protocol"
)

// pgSchema returns a DSN of a fresh schema on HUBBUB_TEST_POSTGRES (dropped
// when t ends), or skips t.
func pgSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("HUBBUB_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("HUBBUB_TEST_POSTGRES not set: skipping the two-node test")
	}
	return pgtest.Schema(t, dsn, "hubbub_client_")
}

// startPGNode starts a hubbub server on its own connection pool to the
// PostgreSQL schema dsn, with broker, and returns its WebSocket URL. mut,
// if given, adjusts the configuration first. It stops when t ends.
func startPGNode(t *testing.T, dsn string, broker *membroker.Broker, mut ...func(*server.Config)) string {
	t.Helper()
	store, err := pgstore.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{
		Store: store, Broker: broker, Accounts: store, Access: store, Reads: store, Search: store, Files: store,
		ReadLimit: testChunk + protocol.MaxChunkHeaderBytes,
		Logger:    slog.New(slog.DiscardHandler),
	}
	for _, m := range mut {
		m(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		ts.Close()
		store.Close()
	})
	return "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
}

// TestFilesTwoNodes: two servers on one PostgreSQL store. A file uploaded
// and sent on node A reaches a reader on node B, who downloads the same
// bytes from node B.
func TestFilesTwoNodes(t *testing.T) {
	dsn := pgSchema(t)
	broker := membroker.New()
	t.Cleanup(func() { broker.Close() })
	urlA := startPGNode(t, dsn, broker)
	urlB := startPGNode(t, dsn, broker)
	ctx := filesCtx(t)

	dialTo := func(u, name string) (*client.Client, *recorder) {
		c, err := client.Dial(ctx, u, fastOptions(name))
		if err != nil {
			t.Fatalf("Dial %s: %v", u, err)
		}
		rec := record(c)
		t.Cleanup(func() { c.Close(); <-rec.done })
		if _, _, err := c.Join(ctx, chat.DefaultRoom); err != nil {
			t.Fatal(err)
		}
		return c, rec
	}
	up, _ := dialTo(urlA, "ada")
	reader, rec := dialTo(urlB, "bea")

	data := randomBytes(12*testChunk + 7)
	f, err := up.Upload(ctx, "across.bin", bytes.NewReader(data), int64(len(data)), client.UploadOptions{})
	if err != nil {
		t.Fatalf("Upload on node A: %v", err)
	}
	m, err := up.SendFile(ctx, chat.DefaultRoom, f.ID, "from A")
	if err != nil {
		t.Fatalf("SendFile on node A: %v", err)
	}
	rec.waitSeq(t, chat.DefaultRoom, m.Seq)
	msgs := rec.messages(chat.DefaultRoom)
	got := msgs[len(msgs)-1].Message
	if got.File == nil || *got.File != f {
		t.Fatalf("node B delivered %+v, want the file %+v", got, f)
	}
	if b := download(t, reader, *got.File); !bytes.Equal(b, data) {
		t.Errorf("downloaded %d bytes from node B, not the file uploaded on node A", len(b))
	}
}
