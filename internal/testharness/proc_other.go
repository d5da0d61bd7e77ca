//go:build !linux

/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package testharness

import "syscall"

// childAttrs: only Linux can tie a child's life to its parent's; elsewhere Stop must run.
func childAttrs() *syscall.SysProcAttr { return nil }
