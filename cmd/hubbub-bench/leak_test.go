package main

import (
	"context"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// asGenerator, set in the environment, makes the test binary run as
// hubbub-bench itself: compare runs os.Executable as its generator, which
// in TestCompare is this binary.
const asGenerator = "HUBBUB_BENCH_TEST_AS_GENERATOR"

func TestMain(m *testing.M) {
	if os.Getenv(asGenerator) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}
