package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hubbub-chat/hubbub/protocol"
)

// Files (docs/protocol.md, "Files"): Upload sends a file's bytes as binary
// messages and returns the complete file; SendFile sends a message carrying
// it; Download fetches a file's bytes over HTTP.

// DefaultUploadWindow is how many chunks an upload sends ahead of the
// server's answers when UploadOptions.Window is zero.
const DefaultUploadWindow = 4

// UploadOptions adjust an Upload. The zero value uploads a new file with
// no declared type.
type UploadOptions struct {
	// Type is the media type the caller believes the file has, such as
	// "image/png" (default: none). It is advisory: the server determines
	// the type from the content.
	Type string

	// Resume is the id of an upload of the same user started earlier and
	// not finished (an *UploadError's ID). Upload then carries it on
	// from where the server stands instead of starting a new one; r must
	// hold the same bytes, or the server discards the upload when it
	// finds the checksum wrong. A guest can resume only with the same
	// Client (its identity is the Client's cookie).
	Resume string

	// Progress, if not nil, is called with the bytes the server has
	// stored and the file's size: once when the upload starts or resumes
	// and after every chunk stored. It runs on Upload's goroutine and
	// must not block.
	Progress func(stored, size int64)

	// Window is the most chunks in flight: sent and not yet answered by
	// the server (default DefaultUploadWindow). Memory use is about
	// Window times the server's chunk size (60 KiB by default).
	Window int
}

// UploadError is the error of an Upload that did not finish. ID is the
// upload's id if the server had started it ("" if not): pass it as
// UploadOptions.Resume to carry on where it stopped. Err says why (a
// *protocol.Error such as file_too_large or checksum_mismatch, ctx's
// error, ErrClosed, or a read error of the file).
type UploadError struct {
	ID  string
	Err error
}

func (e *UploadError) Error() string {
	if e.ID == "" {
		return "upload: " + e.Err.Error()
	}
	return "upload " + e.ID + ": " + e.Err.Error()
}

func (e *UploadError) Unwrap() error { return e.Err }

// uploadRun is one Upload in progress: the read loop hands it the answers
// to its chunks.
type uploadRun struct {
	answers chan chunkAnswer // buffered: never blocks the read loop (see Upload)
}

// chunkAnswer is the server's answer to one chunk: an upload event, or an
// error event about the upload, and the connection it came on.
type chunkAnswer struct {
	gen uint64
	ev  protocol.Event
}

// Upload uploads a file of size bytes read from r under name (see
// protocol.CheckFileName) and returns it complete: stored by the server,
// checked against its SHA-256, with the type the server determined. Send
// it with SendFile.
//
// r is an io.ReaderAt (an *os.File, a *bytes.Reader, an io.SectionReader)
// because Upload reads the file twice, and not always in order: first
// whole, for the SHA-256 that the upload command carries, then chunk by
// chunk, going back to where the server stands after a reconnect. A
// stream that cannot be read again (a pipe, a network body) must be
// written to a temporary file first. r must not change during the upload.
//
// Upload sends the chunks (each at most the chunk size the server gives,
// protocol.MaxChunkBytes by default) through the connection's one writer,
// with at most UploadOptions.Window of them waiting for the server's
// answer: it never holds more of the file in memory than that. If the
// connection drops, Upload waits for the client's reconnect, asks the
// server where the upload stands and carries on from there; chunks the
// server had answered are not sent again. If the server's answer to the
// start itself is lost, Upload starts again: the first start is left to
// expire (it counts against the day's quota).
//
// Errors are *UploadError. The server refuses with file_too_large,
// rate_limited or limit_reached (the day's quota, or too many uploads open
// on one connection: 4 by default, and an Upload that ended in an error
// leaves its upload open on the connection until the next reconnect);
// checksum_mismatch means the bytes sent
// do not have the SHA-256 computed first (r changed) and the upload is
// gone. Every other error leaves the upload to be resumed with
// UploadOptions.Resume until the server expires it (24 h by default).
func (c *Client) Upload(ctx context.Context, name string, r io.ReaderAt, size int64, opts UploadOptions) (protocol.File, error) {
	id := opts.Resume
	fail := func(err error) (protocol.File, error) { return protocol.File{}, &UploadError{ID: id, Err: err} }
	window := opts.Window
	if window <= 0 {
		window = DefaultUploadWindow
	}
	var start protocol.Command
	if id == "" {
		start = protocol.Command{Op: protocol.OpUpload, Name: name, Size: size, Type: opts.Type, SHA256: strings.Repeat("0", 64)}
		if err := start.Validate(); err != nil { // before reading the whole file
			return fail(err)
		}
		sum, err := hashFile(ctx, r, size)
		if err != nil {
			return fail(err)
		}
		start.SHA256 = sum
	} else if err := protocol.CheckFileID(id); err != nil {
		return fail(err)
	}

	// Every chunk gets one answer, and a connection has at most window
	// chunks of this Upload in flight; answers to chunks of an earlier
	// connection, or of an earlier Upload of the same file on this one,
	// may come too (at most window more; pump drops them): 2·window never
	// fills.
	run := &uploadRun{answers: make(chan chunkAnswer, 2*window)}
	registered := false
	register := func() error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.uploads[id] != nil {
			return fmt.Errorf("client: upload %s is already running", id)
		}
		c.uploads[id] = run
		registered = true
		return nil
	}
	defer func() {
		if registered {
			c.mu.Lock()
			delete(c.uploads, id)
			c.mu.Unlock()
		}
	}()
	if id != "" {
		if err := register(); err != nil {
			return fail(err)
		}
	}

	for {
		cn, err := c.readyConn(ctx)
		if err != nil {
			return fail(err)
		}
		cmd := start
		if id != "" {
			cmd = protocol.Command{Op: protocol.OpUpload, Upload: id}
		}
		ev, err := c.onConn(ctx, cn, cmd)
		if errors.Is(err, ErrConnectionLost) {
			continue // the next connection asks again
		}
		if err != nil {
			return fail(err)
		}
		st := ev.Upload
		if st == nil {
			return fail(errors.New("client: server's upload reply has no upload"))
		}
		if id == "" {
			if err := protocol.CheckFileID(st.ID); err != nil {
				return fail(fmt.Errorf("client: server's upload reply: %w", err))
			}
			id = st.ID
			if err := register(); err != nil {
				return fail(err)
			}
		} else if st.ID != id {
			return fail(fmt.Errorf("client: server answered the resume of %s for upload %q", id, st.ID))
		}
		if st.Size != size {
			return fail(fmt.Errorf("client: upload %s is of %d bytes, not %d", id, st.Size, size))
		}
		if opts.Progress != nil {
			opts.Progress(st.Offset, size)
		}
		if st.File != nil {
			return *st.File, nil
		}
		f, err := c.pump(ctx, cn, run, r, st, window, opts.Progress)
		if errors.Is(err, ErrConnectionLost) {
			c.log.Debug("upload interrupted; resuming after the reconnect", "upload", id, "conn", cn.gen)
			continue
		}
		if err != nil {
			return fail(err)
		}
		return f, nil
	}
}

// pump sends the chunks of an open upload on cn from st.Offset, at most
// window ahead of the server's answers, until the server reports the file
// complete. After a bad_offset it waits for the answers to every chunk in
// flight (they are refused too) and goes on from where the last one says
// the upload stands. It returns ErrConnectionLost if cn ends first.
func (c *Client) pump(ctx context.Context, cn *conn, run *uploadRun, r io.ReaderAt, st *protocol.UploadState, window int, progress func(int64, int64)) (protocol.File, error) {
	id, size := st.ID, st.Size
	chunk := int64(st.Chunk)
	if chunk <= 0 {
		chunk = protocol.MaxChunkBytes
	}
	// Answers already here came before the reply that opened the upload on
	// cn (the read loop hands them over in the order of the wire, and the
	// server answers chunks in the order it reads them): they answer
	// chunks of an earlier connection, or of an earlier Upload on this
	// one, never the chunks sent below.
	for drained := false; !drained; {
		select {
		case <-run.answers:
		default:
			drained = true
		}
	}
	hdr := protocol.ChunkHeader{Upload: id}
	next := st.Offset   // the next byte to send
	stored := st.Offset // where the server last said the upload stands
	inflight := 0
	draining := false // after a bad_offset: send nothing until every answer is in
	restarts := 0
	for {
		for !draining && inflight < window && next < size {
			n := min(chunk, size-next)
			hdr.Offset = next
			msg := protocol.AppendChunkHeader(make([]byte, 0, hdr.Len()+int(n)), hdr)
			body := msg[len(msg) : len(msg)+int(n)]
			if got, err := r.ReadAt(body, next); int64(got) < n {
				if err == nil || err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return protocol.File{}, fmt.Errorf("read the file at %d: %w", next, err)
			}
			cn.enqueueBinary(msg[:len(msg)+int(n)])
			next += n
			inflight++
		}
		if inflight == 0 {
			return protocol.File{}, fmt.Errorf("client: the server stored all %d bytes and did not report the file", size)
		}
		var a chunkAnswer
		select {
		case a = <-run.answers:
		case <-cn.dead:
			return protocol.File{}, ErrConnectionLost
		case <-ctx.Done():
			return protocol.File{}, ctx.Err()
		}
		if a.gen != cn.gen {
			continue // an answer from the connection before
		}
		inflight--
		ev := a.ev
		if ev.Type == protocol.TypeError {
			if ev.Code != protocol.CodeBadOffset {
				return protocol.File{}, &protocol.Error{Code: ev.Code, Reason: ev.Reason}
			}
			if !draining {
				c.log.Debug("upload chunk refused as bad_offset; restarting where the server stands", "upload", id, "offset", ev.Upload.Offset)
				if restarts++; restarts > 3 {
					return protocol.File{}, &protocol.Error{Code: ev.Code, Reason: ev.Reason}
				}
			}
			draining = true
			stored = ev.Upload.Offset
		} else {
			stored = ev.Upload.Offset
			if progress != nil {
				progress(stored, size)
			}
			if ev.Upload.File != nil {
				return *ev.Upload.File, nil
			}
			restarts = 0
		}
		if draining && inflight == 0 {
			draining = false
			next = stored
		}
	}
}

// chunkAnswered routes an upload event, or an error event about an
// upload, to the Upload that waits for it. It reports false if no Upload
// of this client runs for it.
func (c *Client) chunkAnswered(cn *conn, ev protocol.Event) bool {
	if ev.Upload == nil {
		return false
	}
	c.mu.Lock()
	run := c.uploads[ev.Upload.ID]
	c.mu.Unlock()
	if run == nil {
		return false
	}
	select {
	case run.answers <- chunkAnswer{gen: cn.gen, ev: ev}:
	default:
		// Cannot happen while the server answers each chunk once (see
		// Upload); the upload then stalls until its ctx ends.
		c.log.Warn("upload answers overflowed; answer dropped", "upload", ev.Upload.ID, "conn", cn.gen)
	}
	return true
}

// hashFile returns the SHA-256 of r's first size bytes, in hex. It fails
// if r has fewer.
func hashFile(ctx context.Context, r io.ReaderAt, size int64) (string, error) {
	h := sha256.New()
	buf := make([]byte, 64<<10)
	var off int64
	for off < size {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := r.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		h.Write(buf[:n])
		off += int64(n)
		if err != nil && off < size {
			if err == io.EOF {
				return "", fmt.Errorf("the file has %d bytes, not %d", off, size)
			}
			return "", fmt.Errorf("read the file: %w", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readyConn returns the ready connection, waiting for one while the client
// reconnects.
func (c *Client) readyConn(ctx context.Context) (*conn, error) {
	for {
		c.mu.Lock()
		if c.stopped {
			err := c.stopErr
			c.mu.Unlock()
			return nil, err
		}
		cn, ready := c.cur, c.ready
		c.mu.Unlock()
		if cn != nil && !cn.isDead() {
			return cn, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// signalReadyLocked wakes readyConn's waiters. c.mu is held.
func (c *Client) signalReadyLocked() {
	close(c.ready)
	c.ready = make(chan struct{})
}

// onConn runs cmd on cn and waits for its reply. It returns
// ErrConnectionLost if cn ends first; it is never sent again.
func (c *Client) onConn(ctx context.Context, cn *conn, cmd protocol.Command) (protocol.Event, error) {
	ca, err := c.register(cmd, false, cn)
	if err != nil {
		return protocol.Event{}, err
	}
	select {
	case r := <-ca.reply:
		return r.ev, r.err
	case <-cn.dead:
		return protocol.Event{}, ErrConnectionLost
	case <-ctx.Done():
		return protocol.Event{}, ctx.Err()
	}
}
