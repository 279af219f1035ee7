package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
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

// TestSendFileName: "hubbub send --file" sends a file whose name the
// server would refuse (control or format characters, spaces at the ends,
// bytes that are not UTF-8) under the name the browser client would give
// it, and says so on stderr; a name the server takes goes as it is,
// without a word.
func TestSendFileName(t *testing.T) {
	url := startServer(t)
	env := map[string]string{"HUBBUB_SERVER": url, "USER": "ada"}
	tests := []struct {
		name, file, want string
	}{
		{"plain", "notes.txt", "notes.txt"},
		{"unicode", "café ☕.txt", "café ☕.txt"},
		{"tab and bidi override", "a\tb\u202etxt.exe", "a_btxt.exe"},
		{"spaces at the ends", " sp .txt ", "sp .txt"},
		{"not UTF-8", "bad\xff.txt", "bad_.txt"},
		{"escape sequence", "\x1b[31mred", "_[31mred"},
		{"nothing left", "\u200b", "file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(path, []byte("some bytes"), 0o600); err != nil {
				t.Skipf("this file system does not take the name %q: %v", tt.file, err)
			}
			a, stdout, stderr := testApp(t, "", env)
			if code := a.run(t.Context(), []string{"send", "--json", "--file", path, "lobby"}); code != exitOK {
				t.Fatalf("exit code %d; stderr: %s", code, stderr)
			}
			var sent protocol.Message
			if err := json.Unmarshal([]byte(stdout.String()), &sent); err != nil || sent.File == nil {
				t.Fatalf("send --json printed %q (%v); want a message with a file", stdout, err)
			}
			if got := sent.File.Name; got != tt.want {
				t.Errorf("file sent as %q, want %q", got, tt.want)
			}
			said := strings.Contains(stderr.String(), fmt.Sprintf("as %q", tt.want))
			if wantSaid := tt.want != tt.file; said != wantSaid {
				t.Errorf("stderr %q: said the new name %v, want %v", stderr, said, wantSaid)
			}
		})
	}
}

// TestUploadName: uploadName gives every name a name the server takes,
// and cuts a long one before its extension, on a character boundary.
func TestUploadName(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	tests := []struct {
		name, base, want string
	}{
		{"fine", "report.pdf", "report.pdf"},
		{"at the limit", strings.Repeat("n", 251) + ".txt", strings.Repeat("n", 251) + ".txt"},
		{"long, extension kept", long + ".txt", strings.Repeat("é", 125) + ".txt"},
		{"long, no extension", long, strings.Repeat("é", 127)},
		{"long extension is not one", "a." + long, "a." + strings.Repeat("é", 126)},
		{"separators", `a\b`, "a_b"},
		{"dots", "..", "file"},
		{"zero-width only", "\u200b\u200d", "file"},
		{"replacement character", "a\ufffd", "a_"},
		{"C1 control", "a\u0085b", "a_b"},
		{"cut leaves a space at the end", strings.Repeat("n", 254) + " yyyy", strings.Repeat("n", 254)},
		{"cut leaves a space before the extension", strings.Repeat("n", 250) + " yyyyyyyy.txt", strings.Repeat("n", 250) + ".txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := uploadName(tt.base)
			if got != tt.want {
				t.Errorf("uploadName(%q) = %q, want %q", tt.base, got, tt.want)
			}
			if err := protocol.CheckFileName(got); err != nil {
				t.Errorf("uploadName(%q) = %q, which the server refuses: %v", tt.base, got, err)
			}
		})
	}
}
