package faulttest

import "syscall"

// childAttr makes the kernel kill a child when the test binary dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
