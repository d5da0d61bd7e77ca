package manifests

import (
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// renderInstall renders config/default exactly as `make build-installer` does.
func renderInstall(t *testing.T) []byte {
	t.Helper()
	return run(t, nil, kubectlPath(t), "kustomize", filepath.Join(repoRoot(t), "config", "default"))
}

// TestInstallManifests is `kubectl apply -f dist/install.yaml` against a real API server, as
// a dry run: the CRDs are installed for real first (envtest), then the namespace (objects in a
// namespace that exists only in the same dry run are refused), then everything is dry-run.
func TestInstallManifests(t *testing.T) {
	manifests := renderInstall(t)
	objs := decode(t, manifests)

	ns := find(t, objs, "Namespace")
	if ns.GetName() != "phoneop-system" {
		t.Errorf("namespace %q, want phoneop-system (docs/credentials.md's federated credential subject names it)", ns.GetName())
	}
	if ns.GetLabels()["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace %s does not enforce the restricted Pod Security Standard", ns.GetName())
	}
	sa := find(t, objs, "ServiceAccount")
	if sa.GetNamespace()+"/"+sa.GetName() != "phoneop-system/phoneop-controller-manager" {
		t.Errorf("ServiceAccount %s/%s, want phoneop-system/phoneop-controller-manager (the workload identity subject in the docs)", sa.GetNamespace(), sa.GetName())
	}
	d := deployment(t, objs)
	checkHardened(t, d)
	if d.Spec.Template.Labels["azure.workload.identity/use"] != "true" {
		t.Errorf("the pod is not labelled azure.workload.identity/use=true, so the workload identity webhook would skip it")
	}
	if got := d.Spec.Template.Spec.ServiceAccountName; got != sa.GetName() {
		t.Errorf("the pod runs as %q, not the install's ServiceAccount %q", got, sa.GetName())
	}

	nsYAML, err := yaml.Marshal(ns.Object)
	if err != nil {
		t.Fatal(err)
	}
	kubectl(t, nsYAML, "apply", "-f", "-")
	dryRun(t, manifests)
	checkPodSecurity(t, d, ns.GetName())
}

// TestSamples dry-runs config/samples, so the examples users copy stay valid against the CRDs.
func TestSamples(t *testing.T) {
	samples := run(t, nil, kubectlPath(t), "kustomize", filepath.Join(repoRoot(t), "config", "samples"))
	dryRun(t, samples)
}

// TestDryRunRejects proves the harness: a manifest the API server would reject must fail
// dryRun, or every passing test above proves nothing.
func TestDryRunRejects(t *testing.T) {
	bad := []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: typo, namespace: default}
dataa: {key: value}
`)
	if _, err := tryKubectl(t, bad, "apply", "--dry-run=server", "--validate=strict", "-f", "-"); err == nil {
		t.Fatal("a ConfigMap with an unknown field was accepted by the dry run")
	}
}
