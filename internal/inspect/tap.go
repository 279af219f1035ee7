package inspect

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hubbub-chat/hubbub/internal/wsframe"
)

// Dir is one direction of a connection, seen from the side that holds
// the Tap: In is what the peer sent, Out is what this side sent.
type Dir uint8

// The two directions.
const (
	In Dir = iota
	Out
)

func (d Dir) String() string {
	if d == In {
		return "in"
	}
	return "out"
}

// Bounds of one Watcher's queue: more queued than this and the watcher is
// dropped with ErrFellBehind.
const (
	WatchChunks = 512
	WatchBytes  = 1 << 20
)

// MaxWatchers bounds the watchers of one Tap, so that opening many feeds
// on one connection cannot multiply its memory.
const MaxWatchers = 8

// maxHead bounds the HTTP head kept per direction.
const maxHead = 8 << 10

// Errors a Watcher ends with.
var (
	ErrClosed     = errors.New("inspect: connection closed")
	ErrFellBehind = errors.New("inspect: watcher fell behind and was dropped")
	ErrStopped    = errors.New("inspect: watcher stopped")
	ErrTooMany    = errors.New("inspect: too many watchers on this connection")
)

// Chunk is a piece of one direction's byte stream as the Tap saw it cross
// the wire, at time At. A Head chunk is the whole HTTP head of the
// handshake in that direction (request line or status line, headers and
// the blank line). Data is shared between watchers: read-only.
type Chunk struct {
	Dir  Dir
	At   time.Time
	Head bool
	Data []byte
	// Midstream is set on a watcher's first frame chunk in a direction
	// where frames had crossed before it attached: it starts at a frame
	// boundary, which may be inside a fragmented message (§5.4).
	Midstream bool
}

// Tap observes one connection. Create it with NewTap; it is safe for
// concurrent use, but each direction must be fed by one goroutine at a
// time (a WebSocket has one reader and one writer, so it is).
//
// Every connection has one, for its whole life, so it is kept small: the
// state of an HTTP head being read is allocated only while it is, and the
// flags are packed together.
type Tap struct {
	server  bool        // immutable: this side is the server
	closed  bool        // guarded by mu
	hasKey  bool        // guarded by mu: key is set (head.go); never unset
	watched atomic.Bool // some watcher is attached
	started time.Time   // immutable

	dirs [2]direction // dirs[In] owned by the reader, dirs[Out] by the writer

	mu       sync.Mutex // guards the fields below, closed and hasKey
	watchers []*Watcher
	heads    [2]keptHead // complete HTTP heads, credentials redacted (head.go); zero until seen
	key      headKey     // the Sec-WebSocket-Key the heads share (head.go)
	user     string      // who the connection speaks as, for listings
}

// direction follows one direction's byte stream.
type direction struct {
	bytes atomic.Uint64 // bytes seen, HTTP head included

	// Owned by the goroutine doing this direction's I/O.
	scan   *headScan // the HTTP head being read; nil once it has been (or when there is none)
	skip   uint64    // payload bytes left in the current frame
	hdr    [wsframe.MaxHeaderSize]byte
	nhdr   uint8 // bytes of a header split across chunks
	lost   bool  // the stream cannot be followed (ErrBadLength)
	framed bool  // frame bytes have crossed
}

// headScan is the state of a direction still inside its HTTP head.
type headScan struct {
	crlf uint8  // bytes of "\r\n\r\n" matched so far
	head []byte // the head so far, at most maxHead
}

// NewTap returns a Tap for one connection. server says which side holds it.
// headIn and headOut say whether the stream in that direction still starts
// with an HTTP head the Tap will see; a head already read (the server's
// request, which net/http parsed before the upgrade) can be given with
// SetHead instead.
func NewTap(server, headIn, headOut bool) *Tap {
	t := &Tap{server: server, started: time.Now()}
	if headIn {
		t.dirs[In].scan = new(headScan)
	}
	if headOut {
		t.dirs[Out].scan = new(headScan)
	}
	return t
}

// Server reports whether the Tap is on the server's side.
func (t *Tap) Server() bool { return t.server }

// Started is when the Tap was created: the start of the connection.
func (t *Tap) Started() time.Time { return t.started }

// Bytes returns the bytes seen so far in direction d, HTTP head included
// when the Tap saw it cross; a head given with SetHead is not counted.
func (t *Tap) Bytes(d Dir) uint64 { return t.dirs[d].bytes.Load() }

// SetHead records the HTTP head of direction d when the Tap could not see
// it cross (the server's request). It must be called before the first
// byte of d is observed. The Tap keeps a copy, with credentials already
// redacted; head is not kept.
func (t *Tap) SetHead(d Dir, head []byte) {
	head = keepHead(head)
	t.mu.Lock()
	t.heads[d] = t.keepHeadLocked(head)
	t.mu.Unlock()
}

// SetUser records who the connection speaks as, for listings.
func (t *Tap) SetUser(name string) {
	t.mu.Lock()
	t.user = name
	t.mu.Unlock()
}

// User returns what SetUser recorded.
func (t *Tap) User() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.user
}

// Observe feeds the Tap bytes that just crossed the wire in direction d.
// The connection wrapper calls it after each Read and Write; it never
// blocks and never keeps p.
func (t *Tap) Observe(d Dir, p []byte) {
	if len(p) == 0 {
		return
	}
	ds := &t.dirs[d]
	ds.bytes.Add(uint64(len(p)))
	if !t.watched.Load() && ds.scan == nil {
		ds.track(p)
		return
	}
	t.observeSlow(d, p)
}

// observeSlow handles the HTTP head and watched streams.
func (t *Tap) observeSlow(d Dir, p []byte) {
	ds := &t.dirs[d]
	start := 0
	if ds.scan != nil {
		var done bool
		start, done = ds.scan.scan(p)
		if done {
			head := keepHead(ds.scan.head)
			ds.scan = nil
			t.mu.Lock()
			t.heads[d] = t.keepHeadLocked(head)
			t.publishLocked(Chunk{Dir: d, At: time.Now(), Head: true, Data: head})
			t.mu.Unlock()
		}
	}
	frames := p[start:]
	framed := ds.framed
	first := ds.track(frames)
	if len(frames) == 0 || !t.watched.Load() {
		return
	}
	now := time.Now()
	var data []byte // copied once, shared by every watcher
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, w := range t.watchersSnapshotLocked() {
		from, mid := 0, false
		if !w.synced[d] {
			if first < 0 {
				continue
			}
			from, mid = first, framed || first > 0
			w.synced[d] = true
		}
		if data == nil {
			data = append([]byte(nil), frames...)
		}
		if !w.sendLocked(Chunk{Dir: d, At: now, Data: data[from:], Midstream: mid}) {
			t.dropLocked(w, ErrFellBehind)
		}
	}
}

// watchersSnapshotLocked returns the watchers as a slice that dropLocked
// may not modify under the caller's loop.
func (t *Tap) watchersSnapshotLocked() []*Watcher {
	return append([]*Watcher(nil), t.watchers...)
}

// publishLocked queues c for every watcher.
func (t *Tap) publishLocked(c Chunk) {
	for _, w := range t.watchersSnapshotLocked() {
		if !w.sendLocked(c) {
			t.dropLocked(w, ErrFellBehind)
		}
	}
}

// scan consumes HTTP head bytes from p up to and including the blank
// line, keeping at most maxHead of them. It returns how many bytes of p
// belonged to the head, and whether the head is complete.
func (hs *headScan) scan(p []byte) (n int, done bool) {
	const end = "\r\n\r\n"
	n = len(p)
	for i, b := range p {
		switch {
		case b == end[hs.crlf]:
			hs.crlf++
		case b == '\r':
			hs.crlf = 1
		default:
			hs.crlf = 0
		}
		if hs.crlf == 4 {
			n, done = i+1, true
			break
		}
	}
	if room := maxHead - len(hs.head); room > 0 {
		hs.head = append(hs.head, p[:min(n, room)]...)
	}
	return n, done
}

// keepHead returns a copy of an HTTP head, exactly sized, with the values
// of credential headers already replaced by Redacted, since no watcher is
// ever shown them (parseHead): what a Tap keeps (head.go) and publishes.
func keepHead(head []byte) []byte {
	if !hasCredential(head) {
		return bytes.Clone(head) // the common case, in one pass and one copy
	}
	size := 0
	walkHead(head, func(p []byte) { size += len(p) })
	out := make([]byte, 0, size)
	walkHead(head, func(p []byte) { out = append(out, p...) })
	return out
}

// walkHead passes head to emit piece by piece, each credential header's
// value replaced by Redacted.
func walkHead(head []byte, emit func([]byte)) {
	const crlf = "\r\n"
	for len(head) > 0 {
		line, rest, found := bytes.Cut(head, []byte(crlf))
		if name, _, ok := bytes.Cut(line, []byte(":")); ok && credential(name) {
			emit(name)
			emit([]byte(": " + Redacted))
		} else {
			emit(line)
		}
		if found {
			emit([]byte(crlf))
		}
		head = rest
	}
}

// hasCredential reports whether a line of head is a credential header.
func hasCredential(head []byte) bool {
	for len(head) > 0 {
		line, rest, _ := bytes.Cut(head, []byte("\r\n"))
		if name, _, ok := bytes.Cut(line, []byte(":")); ok && credential(name) {
			return true
		}
		head = rest
	}
	return false
}

// credential reports whether the header called name is one of
// credentialHeaders. It runs on every handshake a Tap sees: a switch on
// the length, not a walk over the map.
func credential(name []byte) bool {
	name = bytes.TrimSpace(name)
	switch len(name) {
	case len("Cookie"):
		return bytes.EqualFold(name, []byte("Cookie"))
	case len("Set-Cookie"):
		return bytes.EqualFold(name, []byte("Set-Cookie"))
	case len("Authorization"):
		return bytes.EqualFold(name, []byte("Authorization"))
	}
	return false
}

// track follows frame boundaries over p, the next bytes of the frame
// stream. It returns the offset in p of the first frame header that
// starts in p, or -1. It keeps no byte of p beyond a split header.
func (ds *direction) track(p []byte) (first int) {
	first = -1
	if len(p) > 0 {
		ds.framed = true
	}
	i := 0
	for i < len(p) && !ds.lost {
		if ds.skip > 0 {
			rest := uint64(len(p) - i)
			if ds.skip >= rest {
				ds.skip -= rest
				return first
			}
			i += int(ds.skip)
			ds.skip = 0
			continue
		}
		if ds.nhdr == 0 {
			if first < 0 {
				first = i
			}
			h, err := wsframe.ParseHeader(p[i:])
			if err == nil {
				i += h.Size
				ds.skip = h.Length
				continue
			}
			if !errors.Is(err, wsframe.ErrShortHeader) {
				ds.lost = true
				return first
			}
		}
		// A header split across chunks: gather it.
		old := int(ds.nhdr)
		n := copy(ds.hdr[old:], p[i:])
		h, err := wsframe.ParseHeader(ds.hdr[:old+n])
		switch {
		case errors.Is(err, wsframe.ErrShortHeader):
			ds.nhdr = uint8(old + n)
			i += n
		case err != nil:
			ds.lost = true
			return first
		default:
			i += h.Size - old
			ds.nhdr = 0
			ds.skip = h.Length
		}
	}
	return first
}

// Watch attaches a new Watcher. It receives the HTTP heads already seen,
// then the stream from the next frame boundary in each direction on. When
// the connection has closed, or already has MaxWatchers, the Watcher has
// ended before it starts: Err reports why.
func (t *Tap) Watch() *Watcher {
	w := &Watcher{tap: t, ch: make(chan Chunk, WatchChunks)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		w.endLocked(ErrClosed)
		return w
	}
	if len(t.watchers) >= MaxWatchers {
		w.endLocked(ErrTooMany)
		return w
	}
	for d, h := range t.heads {
		if b := h.bytes(&t.key); b != nil {
			w.sendLocked(Chunk{Dir: Dir(d), At: t.started, Head: true, Data: b})
		}
	}
	t.watchers = append(t.watchers, w)
	t.watched.Store(true)
	return w
}

// Close ends every watcher with ErrClosed; the connection wrapper calls it
// when the connection closes. Later watchers end at once.
func (t *Tap) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	for _, w := range t.watchers {
		w.endLocked(ErrClosed)
	}
	t.watchers = nil
	t.watched.Store(false)
}

// Watching returns the number of attached watchers.
func (t *Tap) Watching() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.watchers)
}

func (t *Tap) dropLocked(w *Watcher, err error) {
	for i, x := range t.watchers {
		if x == w {
			t.watchers = append(t.watchers[:i:i], t.watchers[i+1:]...)
			break
		}
	}
	w.endLocked(err)
	t.watched.Store(len(t.watchers) > 0)
}

// A Watcher receives one Tap's chunks. Read them with Next; call Stop when
// done.
type Watcher struct {
	tap     *Tap
	ch      chan Chunk
	pending atomic.Int64 // bytes queued and not yet taken by Next

	// Guarded by tap.mu.
	synced [2]bool // the stream in this direction is followed from a frame boundary
	ended  bool
	err    error
}

// sendLocked queues c; it reports false when the queue is full.
func (w *Watcher) sendLocked(c Chunk) bool {
	if w.ended {
		return true
	}
	if w.pending.Load()+int64(len(c.Data)) > WatchBytes {
		return false
	}
	select {
	case w.ch <- c:
		w.pending.Add(int64(len(c.Data)))
		return true
	default:
		return false
	}
}

func (w *Watcher) endLocked(err error) {
	if w.ended {
		return
	}
	w.ended = true
	w.err = err
	close(w.ch)
}

// Next returns the next chunk. When the watcher has ended and its queue
// is drained, it returns ErrClosed (the connection closed), ErrFellBehind
// or ErrStopped; or ctx's error when ctx ends first.
func (w *Watcher) Next(ctx context.Context) (Chunk, error) {
	select {
	case c, ok := <-w.ch:
		if !ok {
			w.tap.mu.Lock()
			defer w.tap.mu.Unlock()
			return Chunk{}, w.err
		}
		w.pending.Add(-int64(len(c.Data)))
		return c, nil
	case <-ctx.Done():
		return Chunk{}, ctx.Err()
	}
}

// Err returns why w ended, or nil while it is attached.
func (w *Watcher) Err() error {
	w.tap.mu.Lock()
	defer w.tap.mu.Unlock()
	return w.err
}

// Queued returns the number of chunks waiting for Next.
func (w *Watcher) Queued() int { return len(w.ch) }

// Stop detaches w from its Tap. Chunks already queued can still be read.
func (w *Watcher) Stop() {
	w.tap.mu.Lock()
	defer w.tap.mu.Unlock()
	if !w.ended {
		w.tap.dropLocked(w, ErrStopped)
	}
}

// Conn is a net.Conn whose traffic a Tap observes. Reads are observed as
// In, writes as Out; Close closes the Tap too.
//
// It also skips setting a write deadline that is already set: gorilla's
// Conn sets the deadline before every write, and a writer that keeps one
// deadline across many writes then costs no update of the runtime's
// poller timer per write.
type Conn struct {
	net.Conn
	tap *Tap

	dmu   sync.Mutex // guards wd and wdSet
	wd    time.Time  // the write deadline last set on Conn
	wdSet bool       // wd is known: set through SetWriteDeadline, not changed since
}

// NewConn returns c wrapped so that t observes its traffic.
func NewConn(c net.Conn, t *Tap) *Conn { return &Conn{Conn: c, tap: t} }

// Tap returns the Tap that observes c.
func (c *Conn) Tap() *Tap { return c.tap }

// Read implements net.Conn.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.tap.Observe(In, p[:n])
	return n, err
}

// Write implements net.Conn.
func (c *Conn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.tap.Observe(Out, p[:n])
	return n, err
}

// SetWriteDeadline implements net.Conn. Setting the deadline already set
// does nothing: a deadline is a point in time, so it is the same deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	if c.wdSet && t.Equal(c.wd) {
		return nil
	}
	c.wdSet = false
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	c.wd, c.wdSet = t, true
	return nil
}

// SetDeadline implements net.Conn.
func (c *Conn) SetDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.wdSet = false
	if err := c.Conn.SetDeadline(t); err != nil {
		return err
	}
	c.wd, c.wdSet = t, true
	return nil
}

// CloseWrite shuts down the writing side of the connection it wraps, when
// that connection can (a TCP or TLS connection), and otherwise reports
// errors.ErrUnsupported.
func (c *Conn) CloseWrite() error {
	if hc, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return errors.ErrUnsupported
}

// Close implements net.Conn.
func (c *Conn) Close() error {
	err := c.Conn.Close()
	c.tap.Close()
	return err
}
