package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// testParams make hashes cheap; only TestHashPasswordCurrentParams and the
// benchmarks use the real ones.
var testParams = params{memory: 64, time: 1, threads: 1, saltLen: 16, keyLen: 32}

func newTestHasher(t testing.TB, maxConcurrent int) *Hasher {
	t.Helper()
	h := NewHasher(maxConcurrent)
	h.params = testParams
	return h
}

func TestHashVerifyRoundTrip(t *testing.T) {
	h := newTestHasher(t, 0)
	for _, pw := range []string{
		"correct horse battery staple",
		"",
		"pässwörd 🔑",
		strings.Repeat("x", 128),
	} {
		t.Run(pw, func(t *testing.T) {
			phc, err := h.HashPassword(t.Context(), pw)
			if err != nil {
				t.Fatalf("HashPassword: %v", err)
			}
			if got, err := h.VerifyPassword(t.Context(), phc, pw); err != nil || !got {
				t.Errorf("VerifyPassword(right password) = %v, %v; want true, nil", got, err)
			}
			if got, err := h.VerifyPassword(t.Context(), phc, pw+"!"); err != nil || got {
				t.Errorf("VerifyPassword(wrong password) = %v, %v; want false, nil", got, err)
			}
			again, err := h.HashPassword(t.Context(), pw)
			if err != nil {
				t.Fatalf("HashPassword again: %v", err)
			}
			if again == phc {
				t.Errorf("two hashes of one password are equal (%s): salt not random", phc)
			}
		})
	}
}

func TestHashPasswordCurrentParams(t *testing.T) {
	h := NewHasher(0)
	phc, err := h.HashPassword(t.Context(), "correct horse battery staple")
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	const wantPrefix = "$argon2id$v=19$m=19456,t=2,p=1$"
	if !strings.HasPrefix(phc, wantPrefix) {
		t.Errorf("HashPassword = %s, want prefix %s", phc, wantPrefix)
	}
	p, err := parsePHC(phc)
	if err != nil {
		t.Fatalf("parsePHC(HashPassword) = %v", err)
	}
	if len(p.salt) != 16 || len(p.key) != 32 {
		t.Errorf("salt, key lengths = %d, %d; want 16, 32", len(p.salt), len(p.key))
	}
	if got, err := h.VerifyPassword(t.Context(), phc, "correct horse battery staple"); err != nil || !got {
		t.Errorf("VerifyPassword = %v, %v; want true, nil", got, err)
	}
	if h.NeedsRehash(phc) {
		t.Errorf("NeedsRehash(fresh hash) = true")
	}
}

// TestVerifyPasswordReference checks strings made by the reference C
// implementation (Debian's argon2 command, 20171227), so that stored hashes
// stay portable both ways.
func TestVerifyPasswordReference(t *testing.T) {
	h := newTestHasher(t, 0)
	tests := []struct {
		phc, pw string
	}{
		// echo -n 'correct horse battery staple' | argon2 'saltysaltysalty!' -id -t 2 -k 19456 -p 1 -l 32
		{"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHlzYWx0eXNhbHR5IQ$N4DoV9A8+B64DV18XgZ8Q0569DmKEaCMCkb7T4m0npo", "correct horse battery staple"},
		// echo -n hunter2 | argon2 somesalt -id -t 1 -k 64 -p 2 -l 16
		{"$argon2id$v=19$m=64,t=1,p=2$c29tZXNhbHQ$22BzBDmgw/DaUnuGZjSjOg", "hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.pw, func(t *testing.T) {
			if got, err := h.VerifyPassword(t.Context(), tt.phc, tt.pw); err != nil || !got {
				t.Errorf("VerifyPassword(right password) = %v, %v; want true, nil", got, err)
			}
			if got, err := h.VerifyPassword(t.Context(), tt.phc, "x"+tt.pw); err != nil || got {
				t.Errorf("VerifyPassword(wrong password) = %v, %v; want false, nil", got, err)
			}
		})
	}
}

func TestVerifyPasswordMalformed(t *testing.T) {
	h := newTestHasher(t, 1)
	// A held slot and an ended context: a malformed string must fail on
	// parsing, before any wait for a slot.
	h.sem <- struct{}{}
	defer h.release()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, phc := range []string{"", "plaintext", "$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$22BzBDmgw/DaUnuGZjSjOg"} {
		_, err := h.VerifyPassword(ctx, phc, "pw")
		if !errors.Is(err, ErrMalformedHash) || errors.Is(err, ErrBusy) {
			t.Errorf("VerifyPassword(%q) error = %v, want ErrMalformedHash", phc, err)
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	h := NewHasher(0)
	const salt, key = "c2FsdHlzYWx0eXNhbHR5IQ", "N4DoV9A8+B64DV18XgZ8Q0569DmKEaCMCkb7T4m0npo" // 16 and 32 bytes
	tests := []struct {
		name string
		phc  string
		want bool
	}{
		{"current", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key, false},
		{"less memory", "$argon2id$v=19$m=19455,t=2,p=1$" + salt + "$" + key, true},
		{"more memory", "$argon2id$v=19$m=65536,t=2,p=1$" + salt + "$" + key, true},
		{"time", "$argon2id$v=19$m=19456,t=3,p=1$" + salt + "$" + key, true},
		{"threads", "$argon2id$v=19$m=19456,t=2,p=2$" + salt + "$" + key, true},
		{"short salt", "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$" + key, true},
		{"short key", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$22BzBDmgw/DaUnuGZjSjOg", true},
		{"malformed", "$argon2id$v=19$m=19456,t=2,p=1$" + salt, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.NeedsRehash(tt.phc); got != tt.want {
				t.Errorf("NeedsRehash(%s) = %v, want %v", tt.phc, got, tt.want)
			}
		})
	}
}

func TestDummyVerify(t *testing.T) {
	h := newTestHasher(t, 0)
	if err := h.DummyVerify(t.Context(), "pw"); err != nil {
		t.Errorf("DummyVerify = %v, want nil", err)
	}
	// DummyVerify must cost what VerifyPassword costs with the real
	// parameters, so its salt must cover them.
	if got, want := len(dummySalt), int(currentParams.saltLen); got < want {
		t.Errorf("len(dummySalt) = %d, want at least %d", got, want)
	}
}

func TestBusy(t *testing.T) {
	const phc = "$argon2id$v=19$m=64,t=1,p=2$c29tZXNhbHQ$22BzBDmgw/DaUnuGZjSjOg"
	// Each operation must give up with ErrBusy when its only slot stays held.
	ops := []struct {
		name string
		do   func(ctx context.Context, h *Hasher) error
	}{
		{"HashPassword", func(ctx context.Context, h *Hasher) error {
			_, err := h.HashPassword(ctx, "pw")
			return err
		}},
		{"VerifyPassword", func(ctx context.Context, h *Hasher) error {
			_, err := h.VerifyPassword(ctx, phc, "hunter2")
			return err
		}},
		{"DummyVerify", func(ctx context.Context, h *Hasher) error {
			return h.DummyVerify(ctx, "pw")
		}},
	}
	for _, op := range ops {
		t.Run(op.name+"/deadline", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newTestHasher(t, 1)
				h.sem <- struct{}{} // someone else's hash
				defer h.release()
				const timeout = 2 * time.Second
				ctx, cancel := context.WithTimeout(t.Context(), timeout)
				defer cancel()
				start := time.Now()
				err := op.do(ctx, h)
				if !errors.Is(err, ErrBusy) || !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("error = %v, want ErrBusy wrapping context.DeadlineExceeded", err)
				}
				if got := time.Since(start); got != timeout {
					t.Errorf("gave up after %v, want %v", got, timeout)
				}
			})
		})
		t.Run(op.name+"/cancelled", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newTestHasher(t, 1)
				h.sem <- struct{}{}
				defer h.release()
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				start := time.Now()
				err := op.do(ctx, h)
				if !errors.Is(err, ErrBusy) || !errors.Is(err, context.Canceled) {
					t.Errorf("error = %v, want ErrBusy wrapping context.Canceled", err)
				}
				if got := time.Since(start); got != 0 {
					t.Errorf("gave up after %v, want at once", got)
				}
			})
		})
		t.Run(op.name+"/slot freed while waiting", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newTestHasher(t, 1)
				h.sem <- struct{}{}
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
				defer cancel()
				go func() {
					time.Sleep(time.Second)
					h.release()
				}()
				if err := op.do(ctx, h); err != nil {
					t.Errorf("error = %v, want nil", err)
				}
			})
		})
		t.Run(op.name+"/free slot despite ended context", func(t *testing.T) {
			h := newTestHasher(t, 1)
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := op.do(ctx, h); err != nil {
				t.Errorf("error = %v, want nil", err)
			}
		})
	}
}

func TestNewHasherMaxConcurrent(t *testing.T) {
	tests := []struct{ in, want int }{{-1, DefaultMaxConcurrent}, {0, DefaultMaxConcurrent}, {1, 1}, {16, 16}}
	for _, tt := range tests {
		if got := cap(NewHasher(tt.in).sem); got != tt.want {
			t.Errorf("NewHasher(%d) allows %d concurrent hashes, want %d", tt.in, got, tt.want)
		}
	}
}

// TestConcurrentHashes runs more hashes than slots; with -race it checks
// the slot accounting, and every hash must verify.
func TestConcurrentHashes(t *testing.T) {
	h := newTestHasher(t, 2)
	const n = 16
	errs := make(chan error, n)
	for i := range n {
		go func() {
			pw := strings.Repeat("p", i)
			phc, err := h.HashPassword(t.Context(), pw)
			if err == nil {
				var ok bool
				ok, err = h.VerifyPassword(t.Context(), phc, pw)
				if err == nil && !ok {
					err = errors.New("hash does not verify")
				}
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := len(h.sem); got != 0 {
		t.Errorf("%d slots still held after all hashes returned", got)
	}
}

func BenchmarkHashPassword(b *testing.B) {
	h := NewHasher(1)
	for b.Loop() {
		if _, err := h.HashPassword(b.Context(), "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	h := NewHasher(1)
	phc, err := h.HashPassword(b.Context(), "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := h.VerifyPassword(b.Context(), phc, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
