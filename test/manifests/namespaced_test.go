package manifests

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/phoneop/phoneop/internal/testharness"
)

// rule is one (API group, resource, verb) a Role grants.
type rule struct{ group, resource, verb string }

func rulesOf(t *testing.T, path string) map[rule]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), path))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(b, &role); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[rule]bool{}
	for _, r := range role.Rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					out[rule{g, res, v}] = true
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s grants nothing", path)
	}
	return out
}

// clusterScoped asks the test API server's discovery which resources are cluster-scoped, as
// "resource.group" (core: "resource").
func clusterScoped(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, name := range strings.Fields(string(kubectl(t, nil, "api-resources", "--namespaced=false", "-o", "name"))) {
		out[name] = true
	}
	if !out["namespaces"] || !out["entratenants.identity.phoneop.dev"] {
		t.Fatalf("discovery lists neither namespaces nor entratenants as cluster-scoped: %v", out)
	}
	return out
}

// TestNamespaceScopedClusterRole: the ClusterRole the namespace-scoped install keeps is exactly
// the generated manager role's rules on cluster-scoped resources, plus creating events: never a
// rule the code does not ask for (it is hand-written; the generated role is not), never
// Secrets or PhoneAuthMethods, and nothing cluster-scoped the code needs is missing.
func TestNamespaceScopedClusterRole(t *testing.T) {
	generated := rulesOf(t, "config/rbac/role.yaml")
	kept := rulesOf(t, "config/components/namespace-scoped/cluster_role.yaml")
	scoped := clusterScoped(t)
	isClusterWide := func(r rule) bool {
		name := strings.SplitN(r.resource, "/", 2)[0] // a subresource follows its resource
		if r.group != "" {
			name += "." + r.group
		}
		return scoped[name] || (r.group == "events.k8s.io" && r.resource == "events")
	}
	for r := range kept {
		if !generated[r] {
			t.Errorf("the namespace-scoped ClusterRole grants %v, which config/rbac/role.yaml (the code's markers) does not ask for", r)
		}
		if !isClusterWide(r) {
			t.Errorf("the namespace-scoped ClusterRole grants %v cluster-wide, but it is namespaced: grant it with the RoleBindings", r)
		}
	}
	for r := range generated {
		if isClusterWide(r) && !kept[r] {
			t.Errorf("config/rbac/role.yaml asks for %v, which is cluster-scoped, but the namespace-scoped ClusterRole lacks it: add it to config/components/namespace-scoped/cluster_role.yaml and run `make chart-sync`", r)
		}
	}
	for r := range kept {
		if r.resource == "secrets" || strings.HasPrefix(r.resource, "phoneauthmethods") {
			t.Errorf("the namespace-scoped ClusterRole grants %v cluster-wide", r)
		}
	}
}

// adminClient is a controller-runtime client for the package's control plane.
func adminClient(t *testing.T) client.Client {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", controlPlane(t))
	if err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// applyRBAC creates, for real, the install's ServiceAccount and RBAC objects (and the
// namespaces they live in), so the API server's authorizer can be asked about them. Nothing
// else of the install is applied: no manager runs here.
func applyRBAC(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	var docs []string
	for _, o := range objs {
		switch o.GetKind() {
		case "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
		default:
			continue
		}
		if ns := o.GetNamespace(); ns != "" {
			createNamespace(t, ns)
		}
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	kubectl(t, []byte(strings.Join(docs, "---\n")), "apply", "--server-side", "--force-conflicts", "-f", "-")
}

// checkAccess asks the API server every question of want about namespace/name.
func checkAccess(t *testing.T, namespace, name string, want []testharness.Access) {
	t.Helper()
	failures, err := testharness.CheckAccess(context.Background(), adminClient(t), namespace, name, want)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d SubjectAccessReviews for %s/%s, %d answered otherwise than expected", len(want), namespace, name, len(failures))
}

// managerArgs returns the manager container's args.
func managerArgs(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	return deployment(t, objs).Spec.Template.Spec.Containers[0].Args
}

// TestNamespaceScopedInstall renders config/namespaced (config/default with the
// namespace-scoped component, watching team-a and team-b), dry-runs all of it, applies its
// RBAC for real and proves with SubjectAccessReviews that the ServiceAccount reads Secrets and
// PhoneAuthMethods only in team-a, team-b and phoneop-system.
func TestNamespaceScopedInstall(t *testing.T) {
	manifests := run(t, nil, kubectlPath(t), "kustomize", filepath.Join(repoRoot(t), "config", "namespaced"))
	objs := decode(t, manifests)
	d := deployment(t, objs)
	checkHardened(t, d)
	if !slices.Contains(managerArgs(t, objs), "--watch-namespaces=team-a,team-b") {
		t.Errorf("args %q lack --watch-namespaces=team-a,team-b", managerArgs(t, objs))
	}
	for _, o := range objs {
		if o.GetKind() == "ClusterRoleBinding" && o.GetName() == "phoneop-manager-rolebinding" {
			t.Errorf("the cluster-wide binding of manager-role is still there")
		}
	}
	for _, ns := range []string{"phoneop-system", "team-a", "team-b", "team-z"} {
		createNamespace(t, ns)
	}
	dryRun(t, manifests)
	applyRBAC(t, objs)
	checkAccess(t, "phoneop-system", "phoneop-controller-manager",
		testharness.NamespaceScopedAccess("phoneop-system", []string{"team-a", "team-b"}, "phoneop-system", []string{"team-z", "default", "kube-system"}))
}

// TestHelmChartWatchNamespaces: the chart's watchNamespaces value renders the same
// namespace-scoped RBAC (RoleBindings in the watched namespaces and the credentials namespace,
// the non-sensitive ClusterRole), passes --watch-namespaces, and the API server's answers are
// those of the kustomize install.
func TestHelmChartWatchNamespaces(t *testing.T) {
	const values = `
watchNamespaces: [bank-retail, bank-trading]
credentialsNamespace: bank-credentials
`
	manifests := helmTemplate(t, "bank", "bank-system", values)
	objs := decode(t, manifests)
	args := managerArgs(t, objs)
	for _, want := range []string{"--watch-namespaces=bank-retail,bank-trading", "--credentials-namespace=bank-credentials"} {
		if !slices.Contains(args, want) {
			t.Errorf("args %q lack %s", args, want)
		}
	}
	var bound []string
	for _, o := range objs {
		if o.GetKind() == "RoleBinding" && strings.HasSuffix(o.GetName(), "-manager-rolebinding") {
			bound = append(bound, o.GetNamespace())
		}
		if o.GetKind() == "ClusterRoleBinding" && o.GetName() == "bank-phoneop-manager-rolebinding" {
			t.Errorf("watchNamespaces still binds manager-role cluster-wide")
		}
	}
	slices.Sort(bound)
	if want := []string{"bank-credentials", "bank-retail", "bank-trading"}; !slices.Equal(bound, want) {
		t.Errorf("manager-role is bound in %v, want %v", bound, want)
	}
	for _, ns := range []string{"bank-system", "bank-credentials", "bank-retail", "bank-trading", "bank-other"} {
		createNamespace(t, ns)
	}
	dryRun(t, manifests)
	applyRBAC(t, objs)
	checkAccess(t, "bank-system", "bank-phoneop-controller-manager",
		testharness.NamespaceScopedAccess("bank-system", []string{"bank-retail", "bank-trading"}, "bank-credentials", []string{"bank-other", "bank-system", "default"}))
}

// TestDefaultInstallReadsEverySecret documents, with the API server's own answers, what the
// default (cluster-wide) install lets the manager read: Secrets and PhoneAuthMethods in every
// namespace (docs/security.md says why that is the default), and still no Secret writes.
func TestDefaultInstallReadsEverySecret(t *testing.T) {
	objs := decode(t, helmTemplate(t, "open", "open-system", ""))
	applyRBAC(t, objs)
	createNamespace(t, "anyone")
	var want []testharness.Access
	for _, ns := range []string{"anyone", "kube-system", ""} {
		for _, v := range []string{"get", "list", "watch"} {
			want = append(want,
				testharness.Access{Verb: v, Resource: "secrets", Namespace: ns, Allowed: true, Why: "the default install reads Secrets everywhere"},
				testharness.Access{Verb: v, Group: "identity.phoneop.dev", Resource: "phoneauthmethods", Namespace: ns, Allowed: true, Why: "and watches PhoneAuthMethods everywhere"})
		}
		for _, v := range []string{"create", "update", "patch", "delete"} {
			want = append(want, testharness.Access{Verb: v, Resource: "secrets", Namespace: ns, Allowed: false, Why: "phoneop never writes a Secret"})
		}
	}
	checkAccess(t, "open-system", "open-phoneop-controller-manager", want)
}

// TestHelmChartRefusesBadWatchNamespaces: a string instead of a list, or a name that is not a
// namespace, fails the render instead of installing a manager that watches nothing.
func TestHelmChartRefusesBadWatchNamespaces(t *testing.T) {
	for values, want := range map[string]string{
		"watchNamespaces: team-a,team-b\n": "must be a list",
		"watchNamespaces: [Team_A]\n":      `"Team_A" is not a namespace name`,
	} {
		f := filepath.Join(t.TempDir(), "values.yaml")
		if err := os.WriteFile(f, []byte(values), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := tryRun(nil, helmBinary(t), "template", "x", filepath.Join(repoRoot(t), "charts", "phoneop"), "--values", f)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want a refusal containing %q, got %v", strings.TrimSpace(values), want, err)
		}
	}
}

// TestNoCrossNamespaceSecretReference: a PhoneAuthMethod can name a Secret only in its own
// namespace and an EntraTenant only in the operator's, because neither reference has a
// namespace field: the CRDs' schemas list exactly name and key, and the API server refuses a
// namespace in strict mode (and prunes it otherwise), so no object can point phoneop at a
// Secret elsewhere.
func TestNoCrossNamespaceSecretReference(t *testing.T) {
	for crd, path := range map[string][]string{
		"identity.phoneop.dev_phoneauthmethods.yaml": {"spec", "phoneNumberFrom", "secretKeyRef"},
		"identity.phoneop.dev_entratenants.yaml":     {"spec", "credentials", "clientSecret", "secretRef"},
	} {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "config", "crd", "bases", crd))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		versions, _, _ := unstructured.NestedSlice(doc, "spec", "versions")
		node, _, _ := unstructured.NestedMap(versions[0].(map[string]any), "schema", "openAPIV3Schema")
		for _, p := range path {
			node, _, _ = unstructured.NestedMap(node, "properties", p)
		}
		props, _, _ := unstructured.NestedMap(node, "properties")
		var names []string
		for k := range props {
			names = append(names, k)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"key", "name"}) {
			t.Errorf("%s: %s has properties %v, want exactly [key name] (no namespace)", crd, strings.Join(path, "."), names)
		}
	}
	createNamespace(t, "team-refs")
	pam := []byte(`apiVersion: identity.phoneop.dev/v1alpha1
kind: PhoneAuthMethod
metadata: {name: kim-mobile, namespace: team-refs}
spec:
  tenantRef: {name: contoso}
  user: kim@contoso.com
  phoneType: mobile
  phoneNumberFrom: {secretKeyRef: {name: kim-phone, key: number, namespace: kube-system}}
`)
	out, err := tryKubectl(t, pam, "apply", "--dry-run=server", "--validate=strict", "-f", "-")
	if err == nil || !strings.Contains(err.Error()+string(out), "namespace") {
		t.Errorf("a secretKeyRef naming another namespace was accepted: %v %s", err, out)
	}
}
