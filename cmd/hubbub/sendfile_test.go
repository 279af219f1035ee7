package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hubbub-chat/hubbub/client"
	"github.com/hubbub-chat/hubbub/protocol"
)

// TestSendFile: "hubbub send --file PATH ROOM [TEXT]" uploads the file and
// sends it with TEXT as its caption (or none); a peer in the room gets the
// message and downloads the same bytes. A big file reports its progress
// on stderr; a missing one fails before anything is sent.
func TestSendFile(t *testing.T) {
	url := startServer(t)
	grace := dialPeer(t, url, "grace")
	if _, _, err := grace.Join(t.Context(), "lobby"); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HUBBUB_SERVER": url, "USER": "ada"}
	dir := t.TempDir()
	small := []byte("just a few bytes\n")
	big := make([]byte, progressMin+12345)
	rand.Read(big)
	for name, data := range map[string][]byte{"notes.txt": small, "big.bin": big} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name         string
		args         []string
		data         []byte
		caption      string
		wantProgress bool
	}{
		{"caption", []string{"send", "--json", "--file", filepath.Join(dir, "notes.txt"), "lobby", "my", "notes"}, small, "my notes", false},
		{"no caption, big", []string{"send", "--json", "--file", filepath.Join(dir, "big.bin"), "lobby"}, big, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, stdout, stderr := testApp(t, "stdin is not read with --file", env)
			if code := a.run(t.Context(), tt.args); code != exitOK {
				t.Fatalf("exit code %d; stderr: %s", code, stderr)
			}
			var sent protocol.Message
			if err := json.Unmarshal([]byte(stdout.String()), &sent); err != nil || sent.File == nil {
				t.Fatalf("send --json printed %q (%v); want a message with a file", stdout, err)
			}
			if sent.Body != tt.caption || sent.File.Name != filepath.Base(tt.args[3]) || sent.File.Size != int64(len(tt.data)) {
				t.Errorf("sent %+v (file %+v), want caption %q and the file %s of %d bytes", sent, *sent.File, tt.caption, filepath.Base(tt.args[3]), len(tt.data))
			}
			grace.waitEvent(t, "the file's message", func(ev client.Event) bool {
				m, ok := ev.(client.MessageEvent)
				return ok && m.Message.Seq == sent.Seq && m.Message.File != nil && *m.Message.File == *sent.File
			})
			var buf bytes.Buffer
			if _, err := grace.Download(t.Context(), *sent.File, &buf); err != nil || !bytes.Equal(buf.Bytes(), tt.data) {
				t.Errorf("grace downloaded %d bytes (%v), want the file's %d", buf.Len(), err, len(tt.data))
			}
			progress := strings.Contains(stderr.String(), "uploading big.bin: 100% (1.0 MiB of 1.0 MiB)")
			if progress != tt.wantProgress {
				t.Errorf("stderr %q: progress shown %v, want %v", stderr, progress, tt.wantProgress)
			}
		})
	}

	a, stdout, stderr := testApp(t, "", env)
	if code := a.run(t.Context(), []string{"send", "--file", filepath.Join(dir, "missing"), "lobby", "x"}); code != exitError {
		t.Errorf("send --file of a missing file: exit code %d, want %d", code, exitError)
	}
	if stdout.String() != "" || !strings.Contains(stderr.String(), "no such file") {
		t.Errorf("send --file of a missing file: stdout %q, stderr %q", stdout, stderr)
	}
}
