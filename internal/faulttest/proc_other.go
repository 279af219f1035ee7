//go:build !linux

package faulttest

import "syscall"

// childAttr is empty where there is no Pdeathsig: a child outlives a
// test binary that dies without stopping it.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
