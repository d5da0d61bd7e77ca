package manifests

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// The package's one control plane, started by the first test that needs it (the pure tests
// run without one) and stopped in TestMain.
var (
	envOnce    sync.Once
	env        *envtest.Environment
	kubeconfig string // path of a kubeconfig for a cluster-admin of env
	envErr     error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if env != nil {
		if err := env.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping the test control plane: %v\n", err)
		}
	}
	if kubeconfig != "" {
		os.RemoveAll(filepath.Dir(kubeconfig))
	}
	os.Exit(code)
}

// repoRoot is the checkout's root, found from this file so that tests run from any directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test sources")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// controlPlane starts envtest (once per package) with phoneop's CRDs installed for real, and
// returns the path of a kubeconfig for kubectl. No controllers run: the API server's admission
// (schemas, CEL, Pod Security, RBAC validation) is what is under test.
func controlPlane(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a kube-apiserver (envtest): not in -short mode")
	}
	root := repoRoot(t)
	envOnce.Do(func() {
		env = &envtest.Environment{
			CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
			ErrorIfCRDPathMissing: true,
		}
		if _, envErr = env.Start(); envErr != nil {
			env = nil
			return
		}
		user, err := env.AddUser(envtest.User{Name: "phoneop-test-admin", Groups: []string{"system:masters"}}, nil)
		if err != nil {
			envErr = err
			return
		}
		cfg, err := user.KubeConfig()
		if err != nil {
			envErr = err
			return
		}
		dir, err := os.MkdirTemp("", "phoneop-manifests-")
		if err != nil {
			envErr = err
			return
		}
		kubeconfig = filepath.Join(dir, "kubeconfig")
		envErr = os.WriteFile(kubeconfig, cfg, 0o600)
	})
	if envErr != nil {
		t.Fatalf("starting the test control plane failed (run the tests with `make test`, which builds it and sets KUBEBUILDER_ASSETS): %v", envErr)
	}
	return kubeconfig
}

// kubectlPath is kubectl from PATH; the tests need it for `kubectl kustomize` and
// `kubectl apply --dry-run=server`, exactly as a user would run them.
func kubectlPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl is not on PATH: install kubectl >= 1.30 (it embeds kustomize v5) to run the manifest tests: %v", err)
	}
	return p
}

// run runs a command and returns its stdout; on failure it fails the test with stderr.
func run(t *testing.T, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	out, err := tryRun(stdin, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), err)
	}
	return out
}

func tryRun(stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%w\n%s%s", err, stderr.String(), stdout.String())
	}
	return stdout.Bytes(), nil
}

// kubectl runs kubectl against the test control plane.
func kubectl(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	return run(t, stdin, kubectlPath(t), append([]string{"--kubeconfig", controlPlane(t)}, args...)...)
}

// tryKubectl is kubectl for calls that are expected to fail.
func tryKubectl(t *testing.T, stdin []byte, args ...string) ([]byte, error) {
	t.Helper()
	return tryRun(stdin, kubectlPath(t), append([]string{"--kubeconfig", controlPlane(t)}, args...)...)
}

// dryRun server-side dry-runs manifests: the API server validates and admits every object
// (strict field validation: unknown fields are errors) but stores nothing.
func dryRun(t *testing.T, manifests []byte) {
	t.Helper()
	out, err := tryKubectl(t, manifests, "apply", "--dry-run=server", "--validate=strict", "-f", "-")
	if err != nil {
		t.Fatalf("the API server rejected the manifests: %v", err)
	}
	t.Logf("server-side dry run:\n%s", out)
}

// createNamespace creates a namespace for real (a dry-run Namespace does not make a dry-run of
// the objects inside it succeed), with the restricted Pod Security Standard enforced.
func createNamespace(t *testing.T, name string) {
	t.Helper()
	ns := fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %s
  labels:
    pod-security.kubernetes.io/enforce: restricted
`, name)
	kubectl(t, []byte(ns), "apply", "-f", "-")
}

// decode splits a multi-document YAML stream into objects, skipping empty documents.
func decode(t *testing.T, manifests []byte) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(manifests), 4096)
	for {
		u := &unstructured.Unstructured{}
		err := d.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("decoding manifests: %v", err)
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

// find returns the one object of a kind in objs.
func find(t *testing.T, objs []*unstructured.Unstructured, kind string) *unstructured.Unstructured {
	t.Helper()
	var found []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want exactly one %s in the manifests, found %d", kind, len(found))
	}
	return found[0]
}
