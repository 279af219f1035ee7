package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePHC(t *testing.T) {
	const (
		salt = "c2FsdHlzYWx0eXNhbHR5IQ"                      // 16 bytes
		key  = "N4DoV9A8+B64DV18XgZ8Q0569DmKEaCMCkb7T4m0npo" // 32 bytes
		good = "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key
	)
	tests := []struct {
		name string
		in   string
		want params // zero: want an error
	}{
		{"current", good, params{memory: 19456, time: 2, threads: 1, saltLen: 16, keyLen: 32}},
		{"upper bounds", "$argon2id$v=19$m=262144,t=10,p=16$" + salt + "$" + key, params{memory: 262144, time: 10, threads: 16, saltLen: 16, keyLen: 32}},
		{"lower bounds", "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$22BzBDmgw/DaUnuGZjSjOg", params{memory: 8, time: 1, threads: 1, saltLen: 8, keyLen: 16}},
		{"64-byte salt and key", "$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 86) + "$" + strings.Repeat("A", 86), params{memory: 64, time: 1, threads: 1, saltLen: 64, keyLen: 64}},

		{"empty", "", params{}},
		{"no leading $", "argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key, params{}},
		{"bad prefix argon2i", "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key, params{}},
		{"bad prefix argon2d", "$argon2d$v=19$m=19456,t=2,p=1$" + salt + "$" + key, params{}},
		{"bad prefix bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW", params{}},
		{"upper-case algorithm", "$ARGON2ID$v=19$m=19456,t=2,p=1$" + salt + "$" + key, params{}},
		{"version 16", "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key, params{}},
		{"version missing", "$argon2id$m=19456,t=2,p=1$" + salt + "$" + key, params{}},
		{"parameters missing", "$argon2id$v=19$" + salt + "$" + key, params{}},
		{"hash missing", "$argon2id$v=19$m=19456,t=2,p=1$" + salt, params{}},
		{"hash empty", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$", params{}},
		{"salt empty", "$argon2id$v=19$m=19456,t=2,p=1$$" + key, params{}},
		{"trailing field", good + "$", params{}},
		{"p missing", "$argon2id$v=19$m=19456,t=2$" + salt + "$" + key, params{}},
		{"extra parameter", "$argon2id$v=19$m=19456,t=2,p=1,data=YQ$" + salt + "$" + key, params{}},
		{"parameters out of order", "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key, params{}},
		{"parameter without value", "$argon2id$v=19$m=,t=2,p=1$" + salt + "$" + key, params{}},
		{"parameter leading zero", "$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key, params{}},
		{"parameter sign", "$argon2id$v=19$m=+19456,t=2,p=1$" + salt + "$" + key, params{}},
		{"parameter not decimal", "$argon2id$v=19$m=0x4c00,t=2,p=1$" + salt + "$" + key, params{}},
		{"parameter space", "$argon2id$v=19$m=19456, t=2,p=1$" + salt + "$" + key, params{}},
		{"memory over limit", "$argon2id$v=19$m=262145,t=2,p=1$" + salt + "$" + key, params{}},
		{"memory huge", "$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key, params{}},
		{"memory overflows uint64", "$argon2id$v=19$m=99999999999999999999,t=2,p=1$" + salt + "$" + key, params{}},
		{"memory below 8×p", "$argon2id$v=19$m=15,t=1,p=2$" + salt + "$" + key, params{}},
		{"time zero", "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key, params{}},
		{"time over limit", "$argon2id$v=19$m=19456,t=11,p=1$" + salt + "$" + key, params{}},
		{"threads zero", "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key, params{}},
		{"threads over limit", "$argon2id$v=19$m=19456,t=2,p=17$" + salt + "$" + key, params{}},
		{"salt bad base64", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHlzYWx0eXNhbHR5I!$" + key, params{}},
		{"salt url alphabet", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHlzYWx0eXNhbHR5I_$" + key, params{}},
		{"salt padded", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key, params{}},
		{"salt stray bits", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHlzYWx0eXNhbHR5IR$" + key, params{}},
		{"salt line break", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHlzYWx0eXNh\nbHR5IQ$" + key, params{}},
		{"hash line break", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$N4DoV9A8+B64DV18XgZ8Q0569DmKEaCMCkb7T4m0npo\r\n", params{}},
		{"salt too short", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHk$" + key, params{}},
		{"salt too long", "$argon2id$v=19$m=19456,t=2,p=1$" + strings.Repeat("A", 88) + "$" + key, params{}},
		{"hash bad base64", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$N4DoV9A8+B64DV18XgZ8Q0569DmKEaCMCkb7T4m0np.", params{}},
		{"hash url alphabet", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$N4DoV9A8-B64DV18XgZ8Q0569DmKEaCMCkb7T4m0npo", params{}},
		{"hash too short", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$N4DoV9A8+B64DV18XgZ8", params{}},
		{"hash too long", "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.Repeat("A", 88), params{}},
		{"too long", good + strings.Repeat("A", 200), params{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePHC(tt.in)
			if tt.want == (params{}) {
				if !errors.Is(err, ErrMalformedHash) {
					t.Errorf("parsePHC error = %v, want ErrMalformedHash", err)
				}
				if err != nil && len(tt.in) > 20 && strings.Contains(err.Error(), tt.in[len(tt.in)-20:]) {
					t.Errorf("parsePHC error %q quotes the input", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parsePHC error = %v, want nil", err)
			}
			if got.params != tt.want {
				t.Errorf("parsePHC params = %+v, want %+v", got.params, tt.want)
			}
			if back := encodePHC(got); back != tt.in {
				t.Errorf("encodePHC(parsePHC(s)) = %s, want s = %s", back, tt.in)
			}
		})
	}
}

// FuzzParsePHC checks that parsing never panics and that whatever parses is
// in canonical form: encoding it again gives the same string, and its
// parameters are within the bounds.
func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHlzYWx0eXNhbHR5IQ$N4DoV9A8+B64DV18XgZ8Q0569DmKEaCMCkb7T4m0npo")
	f.Add("$argon2id$v=19$m=64,t=1,p=2$c29tZXNhbHQ$22BzBDmgw/DaUnuGZjSjOg")
	f.Add("$argon2id$v=19$m=262145,t=2,p=1$c29tZXNhbHQ$22BzBDmgw/DaUnuGZjSjOg")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHk$")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("parsePHC error %v does not wrap ErrMalformedHash", err)
			}
			return
		}
		if back := encodePHC(p); back != s {
			t.Fatalf("encodePHC(parsePHC(%q)) = %q", s, back)
		}
		q := p.params
		if q.memory > maxMemory || q.time > maxTime || q.threads > maxThreads || q.memory < 8*uint32(q.threads) {
			t.Fatalf("parsePHC(%q) params %+v out of bounds", s, q)
		}
	})
}
