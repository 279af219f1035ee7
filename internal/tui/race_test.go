//go:build race

package tui

// raceEnabled: the tests run with -race, which makes them several times
// slower; tests that time something allow for it.
const raceEnabled = true
