package auth_test

import (
	"context"
	"fmt"

	"github.com/hubbub-chat/hubbub/internal/auth"
)

func ExampleHasher() {
	ctx := context.Background()
	h := auth.NewHasher(0) // at most 4 hashes at once: 4 × 19 MiB

	phc, err := h.HashPassword(ctx, "correct horse battery staple")
	if err != nil {
		fmt.Println(err) // wraps auth.ErrBusy: answer 503
		return
	}
	ok, err := h.VerifyPassword(ctx, phc, "correct horse battery staple")
	fmt.Println(ok, err, h.NeedsRehash(phc))
	// Output: true <nil> false
}

func ExampleNewToken() {
	token, hash := auth.NewToken()
	// Send token to the client; store hash. On each request:
	fmt.Println(auth.ValidToken(token), auth.HashToken(token) == hash)
	// Output: true true
}
