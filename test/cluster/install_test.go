/*
Copyright 2026 The phoneop Authors.

Licensed under the Apache License, Version 2.0.
*/

package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const deploymentName = "phoneop-controller-manager"

// install is one way a user installs phoneop, rendered to plain manifests.
type install struct {
	name string
	// rendered is the install's YAML as the user would apply it.
	rendered string
	// createNamespace: the chart expects the namespace to exist (helm --create-namespace), with
	// the restricted Pod Security label docs/install.md asks for; config/default makes its own.
	createNamespace bool
	// extraPatch is more of the Deployment's strategic-merge patch (workload identity).
	extraPatch string
}

// renderKustomize renders a kustomize directory the way make build-installer does.
func renderKustomize(t *testing.T, dir string) string {
	t.Helper()
	return kubectl(t, "", "kustomize", dir)
}

// renderChart renders charts/phoneop as `helm install phoneop charts/phoneop -n phoneop-system`
// would, with the given --set flags.
func renderChart(t *testing.T, sets ...string) string {
	t.Helper()
	helm, err := exec.Command(filepath.Join(repoRoot, "hack/tools/build.sh"), "helm").Output()
	if err != nil {
		t.Fatalf("building helm: %v", err)
	}
	args := []string{"template", "phoneop", filepath.Join(repoRoot, "charts/phoneop"), "--namespace", installNamespace, "--include-crds"}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	out, err := exec.Command(strings.TrimSpace(string(helm)), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	return string(out)
}

// managerPatch is what a user adds so the manager trusts the Graph emulator's certificate: the
// CA in a ConfigMap, mounted, and SSL_CERT_FILE pointing at it (Go's crypto/x509 reads it).
// Nothing else of the shipped Deployment changes.
const managerPatch = `apiVersion: apps/v1
kind: Deployment
metadata: {name: phoneop-controller-manager, namespace: phoneop-system}
spec:
  template:
    spec:
      containers:
      - name: manager
        env:
        - {name: SSL_CERT_FILE, value: /etc/graph-emulator/ca.crt}
        volumeMounts:
        - {name: graph-emulator-ca, mountPath: /etc/graph-emulator, readOnly: true}
      volumes:
      - name: graph-emulator-ca
        configMap: {name: graph-emulator-ca}
`

// allowCustomCloud is the JSON patch a user of the Graph emulator (or a private cloud) adds:
// the emulated tenants are cloud Custom, which the shipped installs refuse.
const allowCustomCloud = `- op: add
  path: /spec/template/spec/containers/0/args/-
  value: --allow-custom-cloud
`

// overlay renders the install with the emulator's CA ConfigMap and the manager patch through
// a kustomize overlay, as a user customizes an install.
func overlay(t *testing.T, in install, e *emulator) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, content string) {
		must(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	write("install.yaml", in.rendered)
	write("manager-patch.yaml", managerPatch)
	indented := "    " + strings.ReplaceAll(strings.TrimSpace(string(e.CAPEM)), "\n", "\n    ")
	write("emulator-ca.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: graph-emulator-ca, namespace: phoneop-system}\ndata:\n  ca.crt: |\n"+indented+"\n")
	patches := "- path: manager-patch.yaml\n"
	if in.extraPatch != "" {
		write("extra-patch.yaml", in.extraPatch)
		patches += "- path: extra-patch.yaml\n"
	}
	write("allow-custom-cloud.yaml", allowCustomCloud)
	patches += "- path: allow-custom-cloud.yaml\n  target: {kind: Deployment, name: " + deploymentName + "}\n"
	write("kustomization.yaml", "resources:\n- install.yaml\n- emulator-ca.yaml\npatches:\n"+patches)
	return renderKustomize(t, dir)
}

// apply installs and waits until the Deployment is Available; it returns how long that took
// from the apply and registers the uninstall.
func apply(t *testing.T, c client.Client, in install, e *emulator) time.Duration {
	t.Helper()
	manifests := overlay(t, in, e)
	start := time.Now()
	if in.createNamespace {
		kubectl(t, "", "create", "namespace", installNamespace)
		kubectl(t, "", "label", "namespace", installNamespace, "pod-security.kubernetes.io/enforce=restricted")
	}
	kubectl(t, manifests, "apply", "--server-side", "-f", "-")
	t.Cleanup(func() { uninstall(t, c, manifests) })
	kubectl(t, "", "wait", "--for=condition=Established", "--timeout=60s", "crd/"+crds[0], "crd/"+crds[1])
	poll(t, 3*time.Minute, in.name+" Deployment Available", func() (bool, error) {
		return deploymentAvailable(c)
	})
	took := time.Since(start)
	t.Logf("%s: Deployment Available %.1f s after apply", in.name, took.Seconds())
	return took
}

func deploymentAvailable(c client.Client) (bool, error) {
	var d appsv1.Deployment
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: installNamespace, Name: deploymentName}, &d); err != nil {
		return false, err
	}
	for _, cond := range d.Status.Conditions {
		if cond.Type == appsv1.DeploymentAvailable && cond.Status == corev1.ConditionTrue && d.Status.ReadyReplicas >= 1 {
			return true, nil
		}
	}
	return false, fmt.Errorf("ready replicas %d", d.Status.ReadyReplicas)
}

// uninstall deletes everything the install made and waits until its namespace is gone, so the
// next install starts clean. On a failed test it first prints the manager's log.
func uninstall(t *testing.T, c client.Client, manifests string) {
	if t.Failed() {
		out, _ := kubectlErr("", "-n", installNamespace, "logs", "deploy/"+deploymentName, "--tail=30")
		t.Logf("manager log (last 30 lines):\n%s", out)
		out, _ = kubectlErr("", "-n", installNamespace, "get", "pods,events")
		t.Logf("pods and events:\n%s", out)
	}
	_, _ = kubectlErr(manifests, "delete", "--ignore-not-found", "--wait=false", "-f", "-")
	_, _ = kubectlErr("", "delete", "namespace", installNamespace, "--ignore-not-found", "--wait=false")
	poll(t, 2*time.Minute, installNamespace+" and the CRDs deleted", func() (bool, error) {
		err := c.Get(context.Background(), client.ObjectKey{Name: installNamespace}, &corev1.Namespace{})
		if !apierrors.IsNotFound(err) {
			return false, err
		}
		// The next install must not apply its CRDs onto ones still being deleted.
		out, _ := kubectlErr("", "get", "crd", crds[0], crds[1], "--ignore-not-found", "-o", "name")
		return strings.TrimSpace(out) == "", fmt.Errorf("still there: %s", out)
	})
}

// crds are phoneop's CustomResourceDefinitions.
var crds = []string{"phoneauthmethods.identity.phoneop.dev", "entratenants.identity.phoneop.dev"}

// converge creates the tenant's objects and n PhoneAuthMethods, waits until they are Ready,
// and checks Graph saw exactly one create each.
func converge(t *testing.T, c client.Client, e *emulator, tn *tenant, n int) {
	t.Helper()
	before := e.creates()
	tn.create(t, c, e)
	t.Cleanup(func() { tn.remove(t, c) })
	tn.createMethods(t, c, 0, n)
	took := tn.waitConverged(t, c, n, 3*time.Minute)
	t.Logf("%s: %d PhoneAuthMethods Ready in %.1f s", tn.Name, n, took.Seconds())
	if got := e.creates() - before; got != n {
		t.Errorf("%s: %d phone method creates in Graph for %d objects", tn.Name, got, n)
	}
}
