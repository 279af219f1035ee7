package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// sessionsFile is the name of the file of saved sessions, in the "hubbub"
// directory of the user's configuration directory.
const sessionsFile = "sessions.json"

// sessions is the content of sessions.json: the session of each server
// the user is logged in to, by server URL (see serverURL).
type sessions struct {
	Sessions map[string]savedSession `json:"sessions"`
}

// savedSession is one login.
type savedSession struct {
	User  string    `json:"user"`
	Token string    `json:"token"`
	Saved time.Time `json:"saved"`
}

// sessionsPath returns where sessions.json is.
func (a *app) sessionsPath() (string, error) {
	dir, err := a.configDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory for saved sessions: %w", err)
	}
	return filepath.Join(dir, "hubbub", sessionsFile), nil
}

// loadSessions reads the sessions file at path; a missing file holds no
// sessions.
func loadSessions(path string) (sessions, error) {
	s := sessions{Sessions: map[string]savedSession{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read saved sessions: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("read saved sessions: %s: %w", path, err)
	}
	if s.Sessions == nil {
		s.Sessions = map[string]savedSession{}
	}
	return s, nil
}

// save writes s to path atomically, creating its directory (mode 0700)
// if needed; the file is readable and writable by the user only (0600).
func (s sessions) save(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	f, err := os.CreateTemp(dir, ".sessions-*.json") // mode 0600
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	defer os.Remove(f.Name()) // after a successful rename, there is nothing to remove
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("save session: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("save session: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("save session: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	return nil
}

// savedSession returns the session saved for server, nil if none.
func (a *app) savedSession(server string) (*savedSession, error) {
	path, err := a.sessionsPath()
	if err != nil {
		return nil, nil // nowhere to save sessions: there are none
	}
	s, err := loadSessions(path)
	if err != nil {
		return nil, err
	}
	if ss, ok := s.Sessions[server]; ok && ss.Token != "" {
		return &ss, nil
	}
	return nil, nil
}

// saveSession saves the session of user for server, replacing any other.
func (a *app) saveSession(server, user, token string) (string, error) {
	path, err := a.sessionsPath()
	if err != nil {
		return "", err
	}
	s, err := loadSessions(path)
	if err != nil {
		return "", err
	}
	s.Sessions[server] = savedSession{User: user, Token: token, Saved: time.Now().UTC().Truncate(time.Second)}
	return path, s.save(path)
}

// forgetSession deletes the session saved for server, if any.
func (a *app) forgetSession(server string) error {
	path, err := a.sessionsPath()
	if err != nil {
		return err
	}
	s, err := loadSessions(path)
	if err != nil {
		return err
	}
	if _, ok := s.Sessions[server]; !ok {
		return nil
	}
	delete(s.Sessions, server)
	return s.save(path)
}
