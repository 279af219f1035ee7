// Package auth hashes and verifies account passwords and makes session
// tokens.
//
// Passwords are hashed with argon2id and stored as PHC strings
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash). A Hasher bounds how many hashes
// run at once, because each one holds its memory parameter (19 MiB with
// the current parameters) for its whole run.
//
// Session tokens are 32 random bytes in unpadded base64url; only their
// SHA-256 (HashToken) is stored, so a leaked database leaks no live session.
//
// The package enforces no password policy (see protocol.CheckPassword) and
// starts no goroutine that outlives a call.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// ErrBusy is returned, wrapped together with the context's cause, when every
// hashing slot of a Hasher stayed taken until the context ended. Servers
// answer it with "try again later" (HTTP 503).
var ErrBusy = errors.New("auth: too many concurrent password hashes")

// ErrMalformedHash is wrapped by the errors of VerifyPassword for a stored
// string that is not an argon2id PHC string this package accepts.
var ErrMalformedHash = errors.New("malformed argon2id PHC string")

// DefaultMaxConcurrent is the number of concurrent hashes NewHasher allows
// when given a maximum of zero or less.
const DefaultMaxConcurrent = 4

// params are argon2id parameters.
type params struct {
	memory  uint32 // KiB
	time    uint32 // passes
	threads uint8
	saltLen uint32 // bytes
	keyLen  uint32 // bytes
}

// currentParams are OWASP's first argon2id recommendation (2024): 19 MiB,
// two passes, one lane.
var currentParams = params{memory: 19 * 1024, time: 2, threads: 1, saltLen: 16, keyLen: 32}

// Hasher hashes and verifies passwords with at most a fixed number of
// hashes running at once. Its methods are safe for concurrent use.
//
// Memory: a hash with the current parameters holds 19 MiB while it runs,
// so a Hasher built with NewHasher(n) holds at most n × 19 MiB (76 MiB for
// the default 4). Verifying a stored hash made with other parameters costs
// that hash's own memory, which parsing bounds to 256 MiB per slot.
//
// The context passed to each method bounds only the wait for a slot: a hash,
// once started, runs to completion (argon2 cannot be interrupted), and a
// free slot is taken even if the context has already ended.
//
// The zero Hasher is not usable; use NewHasher.
type Hasher struct {
	sem    chan struct{} // Immutable after NewHasher. One element per running hash.
	params params        // Immutable after NewHasher. Lowered by tests.
}

// NewHasher returns a Hasher that runs at most maxConcurrent hashes at once,
// or DefaultMaxConcurrent if maxConcurrent ≤ 0.
func NewHasher(maxConcurrent int) *Hasher {
	if maxConcurrent <= 0 {
		maxConcurrent = DefaultMaxConcurrent
	}
	return &Hasher{sem: make(chan struct{}, maxConcurrent), params: currentParams}
}

// HashPassword returns pw hashed with argon2id under the current parameters
// (m=19456 KiB, t=2, p=1, 16-byte random salt, 32-byte key) as a PHC string.
// Its only error wraps ErrBusy, when no slot freed up before ctx ended.
func (h *Hasher) HashPassword(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, h.params.saltLen)
	rand.Read(salt) // never returns an error
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	key := argon2.IDKey([]byte(pw), salt, h.params.time, h.params.memory, h.params.threads, h.params.keyLen)
	return encodePHC(phc{params: h.params, salt: salt, key: key}), nil
}

// VerifyPassword reports whether pw matches the stored PHC string, which
// may carry any parameters within this package's bounds (m ≤ 256 MiB,
// t ≤ 10, p ≤ 16, salt 8–64 bytes, key 16–64 bytes). The comparison is
// constant-time. It returns an error wrapping ErrMalformedHash if phc cannot
// be parsed (without waiting for a slot), or wrapping ErrBusy if no slot
// freed up before ctx ended; a mismatch is (false, nil).
func (h *Hasher) VerifyPassword(ctx context.Context, phc, pw string) (bool, error) {
	p, err := parsePHC(phc)
	if err != nil {
		return false, err
	}
	return h.verify(ctx, p, pw)
}

// DummyVerify does the work of VerifyPassword against a fixed hash made
// with the current parameters, which no password matches. Call it when a
// login names an unknown user, so that the answer takes as long as for a
// known user with a current hash. Its only error wraps ErrBusy.
func (h *Hasher) DummyVerify(ctx context.Context, pw string) error {
	p := phc{
		params: h.params,
		salt:   dummySalt[:h.params.saltLen],
		key:    make([]byte, h.params.keyLen), // all zeros: matches with probability 2^-256
	}
	_, err := h.verify(ctx, p, pw)
	return err
}

// dummySalt is the salt of DummyVerify; any fixed bytes will do.
var dummySalt [maxSaltLen]byte

// NeedsRehash reports whether phc was made with parameters (memory, passes,
// lanes, salt or key length) other than the ones HashPassword uses now, or
// cannot be parsed. After a successful login, a server re-hashes the
// password and stores the new string.
func (h *Hasher) NeedsRehash(phc string) bool {
	p, err := parsePHC(phc)
	return err != nil || p.params != h.params
}

func (h *Hasher) verify(ctx context.Context, p phc, pw string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	key := argon2.IDKey([]byte(pw), p.salt, p.params.time, p.params.memory, p.params.threads, p.params.keyLen)
	return subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

// acquire takes a hashing slot, preferring a free slot over an ended ctx.
func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	default:
	}
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBusy, context.Cause(ctx))
	}
}

func (h *Hasher) release() { <-h.sem }
