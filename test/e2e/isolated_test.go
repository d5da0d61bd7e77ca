/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/phoneop/phoneop/internal/testharness"
)

// The tests in security_test.go, ha_test.go and outage_test.go need a manager the shared
// harness does not run (another identity, two replicas, a proxy in front of Graph), so each
// starts an isolated harness of its own: its own control plane, emulator and managers, built
// from the binaries the shared harness already built. They count Graph calls on their own
// emulator, so they do not disturb the shared tests' counts.

// isolated starts a harness without a manager (the test starts its own) and stops it when
// the test ends, printing the managers' log tails (numbers masked) if the test failed.
func isolated(t *testing.T, o testharness.Options) *testharness.Harness {
	t.Helper()
	if testing.Short() {
		t.Skip("isolated harness: not in -short mode")
	}
	o.BinDir = h.BinDir
	o.NoManager = true
	if dir := os.Getenv("PHONEOP_E2E_WORKDIR"); dir != "" {
		o.WorkDir = filepath.Join(dir, t.Name()) // kept after the run, to debug
	}
	if o.Logf == nil && testing.Verbose() {
		o.Logf = t.Logf
	}
	hs, err := testharness.Start(context.Background(), o)
	if err != nil {
		t.Fatalf("starting an isolated harness: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("PHONEOP_E2E_LOGS") != "" {
			logs, _ := filepath.Glob(filepath.Join(hs.Dir, "manager*.log"))
			for _, l := range logs {
				t.Logf("last lines of %s (numbers masked):\n%s", filepath.Base(l), maskNumbers(fileTail(l, 30)))
			}
		}
		if err := hs.Stop(); err != nil {
			t.Logf("stopping the isolated harness: %v", err)
		}
	})
	return hs
}

func fileTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// kubectlOn runs kubectl against hs with stdin; a non-zero exit fails the test.
func kubectlOn(t *testing.T, hs *testharness.Harness, stdin string, args ...string) string {
	t.Helper()
	out, err := tryKubectlOn(hs, stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func tryKubectlOn(hs *testharness.Harness, stdin string, args ...string) (string, error) {
	cmd := hs.Kubectl(context.Background(), args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, maskNumbers(out.String()))
	}
	return out.String(), nil
}

// phone is a PhoneAuthMethod of an isolated test; fromSecret names a Secret (key "number")
// to read the number from instead of spec.phoneNumber.
type phone struct {
	name, namespace, tenant, user, number, fromSecret string
}

func (p phone) yaml() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: identity.phoneop.dev/v1alpha1\nkind: PhoneAuthMethod\n")
	fmt.Fprintf(&b, "metadata: {name: %s, namespace: %s}\nspec:\n", p.name, p.namespace)
	fmt.Fprintf(&b, "  tenantRef: {name: %s}\n  user: %s\n  phoneType: mobile\n", p.tenant, p.user)
	if p.fromSecret != "" {
		fmt.Fprintf(&b, "  phoneNumberFrom: {secretKeyRef: {name: %s, key: number}}\n", p.fromSecret)
	} else {
		fmt.Fprintf(&b, "  phoneNumber: %q\n", p.number)
	}
	return b.String()
}

// numberSecret is the Secret a phone's phoneNumberFrom names.
func (p phone) numberSecret() string {
	return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\nstringData: {number: %q}\n", p.fromSecret, p.namespace, p.number)
}

// applyPhones creates the phones (and their number Secrets) on hs.
func applyPhones(t *testing.T, hs *testharness.Harness, phones ...phone) {
	t.Helper()
	var docs []string
	for _, p := range phones {
		if p.fromSecret != "" {
			docs = append(docs, p.numberSecret())
		}
		docs = append(docs, p.yaml())
	}
	kubectlOn(t, hs, strings.Join(docs, "---\n"), "apply", "-f", "-")
}

// readyOf returns a phone's Ready condition status and reason ("" when it has none yet).
func readyOf(g Gomega, hs *testharness.Harness, p phone) (status, reason, message string) {
	out, err := tryKubectlOn(hs, "", "get", "pam", p.name, "-n", p.namespace, "-o", "json")
	g.Expect(err).NotTo(HaveOccurred())
	var s pamStatus
	g.Expect(json.Unmarshal([]byte(out), &s)).To(Succeed())
	return s.ready()
}

// waitPhonesReady waits until every phone is Ready=True and returns how long that took.
func waitPhonesReady(t *testing.T, hs *testharness.Harness, within time.Duration, phones ...phone) time.Duration {
	t.Helper()
	began := time.Now()
	NewWithT(t).Eventually(func(g Gomega) {
		for _, p := range phones {
			st, reason, msg := readyOf(g, hs, p)
			g.Expect(st).To(Equal("True"), "%s/%s: Ready %s, reason %s: %s", p.namespace, p.name, st, reason, maskNumbers(msg))
		}
	}, within, poll).Should(Succeed())
	return time.Since(began)
}

// repoPath is a path in the repository, from this file's location.
func repoPath(elem ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", ".."}, elem...)...)
}
