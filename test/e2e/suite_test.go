/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package e2e drives the built manager binary the way a user does: kubectl against a real
// kube-apiserver, the manager talking to the Graph emulator over HTTPS. The pieces are those
// of `make demo` (internal/testharness).
package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/phoneop/phoneop/internal/testharness"
)

// The package shares one harness and one tenant. Tests run one after another, in source
// order, because the emulator's call counts are global; later tests reuse the phones earlier
// ones converged (Kim's from TestConverge, Solo's from TestCreateOneMobile), so run the whole
// package rather than one test with -run.
var (
	h      *testharness.Harness
	tenant *testharness.Tenant
)

const (
	// teamNamespace is allowed by the tenant; strangerNamespace is not.
	teamNamespace     = "e2e-team"
	strangerNamespace = "e2e-stranger"

	eventually = 30 * time.Second
	poll       = 100 * time.Millisecond
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode: every test drives the manager against a kube-apiserver")
		return 0
	}
	if err := testharness.CheckKubectl(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	ctx := context.Background()
	logf := func(string, ...any) {}
	if testing.Verbose() {
		logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	}
	var err error
	// PHONEOP_E2E_WORKDIR keeps the kubeconfig, binaries and logs after the run, to debug.
	h, err = testharness.Start(ctx, testharness.Options{
		WorkDir: os.Getenv("PHONEOP_E2E_WORKDIR"),
		// Debug logging, so that the check that no log line carries a phone number covers
		// every line the manager can write.
		ManagerArgs: []string{"--zap-log-level=debug"},
		Logf:        logf,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: starting the harness failed (run with `make test`, which builds the control plane): %v\n", err)
		return 1
	}
	defer func() { _ = h.Stop() }()
	tenant = &testharness.Tenant{Name: "contoso", Namespace: teamNamespace}
	if err := h.CreateTenant(ctx, tenant); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: creating the tenant: %v\n%s\n", err, managerLogTail())
		return 1
	}
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "e2e: last lines of the manager's log (numbers masked):\n%s\n", managerLogTail())
	}
	return code
}
