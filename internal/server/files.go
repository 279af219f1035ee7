package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// Uploads over /ws: the upload command opens an upload on the connection,
// and each binary message is one chunk of an open upload (protocol's
// ReadChunkHeader). The read loop streams the chunk from gorilla's reader
// into one buffer of at most chunkMax bytes and from there into the store;
// a file is never in memory whole. docs/protocol.md, "Files", is the
// contract.

// openUpload is an upload opened on a connection. Owned by the read loop.
type openUpload struct {
	u      chat.Upload
	offset int64 // where the next chunk must start
}

// openUpload records ou as open on this connection.
func (ss *session) openUpload(ou *openUpload) {
	if ss.uploads == nil {
		ss.uploads = make(map[string]*openUpload)
	}
	ss.uploads[ou.u.ID] = ou
}

// chunkMax is the most file bytes this server takes in one binary message:
// protocol.MaxChunkBytes, less if the read limit is lower.
func (s *Server) chunkMax() int {
	return int(min(int64(protocol.MaxChunkBytes), s.cfg.ReadLimit-protocol.MaxChunkHeaderBytes))
}

func newFileID() string {
	var b [12]byte
	rand.Read(b[:])
	return "f_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// wireFile is the protocol form of a complete upload.
func wireFile(u chat.Upload) *protocol.File {
	return &protocol.File{ID: u.ID, Name: u.Name, Size: u.Size, Type: u.Type, Width: u.Width, Height: u.Height, Thumb: u.Thumb}
}

func (ss *session) uploadState(ou *openUpload) *protocol.UploadState {
	return &protocol.UploadState{ID: ou.u.ID, Offset: ou.offset, Size: ou.u.Size}
}

// upload starts an upload or resumes one of the caller's.
func (ss *session) upload(ctx context.Context, c *conn, cmd *protocol.Command) error {
	files := ss.srv.cfg.Files
	if files == nil {
		return protocol.Errorf(protocol.CodeForbidden, "this server does not take files")
	}
	if cmd.Upload != "" {
		u, err := files.Upload(ctx, cmd.Upload)
		if errors.Is(err, chat.ErrNoSuchFile) || err == nil && u.Owner != ss.userKey() {
			return protocol.Errorf(protocol.CodeNoSuchUpload, "no upload %s of yours; it may have expired", cmd.Upload)
		}
		if err != nil {
			return err
		}
		st := &protocol.UploadState{ID: u.ID, Offset: u.Received, Size: u.Size, Chunk: ss.srv.chunkMax()}
		if u.Complete {
			st.File = wireFile(u)
		} else if _, open := ss.uploads[u.ID]; !open {
			if len(ss.uploads) >= ss.srv.cfg.UploadsPerConn {
				return protocol.Errorf(protocol.CodeLimitReached, "at most %d uploads at once on one connection", ss.srv.cfg.UploadsPerConn)
			}
			ss.openUpload(&openUpload{u: u, offset: u.Received})
		} else {
			ss.uploads[u.ID].offset = u.Received
		}
		ss.replyOK(c, cmd.ID, protocol.Event{Upload: st})
		return nil
	}
	cfg := &ss.srv.cfg
	if cmd.Size > cfg.FileMaxBytes {
		return protocol.Errorf(protocol.CodeFileTooLarge, "files are at most %d bytes", cfg.FileMaxBytes)
	}
	if len(ss.uploads) >= cfg.UploadsPerConn {
		return protocol.Errorf(protocol.CodeLimitReached, "at most %d uploads at once on one connection", cfg.UploadsPerConn)
	}
	// A guest's uploads count against its address too (node-local, like
	// room creations): anyone can get a new guest cookie, and with it a
	// new identity, so the identity alone would bind nobody.
	key, now := ss.userKey(), time.Now()
	keys := []string{key}
	if ss.guestID != "" {
		keys = append(keys, guestIPKey(ss.ip))
	}
	for _, k := range keys {
		if ok, _ := ss.srv.limits.uploads.Allow(k, now); !ok {
			return protocol.Errorf(protocol.CodeRateLimited, "too many uploads; wait a minute")
		}
	}
	if ss.guestID != "" {
		if ok, _ := ss.srv.limits.guestBytes.AllowN(guestIPKey(ss.ip), cmd.Size, now); !ok {
			return protocol.Errorf(protocol.CodeLimitReached, "guests at your address have used the day's upload quota of %d bytes; log in to upload more", cfg.UploadQuota)
		}
	}
	// The store checks the day's quota as it creates the upload, in one
	// step: of uploads started at once (on several connections, or
	// nodes), no set passes it together.
	u := chat.Upload{ID: newFileID(), Owner: key, Name: cmd.Name, Size: cmd.Size, SHA256: cmd.SHA256, Declared: cmd.Type}
	if err := files.CreateUpload(ctx, u, chat.Quota{Since: now.Add(-24 * time.Hour), Bytes: cfg.UploadQuota}); err != nil {
		if ss.guestID != "" {
			ss.srv.limits.guestBytes.Return(guestIPKey(ss.ip), cmd.Size, time.Now()) // nothing started
		}
		if errors.Is(err, chat.ErrOverQuota) {
			return protocol.Errorf(protocol.CodeLimitReached, "this would pass your upload quota of %d bytes a day", cfg.UploadQuota)
		}
		return err
	}
	ss.openUpload(&openUpload{u: u})
	ss.replyOK(c, cmd.ID, protocol.Event{Upload: &protocol.UploadState{ID: u.ID, Size: u.Size, Chunk: ss.srv.chunkMax()}})
	return nil
}

// binary takes one chunk of an open upload. A message that is not a chunk
// closes the connection with 1003, as binary messages did before uploads.
func (ss *session) binary(c *conn, r io.Reader) {
	h, err := protocol.ReadChunkHeader(r)
	if err != nil {
		if errors.Is(err, protocol.ErrNotChunk) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			c.close(protocol.CloseUnsupportedData, "binary messages on /ws are upload chunks")
		}
		return // a read error: the read loop's next read handles it
	}
	if ss.self == nil {
		ss.replyErr(c, "", protocol.Errorf(protocol.CodeNotIdentified, "send hello first"))
		return
	}
	max := ss.srv.chunkMax()
	if ss.chunk == nil {
		ss.chunk = make([]byte, max+1)
	}
	n, err := io.ReadFull(r, ss.chunk[:max+1])
	if err != io.ErrUnexpectedEOF && err != io.EOF {
		if err == nil { // more than max bytes
			c.close(protocol.CloseUnsupportedData, "a chunk is too large")
		}
		return
	}
	if n == 0 {
		c.close(protocol.CloseUnsupportedData, "a chunk is empty")
		return
	}
	data := ss.chunk[:n]
	ou := ss.uploads[h.Upload]
	if ou == nil {
		ss.chunkErr(c, &protocol.UploadState{ID: h.Upload},
			protocol.Errorf(protocol.CodeNoSuchUpload, "upload %s is not open on this connection; send upload first", h.Upload))
		return
	}
	if h.Offset != ou.offset || h.Offset+int64(n) > ou.u.Size {
		ss.chunkErr(c, ss.uploadState(ou), protocol.Errorf(protocol.CodeBadOffset, "the upload stands at %d; send from there", ou.offset))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	files := ss.srv.cfg.Files
	next, err := files.AppendChunk(ctx, ou.u.ID, h.Offset, data)
	switch {
	case errors.Is(err, chat.ErrBadOffset):
		// Another connection moved it: read where it stands now.
		if u, err := files.Upload(ctx, ou.u.ID); err == nil {
			ou.offset = u.Received
		}
		ss.chunkErr(c, ss.uploadState(ou), protocol.Errorf(protocol.CodeBadOffset, "the upload stands at %d; send from there", ou.offset))
		return
	case errors.Is(err, chat.ErrNoSuchFile):
		delete(ss.uploads, ou.u.ID)
		ss.chunkErr(c, ss.uploadState(ou), protocol.Errorf(protocol.CodeNoSuchUpload, "upload %s has expired", ou.u.ID))
		return
	case err != nil:
		ss.chunkErr(c, ss.uploadState(ou), err)
		return
	}
	ou.offset = next
	if next < ou.u.Size {
		ss.reply(c, &protocol.Event{Type: protocol.TypeUpload, Upload: ss.uploadState(ou)})
		return
	}
	delete(ss.uploads, ou.u.ID)
	f, err := ss.srv.finishUpload(ctx, ou.u)
	if protocol.CodeOf(err) == protocol.CodeChecksumMismatch && ss.guestID != "" {
		// Discarded: like the store's count, the address's leaves it out.
		ss.srv.limits.guestBytes.Return(guestIPKey(ss.ip), ou.u.Size, time.Now())
	}
	if err != nil {
		ss.chunkErr(c, ss.uploadState(ou), err)
		return
	}
	st := ss.uploadState(ou)
	st.File = f
	ss.reply(c, &protocol.Event{Type: protocol.TypeUpload, Upload: st})
}

// chunkErr answers a chunk with an error that says where its upload stands.
func (ss *session) chunkErr(c *conn, st *protocol.UploadState, err error) {
	ev := ss.errEvent(c, "", err)
	ev.Upload = st
	ss.reply(c, ev)
}

// fileReader streams a stored file: a goroutine reads it from the store
// into a pipe. Close the reader to stop it early.
func (s *Server) fileReader(ctx context.Context, id string) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(s.cfg.Files.ReadFile(ctx, id, func(_ int64, data []byte) error {
			_, err := pw.Write(data)
			return err
		}))
	}()
	return pr
}

// finishUpload checks a fully received upload against its checksum
// (discarding it if they differ), finds its type from the content, makes a
// thumbnail for an image that is safe to decode, and marks it complete.
func (s *Server) finishUpload(ctx context.Context, u chat.Upload) (*protocol.File, error) {
	files := s.cfg.Files
	r := s.fileReader(ctx, u.ID)
	h := sha256.New()
	br := bufio.NewReaderSize(io.TeeReader(r, h), 512)
	head, _ := br.Peek(512)
	typ := http.DetectContentType(head)
	_, err := io.Copy(io.Discard, br)
	r.Close()
	if err != nil {
		return nil, err
	}
	if hex.EncodeToString(h.Sum(nil)) != u.SHA256 {
		if err := files.DiscardUpload(ctx, u.ID); err != nil {
			return nil, err
		}
		return nil, protocol.Errorf(protocol.CodeChecksumMismatch, "the file received does not have the sha256 given; it was discarded")
	}
	info := chat.FileInfo{Type: typ}
	if imageTypes[typ] {
		r := s.fileReader(ctx, u.ID)
		w, h, ok := imageConfig(r, typ)
		r.Close()
		if ok && !s.thumbTurn(ctx) {
			s.thumbWarn.Add("", "file", u.ID)
		} else if ok {
			r := s.fileReader(ctx, u.ID)
			thumb, err := thumbnail(r, typ)
			r.Close()
			s.thumbDone()
			if err == nil {
				info.Width, info.Height, info.Thumb = w, h, thumb
			} else {
				s.log.Debug("thumbnail failed", "file", u.ID, "err", err)
			}
		}
	}
	if err := files.CompleteUpload(ctx, u.ID, info); err != nil {
		return nil, err
	}
	u.Complete, u.Received = true, u.Size
	u.Type, u.Width, u.Height, u.Thumb = info.Type, info.Width, info.Height, info.Thumb != nil
	return wireFile(u), nil
}

// attachFile is send's part for a file: the caller's complete upload is
// claimed for this message (room and cmid), and its description returned.
func (ss *session) attachFile(ctx context.Context, id, room, cmid string) (*protocol.File, error) {
	files := ss.srv.cfg.Files
	if files == nil {
		return nil, protocol.Errorf(protocol.CodeNoSuchUpload, "this server does not take files")
	}
	u, err := files.Upload(ctx, id)
	switch {
	case errors.Is(err, chat.ErrNoSuchFile) || err == nil && u.Owner != ss.userKey():
		return nil, protocol.Errorf(protocol.CodeNoSuchUpload, "no upload %s of yours", id)
	case err != nil:
		return nil, err
	case !u.Complete:
		return nil, protocol.Errorf(protocol.CodeUploadIncomplete, "upload %s has %d of %d bytes; finish it first", id, u.Received, u.Size)
	}
	switch err := files.ClaimFile(ctx, id, ss.userKey(), room, cmid); {
	case errors.Is(err, chat.ErrFileUsed):
		return nil, protocol.Errorf(protocol.CodeNoSuchUpload, "file %s was sent already", id)
	case errors.Is(err, chat.ErrNoSuchFile):
		return nil, protocol.Errorf(protocol.CodeNoSuchUpload, "no upload %s of yours", id)
	case err != nil:
		return nil, err
	}
	return wireFile(u), nil
}

// storedFile describes file id for a message read from the store: nil
// when id is "" or the file cannot be read (the message still shows).
func (s *Server) storedFile(ctx context.Context, id string) *protocol.File {
	if id == "" || s.cfg.Files == nil {
		return nil
	}
	u, err := s.cfg.Files.Upload(ctx, id)
	if err != nil || !u.Complete {
		if err != nil && !errors.Is(err, chat.ErrNoSuchFile) {
			s.log.Warn("describe a message's file", "file", id, "err", err)
		}
		return nil
	}
	return wireFile(u)
}

// purgeChunks is the most chunks of purged files that one transaction of
// purgeFiles deletes (chat.Files.PurgeFiles): 3.75 MiB at the default
// chunk size, so that other writers (SQLite has one) never wait long
// behind it.
const purgeChunks = 64

// tendFiles deletes, until quit is closed, the bytes of purged files (the
// files of deleted messages and rooms) soon after a deletion on this node
// (filesDeleted), and every hour (and once at start) what is left of them
// (a deletion on another node, or one before a restart) and the uploads
// untouched for UploadExpiry that no message carries: unfinished ones,
// files uploaded but never sent, and files a send claimed (attachFile) for
// a message that was never stored (a crash, or a failed store, between
// the claim and the commit).
func (s *Server) tendFiles(quit <-chan struct{}) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	// The purge first: the records of files it finishes may expire.
	s.purgeFiles(quit)
	s.expireUploads()
	for {
		select {
		case <-quit:
			return
		case <-s.purgeNow:
			s.purgeFiles(quit)
		case <-t.C:
			s.purgeFiles(quit)
			s.expireUploads()
		}
	}
}

// expireUploads is one round of ExpireUploads.
func (s *Server) expireUploads() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := s.cfg.Files.ExpireUploads(ctx, time.Now().Add(-s.cfg.UploadExpiry))
	if err != nil {
		s.log.Warn("expire uploads", "err", err)
	} else if n > 0 {
		s.log.Info("expired uploads (unfinished, or never sent)", "uploads", n)
	}
}

// filesDeleted tells tendFiles that a deletion (of a message, or of a
// room) may have purged files, whose bytes it then deletes. It never
// blocks.
func (s *Server) filesDeleted() {
	select {
	case s.purgeNow <- struct{}{}:
	default: // one is pending already
	}
}

// purgeFiles deletes the chunks of purged files, purgeChunks at a time,
// until none is left, quit is closed or the store fails.
func (s *Server) purgeFiles(quit <-chan struct{}) {
	total := 0
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		n, err := s.cfg.Files.PurgeFiles(ctx, purgeChunks)
		cancel()
		total += n
		if err != nil {
			s.log.Warn("purge the files of deleted messages", "err", err)
			break
		}
		if n < purgeChunks {
			break
		}
		select {
		case <-quit:
			return
		default:
		}
	}
	if total > 0 {
		s.log.Debug("purged the files of deleted messages", "chunks", total)
	}
}
