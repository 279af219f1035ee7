//go:build race

package main

// raceEnabled: the tests run with -race, so the binary they build is too,
// which reuses the packages the test binary was compiled from.
const raceEnabled = true
