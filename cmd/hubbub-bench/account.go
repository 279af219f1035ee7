package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// registerAccount creates the account name on the hubbub server whose
// WebSocket URL is wsURL (POST /api/register on the same host) and returns
// its session token, which every connection of the run may present
// (Authorization: Bearer), as a person's several devices do. The password
// is random and forgotten: the account serves this run only.
func registerAccount(ctx context.Context, wsURL, name string) (string, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return "", err
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return "", fmt.Errorf("register on %s: not a ws:// or wss:// URL", wsURL)
	}
	u.Path, u.RawQuery = "/api/register", ""
	pw := make([]byte, 16)
	_, _ = rand.Read(pw)
	body, err := json.Marshal(map[string]any{"username": name, "password": hex.EncodeToString(pw), "bearer": true})
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("register %s: %w", name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("register %s: %w", name, err)
	}
	var reply struct {
		Token  string `json:"token"`
		Code   string `json:"code"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal(data, &reply); err != nil || resp.StatusCode != http.StatusCreated || reply.Token == "" {
		return "", fmt.Errorf("register %s at %s: %s %s: %s", name, u, resp.Status, reply.Code, reply.Reason)
	}
	return reply.Token, nil
}
