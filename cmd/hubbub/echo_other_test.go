//go:build !linux

package main

import "os"

// echoOff cannot tell on this system.
func echoOff(f *os.File) (off, ok bool) { return false, false }
