package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	identityv1alpha1 "github.com/phoneop/phoneop/api/v1alpha1"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/export"
	"github.com/phoneop/phoneop/cmd/kubectl-phoneop/internal/selection"
	"github.com/phoneop/phoneop/internal/tenantconn"
)

// builtinPolicies are the managementPolicy values this build knows, used when the CRD cannot
// be read; a test keeps the list equal to the API's enum marker.
var builtinPolicies = []string{string(identityv1alpha1.ManagementPolicyFull), string(identityv1alpha1.ManagementPolicyCreateOnly), string(identityv1alpha1.ManagementPolicyObserveOnly)}

const crdName = "phoneauthmethods.identity.phoneop.dev"

// allowedPolicies is spec.managementPolicy's enum as the cluster's CRD declares it, so that
// a policy added to the API later is accepted without a new plugin; without a readable CRD,
// the values this build knows.
func allowedPolicies(ctx context.Context, kube client.Client) (values []string, fromCluster bool) {
	if kube == nil {
		return builtinPolicies, false
	}
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	if err := kube.Get(ctx, types.NamespacedName{Name: crdName}, crd); err != nil {
		return builtinPolicies, false
	}
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	for _, v := range versions {
		vm, ok := v.(map[string]any)
		if !ok || vm["name"] != identityv1alpha1.GroupVersion.Version {
			continue
		}
		enum, _, _ := unstructured.NestedSlice(vm, "schema", "openAPIV3Schema", "properties", "spec", "properties", "managementPolicy", "enum")
		for _, e := range enum {
			if s, ok := e.(string); ok {
				values = append(values, s)
			}
		}
	}
	if len(values) == 0 {
		return builtinPolicies, false
	}
	return values, true
}

func checkPolicy(ctx context.Context, kube client.Client, policy string) error {
	allowed, fromCluster := allowedPolicies(ctx, kube)
	if slices.Contains(allowed, policy) {
		return nil
	}
	where := "the values this plugin knows"
	if fromCluster {
		where = "the values the cluster's PhoneAuthMethod CRD allows"
	}
	return usagef("--policy %q is not one of %s (%s)", policy, strings.Join(allowed, ", "), where)
}

// managed is what the tenant's PhoneAuthMethods claim.
type managed struct {
	// phones maps export.ManagedKey(user, phoneType) to "namespace/name", by spec.user and by
	// the resolved status.userId.
	phones map[string]string
	// namespaces maps a lower-case user key (spec.user, status.userId) to its namespaces.
	namespaces map[string][]string
	// users are the distinct users named, once each.
	users []selection.User
}

// tenantField is the PhoneAuthMethod CRD's selectable field naming the EntraTenant.
const tenantField = "spec.tenantRef.name"

// tenantObjects lists the tenant's PhoneAuthMethods, in namespace ns ("" for every namespace
// the kubeconfig may list), filtered by the API server on the CRD's selectable field
// spec.tenantRef.name: the plugin receives only the tenant's objects, not every team's. A
// cluster that cannot filter on it (Kubernetes before 1.31, or a CRD older than this plugin)
// answers 400; then the list is filtered here, and a note says so.
func tenantObjects(ctx context.Context, kube client.Client, tenant, ns string) ([]identityv1alpha1.PhoneAuthMethod, error) {
	var list identityv1alpha1.PhoneAuthMethodList
	opts := []client.ListOption{client.InNamespace(ns)}
	err := kube.List(ctx, &list, append(opts, client.MatchingFields{tenantField: tenant})...)
	if apierrors.IsBadRequest(err) {
		fmt.Fprintf(os.Stderr, "note: the cluster cannot select PhoneAuthMethods by %s (Kubernetes before 1.31, or phoneop's CRD not upgraded): listing them all and keeping EntraTenant %s's\n", tenantField, tenant)
		err = kube.List(ctx, &list, opts...)
	}
	if err != nil {
		return nil, err
	}
	return ofTenant(list.Items, tenant), nil
}

// ofTenant keeps the tenant's objects, sorted by namespace/name.
func ofTenant(items []identityv1alpha1.PhoneAuthMethod, tenant string) []identityv1alpha1.PhoneAuthMethod {
	var out []identityv1alpha1.PhoneAuthMethod
	for _, p := range items {
		if p.Spec.TenantRef.Name == tenant {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	return out
}

// managedPhones is what the tenant's PhoneAuthMethods in ns ("": every namespace) claim.
func managedPhones(ctx context.Context, kube client.Client, tenant, ns string) (*managed, error) {
	items, err := tenantObjects(ctx, kube, tenant, ns)
	if err != nil {
		return nil, err
	}
	m := &managed{phones: map[string]string{}, namespaces: map[string][]string{}}
	seen := map[string]bool{}
	for _, p := range items {
		keys := []string{p.Spec.User, p.Status.UserID}
		for _, u := range keys {
			if u == "" {
				continue
			}
			k := export.ManagedKey(u, string(p.Spec.PhoneType))
			if _, ok := m.phones[k]; !ok {
				m.phones[k] = p.Namespace + "/" + p.Name
			}
			lu := strings.ToLower(u)
			if !slices.Contains(m.namespaces[lu], p.Namespace) {
				m.namespaces[lu] = append(m.namespaces[lu], p.Namespace)
			}
		}
		if seen[strings.ToLower(p.Spec.User)] || (p.Status.UserID != "" && seen[strings.ToLower(p.Status.UserID)]) {
			continue
		}
		for _, k := range keys {
			if k != "" {
				seen[strings.ToLower(k)] = true
			}
		}
		u := selection.User{UPN: p.Spec.User, ID: p.Status.UserID}
		if !strings.Contains(p.Spec.User, "@") {
			u = selection.User{ID: p.Spec.User}
		}
		m.users = append(m.users, u)
	}
	sort.Slice(m.users, func(i, j int) bool { return strings.ToLower(m.users[i].Key()) < strings.ToLower(m.users[j].Key()) })
	return m, nil
}

// namespaceNote warns when the namespace would make the objects Forbidden, by the manager's
// own namespace check.
func namespaceNote(ctx context.Context, kube client.Client, t *identityv1alpha1.EntraTenant, ns string) string {
	if kube == nil || t == nil {
		return ""
	}
	var n corev1.Namespace
	if err := kube.Get(ctx, types.NamespacedName{Name: ns}, &n); err != nil {
		return fmt.Sprintf("note: namespace %s does not exist (or cannot be read): create it with labels EntraTenant %s selects (%s) before applying", ns, t.Name, metav1.FormatLabelSelector(t.Spec.AllowedNamespaces))
	}
	if msg, refused := tenantconn.NamespaceAllowed(tenantconn.GrantInput{Tenant: t, Namespace: ns, NamespaceLabels: n.Labels}); refused {
		return "warning: " + msg + "; until then its objects will be Forbidden"
	}
	return ""
}
