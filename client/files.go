package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/hubbub-chat/hubbub/protocol"
)

// SendFile sends a message to a joined room carrying the file fileID (the
// ID of a File that Upload returned) with caption as its body, which may
// be "". It gives the message a fresh client message id and is otherwise
// SendFileWithID.
func (c *Client) SendFile(ctx context.Context, room, fileID, caption string) (protocol.Message, error) {
	return c.SendFileWithID(ctx, room, NewCMID(), fileID, caption)
}

// SendFileWithID is SendWithID for a message carrying a file: it is
// retried and stored at most once per cmid in the same way, and a resend
// with the same cmid returns the first acknowledgement. A file goes with
// one message: another cmid for the same file is refused with
// no_such_upload, an upload not complete with upload_incomplete.
func (c *Client) SendFileWithID(ctx context.Context, room, cmid, fileID, caption string) (protocol.Message, error) {
	if cmid == "" {
		return protocol.Message{}, &SendError{CMID: cmid, Err: errors.New("client: SendFileWithID needs a cmid")}
	}
	if fileID == "" {
		return protocol.Message{}, &SendError{CMID: cmid, Err: errors.New("client: SendFileWithID needs a file id")}
	}
	return c.send(ctx, protocol.Command{Op: protocol.OpSend, Room: room, Body: caption, CMID: cmid, File: fileID})
}

// Download writes the bytes of file f to w and returns how many it wrote.
// It fetches them over HTTP (GET /files/{id}/{name}) from the server the
// client dials, with the client's credentials: its token, or the guest
// cookie of its connections. It uses the Dialer's proxy and TLS settings,
// and keeps no connection open afterwards.
//
// The server serves a file to whoever may read the room of the message
// that carries it, and to its uploader. A refusal is a *protocol.Error:
// no_such_file (404: no such file, deleted, or a room the user may not
// read), banned (403) or unauthorized (401). Download fails if the body
// does not have f.Size bytes (when f.Size is set).
func (c *Client) Download(ctx context.Context, f protocol.File, w io.Writer) (int64, error) {
	if err := protocol.CheckFileID(f.ID); err != nil {
		return 0, err
	}
	name := f.Name
	if name == "" {
		name = "file" // any name serves the file
	}
	u, err := c.httpBase()
	if err != nil {
		return 0, err
	}
	u.Path += "/files/" + f.ID + "/" + name
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err
	}
	if auth := c.header.Get("Authorization"); auth != "" {
		req.Header.Set("Authorization", auth)
	}
	tls := c.dialer.TLSClientConfig
	if tls != nil {
		tls = tls.Clone()
	}
	hc := &http.Client{
		Jar: c.dialer.Jar,
		Transport: &http.Transport{
			Proxy:             c.dialer.Proxy,
			DialContext:       c.dialer.NetDialContext,
			TLSClientConfig:   tls,
			DisableKeepAlives: true, // nothing left running after Download
		},
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("client: download %s: %w", f.ID, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var apiErr struct { // the HTTP API's error body
			Code   protocol.Code `json:"code"`
			Reason string        `json:"reason"`
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		if json.Unmarshal(body, &apiErr) != nil || apiErr.Code == "" {
			return 0, fmt.Errorf("client: download %s: HTTP %d", f.ID, resp.StatusCode)
		}
		return 0, &protocol.Error{Code: apiErr.Code, Reason: apiErr.Reason}
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("client: download %s: %w", f.ID, err)
	}
	if f.Size > 0 && n != f.Size {
		return n, fmt.Errorf("client: download %s: got %d bytes, want %d", f.ID, n, f.Size)
	}
	return n, nil
}

// httpBase is the server's HTTP base URL: the WebSocket URL with the http
// scheme and without the final /ws.
func (c *Client) httpBase() (*url.URL, error) {
	u, err := url.Parse(c.url)
	if err != nil {
		return nil, err
	}
	u.Scheme = strings.Replace(u.Scheme, "ws", "http", 1)
	u.Path = strings.TrimSuffix(u.Path, "/ws")
	u.RawQuery = ""
	return u, nil
}
