package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hubbub-chat/hubbub/protocol"
)

func TestDecodeBodyStrict(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"exact", `{"username":"alice","password":"correct horse"}`, true},
		{"with bearer", `{"username":"alice","password":"correct horse","bearer":true}`, true},
		{"case variant", `{"USERNAME":"alice","password":"correct horse"}`, false},
		{"mixed case", `{"username":"alice","Password":"correct horse"}`, false},
		{"duplicate", `{"username":"alice","username":"bob","password":"correct horse"}`, false},
		{"duplicate password", `{"username":"alice","password":"a","password":"correct horse"}`, false},
		{"unknown", `{"username":"alice","password":"x","admin":true}`, false},
		{"trailing", `{"username":"alice","password":"correct horse"} {}`, false},
		{"not an object", `["alice"]`, false},
		{"wrong type", `{"username":1,"password":"x"}`, false},
		{"too big", `{"username":"` + strings.Repeat("a", maxAPIBody) + `"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c credentials
			err := decodeBody(strings.NewReader(tt.in), &c)
			if got := err == nil; got != tt.ok {
				t.Errorf("decodeBody(%s) = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil && protocol.CodeOf(err) != protocol.CodeBadJSON {
				t.Errorf("code = %s, want bad_json", protocol.CodeOf(err))
			}
		})
	}
}

// TestAccountAPIStrictJSON: the HTTP API itself refuses what the decoder
// refuses, with 400 bad_json.
func TestAccountAPIStrictJSON(t *testing.T) {
	s, _ := newAccountServer(t, nil)
	s.register(t, "alice")
	for _, body := range []string{
		`{"Username":"alice","Password":"correct horse"}`,
		`{"username":"mallory","username":"alice","password":"correct horse"}`,
	} {
		resp, err := http.Post(s.ts.URL+"/api/login", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("login %s: status %d, want 400", body, resp.StatusCode)
		}
	}
}

func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{`{"username":"alice","password":"x"}`, `{"old":"a","new":"b"}`, `{"a":1}{`, `{"USERNAME":""}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var c credentials
		if err := decodeBody(strings.NewReader(in), &c); err != nil && protocol.CodeOf(err) != protocol.CodeBadJSON {
			t.Fatalf("code %s", protocol.CodeOf(err))
		}
	})
}
