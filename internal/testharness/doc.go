/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package testharness runs phoneop the way it is deployed, on one machine: a real
// kube-apiserver and etcd (controller-runtime's envtest) with the CRDs installed, the Graph
// emulator binary (hack/graph-emulator) over HTTPS, and the manager binary (main.go) talking
// to both. End-to-end tests, `make demo` and the benchmark share it.
//
//	h, err := testharness.Start(ctx, testharness.Options{Logf: t.Logf})
//	if err != nil { ... }
//	defer h.Stop()
//	tenant := &testharness.Tenant{Name: "contoso", Namespace: "team-a"}
//	err = h.CreateTenant(ctx, tenant)          // emulator tenant + app, Secret, Namespace, EntraTenant
//	out, err := h.Kubectl(ctx, "get", "pam", "-A").CombinedOutput()
//	stats, err := h.EmulatorStats(ctx)         // Graph calls, counted by the emulator
//
// Everything a run writes (binaries, kubeconfig, certificate, logs) goes to one directory,
// Harness.Dir. The API is small on purpose and meant to stay stable: add fields to Options
// rather than parameters to functions.
package testharness
