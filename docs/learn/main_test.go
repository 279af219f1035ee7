// Package learn holds the tests of the guided tour in docs/learn: the Go
// code the tour shows runs here as Example functions against a real
// hubbub server, and TestTourLinks keeps the links of the tour, README.md
// and docs/ pointing at files, functions and headings that exist.
package learn

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
)

// addr is the host:port of the hubbub server the examples talk to: the
// tour says 127.0.0.1:8080, where `go run ./cmd/hubbubd` listens; the
// tests start their own server on a free port.
var addr string

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hubbub-tour-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	store, err := sqlitestore.Open(filepath.Join(dir, "hubbub.db"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	broker := membroker.New()
	srv, err := server.New(server.Config{Store: store, Broker: broker, HandshakeRate: 1000, HandshakeBurst: 1000})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ts := httptest.NewServer(srv)
	addr = strings.TrimPrefix(ts.URL, "http://")
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	ts.Close()
	broker.Close()
	store.Close()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			return 1
		}
	}
	return code
}
