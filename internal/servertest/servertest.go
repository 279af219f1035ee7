// Package servertest starts a complete hubbub server for the tests of other
// packages: a SQLite store in a temporary directory (with accounts and
// access control), the in-process broker, and internal/server behind
// httptest. It is the same server hubbubd runs, not an imitation.
//
// Tests of internal/server itself cannot use it (it imports that package);
// they build their server in their own helpers.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/server"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
)

// Server is a running test server.
type Server struct {
	URL    string // http://127.0.0.1:PORT
	WSURL  string // ws://127.0.0.1:PORT/ws
	Store  *sqlitestore.Store
	DBPath string // the store's database file, for a test to look inside
	Srv    *server.Server
}

// Start starts a server that stops when t ends (sockets closed with 1012,
// then the store and broker). mut, if not nil, adjusts the configuration
// before the server is made; Store, Broker, Accounts, Access, Reads, Search, Files and Blocks are set
// already, and the logger discards.
func Start(t testing.TB, mut func(*server.Config)) *Server {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hubbub.db")
	store, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	broker := membroker.New()
	cfg := server.Config{
		Store: store, Broker: broker, Accounts: store, Access: store, Reads: store, Search: store, Files: store, Blocks: store,
		Logger: slog.New(slog.DiscardHandler),
	}
	if mut != nil {
		mut(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		broker.Close()
		store.Close()
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("server shutdown: %v", err)
		}
		ts.Close()
		broker.Close()
		store.Close()
	})
	return &Server{
		URL:    ts.URL,
		WSURL:  "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws",
		Store:  store,
		DBPath: path,
		Srv:    srv,
	}
}

// Password is the password of the accounts SignUp creates.
const Password = "correct horse"

// SignUp creates the account name (password Password) through the server's
// account API, as a client would, and returns a bearer token of its first
// session, which several clients (devices) may share.
func (s *Server) SignUp(t testing.TB, name string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"username": name, "password": Password, "bearer": true})
	resp, err := http.Post(s.URL+"/api/register", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var reply struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil || reply.Token == "" {
		t.Fatalf("register %s: status %s, %v", name, resp.Status, err)
	}
	return reply.Token
}
