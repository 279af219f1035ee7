package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Bounds on parsed parameters, so that a hostile stored string cannot make
// a verification allocate gigabytes or run for minutes.
const (
	maxMemory  = 256 * 1024 // KiB
	maxTime    = 10
	maxThreads = 16
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
	// maxPHCLen exceeds the longest string within the bounds above.
	maxPHCLen = 256
)

// phcEncoding is the PHC strings' base64: standard alphabet, no padding,
// and (Strict) no stray bits, so every value has exactly one spelling.
var phcEncoding = base64.RawStdEncoding.Strict()

// phc is a parsed argon2id PHC string.
type phc struct {
	params params
	salt   []byte
	key    []byte
}

// encodePHC formats p as $argon2id$v=19$m=…,t=…,p=…$salt$key.
func encodePHC(p phc) string {
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s",
		p.params.memory, p.params.time, p.params.threads,
		phcEncoding.EncodeToString(p.salt), phcEncoding.EncodeToString(p.key))
}

// parsePHC parses the canonical form encodePHC writes: argon2id, version 19,
// parameters in the order m, t, p as decimals without leading zeros, no
// keyid or data parameters, salt and key in unpadded standard base64. Its
// errors wrap ErrMalformedHash and never quote s, which is a secret.
func parsePHC(s string) (phc, error) {
	if len(s) > maxPHCLen {
		return phc{}, malformed("longer than %d bytes", maxPHCLen)
	}
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" {
		return phc{}, malformed("not $-separated algorithm, version, parameters, salt and hash")
	}
	if f[1] != "argon2id" {
		return phc{}, malformed("algorithm is not argon2id")
	}
	if f[2] != "v=19" {
		return phc{}, malformed("version is not v=19")
	}
	kv := strings.Split(f[3], ",")
	if len(kv) != 3 {
		return phc{}, malformed("parameters are not m, t and p")
	}
	m, err := parseParam(kv[0], "m", 1, maxMemory)
	if err != nil {
		return phc{}, err
	}
	t, err := parseParam(kv[1], "t", 1, maxTime)
	if err != nil {
		return phc{}, err
	}
	p, err := parseParam(kv[2], "p", 1, maxThreads)
	if err != nil {
		return phc{}, err
	}
	if m < 8*p {
		return phc{}, malformed("m is less than 8×p")
	}
	salt, err := decodeB64(f[4])
	if err != nil {
		return phc{}, malformed("salt is not unpadded base64")
	}
	if len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return phc{}, malformed("salt is not %d to %d bytes", minSaltLen, maxSaltLen)
	}
	key, err := decodeB64(f[5])
	if err != nil {
		return phc{}, malformed("hash is not unpadded base64")
	}
	if len(key) < minKeyLen || len(key) > maxKeyLen {
		return phc{}, malformed("hash is not %d to %d bytes", minKeyLen, maxKeyLen)
	}
	return phc{
		params: params{
			memory:  uint32(m),
			time:    uint32(t),
			threads: uint8(p),
			saltLen: uint32(len(salt)),
			keyLen:  uint32(len(key)),
		},
		salt: salt,
		key:  key,
	}, nil
}

// decodeB64 decodes s in phcEncoding, rejecting the line breaks that
// package base64 skips, so that a decoded value has one spelling.
func decodeB64(s string) ([]byte, error) {
	b, err := phcEncoding.DecodeString(s)
	if err == nil && phcEncoding.EncodedLen(len(b)) != len(s) {
		err = errors.New("line break in base64")
	}
	return b, err
}

// parseParam parses "name=n" with n a decimal in [lo, hi] without sign or
// leading zeros.
func parseParam(s, name string, lo, hi uint64) (uint64, error) {
	v, ok := strings.CutPrefix(s, name+"=")
	if !ok {
		return 0, malformed("parameter %s missing or out of order", name)
	}
	if v == "" || v[0] < '1' || v[0] > '9' {
		return 0, malformed("%s is not a decimal without leading zeros", name)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, malformed("%s is not a decimal without leading zeros", name)
		}
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, malformed("%s is not in [%d, %d]", name, lo, hi)
	}
	return n, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("auth: %s: %w", fmt.Sprintf(format, args...), ErrMalformedHash)
}
