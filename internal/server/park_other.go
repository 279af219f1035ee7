//go:build !linux

package server

import "log/slog"

// newPoller returns no poller where there is no epoll: every connection
// keeps its read loop's goroutine, blocked in a read, as gorilla's
// examples do.
func newPoller(*slog.Logger) parker { return nil }
