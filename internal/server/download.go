package server

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/protocol"
)

// errNoSuchFile is every refusal that must not tell a missing file from
// one in a room the requester may not read.
var errNoSuchFile = protocol.Errorf(protocol.CodeNoSuchFile, "no such file")

// serveFile answers GET /files/{id}/{name} and GET /thumbs/{id}: the file
// (or its thumbnail) to its uploader, and to whoever may read the room of
// the message that carries it, as history decides. docs/protocol.md,
// "Download", is the contract, headers included.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request) {
	thumb := strings.HasPrefix(r.URL.Path, "/thumbs/")
	id := r.PathValue("id")
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	u, err := s.fileFor(ctx, r, id)
	if err != nil {
		s.apiFail(w, err)
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	// A file never changes, but whether the requester may still read it
	// does (its message deleted, its reader kicked or banned): a browser
	// keeps its copy and asks again each time, and the answer to a
	// request that names the copy it has is 304 only after the checks
	// above.
	h.Set("Cache-Control", "private, no-cache")
	etag := `"` + id + `"`
	if thumb {
		etag = `"` + id + `.thumb"`
	}
	h.Set("ETag", etag)
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if thumb {
		b, err := s.cfg.Files.Thumb(ctx, id)
		if errors.Is(err, chat.ErrNoSuchFile) {
			err = errNoSuchFile
		}
		if err != nil {
			s.apiFail(w, err)
			return
		}
		h.Set("Content-Type", http.DetectContentType(b))
		h.Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
		return
	}
	disposition := "attachment"
	if imageTypes[u.Type] && u.Width > 0 {
		disposition = "inline"
	}
	h.Set("Content-Type", u.Type)
	h.Set("Content-Disposition", contentDisposition(disposition, u.Name))
	h.Set("Content-Length", strconv.FormatInt(u.Size, 10))
	if r.Method == http.MethodHead {
		return
	}
	// The body streams from the store a chunk at a time; a failure midway
	// can only cut the response short (the status is gone).
	err = s.cfg.Files.ReadFile(r.Context(), id, func(_ int64, data []byte) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil && r.Context().Err() == nil {
		s.log.Warn("serve file", "file", id, "err", err)
	}
}

// etagMatch reports whether an If-None-Match header's value names etag
// (RFC 9110 §13.1.2: a list of entity tags, weak ones compared weakly, or
// "*").
func etagMatch(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == etag || tag == "*" {
			return true
		}
	}
	return false
}

// fileFor returns complete upload id if the request may read it.
func (s *Server) fileFor(ctx context.Context, r *http.Request, id string) (chat.Upload, error) {
	files := s.cfg.Files
	if files == nil || protocol.CheckFileID(id) != nil {
		return chat.Upload{}, errNoSuchFile
	}
	a, err := s.authenticate(ctx, r)
	if err != nil {
		return chat.Upload{}, err
	}
	ss := &session{srv: s, auth: a, ip: s.clientIP(r)}
	if a != nil {
		ss.self = &protocol.Identity{Name: a.user.Name, Admin: a.user.Admin}
	} else {
		key, set := s.guestIdentity(r)
		if set != "" || s.cfg.NoGuests {
			return chat.Upload{}, errUnauthorized // no cookie: nobody
		}
		ss.guestID = key
		ss.self = &protocol.Identity{Guest: true}
	}
	u, err := files.Upload(ctx, id)
	if errors.Is(err, chat.ErrNoSuchFile) || err == nil && !u.Complete {
		return u, errNoSuchFile
	}
	if err != nil {
		return u, err
	}
	room, _, err := files.FileMessage(ctx, id)
	switch {
	case errors.Is(err, chat.ErrNoSuchFile):
		if u.Owner == ss.userKey() && u.Room == "" {
			return u, nil // the uploader, before it is sent
		}
		return u, errNoSuchFile
	case err != nil:
		return u, err
	}
	if _, _, err := ss.access(ctx, room); err != nil {
		if errors.Is(err, chat.ErrNoSuchRoom) {
			return u, errNoSuchFile
		}
		return u, err
	}
	return u, nil
}

// contentDisposition is a Content-Disposition header value with the file's
// name (RFC 6266): filename in ASCII, anything else (and the quote and
// backslash) as '_', and filename* with the UTF-8 name (RFC 5987).
func contentDisposition(kind, name string) string {
	ascii := []rune(name)
	for i, r := range ascii {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%' {
			ascii[i] = '_'
		}
	}
	if v := mime.FormatMediaType(kind, map[string]string{"filename": name}); v != "" && isASCII(name) {
		return v
	}
	return fmt.Sprintf(`%s; filename="%s"; filename*=UTF-8''%s`, kind, string(ascii), strings.ReplaceAll(url.PathEscape(name), "'", "%27"))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
