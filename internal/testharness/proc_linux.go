/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package testharness

import "syscall"

// childAttrs makes the kernel kill a child when the test binary dies without calling Stop
// (a panic, a SIGKILL from `go test -timeout`), so no emulator or manager is left behind.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
