package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// TokenLen is the length of a session token: 32 bytes in unpadded base64url.
const TokenLen = 43

// tokenEncoding rejects stray bits, so every token has one spelling.
var tokenEncoding = base64.RawURLEncoding.Strict()

// NewToken returns a new session token of 32 bytes from crypto/rand in
// unpadded base64url, and its HashToken. Give the token to the client and
// store only the hash.
func NewToken() (token, hash string) {
	var b [32]byte
	rand.Read(b[:]) // never returns an error
	token = tokenEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken returns the lower-case hex SHA-256 of the token string, the form
// in which sessions are stored and looked up. It does not validate token;
// call ValidToken first so that garbage never reaches the database.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ValidToken reports whether s has the form of a token from NewToken:
// TokenLen characters of the base64url alphabet that decode to 32 bytes
// with no stray bits. It says nothing about whether the session exists.
func ValidToken(s string) bool {
	if len(s) != TokenLen {
		return false
	}
	b, err := tokenEncoding.DecodeString(s)
	return err == nil && len(b) == 32
}
