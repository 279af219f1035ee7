package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// echoOff reports whether the terminal of the pseudo-terminal master f
// has echo turned off (ok is false when that cannot be told).
func echoOff(f *os.File) (off, ok bool) {
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return false, false
	}
	return t.Lflag&unix.ECHO == 0, true
}
