//go:build !linux

package server

import (
	"log/slog"
	"syscall"
)

// limitUnsent does nothing here: the connections of this system do not
// park, so raw is never set. See park_linux.go.
func limitUnsent(syscall.RawConn, int) {}

// newPoller returns no poller where there is no epoll: every connection
// keeps its read loop's goroutine, blocked in a read, as gorilla's
// examples do.
func newPoller(*slog.Logger) parker { return nil }
