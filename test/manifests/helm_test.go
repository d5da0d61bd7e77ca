package manifests

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// helmBinary builds (first time only: about a minute) the helm pinned in hack/tools/go.mod.
func helmBinary(t *testing.T) string {
	t.Helper()
	out := run(t, nil, filepath.Join(repoRoot(t), "hack", "tools", "build.sh"), "helm")
	return strings.TrimSpace(string(out))
}

// helmTemplate renders the chart as `helm install` would, CRDs included.
func helmTemplate(t *testing.T, release, namespace string, values string) []byte {
	t.Helper()
	args := []string{"template", release, filepath.Join(repoRoot(t), "charts", "phoneop"),
		"--namespace", namespace, "--include-crds"}
	if values != "" {
		f := filepath.Join(t.TempDir(), "values.yaml")
		if err := os.WriteFile(f, []byte(values), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--values", f)
	}
	return run(t, nil, helmBinary(t), args...)
}

func TestHelmChartDefaults(t *testing.T) {
	manifests := helmTemplate(t, "phoneop", "phoneop-system", "")
	objs := decode(t, manifests)
	d := deployment(t, objs)
	checkHardened(t, d)
	c := d.Spec.Template.Spec.Containers[0]
	for _, want := range []string{"--resync-period=30m", "--zap-log-level=info", "--health-probe-bind-address=:8081"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("args %q lack %s", c.Args, want)
		}
	}
	// Unset values must leave the manager's own defaults alone.
	for _, a := range c.Args {
		for _, unset := range []string{"--max-concurrent-reconciles", "--graph-requests-per-second", "--graph-burst", "--graph-writes-per-second", "--credentials-namespace", "--sms-sign-in-retirement"} {
			if strings.HasPrefix(a, unset) {
				t.Errorf("default values pass %s", a)
			}
		}
	}
	if _, ok := d.Spec.Template.Labels["azure.workload.identity/use"]; ok {
		t.Errorf("workload identity is off by default, but the pod carries its label")
	}
	if c.Image != "phoneop:0.1.0" {
		t.Errorf("image %q, want phoneop:<appVersion>", c.Image)
	}
	sa := find(t, objs, "ServiceAccount")
	if sa.GetName() != "phoneop-controller-manager" {
		t.Errorf("ServiceAccount %q, want phoneop-controller-manager (the same subject as the kustomize install)", sa.GetName())
	}

	createNamespace(t, "phoneop-system")
	dryRun(t, manifests)
	checkPodSecurity(t, d, "phoneop-system")
}

func TestHelmChartValues(t *testing.T) {
	const values = `
image: {repository: registry.example.com/platform/phoneop, tag: v9.9.9, pullPolicy: Always}
imagePullSecrets: [{name: registry-creds}]
replicas: 2
resources:
  requests: {cpu: 50m, memory: 64Mi}
  limits: {memory: 512Mi}
resyncPeriod: 2h
maxConcurrentReconciles: 8
graph: {requestsPerSecond: 2.5, burst: 20, writesPerSecond: 1.5}
logLevel: debug
smsSignInRetirement: Global=2027-03-01,USGov=2027-09-01
credentialsNamespace: phoneop-credentials
serviceAccount:
  name: graph-operator
  annotations: {example.com/owner: platform}
workloadIdentity: {enabled: true, clientId: 00000000-0000-0000-0000-0000000000aa}
metrics: {port: 9443}
healthProbePort: 9081
podAnnotations: {example.com/team: identity}
podLabels: {example.com/cost-center: "42"}
nodeSelector: {kubernetes.io/os: linux}
tolerations: [{key: dedicated, operator: Equal, value: platform, effect: NoSchedule}]
priorityClassName: system-cluster-critical
`
	manifests := helmTemplate(t, "graph", "platform-identity", values)
	objs := decode(t, manifests)
	d := deployment(t, objs)
	// The hardening does not depend on values; the port flags do.
	c := d.Spec.Template.Spec.Containers[0]
	for _, want := range []string{
		"--leader-elect", "--metrics-bind-address=:9443", "--health-probe-bind-address=:9081",
		"--resync-period=2h", "--zap-log-level=debug", "--max-concurrent-reconciles=8",
		"--graph-requests-per-second=2.5", "--graph-burst=20", "--graph-writes-per-second=1.5", "--credentials-namespace=phoneop-credentials",
		"--sms-sign-in-retirement=Global=2027-03-01,USGov=2027-09-01",
	} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("args %q lack %s", c.Args, want)
		}
	}
	if c.Image != "registry.example.com/platform/phoneop:v9.9.9" || *d.Spec.Replicas != 2 {
		t.Errorf("image %q replicas %d, want the values' image and 2 replicas", c.Image, *d.Spec.Replicas)
	}
	if d.Spec.Template.Labels["azure.workload.identity/use"] != "true" {
		t.Errorf("workload identity enabled, but the pod lacks the azure.workload.identity/use=true label")
	}
	sa := find(t, objs, "ServiceAccount")
	if sa.GetName() != "graph-operator" || d.Spec.Template.Spec.ServiceAccountName != "graph-operator" {
		t.Errorf("ServiceAccount %q, pod runs as %q; want graph-operator for both", sa.GetName(), d.Spec.Template.Spec.ServiceAccountName)
	}
	if got := sa.GetAnnotations()["azure.workload.identity/client-id"]; got != "00000000-0000-0000-0000-0000000000aa" {
		t.Errorf("ServiceAccount client-id annotation %q", got)
	}
	if sa.GetAnnotations()["example.com/owner"] != "platform" {
		t.Errorf("ServiceAccount lost the values' own annotations: %v", sa.GetAnnotations())
	}
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" && ns != "platform-identity" {
			t.Errorf("%s %s is in namespace %s, not the release namespace", o.GetKind(), o.GetName(), ns)
		}
	}

	createNamespace(t, "platform-identity")
	dryRun(t, manifests)
	checkPodSecurity(t, d, "platform-identity")
}

// TestHelmChartRefusesUnsafeValues: several replicas without leader election would write to
// Graph concurrently, so the chart refuses to render.
func TestHelmChartRefusesUnsafeValues(t *testing.T) {
	f := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(f, []byte("replicas: 3\nleaderElection: false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := tryRun(nil, helmBinary(t), "template", "x", filepath.Join(repoRoot(t), "charts", "phoneop"), "--values", f)
	if err == nil || !strings.Contains(err.Error(), "leaderElection") {
		t.Errorf("want a refusal naming leaderElection, got %v", err)
	}
}

// TestChartCopiesAreCurrent: the chart carries copies of generated files (Helm cannot read
// outside the chart); `make chart-sync` refreshes them after `make manifests`.
func TestChartCopiesAreCurrent(t *testing.T) {
	root := repoRoot(t)
	copies := map[string]string{ // chart copy -> generated original
		"charts/phoneop/files/manager-role.yaml":         "config/rbac/role.yaml",
		"charts/phoneop/files/manager-cluster-role.yaml": "config/components/namespace-scoped/cluster_role.yaml",
	}
	bases, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(bases) == 0 {
		t.Fatalf("no generated CRDs in config/crd/bases (%v)", err)
	}
	for _, b := range bases {
		copies[filepath.Join("charts/phoneop/crds", filepath.Base(b))] = filepath.Join("config/crd/bases", filepath.Base(b))
	}
	chartCRDs, _ := filepath.Glob(filepath.Join(root, "charts", "phoneop", "crds", "*"))
	if len(chartCRDs) != len(bases) {
		t.Errorf("charts/phoneop/crds has %d files, config/crd/bases %d: run `make chart-sync`", len(chartCRDs), len(bases))
	}
	for cp, orig := range copies {
		want, err := os.ReadFile(filepath.Join(root, orig))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(root, cp))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s: run `make chart-sync` and commit", cp, orig)
		}
	}
}
