package server

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/sqlitestore"
	"github.com/hubbub-chat/hubbub/protocol"
)

// testChunk is the chunk size of filesServer: a read limit this small
// makes a file of a few KiB take many chunks.
const testChunk = 1024

func filesServer(t *testing.T, mut func(*Config)) *testServer {
	return newTestServer(t, func(cfg *Config) {
		st := cfg.Store.(*sqlitestore.Store)
		cfg.Files, cfg.Access = st, st
		cfg.ReadLimit = testChunk + protocol.MaxChunkHeaderBytes
		if mut != nil {
			mut(cfg)
		}
	})
}

// guestHeader is the handshake header of a guest with a cookie of its own.
func guestHeader() http.Header {
	var b [guestSecretBytes]byte
	rand.Read(b[:])
	return http.Header{"Cookie": {guestCookie + "=" + base64.RawURLEncoding.EncodeToString(b[:])}}
}

func (s *testServer) guest(t *testing.T, hdr http.Header, name string) *tclient {
	t.Helper()
	c := s.dialWith(t, hdr, websocket.DefaultDialer)
	c.ok(protocol.Command{Op: protocol.OpHello, Name: name})
	c.ok(protocol.Command{Op: protocol.OpJoin, Room: chat.DefaultRoom})
	return c
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// noisePNG is a w×h PNG that does not compress, so that it is many chunks.
func noisePNG(t *testing.T, w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	rand.Read(img.Pix)
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 0xff
	}
	img.Set(0, 0, color.NRGBA{1, 2, 3, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sendChunk sends data at off of upload id as one binary message.
func (c *tclient) sendChunk(id string, off int64, data []byte) {
	c.t.Helper()
	msg := protocol.AppendChunkHeader(nil, protocol.ChunkHeader{Upload: id, Offset: off})
	if err := c.ws.WriteMessage(websocket.BinaryMessage, append(msg, data...)); err != nil {
		c.t.Fatalf("write chunk: %v", err)
	}
}

// uploadEvent waits for the answer to a chunk: an upload or error event.
func (c *tclient) uploadEvent() protocol.Event {
	c.t.Helper()
	return c.waitFor("upload event", func(ev protocol.Event) bool {
		return ev.Type == protocol.TypeUpload || ev.Type == protocol.TypeError && ev.ID == ""
	})
}

// sendFrom sends file[from:] in chunks, each answered, and returns the last answer.
func (c *tclient) sendFrom(id string, file []byte, from int64) protocol.Event {
	c.t.Helper()
	var ev protocol.Event
	for off := from; off < int64(len(file)); off += testChunk {
		c.sendChunk(id, off, file[off:min(off+testChunk, int64(len(file)))])
		if ev = c.uploadEvent(); ev.Type != protocol.TypeUpload {
			c.t.Fatalf("chunk at %d: %s %s (%s)", off, ev.Type, ev.Code, ev.Reason)
		}
	}
	return ev
}

// get sends GET path with hdr (a "Host" in it names the host asked for)
// and returns the response with its body read.
func (s *testServer) get(t *testing.T, path string, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", s.ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = hdr
	if h := hdr.Get("Host"); h != "" {
		req.Host = h
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestUploadResumeSendDownload: an upload cut by a lost connection resumes
// from where the server stands, commits once as a message, and downloads
// with its headers and a thumbnail.
func TestUploadResumeSendDownload(t *testing.T) {
	s := filesServer(t, nil)
	file := noisePNG(t, 64, 32) // about 8 KiB: 9 chunks
	hdr := guestHeader()
	ada := s.guest(t, hdr, "ada")
	ev := ada.ok(protocol.Command{Op: protocol.OpUpload, Name: "café «noise».png", Size: int64(len(file)), SHA256: sum(file)})
	up := ev.Upload
	if up == nil || up.Offset != 0 || up.Chunk != testChunk {
		t.Fatalf("ok of upload = %+v, want offset 0 and chunk %d", up, testChunk)
	}
	for off := int64(0); off < 3*testChunk; off += testChunk {
		ada.sendChunk(up.ID, off, file[off:off+testChunk])
	}
	for range 3 {
		if ev := ada.uploadEvent(); ev.Type != protocol.TypeUpload {
			t.Fatalf("chunk: %s %s", ev.Code, ev.Reason)
		}
	}
	ada.ws.Close() // the connection drops mid-way

	ada = s.guest(t, hdr, "ada")
	// Before the resume, chunks are refused: the upload is not open here.
	ada.sendChunk(up.ID, 3*testChunk, file[3*testChunk:4*testChunk])
	if ev := ada.uploadEvent(); ev.Code != protocol.CodeNoSuchUpload {
		t.Fatalf("chunk before resume: %s %s, want %s", ev.Type, ev.Code, protocol.CodeNoSuchUpload)
	}
	ev = ada.ok(protocol.Command{Op: protocol.OpUpload, Upload: up.ID})
	if ev.Upload.Offset != 3*testChunk {
		t.Fatalf("resume offset = %d, want %d", ev.Upload.Offset, 3*testChunk)
	}
	ada.sendChunk(up.ID, 0, file[:testChunk]) // a chunk sent twice
	ev = ada.uploadEvent()
	if ev.Code != protocol.CodeBadOffset || ev.Upload == nil || ev.Upload.Offset != 3*testChunk {
		t.Fatalf("chunk at 0 after resume = %+v, want bad_offset at %d", ev, 3*testChunk)
	}
	done := ada.sendFrom(up.ID, file, 3*testChunk)
	want := &protocol.File{ID: up.ID, Name: "café «noise».png", Size: int64(len(file)), Type: "image/png", Width: 64, Height: 32, Thumb: true}
	if diff := cmp.Diff(want, done.Upload.File); diff != "" {
		t.Fatalf("file of the last upload event (-want +got):\n%s", diff)
	}

	// Sent twice with one cmid: one message. Another cmid: refused.
	send := protocol.Command{Op: protocol.OpSend, Room: chat.DefaultRoom, Body: "", CMID: "file-1", File: up.ID}
	first := ada.ok(send).Message
	again := ada.ok(send).Message
	if first.Seq != again.Seq || first.File == nil || first.File.ID != up.ID {
		t.Fatalf("sends = %+v, %+v, want one message carrying the file", first, again)
	}
	send.CMID = "file-2"
	if ev := ada.do(send); ev.Code != protocol.CodeNoSuchUpload {
		t.Errorf("the file in a second message: %s %s, want %s", ev.Type, ev.Code, protocol.CodeNoSuchUpload)
	}
	hist := ada.ok(protocol.Command{Op: protocol.OpHistory, Room: chat.DefaultRoom})
	if n := len(hist.Messages); n != 1 || hist.Messages[0].File == nil || *hist.Messages[0].File != *want {
		t.Errorf("history = %+v, want one message with the file", hist.Messages)
	}

	// Another guest in the room downloads it.
	grace := guestHeader()
	s.guest(t, grace, "grace")
	resp, body := s.get(t, "/files/"+up.ID+"/x.png", grace)
	if resp.StatusCode != 200 || !bytes.Equal(body, file) {
		t.Fatalf("download: %d, %d bytes, want 200 and the file", resp.StatusCode, len(body))
	}
	wantHdr := map[string]string{
		"Content-Type":            "image/png",
		"Content-Disposition":     `inline; filename="caf_ _noise_.png"; filename*=UTF-8''caf%C3%A9%20%C2%ABnoise%C2%BB.png`,
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; sandbox",
	}
	for k, v := range wantHdr {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	resp, body = s.get(t, "/thumbs/"+up.ID, grace)
	if resp.StatusCode != 200 {
		t.Fatalf("thumbnail: %d", resp.StatusCode)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(body)); err != nil || cfg.Width != 64 || cfg.Height != 32 {
		t.Errorf("thumbnail = %+v, %v; want 64×32 (never larger than the image)", cfg, err)
	}
}

func TestDownloadRefused(t *testing.T) {
	// Sanctions are read from the store at once, not from the cache.
	s := filesServer(t, func(cfg *Config) { cfg.ModerationCheck = time.Nanosecond })
	file := []byte("#!/bin/sh\necho <script>alert(1)</script>\n")
	ada := guestHeader()
	c := s.guest(t, ada, "ada")
	id := c.ok(protocol.Command{Op: protocol.OpUpload, Name: "run.html", Size: int64(len(file)), SHA256: sum(file)}).Upload.ID
	if f := c.sendFrom(id, file, 0).Upload.File; f == nil || f.Type != "text/plain; charset=utf-8" || f.Thumb {
		t.Fatalf("file = %+v, want text/plain from the content, no thumbnail", f)
	}
	path := "/files/" + id + "/run.html"
	carol := guestHeader()
	carolKey := guestKey(carol.Get("Cookie")[len(guestCookie)+1:])
	err := s.store.(chat.Access).SetSanction(t.Context(), chat.Sanction{Room: chat.DefaultRoom, User: carolKey, Kind: chat.Ban})
	if err != nil {
		t.Fatal(err)
	}
	grace := guestHeader()
	s.guest(t, grace, "grace")

	if resp, _ := s.get(t, path, ada); resp.StatusCode != 200 || resp.Header.Get("Content-Disposition") != `attachment; filename=run.html` {
		t.Errorf("uploader before the send: %d %q, want 200 and an attachment", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	if resp, _ := s.get(t, path, grace); resp.StatusCode != 404 {
		t.Errorf("another user before the send: %d, want 404", resp.StatusCode)
	}
	c.ok(protocol.Command{Op: protocol.OpSend, Room: chat.DefaultRoom, Body: "look", CMID: "f", File: id})
	if resp, _ := s.get(t, path, grace); resp.StatusCode != 200 {
		t.Errorf("a reader of the room after the send: %d, want 200", resp.StatusCode)
	}
	if resp, _ := s.get(t, path, nil); resp.StatusCode != 401 {
		t.Errorf("no credentials: %d, want 401", resp.StatusCode)
	}
	if resp, _ := s.get(t, "/files/f_nope/x", grace); resp.StatusCode != 404 {
		t.Errorf("no such file: %d, want 404", resp.StatusCode)
	}
	if resp, _ := s.get(t, "/thumbs/"+id, grace); resp.StatusCode != 404 {
		t.Errorf("thumbnail of a file without one: %d, want 404", resp.StatusCode)
	}
	// Banned from the room: 403.
	if resp, _ := s.get(t, path, carol); resp.StatusCode != 403 {
		t.Errorf("banned from the room: %d, want 403", resp.StatusCode)
	}

	// A copy kept by the browser is asked for again each time, and is
	// good only for whoever may still read the file.
	resp, _ := s.get(t, path, grace)
	etag := resp.Header.Get("ETag")
	if cc := resp.Header.Get("Cache-Control"); cc != "private, no-cache" || etag != `"`+id+`"` {
		t.Errorf("Cache-Control %q, ETag %q; want private, no-cache and %q", cc, etag, `"`+id+`"`)
	}
	revalidate := func(hdr http.Header, inm string) int {
		h := hdr.Clone()
		h.Set("If-None-Match", inm)
		resp, body := s.get(t, path, h)
		if resp.StatusCode == 304 && len(body) > 0 {
			t.Errorf("304 with %d bytes of body", len(body))
		}
		return resp.StatusCode
	}
	for _, tt := range []struct {
		name string
		hdr  http.Header
		inm  string
		want int
	}{
		{"a reader, its tag", grace, etag, 304},
		{"a reader, its tag weak, in a list", grace, `"other", W/` + etag, 304},
		{"a reader, another tag", grace, `"f_other"`, 200},
		{"banned, its tag", carol, etag, 403},
		{"nobody, its tag", http.Header{}, etag, 401},
	} {
		if got := revalidate(tt.hdr, tt.inm); got != tt.want {
			t.Errorf("revalidation, %s: %d, want %d", tt.name, got, tt.want)
		}
	}
	c.ok(protocol.Command{Op: protocol.OpDelete, Room: chat.DefaultRoom, Seq: 1})
	if got := revalidate(grace, etag); got != 404 {
		t.Errorf("revalidation after the message was deleted: %d, want 404", got)
	}
}

func TestUploadRefusals(t *testing.T) {
	s := filesServer(t, func(cfg *Config) {
		cfg.FileMaxBytes = 4000
		cfg.UploadsPerConn = 2
		cfg.UploadQuota = 4500
	})
	adaHdr := guestHeader()
	c := s.guest(t, adaHdr, "ada")
	file := bytes.Repeat([]byte("x"), 2500)
	start := func(size int64, sha string) protocol.Event {
		return c.do(protocol.Command{Op: protocol.OpUpload, Name: "x.txt", Size: size, SHA256: sha})
	}
	if ev := start(4001, sum(file)); ev.Code != protocol.CodeFileTooLarge {
		t.Errorf("over the size limit: %s %s, want %s", ev.Type, ev.Code, protocol.CodeFileTooLarge)
	}
	// A wrong checksum: refused at the last chunk, and the upload is gone.
	bad := start(int64(len(file)), sum([]byte("other"))).Upload.ID
	c.sendChunk(bad, 0, file[:testChunk])
	c.uploadEvent()
	c.sendChunk(bad, testChunk, file[testChunk:2*testChunk])
	c.uploadEvent()
	c.sendChunk(bad, 2*testChunk, file[2*testChunk:])
	if ev := c.uploadEvent(); ev.Code != protocol.CodeChecksumMismatch {
		t.Errorf("wrong checksum: %s %s, want %s", ev.Type, ev.Code, protocol.CodeChecksumMismatch)
	}
	if ev := c.do(protocol.Command{Op: protocol.OpUpload, Upload: bad}); ev.Code != protocol.CodeNoSuchUpload {
		t.Errorf("resume after the mismatch: %s %s, want %s", ev.Type, ev.Code, protocol.CodeNoSuchUpload)
	}
	open := start(int64(len(file)), sum(file)).Upload.ID
	if ev := c.do(protocol.Command{Op: protocol.OpSend, Room: chat.DefaultRoom, Body: "x", File: open}); ev.Code != protocol.CodeUploadIncomplete {
		t.Errorf("send before the upload is complete: %s %s, want %s", ev.Type, ev.Code, protocol.CodeUploadIncomplete)
	}
	c.sendChunk(open, 0, file[:100])
	c.uploadEvent()
	c.sendChunk(open, 0, file[:100])
	if ev := c.uploadEvent(); ev.Code != protocol.CodeBadOffset || ev.Upload.Offset != 100 {
		t.Errorf("chunk at a stale offset: %+v, want bad_offset at 100", ev)
	}
	small := start(100, sum(file))
	if small.Type != protocol.TypeOK {
		t.Fatalf("second upload: %s %s", small.Code, small.Reason)
	}
	c.sendChunk(small.Upload.ID, 0, file[:101]) // past the size
	if ev := c.uploadEvent(); ev.Code != protocol.CodeBadOffset {
		t.Errorf("chunk past the size: %s %s, want bad_offset", ev.Type, ev.Code)
	}
	if ev := start(100, sum(file)); ev.Code != protocol.CodeLimitReached {
		t.Errorf("third upload open at once: %s %s, want %s", ev.Type, ev.Code, protocol.CodeLimitReached)
	}
	// The quota: 2500 + 100 started so far by ada (the discarded upload
	// does not count); 2000 more passes 4500 (on a connection of hers
	// with room for it).
	c2 := s.guest(t, adaHdr, "ada2")
	if ev := c2.do(protocol.Command{Op: protocol.OpUpload, Name: "x.txt", Size: 2000, SHA256: sum(file)}); ev.Code != protocol.CodeLimitReached {
		t.Errorf("past the day's quota: %s %s, want %s", ev.Type, ev.Code, protocol.CodeLimitReached)
	}
	if ev := c.do(protocol.Command{Op: protocol.OpUpload, Upload: open}); ev.Type != protocol.TypeOK {
		t.Errorf("resume of an open upload: %s %s", ev.Code, ev.Reason)
	}
	// Not a chunk: closes with 1003.
	if err := c.ws.WriteMessage(websocket.BinaryMessage, []byte("GIF89a")); err != nil {
		t.Fatal(err)
	}
	if code := c.closeCode(); code != protocol.CloseUnsupportedData {
		t.Errorf("a binary message that is not a chunk: close %d, want %d", code, protocol.CloseUnsupportedData)
	}
}

// TestGuestUploadLimitsByAddress: a guest's uploads count against the
// address too, so a new guest cookie (which anyone can get) does not
// start the day's quota or the upload rate again; an account at the same
// address keeps its own.
func TestGuestUploadLimitsByAddress(t *testing.T) {
	tests := []struct {
		name      string
		mut       func(*Config)
		firstSize int64
		nextSize  int64
		want      protocol.Code
	}{
		{"quota", func(c *Config) { c.UploadQuota = 4500 }, 4000, 1000, protocol.CodeLimitReached},
		{"rate", func(c *Config) { c.UploadBurst, c.UploadRate = 1, 1.0/3600 }, 100, 100, protocol.CodeRateLimited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store := newAccountServer(t, tt.mut)
			s.srv.cfg.Files = store
			start := func(c *tclient, size int64) protocol.Event {
				return c.do(protocol.Command{Op: protocol.OpUpload, Name: "x.bin", Size: size, SHA256: sum(nil)})
			}
			first := s.guest(t, guestHeader(), "ada")
			if ev := start(first, tt.firstSize); ev.Type != protocol.TypeOK {
				t.Fatalf("first guest's upload: %s %s", ev.Code, ev.Reason)
			}
			// Another cookie, the same address.
			next := s.guest(t, guestHeader(), "bea")
			if ev := start(next, tt.nextSize); ev.Code != tt.want {
				t.Errorf("a new guest cookie at the same address: %s %s %q, want %s", ev.Type, ev.Code, ev.Reason, tt.want)
			}
			acct := s.account(t, s.register(t, "carla"))
			if ev := start(acct, tt.nextSize); ev.Type != protocol.TypeOK {
				t.Errorf("an account at the same address: %s %s %q, want ok", ev.Type, ev.Code, ev.Reason)
			}
		})
	}
}

// TestRefusedSendFreesTheFile: a send the store refuses (its reply_to is
// no message) leaves its file free for the next message; so does a send
// whose cmid was stored already with another file, whose ack describes
// the stored message's file, not the one sent again.
func TestRefusedSendFreesTheFile(t *testing.T) {
	s := filesServer(t, nil)
	ada := s.guest(t, guestHeader(), "ada")
	upload := func(body string) string {
		t.Helper()
		file := []byte(body)
		up := ada.ok(protocol.Command{Op: protocol.OpUpload, Name: body + ".txt", Size: int64(len(file)), SHA256: sum(file)}).Upload
		ada.sendFrom(up.ID, file, 0)
		return up.ID
	}
	first, second := upload("first file"), upload("second file")
	send := func(cmid, file string, replyTo int64) protocol.Event {
		t.Helper()
		return ada.do(protocol.Command{Op: protocol.OpSend, Room: chat.DefaultRoom, Body: cmid, CMID: cmid, File: file, ReplyTo: replyTo})
	}
	fileOf := func(ev protocol.Event) string {
		if ev.Message == nil || ev.Message.File == nil {
			return ""
		}
		return ev.Message.File.ID
	}
	steps := []struct {
		name     string
		cmid     string
		file     string
		replyTo  int64
		wantCode protocol.Code // "" for ok
		wantFile string        // the ack's file
	}{
		{"a reply to no message is refused", "c1", first, 999, protocol.CodeNoSuchMessage, ""},
		{"its file goes with the next message", "c2", first, 0, "", first},
		{"c2 again with another file: the stored message", "c2", second, 0, "", first},
		{"that other file is still free", "c3", second, 0, "", second},
		{"and now taken", "c4", second, 0, protocol.CodeNoSuchUpload, ""},
	}
	for _, st := range steps {
		ev := send(st.cmid, st.file, st.replyTo)
		if ev.Code != st.wantCode || fileOf(ev) != st.wantFile {
			t.Fatalf("%s: %s %s %q, file %q; want code %q, file %q", st.name, ev.Type, ev.Code, ev.Reason, fileOf(ev), st.wantCode, st.wantFile)
		}
	}
}

// TestResendOfLostSend: a send whose node died between the claim of its
// file and the commit leaves the file claimed by no message. Resent before
// the expiry, the message takes its file; resent after the expiry has
// taken the file, it is refused with no_such_upload and stores nothing:
// never a message whose file is missing.
func TestResendOfLostSend(t *testing.T) {
	s := filesServer(t, nil)
	ctx := t.Context()
	hdr := guestHeader()
	ada := s.guest(t, hdr, "ada")
	files := s.srv.cfg.Files
	lost := func(body, cmid string) string {
		t.Helper()
		file := []byte(body)
		up := ada.ok(protocol.Command{Op: protocol.OpUpload, Name: cmid + ".txt", Size: int64(len(file)), SHA256: sum(file)}).Upload
		ada.sendFrom(up.ID, file, 0)
		u, err := files.Upload(ctx, up.ID)
		if err != nil {
			t.Fatal(err)
		}
		// What attachFile did before the node died.
		if err := files.ClaimFile(ctx, up.ID, u.Owner, chat.DefaultRoom, cmid); err != nil {
			t.Fatal(err)
		}
		return up.ID
	}
	expired, resent := lost("expired before the resend", "c-expired"), lost("resent in time", "c-resent")
	send := func(cmid, file string) protocol.Event {
		t.Helper()
		return ada.do(protocol.Command{Op: protocol.OpSend, Room: chat.DefaultRoom, Body: cmid, CMID: cmid, File: file})
	}
	if ev := send("c-resent", resent); ev.Type != protocol.TypeOK || ev.Message == nil || ev.Message.File == nil || ev.Message.File.ID != resent {
		t.Fatalf("resend before the expiry: %s %s %q, want ok with the file", ev.Type, ev.Code, ev.Reason)
	}
	if n, err := files.ExpireUploads(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("ExpireUploads = %d, %v; want 1 (the file of the message never stored)", n, err)
	}
	if ev := send("c-expired", expired); ev.Code != protocol.CodeNoSuchUpload {
		t.Errorf("resend after the expiry: %s %s %q, want %s", ev.Type, ev.Code, ev.Reason, protocol.CodeNoSuchUpload)
	}
	hist := ada.ok(protocol.Command{Op: protocol.OpHistory, Room: chat.DefaultRoom})
	if n := len(hist.Messages); n != 1 || hist.Messages[0].CMID != "c-resent" {
		t.Errorf("history = %+v, want only the message resent in time", hist.Messages)
	}
	for _, f := range []struct {
		id     string
		status int
	}{{resent, 200}, {expired, 404}} {
		if resp, _ := s.get(t, "/files/"+f.id+"/x.txt", hdr); resp.StatusCode != f.status {
			t.Errorf("download of %s: %d, want %d", f.id, resp.StatusCode, f.status)
		}
	}
}
