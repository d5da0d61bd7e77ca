/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package testharness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Binary names inside a BinDir.
const (
	ManagerBinary  = "manager"
	EmulatorBinary = "graph-emulator"
)

// Build compiles the manager (the module root) and the Graph emulator (./hack/graph-emulator)
// from moduleDir into binDir. The Go build cache makes a rebuild of unchanged source take
// seconds; call it once and pass binDir as Options.BinDir to share binaries between runs.
func Build(ctx context.Context, moduleDir, binDir string) error {
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return err
	}
	for _, b := range []struct{ out, pkg string }{
		{ManagerBinary, "."},
		{EmulatorBinary, "./hack/graph-emulator"},
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(binDir, b.out), b.pkg)
		cmd.Dir = moduleDir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", b.pkg, err, out)
		}
	}
	return nil
}

// build runs Build unless Options.BinDir names prebuilt binaries.
func (h *Harness) build(ctx context.Context) error {
	if h.opts.BinDir != "" {
		h.BinDir = h.opts.BinDir
		return nil
	}
	h.opts.BinDir = filepath.Join(h.Dir, "bin")
	h.BinDir = h.opts.BinDir
	return Build(ctx, h.opts.ModuleDir, h.opts.BinDir)
}

func (h *Harness) bin(name string) string { return filepath.Join(h.opts.BinDir, name) }
