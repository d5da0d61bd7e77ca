/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

// Package cluster is phoneop's end-to-end suite against a real one-node Kubernetes cluster
// (hack/cluster.sh): the image `make image` builds, installed with config/default and with the
// Helm chart, talking to the Graph emulator over the node's network.
//
// The test binary runs twice. The outer run (in the host's network namespace) builds the
// image, starts the cluster, runs itself again inside the node's network namespace, and tears
// the cluster down whatever happened. The inner run holds the tests: it reaches the API server
// and pod addresses directly, and serves the Graph emulator on the node's address, where pods
// reach it and nothing outside the namespace can.
//
// Needs root on Linux. Elsewhere it skips with one line, unless CI=true: then a machine that
// cannot run it fails the suite, saying what is missing.
package cluster

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// innerEnv marks the inner run (inside the node's network namespace).
const innerEnv = "PHONEOP_CLUSTER_INNER"

const (
	netnsName = "phoneop-e2e"
	nodeIP    = "10.99.0.2"
	imageTar  = "dist/phoneop-image.tar"
)

// repoRoot is the repository root (this package is test/cluster).
var repoRoot = func() string {
	wd, _ := os.Getwd()
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}()

func TestMain(m *testing.M) {
	if os.Getenv(innerEnv) == "1" {
		os.Exit(m.Run())
	}
	flag.Parse()
	if testing.Short() {
		// make unit: a cluster is the opposite of a quick test.
		fmt.Println("test/cluster: skipped under -short (it starts a real cluster; make test or make e2e-cluster run it)")
		os.Exit(0)
	}
	os.Exit(outer())
}

// outer prepares the cluster, runs the tests inside the node's namespace and tears down.
func outer() int {
	if reason := unsupported(); reason != "" {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "test/cluster: FAIL: CI=true requires the real-cluster suite, but %s\n", reason)
			return 1
		}
		fmt.Printf("test/cluster: skipped: %s (the real-cluster suite needs root on Linux; make e2e-cluster runs it alone)\n", reason)
		return 0
	}
	// One cluster per machine at a time: kubelet's cgroups and host paths are global, so a
	// second checkout's suite waits here for the first to tear down.
	unlock, err := lockMachine()
	if err != nil {
		fmt.Fprintf(os.Stderr, "test/cluster: %v\n", err)
		return 1
	}
	defer unlock()
	start := time.Now()
	if err := run(repoRoot, "make", "image"); err != nil {
		fmt.Fprintf(os.Stderr, "test/cluster: make image: %v\n", err)
		return 1
	}
	fmt.Printf("test/cluster: image built in %s\n", time.Since(start).Round(100*time.Millisecond))
	// An interrupt reaches the inner run too (same process group) and ends it; the outer one
	// stays alive to tear the cluster down.
	signal.Notify(make(chan os.Signal, 1), os.Interrupt, syscall.SIGTERM)
	// Down runs even when up failed half-way, and before the exit code is returned.
	defer func() {
		t := time.Now()
		if err := run(repoRoot, "hack/cluster.sh", "down"); err != nil {
			fmt.Fprintf(os.Stderr, "test/cluster: hack/cluster.sh down: %v\n", err)
		}
		fmt.Printf("test/cluster: cluster down in %s\n", time.Since(t).Round(100*time.Millisecond))
	}()
	t := time.Now()
	if err := run(repoRoot, "hack/cluster.sh", "up", filepath.Join(repoRoot, imageTar)); err != nil {
		fmt.Fprintf(os.Stderr, "test/cluster: hack/cluster.sh up: %v\n", err)
		return 1
	}
	fmt.Printf("test/cluster: cluster up (CoreDNS ready) in %s\n", time.Since(t).Round(100*time.Millisecond))
	return inner()
}

// lockMachine takes the machine-wide lock of the real-cluster suite (flock: released by the
// kernel if this process dies).
func lockMachine() (func(), error) {
	f, err := os.OpenFile("/run/lock/phoneop-cluster.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		fmt.Println("test/cluster: waiting for another checkout's cluster suite to finish")
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, err
		}
	}
	return func() { f.Close() }, nil
}

// unsupported says why this machine cannot run the suite, or "".
func unsupported() string {
	if runtime.GOOS != "linux" {
		return "not Linux (" + runtime.GOOS + ")"
	}
	if os.Geteuid() != 0 {
		return "not root"
	}
	out, err := exec.Command(filepath.Join(repoRoot, "hack/cluster.sh"), "check").CombinedOutput()
	if err != nil {
		return strings.Join(strings.Fields(string(out)), " ")
	}
	return ""
}

// inner runs this test binary again, with the same flags, in the node's network namespace.
func inner() int {
	args := append([]string{"--net=/run/netns/" + netnsName, "--", os.Args[0]}, os.Args[1:]...)
	cmd := exec.Command("nsenter", args...)
	cmd.Env = append(os.Environ(), innerEnv+"=1", "KUBECONFIG="+kubeconfigPath())
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintf(os.Stderr, "test/cluster: %v\n", err)
		return 1
	}
	return 0
}

func clusterDir() string {
	if d := os.Getenv("CLUSTER_DIR"); d != "" {
		return d
	}
	return "/tmp/phoneop-cluster"
}

func kubeconfigPath() string { return filepath.Join(clusterDir(), "admin.kubeconfig") }

// run runs a command in dir with its output on ours.
func run(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}
