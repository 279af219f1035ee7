package auth

import (
	"strings"
	"testing"
)

func TestNewToken(t *testing.T) {
	const n = 1000
	seen := make(map[string]bool, n)
	for range n {
		token, hash := NewToken()
		if seen[token] {
			t.Fatalf("NewToken returned %s twice", token)
		}
		seen[token] = true
		if len(token) != TokenLen || !ValidToken(token) {
			t.Errorf("NewToken = %q: len %d, ValidToken %v; want len %d, valid", token, len(token), ValidToken(token), TokenLen)
		}
		if want := HashToken(token); hash != want {
			t.Errorf("NewToken hash = %s, want HashToken(token) = %s", hash, want)
		}
	}
}

func TestHashToken(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}, // FIPS 180-2 example
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	}
	for _, tt := range tests {
		if got := HashToken(tt.in); got != tt.want {
			t.Errorf("HashToken(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if got := HashToken(tt.in); got != tt.want {
			t.Errorf("HashToken(%q) second call = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestValidToken(t *testing.T) {
	good, _ := NewToken()
	tests := []struct {
		in   string
		want bool
	}{
		{good, true},
		{strings.Repeat("A", 43), true},
		{strings.Repeat("_", 42) + "w", true},
		{strings.Repeat("-", 42) + "0", true},
		{"", false},
		{good[:42], false},
		{good + "A", false},
		{good + "=", false},
		{strings.Repeat("A", 42) + "B", false}, // stray bits in the last character
		{strings.Repeat("A", 42) + "+", false}, // standard alphabet
		{strings.Repeat("A", 42) + "/", false},
		{strings.Repeat("A", 41) + " A", false},
		{strings.Repeat("A", 41) + "é", false}, // 43 bytes, not 43 characters
		{strings.Repeat("A", 42) + "\x00", false},
		{strings.Repeat("A", 41) + "\r\n", false}, // package base64 skips line breaks
		{good[:20] + "\n" + good[21:], false},
		{strings.Repeat("A", 1000), false},
	}
	for _, tt := range tests {
		if got := ValidToken(tt.in); got != tt.want {
			t.Errorf("ValidToken(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
