package lint

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

var (
	linterOnce sync.Once
	linter     *Linter
	linterErr  error
)

func newLinter(t *testing.T) *Linter {
	t.Helper()
	linterOnce.Do(func() { linter, linterErr = New(context.Background()) })
	if linterErr != nil {
		t.Fatal(linterErr)
	}
	return linter
}

func lint(t *testing.T, manifests []byte) []Finding {
	t.Helper()
	f, err := newLinter(t).Lint(context.Background(), manifests)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func rules(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		if !slices.Contains(out, f.Rule) {
			out = append(out, f.Rule)
		}
	}
	slices.Sort(out)
	return out
}

// careless breaks every rule once, so each rule is shown to fire.
const careless = `
apiVersion: v1
kind: Namespace
metadata: {name: careless}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: careless, namespace: careless}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: careless, namespace: careless}
spec:
  selector: {matchLabels: {app: careless}}
  template:
    metadata: {labels: {app: careless}}
    spec:
      hostNetwork: true
      containers:
      - name: app
        image: example.com/careless:latest
        securityContext: {privileged: true, capabilities: {add: [NET_ADMIN]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: careless}
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [list]
- apiGroups: ["*"]
  resources: [pods/exec]
  verbs: [create, escalate]
`

func TestEveryRuleFires(t *testing.T) {
	got := rules(lint(t, []byte(careless)))
	want := []string{
		"container-drop-all-capabilities", "container-no-privilege-escalation", "container-not-privileged",
		"container-probes", "container-read-only-root-fs", "container-resources", "image-pinned",
		"namespace-pod-security", "pod-automount-token-explicit", "pod-no-host-namespaces",
		"pod-run-as-non-root", "pod-seccomp-runtime-default", "rbac-no-escalation", "rbac-no-wildcards",
		"rbac-secrets-read", "serviceaccount-automount-off",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rules fired:\n  %v\nwant\n  %v", got, want)
	}
}

// TestWaivers: an annotation with a real sentence waives its rule on its object only; one word
// does not.
func TestWaivers(t *testing.T) {
	role := func(annotation string) string {
		return `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
  annotations: {` + annotation + `}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get]}
`
	}
	if got := rules(lint(t, []byte(role(`ignore-check.phoneop.dev/rbac-secrets-read: "bound per namespace by every install; see docs"`)))); len(got) != 0 {
		t.Errorf("a justified waiver still reported %v", got)
	}
	if got := rules(lint(t, []byte(role(`ignore-check.phoneop.dev/rbac-secrets-read: "ok"`)))); !slices.Equal(got, []string{"rbac-secrets-read"}) {
		t.Errorf("a one-word waiver was accepted (findings %v)", got)
	}
	if got := rules(lint(t, []byte(role(`ignore-check.phoneop.dev/rbac-no-wildcards: "a waiver for another rule than the one broken"`)))); !slices.Equal(got, []string{"rbac-secrets-read"}) {
		t.Errorf("a waiver of another rule hid this one (findings %v)", got)
	}
}

// The installs users apply: each must pass with no finding. Waivers live in the manifests.
func TestInstallsPass(t *testing.T) {
	root, _ := filepath.Abs("../..")
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl is not on PATH (it renders the kustomize installs): %v", err)
	}
	helm := strings.TrimSpace(string(output(t, root, filepath.Join(root, "hack", "tools", "build.sh"), "helm")))
	chart := filepath.Join(root, "charts", "phoneop")
	customValues := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(customValues, []byte(`
image: {repository: registry.example.com/platform/phoneop, tag: v0.2.0}
replicas: 2
watchNamespaces: [team-a, team-b]
shards: [east]
workloadIdentity: {enabled: true, clientId: 00000000-0000-0000-0000-000000000000}
networkPolicy: {enabled: true}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	installs := map[string][]string{
		"config/default":        {kubectl, "kustomize", filepath.Join(root, "config", "default")},
		"config/namespaced":     {kubectl, "kustomize", filepath.Join(root, "config", "namespaced")},
		"chart, default values": {helm, "template", "phoneop", chart, "--namespace", "phoneop-system"},
		"chart, custom values":  {helm, "template", "bank", chart, "--namespace", "bank-system", "--values", customValues},
	}
	for name, cmd := range installs {
		t.Run(name, func(t *testing.T) {
			manifests := output(t, root, cmd[0], cmd[1:]...)
			if n := bytes.Count(manifests, []byte("\nkind: ")); n < 5 {
				t.Fatalf("rendered only %d objects", n)
			}
			for _, f := range lint(t, manifests) {
				t.Errorf("%s", f)
			}
		})
	}
}

func output(t *testing.T, dir, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return out
}
