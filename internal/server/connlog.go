package server

import (
	"context"
	"log/slog"
)

// connLogger returns the logger of connection id: base's handler, with
// conn=id and, once the connection has said hello, user=user ("" for
// none) added to every record, ahead of the record's own attributes, as
// base.With("conn", id, "user", user) would.
//
// Unlike Logger.With, which clones base's handler and formats the
// attributes at once (about 200 bytes for each With, kept by every
// connection whether or not it ever logs), it costs two small objects
// until something is logged; a record that base's level drops costs
// nothing more.
func connLogger(base *slog.Logger, id uint64, user string) *slog.Logger {
	return slog.New(&connHandler{h: base.Handler(), id: id, user: user})
}

// connHandler is the slog.Handler of connLogger. Immutable.
type connHandler struct {
	h    slog.Handler
	id   uint64
	user string // "" before hello
}

func (ch *connHandler) attrs() []slog.Attr {
	if ch.user == "" {
		return []slog.Attr{slog.Uint64("conn", ch.id)}
	}
	return []slog.Attr{slog.Uint64("conn", ch.id), slog.String("user", ch.user)}
}

// Enabled implements slog.Handler.
func (ch *connHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return ch.h.Enabled(ctx, l)
}

// Handle implements slog.Handler: r with the connection's attributes
// first.
func (ch *connHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(ch.attrs()...)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(a)
		return true
	})
	return ch.h.Handle(ctx, out)
}

// WithAttrs implements slog.Handler; the result is an ordinary clone of
// the server's handler (a trace logger, say, made once per connection).
func (ch *connHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return ch.h.WithAttrs(append(ch.attrs(), as...))
}

// WithGroup implements slog.Handler.
func (ch *connHandler) WithGroup(name string) slog.Handler {
	return ch.h.WithAttrs(ch.attrs()).WithGroup(name)
}
