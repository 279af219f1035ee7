package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/membroker"
	"github.com/hubbub-chat/hubbub/internal/natsbroker"
	"github.com/hubbub-chat/hubbub/internal/pgstore"
	"github.com/hubbub-chat/hubbub/internal/redisbroker"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
)

// store is what hubbubd needs of a store: messages, accounts, access,
// read positions, search, files, guest name leases and blocks.
type store interface {
	chat.Store
	chat.Accounts
	chat.Access
	chat.Reads
	chat.Blocks
	chat.Searcher
	chat.Files
	chat.GuestNames
}

// openStore opens the store named by spec: empty for the SQLite file
// under dataDir (the embedded default), or a postgres:// URL shared by
// several nodes.
func openStore(ctx context.Context, spec, dataDir string) (store, string, error) {
	switch {
	case spec == "" || spec == "sqlite":
		path := filepath.Join(dataDir, "hubbub.db")
		s, err := sqlitestore.Open(path)
		return s, "sqlite " + path, err
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		s, err := pgstore.Open(ctx, spec)
		return s, "postgres", err
	}
	return nil, "", fmt.Errorf("--store: want empty (SQLite under --data) or a postgres:// URL, not %q", redact(spec))
}

// openBroker opens the broker named by spec: empty for the in-process
// broker (one node), or a redis:// or nats:// URL that several nodes share.
func openBroker(ctx context.Context, spec string, log *slog.Logger) (chat.Broker, string, error) {
	switch {
	case spec == "" || spec == "memory":
		return membroker.New(), "memory", nil
	case strings.HasPrefix(spec, "redis://"), strings.HasPrefix(spec, "rediss://"):
		b, err := redisbroker.Open(ctx, spec, redisbroker.Config{Logger: log})
		return b, "redis", err
	case strings.HasPrefix(spec, "nats://"), strings.HasPrefix(spec, "tls://"):
		b, err := natsbroker.Open(ctx, spec, natsbroker.Config{Logger: log})
		return b, "nats", err
	}
	return nil, "", errors.New("--broker: want empty (in-process), a redis:// URL or a nats:// URL")
}

// redact drops credentials from a URL-like spec before it is printed.
func redact(spec string) string {
	if i := strings.Index(spec, "@"); i >= 0 {
		if j := strings.Index(spec, "://"); j >= 0 && j < i {
			return spec[:j+3] + "…" + spec[i:]
		}
	}
	return spec
}
