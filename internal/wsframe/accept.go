package wsframe

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
)

// GUID is the string every server appends to the client's
// Sec-WebSocket-Key before hashing it (§1.3, §4.2.2).
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for the client's
// Sec-WebSocket-Key: base64(SHA-1(key + GUID)) (§4.2.2, item 5.4). It does
// not check the key; a server must first check that it decodes to 16 bytes
// (§4.2.1, item 5).
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + GUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// AcceptDerivation is AcceptKey shown step by step, for display.
type AcceptDerivation struct {
	Key          string // Sec-WebSocket-Key as the client sent it
	Concatenated string // Key + GUID
	SHA1Hex      string // SHA-1 of Concatenated, in hex
	Accept       string // the SHA-1 digest (not its hex) in base64: Sec-WebSocket-Accept
}

// AcceptSteps derives Sec-WebSocket-Accept from key like AcceptKey and
// returns every intermediate value.
func AcceptSteps(key string) AcceptDerivation {
	cat := key + GUID
	sum := sha1.Sum([]byte(cat))
	return AcceptDerivation{
		Key:          key,
		Concatenated: cat,
		SHA1Hex:      hex.EncodeToString(sum[:]),
		Accept:       base64.StdEncoding.EncodeToString(sum[:]),
	}
}
