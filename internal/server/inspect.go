package server

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/hubbub-chat/hubbub/internal/inspect"
	"github.com/hubbub-chat/hubbub/protocol"
)

// The inspector: every /ws and /echo connection runs on an inspect.Tap, so
// that it can be watched live, frame by frame, as it crosses the wire.
//
//	GET  /api/inspect/conns   administrators: the current connections
//	POST /api/inspect/watch   {"conn": id} or {"key": k}: a connection's
//	                          view as NDJSON inspect.Records, live
//
// Who may watch what: an administrator any connection; a signed-in user
// the connections of their own account; anyone holding the inspect key of
// a connection (a browser tab its own socket: it opened /ws?inspect=C with
// C = base64url(SHA-256(key)), so the key itself never travels in a URL).
// Payloads of a connection that is not the watcher's own are redacted
// unless Config.InspectPayloads is set. docs/learn/inspector.md has the
// whole story.

// inspectQuery is the query parameter of /ws and /echo that carries the
// inspect challenge.
const inspectQuery = "inspect"

// tappedConn is the net.Conn gorilla gets from Hijack: the tapped conn,
// with what the server knows about it from the request.
type tappedConn struct {
	*inspect.Conn
	br        *bufio.Reader // what gorilla reads through; owned by the connection's read loop
	path      string        // /ws or /echo; immutable
	challenge string        // SHA-256 of the inspect key, or ""; immutable
	srv       *Server
}

// tapWriter wraps an http.ResponseWriter so that the connection gorilla
// hijacks from it is tapped.
type tapWriter struct {
	http.ResponseWriter
	r   *http.Request
	srv *Server
}

// Hijack implements http.Hijacker: it hijacks the underlying connection
// and returns it tapped. gorilla resets the returned bufio.ReadWriter onto
// the returned conn (bufioReaderSize, bufioWriterBuffer in its server.go),
// so every later read and write goes through the tap.
func (tw tapWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := tw.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("server: response does not implement http.Hijacker")
	}
	nc, brw, err := h.Hijack()
	if err != nil {
		return nil, nil, err
	}
	if brw.Reader.Buffered() > 0 {
		// A client that sent frames before the 101: gorilla refuses it
		// on seeing net/http's reader with bytes in it.
		return nc, brw, nil
	}
	t := inspect.NewTap(true, false, true)
	t.SetHead(inspect.In, requestHead(tw.r))
	tc := &tappedConn{Conn: inspect.NewConn(nc, t), path: tw.r.URL.Path, srv: tw.srv}
	// The reader gorilla will read through (Upgrader.ReadBufferSize is 0
	// and this one holds more than 256 bytes): small, and known to the
	// connection, which looks into it before it parks (park.go).
	tc.br = bufio.NewReaderSize(tc, readBufferSize)
	brw = bufio.NewReadWriter(tc.br, brw.Writer)
	if c := tw.r.URL.Query().Get(inspectQuery); c != "" {
		if b, err := base64.RawURLEncoding.DecodeString(c); err == nil && len(b) == sha256.Size {
			// Keyed from the hijack on, not from registration: the client
			// may ask to watch as soon as it has the 101. The first
			// connection to name a challenge keeps it while it lives: a
			// client makes a fresh key for every socket, so a second
			// connection with the same challenge is someone who saw the
			// URL and would otherwise put their own frames in front of
			// the key's holder. That connection is simply not keyed.
			if _, taken := tw.srv.inspectKeys.LoadOrStore(string(b), tc); !taken {
				tc.challenge = string(b)
			}
		}
	}
	return tc, brw, nil
}

// Close implements net.Conn: it forgets the connection's inspect key.
func (tc *tappedConn) Close() error {
	if tc.challenge != "" {
		tc.srv.inspectKeys.CompareAndDelete(tc.challenge, tc)
	}
	return tc.Conn.Close()
}

// requestHead writes the request's head the way net/http parsed it, with
// credentials already replaced: the tap could not see it cross.
func requestHead(r *http.Request) []byte {
	names := make([]string, 0, len(r.Header))
	size := len(r.Method) + len(r.RequestURI) + len(r.Proto) + len(r.Host) + 16
	for k, vs := range r.Header {
		names = append(names, k)
		for _, v := range vs {
			size += len(k) + len(v) + 4
		}
	}
	sort.Strings(names)
	b := make([]byte, 0, size)
	b = append(append(append(append(append(append(b, r.Method...), ' '), r.RequestURI...), ' '), r.Proto...), "\r\n"...)
	b = append(append(append(b, "Host: "...), r.Host...), "\r\n"...)
	for _, k := range names {
		for _, v := range r.Header[k] {
			if k == "Cookie" || k == "Authorization" {
				v = inspect.Redacted
			}
			b = append(append(append(append(b, k...), ": "...), v...), "\r\n"...)
		}
	}
	return append(b, "\r\n"...)
}

// tapOf returns the tapped conn under c, or nil (a conn made in a test
// without the tap).
func tapOf(c *conn) *tappedConn {
	tc, _ := c.ws.NetConn().(*tappedConn)
	return tc
}

// inspectUser records who c speaks as, for the connection list.
func (c *conn) inspectUser(name string) {
	if tc := tapOf(c); tc != nil {
		tc.Tap().SetUser(name)
	}
}

// account returns the account c belongs to, or "" for a guest or /echo.
func (c *conn) account() string {
	if ss, ok := c.h.(*session); ok && ss.auth != nil {
		return ss.auth.user.Name
	}
	return ""
}

// ConnInfo is one row of GET /api/inspect/conns.
type ConnInfo struct {
	ID         uint64   `json:"id"`
	Path       string   `json:"path"`
	User       string   `json:"user,omitempty"`
	Account    bool     `json:"account,omitempty"` // User is an account, not a guest's name
	Addr       string   `json:"addr"`
	Rooms      []string `json:"rooms,omitempty"`
	AgeSeconds float64  `json:"age_s"`
	Queue      int      `json:"queue"`       // events waiting for the write loop
	QueueBytes int      `json:"queue_bytes"` // their bytes
	BytesIn    uint64   `json:"bytes_in"`
	BytesOut   uint64   `json:"bytes_out"`
	Watchers   int      `json:"watchers"`
}

// connInfo describes c now.
func (s *Server) connInfo(c *conn, now time.Time) ConnInfo {
	ci := ConnInfo{ID: c.id, Addr: c.ws.RemoteAddr().String()}
	if tc := tapOf(c); tc != nil {
		t := tc.Tap()
		ci.Path = tc.path
		ci.User = t.User()
		ci.AgeSeconds = now.Sub(t.Started()).Seconds()
		ci.BytesIn, ci.BytesOut = t.Bytes(inspect.In), t.Bytes(inspect.Out)
		ci.Watchers = t.Watching()
	}
	if a := c.account(); a != "" {
		ci.User, ci.Account = a, true
	}
	if ss, ok := c.h.(*session); ok {
		ss.mu.Lock()
		ci.Rooms = ss.joined.names()
		ss.mu.Unlock()
		slices.Sort(ci.Rooms)
	}
	c.mu.Lock()
	ci.Queue, ci.QueueBytes = len(c.queue), c.queueBytes
	c.mu.Unlock()
	return ci
}

// liveConns returns the registered connections.
func (s *Server) liveConns() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

var errNotAdmin = protocol.Errorf(protocol.CodeForbidden, "only administrators may inspect other users' connections")

// serveInspectConns lists the current connections, for administrators.
func (s *Server) serveInspectConns(w http.ResponseWriter, r *http.Request) {
	a, err := s.authenticate(r.Context(), r)
	if err != nil {
		s.apiFail(w, err)
		return
	}
	if a == nil {
		s.apiFail(w, errUnauthorized)
		return
	}
	if !a.user.Admin {
		s.apiFail(w, errNotAdmin)
		return
	}
	now := time.Now()
	list := []ConnInfo{}
	for _, c := range s.liveConns() {
		list = append(list, s.connInfo(c, now))
	}
	slices.SortFunc(list, func(a, b ConnInfo) int { return int(a.ID) - int(b.ID) })
	writeJSON(w, http.StatusOK, map[string]any{"conns": list, "payloads": s.cfg.InspectPayloads})
}

// watchRequest is the body of POST /api/inspect/watch.
type watchRequest struct {
	Conn uint64 `json:"conn,omitempty"`
	Key  string `json:"key,omitempty"`
}

// serveInspectWatch streams a connection's view as NDJSON until the
// connection ends, the watcher falls behind, the request ends or the
// server shuts down. The last line is a note saying which.
func (s *Server) serveInspectWatch(w http.ResponseWriter, r *http.Request) {
	if !s.postGuard(w, r) {
		return
	}
	var req watchRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		s.apiFail(w, protocol.Errorf(protocol.CodeBadJSON, "want {\"conn\": id} or {\"key\": key}"))
		return
	}
	tc, id, own, err := s.watchTarget(r, req)
	if err != nil {
		s.apiFail(w, err)
		return
	}
	redact := !own && !s.cfg.InspectPayloads
	watcher := tc.Tap().Watch()
	defer watcher.Stop()
	switch err := watcher.Err(); {
	case errors.Is(err, inspect.ErrTooMany):
		s.apiFail(w, protocol.Errorf(protocol.CodeLimitReached, "this connection has %d watchers already", inspect.MaxWatchers))
		return
	case err != nil:
		s.apiFail(w, protocol.Errorf(protocol.CodeInvalidValue, "that connection has closed"))
		return
	}
	s.log.Info("inspector attached", "conn", id, "path", tc.path, "own", own, "redacted", redact)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)

	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() { // the server's shutdown ends the feed too
		select {
		case <-s.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	dec := inspect.NewDecoder(tc.Tap(), redact)
	var werr error
	write := func(rec inspect.Record) {
		if werr == nil {
			rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
			werr = enc.Encode(rec)
		}
	}
	first := inspect.Record{Kind: "note", Note: "watching your own connection (" + tc.path + ")"}
	if id != 0 {
		first.Note = fmt.Sprintf("watching connection %d (%s)", id, tc.path)
	}
	if redact {
		first.Note += "; payloads redacted"
	}
	write(first)
	for werr == nil {
		ch, err := watcher.Next(ctx)
		if err != nil {
			if ctx.Err() == nil {
				write(inspect.Record{Kind: "note", Note: endNote(err)})
			}
			break
		}
		dec.Decode(ch, write)
		// Flush once the queue is drained, not per record.
		if watcher.Queued() == 0 {
			werr = rc.Flush()
		}
	}
	rc.Flush()
}

func endNote(err error) string {
	switch {
	case errors.Is(err, inspect.ErrClosed):
		return "end: the connection closed"
	case errors.Is(err, inspect.ErrFellBehind):
		return "end: this watcher fell behind and was dropped (the connection was not affected)"
	}
	return "end: " + err.Error()
}

// watchTarget finds the connection req names and decides whether it is
// the watcher's own. A key needs no session: a tab that holds its
// socket's key watches it unredacted.
func (s *Server) watchTarget(r *http.Request, req watchRequest) (tc *tappedConn, id uint64, own bool, err error) {
	if req.Key != "" {
		sum := sha256.Sum256([]byte(req.Key))
		if v, ok := s.inspectKeys.Load(string(sum[:])); ok {
			return v.(*tappedConn), 0, true, nil
		}
		return nil, 0, false, protocol.Errorf(protocol.CodeInvalidValue, "no live connection has that inspect key")
	}
	a, err := s.authenticate(r.Context(), r)
	if err != nil {
		return nil, 0, false, err
	}
	if a == nil {
		return nil, 0, false, errUnauthorized
	}
	for _, c := range s.liveConns() {
		if c.id != req.Conn {
			continue
		}
		own = c.account() == a.user.Name
		if !own && !a.user.Admin {
			return nil, 0, false, errNotAdmin
		}
		if tc = tapOf(c); tc == nil {
			return nil, 0, false, protocol.Errorf(protocol.CodeInvalidValue, "that connection cannot be inspected")
		}
		return tc, c.id, own, nil
	}
	if !a.user.Admin {
		// Don't tell a non-administrator which connection ids exist.
		return nil, 0, false, errNotAdmin
	}
	return nil, 0, false, protocol.Errorf(protocol.CodeInvalidValue, "no live connection %d", req.Conn)
}

// startTrace logs c's decoded view when Config.Trace is set: redacted
// unless InspectPayloads. A trace that falls behind the log stops, with a
// warning; the connection goes on.
func (s *Server) startTrace(c *conn) {
	tc := tapOf(c)
	if !s.cfg.Trace || tc == nil {
		return
	}
	watcher := tc.Tap().Watch()
	log := c.log.With("trace", true)
	s.bg.Go(func() {
		dec := inspect.NewDecoder(tc.Tap(), !s.cfg.InspectPayloads)
		emit := func(rec inspect.Record) {
			log.Info(inspect.Summary(rec), "dir", rec.Dir, "from", rec.From, "t_ms", rec.T)
		}
		for {
			ch, err := watcher.Next(context.Background())
			if err != nil {
				if errors.Is(err, inspect.ErrFellBehind) {
					log.Warn("trace fell behind; tracing of this connection stopped")
				}
				return
			}
			dec.Decode(ch, emit)
		}
	})
}
